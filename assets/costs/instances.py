"""Cloud GPU instance types from the SpareCores server dump (no prices, just shapes).

A row whose GPU is not in the normalisation table is kept with ``gpu=None`` and also reported
in ``InstanceCatalog.unknown_gpus`` with its raw name, so the gap is visible (and countable)
instead of the instance vanishing. Retired instance types (status INACTIVE) cannot be rented:
they are counted in ``inactive`` and left out.
"""

import csv
import dataclasses
import math
from pathlib import Path

from assets.common.errors import DataFileError
from assets.costs.gpus import UnknownGpuError, normalize_gpu_name

REQUIRED_COLUMNS = (
    "vendor_id",
    "server_id",
    "status",
    "vcpus",
    "memory_amount",
    "gpu_count",
    "gpu_model",
    "gpu_memory_min",
    "gpu_model_detail",
)
_MIB_PER_GB = 1024  # SpareCores reports memory in MiB; GPU "GB" are binary gigabytes too


@dataclasses.dataclass(frozen=True)
class InstanceCatalog:
    rows: list[dict]  # vendor, instance_type, gpu, gpu_count, gpu_memory_gb, vcpus, memory_gb
    unknown_gpus: list[dict]  # vendor, instance_type, raw_gpu (None when missing), reason
    inactive: int

    @property
    def mapped_share(self) -> float:
        """Share of returned rows whose GPU mapped to a canonical name."""
        return 1 - len(self.unknown_gpus) / len(self.rows) if self.rows else 0.0


def parse_instances(path: str | Path) -> InstanceCatalog:
    """Parse ``sparecores_gpu_servers.csv``; a malformed row raises ``DataFileError``."""
    path = Path(path)
    rows, unknown, inactive = [], [], 0
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [name for name in REQUIRED_COLUMNS if name not in (reader.fieldnames or [])]
        if missing:
            raise DataFileError(path, 1, f"missing columns {missing}")
        for record in reader:
            line = reader.line_num
            if None in record or None in record.values():
                raise DataFileError(path, line, f"expected {len(reader.fieldnames)} fields")
            if record["status"] == "INACTIVE":
                inactive += 1
                continue
            row = _instance(path, line, record)
            raw_gpu = (record["gpu_model_detail"] or record["gpu_model"]).strip() or None
            row["gpu"], reason = _map_gpu(raw_gpu, row["gpu_memory_gb"])
            if reason is not None:
                unknown.append(
                    {
                        "vendor": row["vendor"],
                        "instance_type": row["instance_type"],
                        "raw_gpu": raw_gpu,
                        "reason": reason,
                    }
                )
            rows.append(row)
    return InstanceCatalog(rows=rows, unknown_gpus=unknown, inactive=inactive)


def _map_gpu(raw_gpu: str | None, memory_gb: float | None) -> tuple[str | None, str | None]:
    """(canonical name, None) or (None, why not)."""
    if raw_gpu is None:
        return None, "the source names no GPU model"
    try:
        return normalize_gpu_name(raw_gpu, memory_gb), None
    except UnknownGpuError as error:
        return None, error.reason


def _instance(path: Path, line: int, record: dict) -> dict:
    vendor, instance_type = record["vendor_id"].strip(), record["server_id"].strip()
    if not vendor or not instance_type:
        raise DataFileError(path, line, "empty vendor_id or server_id")
    gpu_count = _number(path, line, record, "gpu_count", integer=True)
    if gpu_count is None or gpu_count < 1:
        raise DataFileError(path, line, f"gpu_count must be >= 1, got {record['gpu_count']!r}")
    vcpus = _number(path, line, record, "vcpus", integer=True)
    memory_mib = _number(path, line, record, "memory_amount")
    gpu_memory_mib = _number(path, line, record, "gpu_memory_min")
    return {
        "vendor": vendor,
        "instance_type": instance_type,
        "gpu": None,
        "gpu_count": gpu_count,
        "gpu_memory_gb": None if gpu_memory_mib is None else gpu_memory_mib / _MIB_PER_GB,
        "vcpus": vcpus,
        "memory_gb": None if memory_mib is None else memory_mib / _MIB_PER_GB,
    }


def _number(path: Path, line: int, record: dict, column: str, integer: bool = False):
    """A non-negative number, None when the cell is empty; anything else is malformed."""
    text = record[column].strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise DataFileError(path, line, f"{column} is not a number: {text!r}") from None
    if not math.isfinite(value) or value < 0 or (integer and not value.is_integer()):
        kind = "whole number" if integer else "number"
        raise DataFileError(path, line, f"{column} must be a non-negative {kind}: {text!r}")
    return int(value) if integer else value
