"""Settings, read once from the environment (prefix ``CATALOG_``).

Nothing else in the project reads ``os.environ``: everything that needs a setting gets it from
:func:`get_settings`.
"""

import hashlib
import hmac
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, SecretStr, StringConstraints, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent

Mode = Literal["embedded", "services"]
RegistryKind = Literal["snapshot", "hub"]

# Auth and rate limits: what a credential may do (`admin` implies every other scope).
Scope = Literal["catalog:read", "benchmarks:request", "admin"]
# Good enough for the embedded mode on a laptop; the API refuses to start with it anywhere else.
JWT_SECRET_PLACEHOLDER = "placeholder-jwt-secret-for-the-embedded-mode-only"
# The embedded mode's own OAuth2 client, so the CLI works out of the box (see local_client_secret).
LOCAL_CLIENT_ID = "modelcat-local"

# A secret's SHA-256 as hex (what `sha256sum` prints), never the secret itself.
Sha256Hex = Annotated[str, StringConstraints(to_lower=True, pattern=r"^[0-9a-fA-F]{64}$")]


class OAuthClient(BaseModel):
    """An OAuth2 client (client credentials grant). Only the SHA-256 of its secret is stored."""

    secret_sha256: Sha256Hex
    scopes: frozenset[Scope]


class ApiKey(BaseModel):
    """A static API key (`X-API-Key`). Only the SHA-256 of the key is stored."""

    key_sha256: Sha256Hex
    scopes: frozenset[Scope]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CATALOG_", extra="ignore")

    # Where the stores are. Both unset: embedded mode starts them itself.
    database_url: str | None = None
    redis_url: str | None = None
    # Project-local state: embedded PostgreSQL/Redis data, DAGSTER_HOME. Ignored by git.
    home: Path = REPO_ROOT / ".modelcat"
    # The real third-party data (ML.ENERGY, Hub history, GPU prices, ...).
    data_dir: Path = REPO_ROOT.parent / "shared" / "data"

    # Registry source for `registry_models`: the offline Hub snapshot, or a live Hub endpoint.
    registry: RegistryKind = "snapshot"
    hf_endpoint: str = "https://huggingface.co"
    hf_token: str | None = None
    hf_timeout_s: float = 10.0
    # Without filters a live sync pages through the whole Hub (millions of models).
    hf_pipeline_tag: str | None = "text-generation"
    hf_author: str | None = None
    hf_limit: int | None = 5000
    hf_detail_workers: int = Field(8, ge=1, le=64)
    # Several sources at once (overrides the single-source settings above), a JSON list, e.g.
    # CATALOG_REGISTRY_SOURCES='[{"kind": "hub", "pipeline_tags": ["text-generation"],
    #   "min_downloads": 1000, "token": {"env": "HF_TOKEN"}},
    #  {"kind": "manifest", "name": "internal", "url": "s3://models/manifest.yaml"}]'
    # Fields: resources/registry_hub.py HubSource, resources/registry_manifest.py ManifestSource.
    registry_sources: list[dict[str, Any]] = []

    # Cost model.
    price_window_days: int = 7
    spot_discount: float = Field(0.65, ge=0.0, lt=1.0)
    spot_interruptions_per_hour: float = Field(0.05, ge=0.0)
    spot_restart_overhead_minutes: float = Field(10.0, ge=0.0)

    # Benchmark launcher (resources/launcher*.py): a local subprocess, or pods on Kubernetes.
    launcher_kind: Literal["local", "k8s"] = "local"
    launcher_image: str = "model-catalog-harness:latest"
    launcher_namespace: str = "model-catalog"
    launcher_cloud: Literal["eks", "gke", "aks"] = "eks"
    # Unset: in-cluster config inside a pod, else the default kubeconfig.
    launcher_kubeconfig: str | None = None
    launcher_kube_context: str | None = None
    launcher_service_account: str | None = None
    # A Secret in launcher_namespace given to harness pods as env vars (AWS_ACCESS_KEY_ID,
    # AWS_SECRET_ACCESS_KEY, HF_TOKEN) where no IRSA / Workload Identity supplies them.
    launcher_credentials_secret: str | None = Field(
        None,
        pattern=r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$",  # a Secret name (DNS subdomain)
    )
    # A pod with no node after this long is deleted and counted as a capacity miss.
    launcher_pending_timeout_s: float = Field(900.0, gt=0)
    launcher_max_preemptions: int = Field(3, ge=0)
    launcher_backoff_s: float = Field(30.0, ge=0)
    launcher_max_backoff_s: float = Field(600.0, ge=0)
    # Pipes messages and raw records travel through the object store (object_store_* below).

    # Serving.
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    dagster_port: int = 3000
    redis_timeout_s: float = 0.05
    keep_versions: int = 2
    # The API's in-process cache of whole versioned responses (per worker), and how long clients
    # may reuse one before revalidating with If-None-Match.
    response_cache_mb: int = Field(64, ge=0)
    cache_max_age_s: int = Field(30, ge=0)
    api_workers: int = Field(1, ge=1)
    # Where the CLI's API commands send requests (default http://{api_host}:{api_port}), and the
    # API key they send (else: anonymous reads, and the local client for writes when embedded).
    api_url: str | None = None
    api_key: SecretStr | None = None

    # Auth and rate limits.
    # Anonymous `catalog:read`; None: open in the embedded mode, closed in the services mode.
    open_reads: bool | None = None
    jwt_secret: SecretStr = SecretStr(JWT_SECRET_PLACEHOLDER)
    jwt_ttl_s: int = Field(3600, gt=0)
    jwt_issuer: str = "model-catalog"
    # JSON maps from the environment, e.g.
    # CATALOG_OAUTH_CLIENTS='{"ci-bot": {"secret_sha256": "<hex>", "scopes": ["catalog:read"]}}'
    # CATALOG_API_KEYS='{"dashboards": {"key_sha256": "<hex>", "scopes": ["catalog:read"]}}'
    oauth_clients: dict[str, OAuthClient] = {}
    api_keys: dict[str, ApiKey] = {}
    # GCRA per identified client (token or key) and per IP for anonymous requests; 0 disables.
    rate_limit_per_s: float = Field(100.0, ge=0)
    rate_limit_burst: int = Field(200, ge=0)
    rate_limit_anonymous_per_s: float = Field(20.0, ge=0)
    rate_limit_anonymous_burst: int = Field(40, ge=0)
    # Tokens a worker takes from Redis at once (None: a tenth of the burst), and how long it may
    # keep them: fewer Redis round trips on a hot path, at most this much unused allowance lost.
    rate_limit_lease: int | None = Field(None, ge=1)
    rate_limit_lease_s: float = Field(0.25, gt=0, le=1.0)

    # Object store (raw benchmark records, Pipes messages, exports): a folder under `home` by
    # default; `s3` for any S3-compatible service (AWS, SeaweedFS, MinIO, GCS's XML API).
    # Keys left unset fall back to boto3's own chain (IRSA / instance profile in Kubernetes).
    object_store_kind: Literal["local", "s3"] = "local"
    object_store_root: Path | None = None  # local: None means `home/objects`
    object_store_bucket: str | None = None
    object_store_prefix: str = ""
    object_store_endpoint_url: str | None = None
    object_store_region: str | None = None
    object_store_access_key_id: SecretStr | None = None
    object_store_secret_access_key: SecretStr | None = None

    # Own benchmark runs (#4): what the planner considers, its budget, where raw records go, and
    # when a result counts as a regression or as beyond physics.
    benchmark_plan_gpus: list[str] = ["L4", "H100-SXM-80GB"]
    benchmark_plan_models: int = Field(50, ge=1)  # the most downloaded text-generation models
    benchmark_budget_gpu_hours: float = Field(24.0, ge=0)  # per plan
    benchmark_budget_usd: float = Field(100.0, ge=0)  # per plan, at spot prices
    benchmark_max_gpu_hours_per_run: float = Field(4.0, gt=0)
    benchmark_max_usd_per_run: float = Field(20.0, gt=0)
    # Planned work whose runs failed this often is given up until its revision or engine changes.
    benchmark_plan_max_failures: int = Field(2, ge=1)
    # The engine version in the benchmark image; a change re-plans every model. None: the
    # version installed here (the local launcher runs this one), else no engine trigger.
    benchmark_engine_version: str | None = None
    benchmark_regression_warn: float = Field(0.10, gt=0)
    benchmark_regression_error: float = Field(0.25, gt=0)
    benchmark_roofline_tolerance: float = Field(1.05, ge=1.0)

    # Tests: where the real services are, and whether a missing one fails the run (CI) or skips.
    require_services: bool = False
    test_database_url: str = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
    test_redis_url: str = "redis://127.0.0.1:6379/9"

    @model_validator(mode="after")
    def _both_or_neither(self) -> "Settings":
        if (self.database_url is None) != (self.redis_url is None):
            raise ValueError(
                "set both CATALOG_DATABASE_URL and CATALOG_REDIS_URL (services mode) "
                "or neither (embedded mode)"
            )
        return self

    @model_validator(mode="after")
    def _object_store_complete(self) -> "Settings":
        if self.object_store_kind == "s3" and not self.object_store_bucket:
            raise ValueError("CATALOG_OBJECT_STORE_KIND=s3 needs CATALOG_OBJECT_STORE_BUCKET")
        if (self.object_store_access_key_id is None) != (
            self.object_store_secret_access_key is None
        ):
            raise ValueError(
                "set both CATALOG_OBJECT_STORE_ACCESS_KEY_ID and "
                "CATALOG_OBJECT_STORE_SECRET_ACCESS_KEY, or neither (boto3's credential chain)"
            )
        return self

    @model_validator(mode="after")
    def _pods_reach_the_object_store(self) -> "Settings":
        # A pod writes its raw records to the object store; a local folder there is the pod's
        # own disk, gone with the pod, and the run would store its result without them.
        if self.launcher_kind == "k8s" and self.object_store_kind == "local":
            raise ValueError(
                "CATALOG_LAUNCHER_KIND=k8s needs an object store the benchmark pods can reach: "
                "set CATALOG_OBJECT_STORE_KIND=s3 and CATALOG_OBJECT_STORE_BUCKET (a local "
                "object store is a folder on this machine, not in the pod)"
            )
        return self

    @property
    def mode(self) -> Mode:
        return "services" if self.database_url else "embedded"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @property
    def local_client_secret(self) -> str | None:
        """The secret of the embedded mode's client `modelcat-local` (None in services mode).

        Derived from the JWT secret, so the CLI and the API agree without it being printed or
        stored anywhere: `get_settings().local_client_secret`.
        """
        if self.mode != "embedded":
            return None
        key = self.jwt_secret.get_secret_value().encode()
        return hmac.new(key, LOCAL_CLIENT_ID.encode(), hashlib.sha256).hexdigest()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
