"""The one place that picks the run mode and builds the resources for it."""

from resources.settings import Settings


def store_urls(settings: Settings) -> tuple[str, str]:
    """(database URL, Redis URL): configured ones in services mode, embedded ones otherwise."""
    if settings.mode == "services":
        assert settings.database_url and settings.redis_url
        return settings.database_url, settings.redis_url
    from resources import embedded

    urls = embedded.start(settings.home)
    return urls.database_url, urls.redis_url


def build_resources(settings: Settings) -> dict:
    """The Dagster resources for the mode (imported here: the API needs only `store_urls`)."""
    from resources.cache import RedisResource
    from resources.database import DatabaseResource
    from resources.datasets import DatasetsResource
    from resources.launcher import build_launcher
    from resources.object_store import build_object_store
    from resources.registry import build_registry

    database_url, redis_url = store_urls(settings)
    object_store = build_object_store(settings)  # one instance: the launcher nests it
    return {
        "database": DatabaseResource(url=database_url),
        "cache": RedisResource(url=redis_url, keep_versions=settings.keep_versions),
        "registry": build_registry(settings),
        "datasets": DatasetsResource(root=str(settings.data_dir)),
        "object_store": object_store,
        "launcher": build_launcher(settings, object_store),
    }
