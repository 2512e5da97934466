"""The model page as bytes: one rendering for the API's fallback and the pipeline's cache.

`serving.snapshots.hot_payloads` and `GET /models/{id}` both come through `render`, so the bytes
cached in Redis and the bytes rendered from PostgreSQL are the same for the same rows.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator

from sqlalchemy import Connection, Row

from serving.benchmarks import repository as benchmarks
from serving.models import lineage, repository
from serving.models.schemas import BenchmarkSummary, ModelPage


def render(model: Row, summaries: Iterable[Row], family: lineage.LineageDict) -> bytes:
    page = ModelPage.model_validate(
        {
            **model._mapping,
            "lineage": family,
            "benchmarks_summary": [BenchmarkSummary.model_validate(s) for s in summaries],
        }
    )
    return page.model_dump_json().encode()


def model_page(conn: Connection, model_id: str) -> bytes | None:
    model = repository.get_model(conn, model_id)
    if model is None:
        return None
    return render(model, benchmarks.summaries(conn, model_id), lineage.of_model(conn, model))


def all_model_pages(conn: Connection) -> Iterator[tuple[str, bytes]]:
    """(model id, page bytes) for every model, removed ones included (their links live on)."""
    by_model: dict[str, list[Row]] = defaultdict(list)
    for summary in benchmarks.summaries(conn):
        by_model[summary.model_id].append(summary)
    families = lineage.of_all_models(conn)
    for model in repository.iter_models(conn):
        yield model.id, render(model, by_model.get(model.id, ()), families.of(model))
