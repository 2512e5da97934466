"""The imported third-party datasets (ML.ENERGY, GPU prices, ...), as files on disk."""

from pathlib import Path

import dagster as dg


class DatasetsResource(dg.ConfigurableResource):
    """Where the published datasets live (by default the project's `../shared/data`)."""

    root: str

    def path(self, *parts: str) -> Path:
        path = Path(self.root, *parts)
        if not path.exists():
            raise FileNotFoundError(f"dataset not found: {path} (set CATALOG_DATA_DIR)")
        return path

    @property
    def mlenergy(self) -> Path:
        return self.path("benchmarks", "mlenergy_v3")

    @property
    def gpu_prices(self) -> Path:
        return self.path("gpu_prices", "tugot17_gpu_price_tracker")

    @property
    def cloud_instances(self) -> Path:
        return self.path("cloud_instances", "sparecores_gpu_servers.csv")

    @property
    def leaderboards(self) -> Path:
        return self.path("leaderboards", "open_llm_leaderboard_2023")
