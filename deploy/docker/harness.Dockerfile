# syntax=docker/dockerfile:1
# The benchmark harness: the pod a GPU benchmark runs in (started through Dagster Pipes on the
# spot GPU pools, deploy/gpu-pools/). Only harness/ goes in (the `modelcat-harness` package:
# dagster-pipes + the inference stack), never the platform, so the image stays small and the
# pod cannot import what it must not depend on.
# Build from the repository root:
#   docker build -f deploy/docker/harness.Dockerfile -t model-catalog-harness .

# Pinned by tag. CUDA 12.6 runs on drivers >= 560 (A100 and H100 node images ship newer);
# Ubuntu 24.04 because its Python (3.12) meets the harness's >= 3.11.
FROM nvidia/cuda:12.6.3-runtime-ubuntu24.04 AS build
# torch's CUDA build must match the base image's CUDA; bump the three together.
ARG TORCH_VERSION=2.13.0
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cu126
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 DEBIAN_FRONTEND=noninteractive
# Distribution packages follow the pinned base image's snapshot; pinning their versions too
# would break the build on every Ubuntu point release.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv \
    && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# CUDA torch first, from PyTorch's index only (no fallback to PyPI for the same name).
RUN pip install --index-url "${TORCH_INDEX_URL}" "torch==${TORCH_VERSION}"
WORKDIR /src
COPY harness/ ./
# `.` is the local package; naming it again with its extras makes pip install those too
# (pip resolves the name to the local directory). torch is already satisfied above.
RUN pip install . "modelcat-harness[transformers,nvml,s3,openai]"

FROM nvidia/cuda:12.6.3-runtime-ubuntu24.04
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DEBIAN_FRONTEND=noninteractive \
    HF_HUB_OFFLINE=1 \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
# The venv's interpreter is a link to the system python3, so the runtime stage needs it too.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin harness \
    && install -d -o 10001 -g 10001 /work
COPY --from=build /opt/venv /opt/venv
# Writable by the harness user: the default artifacts_uri is ./harness-artifacts.
WORKDIR /work
USER 10001:10001
# The launcher sets the command in the pod spec (`python -m modelcat_harness` under Pipes);
# alone, the image shows how to run it.
CMD ["python", "-m", "modelcat_harness", "--help"]
