"""The GPU list as bytes: one rendering for the API's fallback and the pipeline's cache."""

from sqlalchemy import Connection

from serving.gpus import repository
from serving.gpus.schemas import GpuPricePublic, GpuPublic, GpusPublic


def gpus_page(conn: Connection, window_days: int) -> bytes:
    medians = repository.on_demand_medians(conn, window_days)
    prices = {p.gpu: GpuPricePublic.model_validate(p) for p in medians}
    gpus = [
        GpuPublic.model_validate({**g._mapping, "price": prices.get(g.name)})
        for g in repository.list_gpus(conn)
    ]
    return GpusPublic(data=gpus, count=len(gpus)).model_dump_json().encode()
