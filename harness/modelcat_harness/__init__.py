"""The Model Catalog benchmark harness.

Runs one benchmark job (a model, an engine, a load shape) inside the pod it was launched in,
measures the canonical metrics (TTFT, TPOT, ITL, E2E, throughput, memory, energy) and reports one
result through Dagster Pipes. It depends on `dagster-pipes` and the inference stack only.
"""

__version__ = "0.1.0"
