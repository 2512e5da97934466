"""Settings, read once from the environment (prefix ``CATALOG_``).

Nothing else in the project reads ``os.environ``: everything that needs a setting gets it from
:func:`get_settings`.
"""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent

Mode = Literal["embedded", "services"]
RegistryKind = Literal["snapshot", "hub"]


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

    # Cost model.
    price_window_days: int = 7
    spot_discount: float = Field(0.65, ge=0.0, lt=1.0)
    spot_interruptions_per_hour: float = Field(0.05, ge=0.0)
    spot_restart_overhead_minutes: float = Field(10.0, ge=0.0)

    # Serving.
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    dagster_port: int = 3000
    redis_timeout_s: float = 0.05
    keep_versions: int = 2

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

    @property
    def mode(self) -> Mode:
        return "services" if self.database_url else "embedded"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
