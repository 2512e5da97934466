import pytest

from assets.common.errors import DataFileError
from assets.costs.instances import parse_instances
from resources.settings import get_settings

CSV = get_settings().data_dir / "cloud_instances" / "sparecores_gpu_servers.csv"
ROW_KEYS = ["vendor", "instance_type", "gpu", "gpu_count", "gpu_memory_gb", "vcpus", "memory_gb"]


@pytest.fixture(scope="module")
def catalog():
    return parse_instances(CSV)


def by_type(catalog, vendor, instance_type):
    (row,) = [
        r for r in catalog.rows if r["vendor"] == vendor and r["instance_type"] == instance_type
    ]
    return row


def test_real_file_keeps_active_rows_and_counts_retired_ones(catalog):
    assert len(catalog.rows) == 436
    assert catalog.inactive == 40
    assert all(list(row) == ROW_KEYS for row in catalog.rows)


def test_unknown_gpus_are_reported_not_dropped(catalog):
    unmapped = {(r["vendor"], r["instance_type"]) for r in catalog.rows if r["gpu"] is None}
    reported = {(u["vendor"], u["instance_type"]) for u in catalog.unknown_gpus}
    assert unmapped == reported
    assert all(u["reason"] for u in catalog.unknown_gpus)
    raw_names = {u["raw_gpu"] for u in catalog.unknown_gpus}
    assert {"Lovelace", "RTX PRO Server 6000", None} <= raw_names  # None: Azure rows name none


def test_share_of_rows_mapped(catalog):
    # The unmapped rest is the long tail (Alibaba-only parts, TPUs, FPGAs, vGPU slices, Azure
    # rows without a GPU model); a drop below this means the table lost a common GPU.
    assert catalog.mapped_share >= 0.33
    mapped = {row["gpu"] for row in catalog.rows} - {None}
    assert {"H100-SXM-80GB", "A100-SXM-40GB", "A10G", "L4", "L40S", "T4", "B200-180GB"} <= mapped


@pytest.mark.parametrize(
    ("vendor", "instance_type", "gpu", "gpu_count"),
    [
        ("aws", "p5.48xlarge", "H100-SXM-80GB", 8),
        ("aws", "p4d.24xlarge", "A100-SXM-40GB", 8),
        ("aws", "p4de.24xlarge", "A100-SXM-80GB", 8),
        ("aws", "g5.xlarge", "A10G", 1),
        ("azure", "Standard_NC24ads_A100_v4", "A100-PCIE-80GB", 1),
        ("azure", "Standard_NC40ads_H100_v5", "H100-NVL-94GB", 1),
        ("ovh", "h100-380", "H100-PCIE-80GB", 1),
        ("gcp", "1720364", "H100-SXM-80GB", 8),
        ("alicloud", "ecs.sgn7i-vws-m2.xlarge", None, 1),  # a 2 GB vGPU slice of an A10
    ],
)
def test_known_instances(catalog, vendor, instance_type, gpu, gpu_count):
    row = by_type(catalog, vendor, instance_type)
    assert (row["gpu"], row["gpu_count"]) == (gpu, gpu_count)


def test_units_are_converted_from_mib(catalog):
    row = by_type(catalog, "aws", "p5.48xlarge")
    assert row["gpu_memory_gb"] == 80.0
    assert row["memory_gb"] == 2048.0
    assert row["vcpus"] == 192


def _write(tmp_path, *lines):
    header = CSV.read_text().splitlines()[0]
    path = tmp_path / "servers.csv"
    path.write_text("\n".join([header, *lines]) + "\n")
    return path


GOOD = (
    'aws,g5.xlarge,g5,"g5 family",ACTIVE,4,AMD,7R32,X86_64,16384,1,NVIDIA,Ampere,A10G,22888,'
    "22888,250,ssd,10,NVIDIA A10G,data/server/aws/g5.xlarge.json"
)


def test_good_temp_file_parses(tmp_path):
    catalog = parse_instances(_write(tmp_path, GOOD))
    assert [row["gpu"] for row in catalog.rows] == ["A10G"]
    assert catalog.unknown_gpus == []


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (GOOD.replace(",4,AMD", ",four,AMD"), "vcpus is not a number: 'four'"),
        (GOOD.replace("16384,1,NVIDIA", "16384,0,NVIDIA"), "gpu_count must be >= 1"),
        (GOOD.replace("16384,1,NVIDIA", "16384,1.5,NVIDIA"), "gpu_count must be a non-negative"),
        (GOOD.replace(",4,AMD", ",-4,AMD"), "vcpus must be a non-negative"),
        (GOOD.rsplit(",", 3)[0], "expected 21 fields"),
        (GOOD.replace("aws,g5.xlarge", "aws,"), "empty vendor_id or server_id"),
    ],
)
def test_malformed_row_names_file_and_line(tmp_path, bad, reason):
    path = _write(tmp_path, GOOD, bad)
    with pytest.raises(DataFileError) as caught:
        parse_instances(path)
    assert str(caught.value).startswith(f"{path}:3: ")
    assert reason in str(caught.value)
    assert caught.value.line == 3


def test_missing_column_is_reported_on_the_header_line(tmp_path):
    path = tmp_path / "servers.csv"
    path.write_text("vendor_id,server_id\naws,p5.48xlarge\n")
    with pytest.raises(DataFileError, match=r":1: missing columns \['status'"):
        parse_instances(path)
