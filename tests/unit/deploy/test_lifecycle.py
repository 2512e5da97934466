"""deploy/object-store/lifecycle.json: valid for PutBucketLifecycleConfiguration (checked against
botocore's own S3 service model, offline) and consistent with the keys the platform writes.

Applying it to a real S3-compatible server: tests/integration/resources/test_object_store.py.
"""

import json
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

from assets.exports.snapshot import ROOT as EXPORTS_ROOT
from resources.object_store import EXPORTS_PREFIX, PIPES_PREFIX, RAW_RECORDS_PREFIX
from resources.settings import REPO_ROOT

LIFECYCLE = REPO_ROOT / "deploy" / "object-store" / "lifecycle.json"
# S3's minimum days in a class before the next transition or expiry (else S3 rejects the rule
# or bills the remainder anyway).
_MIN_DAYS = {"STANDARD_IA": 30, "ONEZONE_IA": 30, "GLACIER_IR": 90, "GLACIER": 90,
             "DEEP_ARCHIVE": 180}  # fmt: skip


def _load() -> dict[str, Any]:
    return json.loads(LIFECYCLE.read_text())


def _model_errors(config: dict[str, Any]) -> str:
    """What botocore's S3 model says about `config` as the operation's input ('' when valid)."""
    operation = (
        botocore.session.get_session()
        .get_service_model("s3")
        .operation_model("PutBucketLifecycleConfiguration")
    )
    params = {"Bucket": "model-catalog", "LifecycleConfiguration": config}
    report = ParamValidator().validate(params, operation.input_shape)
    return report.generate_report() if report.has_errors() else ""


def _storage_classes() -> set[str]:
    shape = (
        botocore.session.get_session().get_service_model("s3").shape_for("TransitionStorageClass")
    )
    return set(shape.enum)


def test_the_rules_match_the_s3_service_model():
    assert _model_errors(_load()) == ""


@pytest.mark.parametrize(
    "rule",
    [
        {"ID": "x", "Status": "Enabled", "Expiration": {"Days": "thirty"}},
        {"ID": "x", "Status": "Enabled", "Filter": {"Prefix": "a/"}, "Expire": {"Days": 3}},
        {"ID": "x", "Filter": {"Prefix": "a/"}, "Expiration": {"Days": 3}},  # no Status
    ],
)
def test_the_model_check_catches_a_malformed_rule(rule: dict):
    assert _model_errors({"Rules": [rule]}) != ""


def test_every_rule_is_enabled_and_named_once():
    ids = [rule["ID"] for rule in _load()["Rules"]]
    assert len(ids) == len(set(ids))
    assert {rule["Status"] for rule in _load()["Rules"]} == {"Enabled"}


def test_transitions_climb_through_known_classes_and_respect_minimum_durations():
    for rule in _load()["Rules"]:
        steps = rule.get("Transitions")
        if not steps:
            continue
        assert {step["StorageClass"] for step in steps} <= _storage_classes(), rule["ID"]
        ends = [step["Days"] for step in steps[1:]] + [rule.get("Expiration", {}).get("Days")]
        for step, end in zip(steps, ends, strict=True):
            assert step["Days"] >= 30, rule["ID"]  # S3 refuses IA/archive before 30 days
            if end is not None:
                assert end - step["Days"] >= _MIN_DAYS[step["StorageClass"]], rule["ID"]


def test_the_rules_cover_the_prefixes_the_platform_writes():
    rules = {rule["ID"]: rule for rule in _load()["Rules"]}
    prefix = {name: rule["Filter"]["Prefix"] for name, rule in rules.items()}
    assert prefix["raw-benchmark-records"] == RAW_RECORDS_PREFIX
    assert prefix["pipes-messages"] == PIPES_PREFIX
    # Dated exports only: LATEST.json stays in STANDARD, readable at once, whatever its age.
    assert prefix["catalog-exports"] == f"{EXPORTS_ROOT}date="
    assert prefix["catalog-exports"].startswith(EXPORTS_PREFIX)
    assert rules["pipes-messages"]["Expiration"]["Days"] <= 7
    assert rules["abort-incomplete-multipart-uploads"]["Filter"]["Prefix"] == ""
    raw = rules["raw-benchmark-records"]
    assert [(t["Days"], t["StorageClass"]) for t in raw["Transitions"]] == [
        (30, "STANDARD_IA"),
        (180, "GLACIER"),
    ]
