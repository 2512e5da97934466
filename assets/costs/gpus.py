"""One GPU naming for every source: ML.ENERGY, price trackers, cloud catalogues, our own runs.

Sources spell the same part differently (`H100`, `NVIDIA H100 80GB HBM3`, `H100_80GB` + `SXM5`,
`H100 SXM5 80 GB`). A name is read as three parts, model (`H100`), form factor (SXM, PCIE, NVL)
and memory (`80GB`), and matched against ``gpu_specs.yaml``:

1. the model must exist in the table, and the form factor, when named, must exist for it;
2. memory (from the name, else the ``memory_gb`` argument) picks the nearest variant, and must
   be within 10% of it: providers report usable memory in MiB (an L4 shows 22,888 MiB of its
   24 GB), while a vGPU slice (2 GB of an A10) is not that GPU and must not pass for it;
3. a name without a form factor means the SXM part when there is one: benchmarks (ML.ENERGY's
   "H100") and multi-GPU cloud instances use SXM boards, and sources name PCIe/NVL explicitly.

Anything still unmatched or ambiguous raises ``UnknownGpuError``: a wrong GPU silently joined to
a price is worse than a reported gap.
"""

import functools
import math
import re
from importlib import resources

import yaml

# Spec columns of the `gpus` table, in order.
SPEC_KEYS = (
    "name",
    "vendor",
    "memory_gb",
    "memory_bandwidth_gbps",
    "bf16_dense_tflops",
    "fp8_dense_tflops",
    "tdp_watts",
    "aliases",
)
_MEMORY_TOLERANCE = 0.10
_MEMORY = re.compile(r"\b(\d+(?:\.\d+)?)\s*GI?B\b")
_FORM = {"PCIE": "PCIE", "NVL": "NVL"}
_SXM = re.compile(r"^SXM\d*$")
# Words that vendors and drivers add around the model name without changing the part.
_NOISE = re.compile(r"^(NVIDIA|TESLA|AMD|INSTINCT|TENSOR|CORE|GPU|HBM\w*|GDDR\w*)$")


class UnknownGpuError(ValueError):
    """A GPU name that the normalisation table cannot map to exactly one canonical GPU."""

    def __init__(self, raw: str, reason: str) -> None:
        self.raw = raw
        self.reason = reason
        super().__init__(f"cannot map GPU name {raw!r}: {reason} (see assets/costs/gpu_specs.yaml)")


def _parse(raw: str) -> tuple[str, str | None, float | None]:
    """(model, form factor, memory in GB) read from a free-form GPU name."""
    text = re.sub(r"[_\-/,()]", " ", raw.upper())
    memory = None
    found = _MEMORY.search(text)
    if found:
        memory = float(found.group(1))
        text = text[: found.start()] + " " + text[found.end() :]
    form = None
    model_tokens = []
    for token in text.split():
        if _SXM.match(token):
            form = "SXM"
        elif token in _FORM:
            form = _FORM[token]
        elif not _NOISE.match(token):
            model_tokens.append(token)
    return "".join(model_tokens), form, memory


@functools.cache
def _table() -> tuple[dict, ...]:
    text = resources.files(__package__).joinpath("gpu_specs.yaml").read_text(encoding="utf-8")
    return tuple(yaml.safe_load(text))


def gpu_specs() -> list[dict]:
    """Rows for the `gpus` table: one per canonical GPU, keys ``SPEC_KEYS``."""
    return [{key: entry[key] for key in SPEC_KEYS} for entry in _table()]


def normalize_gpu_name(raw: str, memory_gb: float | None = None) -> str:
    """The canonical name of ``raw`` (e.g. ``"H100_80GB SXM5"`` -> ``"H100-SXM-80GB"``).

    ``memory_gb`` (per GPU) disambiguates names without a size (SpareCores' ``A100`` with
    40960 MiB); a size written in the name wins over it. NaN counts as unknown.
    """
    if memory_gb is not None and math.isnan(memory_gb):
        memory_gb = None
    return _normalize(raw, memory_gb)


@functools.lru_cache(maxsize=1024)
def _normalize(raw: str, memory_gb: float | None) -> str:
    model, form, named_memory = _parse(raw)
    candidates = [entry for entry in _table() if entry["model"] == model]
    if not candidates:
        raise UnknownGpuError(raw, f"no GPU model {model!r} in the table")
    if form is not None:
        candidates = [entry for entry in candidates if entry["form_factor"] == form]
        if not candidates:
            raise UnknownGpuError(raw, f"no {form} variant of {model} in the table")
    memory = named_memory if named_memory is not None else memory_gb
    if memory is not None:
        nearest = min(abs(entry["memory_gb"] - memory) for entry in candidates)
        candidates = [
            entry
            for entry in candidates
            if abs(entry["memory_gb"] - memory) == nearest
            and nearest <= _MEMORY_TOLERANCE * entry["memory_gb"]
        ]
        if not candidates:
            raise UnknownGpuError(raw, f"{memory:g} GB matches no known {model} variant")
    if len(candidates) > 1 and form is None:
        sxm = [entry for entry in candidates if entry["form_factor"] == "SXM"]
        candidates = sxm or candidates
    if len(candidates) > 1:
        names = ", ".join(entry["name"] for entry in candidates)
        raise UnknownGpuError(raw, f"ambiguous between {names}; give the memory size")
    return candidates[0]["name"]
