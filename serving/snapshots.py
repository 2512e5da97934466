"""What the pipeline's `serving_cache` asset publishes for the API, besides recommendations.

The bytes come from the same repositories and schemas as the API's PostgreSQL fallback, so a
cached answer and a fallback answer for the same rows are byte for byte the same.
"""

from collections.abc import Iterator

from sqlalchemy import Connection

from resources.settings import get_settings
from serving.gpus.pages import gpus_page
from serving.models.pages import all_model_pages


def hot_payloads(
    conn: Connection, *, price_window_days: int | None = None
) -> Iterator[tuple[tuple[str, ...], bytes]]:
    """Yield (key parts after the version, body) for `data_key(version, *parts)`.

    `("gpus",)`: the body of GET /gpus. `("model", model_id)`: the body of GET /models/{id}, for
    every model. `price_window_days` defaults to the setting the API uses.
    """
    days = get_settings().price_window_days if price_window_days is None else price_window_days
    yield ("gpus",), gpus_page(conn, days)
    for model_id, body in all_model_pages(conn):
        yield ("model", model_id), body
