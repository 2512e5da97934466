import json
import math
import re

import pytest

from assets.costs.gpus import SPEC_KEYS, UnknownGpuError, gpu_specs, normalize_gpu_name
from resources.settings import get_settings

DATA = get_settings().data_dir
SPECS = {row["name"]: row for row in gpu_specs()}
MIB = 1 / 1024


def test_required_canonical_names_exist():
    required = {
        "A100-PCIE-80GB", "A100-SXM-80GB", "A100-SXM-40GB", "H100-PCIE-80GB", "H100-SXM-80GB",
        "H200-SXM-141GB", "GH200-96GB", "B200-180GB", "A10G", "L4", "L40S", "T4", "MI300X",
        "V100-SXM-16GB", "V100-SXM-32GB",
    }  # fmt: skip
    assert required <= SPECS.keys()


def test_spec_rows_have_the_table_columns_and_sane_values():
    for row in gpu_specs():
        assert tuple(row) == SPEC_KEYS
        assert row["vendor"] in {"NVIDIA", "AMD"}
        assert row["memory_gb"] > 0
        for key in ("memory_bandwidth_gbps", "bf16_dense_tflops", "fp8_dense_tflops", "tdp_watts"):
            assert row[key] is None or row[key] > 0, (row["name"], key)
        if row["bf16_dense_tflops"] and row["fp8_dense_tflops"]:
            # FP8 doubles BF16 on every part listed (L40S's sheet is 1% off); a sparse figure
            # typed in for one of the two makes the ratio 1 or 4.
            ratio = row["fp8_dense_tflops"] / row["bf16_dense_tflops"]
            assert ratio == pytest.approx(2, rel=0.03), row["name"]


def test_memory_written_in_a_name_matches_the_spec():
    for name, row in SPECS.items():
        written = re.search(r"(\d+)GB$", name)
        if written:
            assert float(written.group(1)) == row["memory_gb"], name


def test_formats_older_than_hopper_and_ada_have_no_fp8():
    for name in ("V100-SXM-16GB", "T4", "A10", "A100-SXM-80GB", "A100-PCIE-80GB"):
        assert SPECS[name]["fp8_dense_tflops"] is None
    assert SPECS["T4"]["bf16_dense_tflops"] is None  # Turing has no BF16 tensor cores


@pytest.mark.parametrize("name", sorted(SPECS))
def test_canonical_names_map_to_themselves(name):
    assert normalize_gpu_name(name) == name


@pytest.mark.parametrize(
    ("alias", "name"), [(alias, row["name"]) for row in gpu_specs() for alias in row["aliases"]]
)
def test_every_alias_maps_to_its_own_gpu(alias, name):
    assert normalize_gpu_name(alias, SPECS[name]["memory_gb"]) == name


@pytest.mark.parametrize(
    ("raw", "memory_gb", "expected"),
    [
        ("H100", None, "H100-SXM-80GB"),  # ML.ENERGY ran H100 SXM
        ("B200", None, "B200-180GB"),
        ("NVIDIA H100 80GB HBM3", None, "H100-SXM-80GB"),
        ("H100 SXM5 80 GB", None, "H100-SXM-80GB"),
        ("H100_80GB SXM5", None, "H100-SXM-80GB"),
        ("H100_80GB PCIe", None, "H100-PCIE-80GB"),
        ("A100_80GB_PCIe", None, "A100-PCIE-80GB"),
        ("A100_80GB SXM4", None, "A100-SXM-80GB"),
        ("GH200_96GB", None, "GH200-96GB"),
        ("H200_141GB", None, "H200-SXM-141GB"),
        ("B200_180GB", None, "B200-180GB"),
        ("A100", 40960 * MIB, "A100-SXM-40GB"),  # SpareCores gives gpu_memory_min in MiB
        ("A100", 81920 * MIB, "A100-SXM-80GB"),
        ("H100", 81559 * MIB, "H100-SXM-80GB"),
        ("NVIDIA H100 NVL", 95830 * MIB, "H100-NVL-94GB"),
        ("H100", 95830 * MIB, "H100-NVL-94GB"),
        ("L4", 22888 * MIB, "L4"),  # usable memory, 7% under the nominal 24 GB
        ("Tesla V100-SXM2-16GB", None, "V100-SXM-16GB"),
        ("V100", 32768 * MIB, "V100-SXM-32GB"),
        ("Tesla T4", None, "T4"),  # optimum-benchmark's name
        ("nvidia a100-sxm4-40gb", None, "A100-SXM-40GB"),
        ("H100", math.nan, "H100-SXM-80GB"),
    ],
)
def test_real_world_spellings(raw, memory_gb, expected):
    assert normalize_gpu_name(raw, memory_gb) == expected


def test_every_mlenergy_gpu_model_maps():
    models = set()
    for task in (DATA / "benchmarks/mlenergy_v3/tasks").glob("*.json"):
        models |= {c["gpu_model"] for c in json.loads(task.read_text())["configurations"]}
    assert models == {"H100", "B200"}
    assert {normalize_gpu_name(m) for m in models} == {"H100-SXM-80GB", "B200-180GB"}


def test_every_price_tracker_gpu_type_maps():
    mapped = {}
    for path in (DATA / "gpu_prices/tugot17_gpu_price_tracker").glob("*.jsonl"):
        with path.open() as handle:
            first = json.loads(handle.readline())
        raw = f"{first['gpu_type']} {first['socket_type'] or ''}"
        mapped[path.stem] = normalize_gpu_name(raw)
    assert mapped == {
        "A100_80GB_PCIe": "A100-PCIE-80GB",
        "A100_80GB_SXM4": "A100-SXM-80GB",
        "B200_180GB": "B200-180GB",
        "GH200_96GB": "GH200-96GB",
        "H100_80GB_PCIe": "H100-PCIE-80GB",
        "H100_80GB_SXM5": "H100-SXM-80GB",
        "H200_141GB": "H200-SXM-141GB",
    }


@pytest.mark.parametrize(
    ("raw", "memory_gb", "message"),
    [
        ("Lovelace", None, "no GPU model 'LOVELACE'"),
        ("GPU H", 96.0, "no GPU model 'H'"),
        ("", None, "no GPU model ''"),
        ("A100", None, "ambiguous between A100-SXM-40GB, A100-SXM-80GB"),
        ("A10", 2.0, "2 GB matches no known A10 variant"),  # a vGPU slice is not an A10
        ("H100 PCIe", 94.0, "94 GB matches no known H100 variant"),
        ("A10G PCIe", None, "no PCIE variant of A10G"),
    ],
)
def test_unmappable_names_raise_instead_of_guessing(raw, memory_gb, message):
    with pytest.raises(UnknownGpuError, match=re.escape(message)) as caught:
        normalize_gpu_name(raw, memory_gb)
    assert caught.value.raw == raw
    assert isinstance(caught.value, ValueError)
