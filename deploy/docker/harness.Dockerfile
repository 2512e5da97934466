# syntax=docker/dockerfile:1
# The benchmark harness: the pod a GPU benchmark runs in (started through Dagster Pipes on the
# spot GPU pools, deploy/gpu-pools/). CUDA runtime + the project, whose dependencies include
# dagster-pipes, so the pod reports its results back to the run that launched it.
# Build from the repository root:
#   docker build -f deploy/docker/harness.Dockerfile -t model-catalog-harness .

# Pinned by tag. CUDA 12.6 runs on drivers >= 560 (A100 and H100 node images ship newer);
# Ubuntu 24.04 because its Python (3.12) meets the project's >= 3.11.
FROM nvidia/cuda:12.6.3-runtime-ubuntu24.04 AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 DEBIAN_FRONTEND=noninteractive
# Distribution packages follow the pinned base image's snapshot; pinning their versions too
# would break the build on every Ubuntu point release.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv \
    && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml README.md ./
COPY orchestration orchestration
COPY assets assets
COPY resources resources
COPY serving serving
COPY modelcat modelcat
RUN pip install .

FROM nvidia/cuda:12.6.3-runtime-ubuntu24.04
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DEBIAN_FRONTEND=noninteractive \
    CATALOG_HOME=/tmp/modelcat \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
# The venv's interpreter is a link to the system python3, so the runtime stage needs it too.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin catalog
COPY --from=build /opt/venv /opt/venv
WORKDIR /opt/harness
USER 10001:10001
# The launching asset sets the command in the pod spec (PipesK8sClient); alone, the image
# only shows what it has.
CMD ["python", "-c", "import dagster_pipes, resources; print('harness image: ok')"]
