# syntax=docker/dockerfile:1
# The API image: `modelcat serve` (granian, one worker per pod; Kubernetes scales pods).
# Build from the repository root: docker build -f deploy/docker/api.Dockerfile -t model-catalog-api .

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
# The project's own pins (Dagster family, SQLAlchemy < 2.1, ...) come from pyproject.toml.
RUN pip install .

FROM python:3.11.13-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CATALOG_HOME=/tmp/modelcat \
    CATALOG_API_HOST=0.0.0.0 \
    CATALOG_API_PORT=8000
# A numeric UID, so Kubernetes' runAsNonRoot can check it without a passwd lookup.
RUN useradd --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin catalog
COPY --from=build /opt/venv /opt/venv
USER 10001:10001
EXPOSE 8000
# Liveness does no I/O (serving/health.py), so this only says the server answers.
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=2)"]
ENTRYPOINT ["modelcat"]
CMD ["serve"]
