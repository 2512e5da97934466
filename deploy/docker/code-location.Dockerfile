# syntax=docker/dockerfile:1
# The Dagster code location: a gRPC code server for `orchestration.definitions`, and the image the
# K8sRunLauncher starts each run in (the chart passes it on with includeConfigInLaunchedRuns).
# Build from the repository root:
#   docker build -f deploy/docker/code-location.Dockerfile -t model-catalog-dagster .

# Pinned by tag: the same Python minor as CI (.venv), Debian 12.
FROM python:3.11.13-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml README.md ./
COPY orchestration orchestration
COPY assets assets
COPY resources resources
COPY serving serving
COPY modelcat modelcat
# dagster, dagster-k8s and dagster-postgres are pinned together in pyproject.toml (DESIGN §9).
RUN pip install .

FROM python:3.11.13-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DAGSTER_HOME=/opt/dagster/dagster_home \
    CATALOG_HOME=/tmp/modelcat
RUN useradd --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin catalog \
    && mkdir -p /opt/dagster/dagster_home \
    && chown 10001:10001 /opt/dagster/dagster_home
COPY --from=build /opt/venv /opt/venv
# The instance config for runs started outside the chart (the chart mounts its own over it).
COPY --chown=10001:10001 deploy/dagster.yaml /opt/dagster/dagster_home/dagster.yaml
WORKDIR /opt/dagster/app
USER 10001:10001
EXPOSE 3030
# The chart overrides the arguments (dagsterApiGrpcArgs); this default serves the same module.
CMD ["dagster", "code-server", "start", "--host", "0.0.0.0", "--port", "3030", \
     "--module-name", "orchestration.definitions"]
