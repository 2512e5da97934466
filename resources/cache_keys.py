"""The serving cache's key layout, shared by the publisher (Dagster) and the reader (the API).

Kept free of Dagster so that the API does not import it.
"""

VERSION_KEY = "catalog:version"
VERSIONS_KEY = "catalog:versions"  # sorted set: version -> publish time
CHANNEL = "catalog:version-changed"


def data_key(version: str, *parts: str) -> str:
    return ":".join(("catalog", "v", version, *parts))


def ranking_key(version: str, task: str, gpu: str, profile: str) -> str:
    return data_key(version, "rec", task, gpu, profile)


def pareto_key(version: str, task: str, gpu: str, x: str, y: str) -> str:
    return data_key(version, "pareto", task, gpu, x, y)


def model_key(version: str, model_id: str) -> str:
    return data_key(version, "model", model_id)
