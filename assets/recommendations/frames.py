"""The candidate matrix: a row per benchmark configuration (its latest run), criteria as columns.

Reads what the pipeline stored (results, their cost, model metadata) and shapes it for the
ranking engine. Every value says where it came from (`provenance`).
"""

import numpy as np
import pandas as pd
from sqlalchemy import Connection, text

# Bytes per weight for the precisions the published data uses (weights-only footprint).
BYTES_PER_WEIGHT = {"bfloat16": 2.0, "float16": 2.0, "fp8": 1.0, "int8": 1.0, "mxfp4": 0.5,
                    "int4": 0.5}  # fmt: skip

# The latest run of each configuration: benchmark_results is a time series, and an older run of
# a configuration that was measured again is history, not another candidate.
_QUERY = text(
    """
    SELECT DISTINCT ON (r.result_key)
           r.result_key, r.task, r.model_id, r.gpu, r.num_gpus, r.source, r.engine,
           r.harness_version, r.measured_at, r.output_unit, r.concurrency, r.config, r.extra,
           coalesce(r.tpot_ms_p95, r.itl_ms_p95, r.e2e_ms_p95, r.e2e_ms_p50) AS latency_p95_ms,
           coalesce(r.tpot_ms_p50, r.itl_ms_p50, r.e2e_ms_p50) AS latency_p50_ms,
           CASE WHEN r.tpot_ms_p95 IS NOT NULL THEN 'tpot'
                WHEN r.itl_ms_p95 IS NOT NULL THEN 'itl'
                ELSE 'e2e' END AS latency_metric,
           r.throughput_per_gpu, r.energy_per_output_j, r.peak_memory_gb,
           c.usd_per_million_spot AS cost_spot_per_million,
           c.usd_per_million_on_demand AS cost_on_demand_per_million,
           m.license, q.average AS quality
    FROM benchmark_results r
    LEFT JOIN result_costs c ON c.result_key = r.result_key AND c.measured_at = r.measured_at
    LEFT JOIN models m ON m.id = r.model_id
    LEFT JOIN LATERAL (
        SELECT average FROM model_quality mq WHERE mq.model_id = r.model_id
        ORDER BY snapshot_date DESC LIMIT 1
    ) q ON true
    ORDER BY r.result_key, r.measured_at DESC
    """
)


def load_candidates(conn: Connection) -> pd.DataFrame:
    frame = pd.DataFrame(conn.execute(_QUERY).mappings().all())
    if frame.empty:
        return frame
    return shape(frame)


def shape(frame: pd.DataFrame) -> pd.DataFrame:
    """Add derived criteria and provenance to the raw joined rows."""
    frame = frame.copy()
    frame["memory_gb"] = [
        _memory_gb(p, e) for p, e in zip(frame["peak_memory_gb"], frame["extra"], strict=True)
    ]
    frame["memory_source"] = np.where(frame["peak_memory_gb"].notna(), "measured", "derived")
    frame["quality"] = pd.to_numeric(frame["quality"], errors="coerce").astype(float)
    frame["provenance"] = [
        {
            "source": source,
            "measured": source == "own",
            "engine": engine,
            "harness_version": harness,
            "measured_at": measured_at.isoformat(),
            "latency_metric": metric,
            "memory": memory_source,
            "cost": "estimated" if pd.notna(cost) else "missing",
            "quality": "imported (open-llm-leaderboard-v1)" if pd.notna(quality) else "missing",
        }
        for source, engine, harness, measured_at, metric, memory_source, cost, quality in zip(
            frame["source"], frame["engine"], frame["harness_version"], frame["measured_at"],
            frame["latency_metric"], frame["memory_source"], frame["cost_spot_per_million"],
            frame["quality"], strict=True,
        )
    ]  # fmt: skip
    for column in (
        "latency_p95_ms",
        "latency_p50_ms",
        "throughput_per_gpu",
        "energy_per_output_j",
        "cost_spot_per_million",
        "cost_on_demand_per_million",
    ):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)  # fmt: skip
    return frame


def _memory_gb(peak_memory_gb: float | None, extra: dict) -> float:
    """Measured peak memory where known, else the weights' footprint (params x bytes/weight)."""
    if peak_memory_gb is not None and not pd.isna(peak_memory_gb):
        return float(peak_memory_gb)
    params = (extra or {}).get("total_params_billions")
    per_weight = BYTES_PER_WEIGHT.get(str((extra or {}).get("weight_precision", "")).lower())
    if params is None or per_weight is None:
        return np.nan
    return float(params) * per_weight
