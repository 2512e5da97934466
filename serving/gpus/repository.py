"""Every query on `gpus` and `gpu_prices`."""

from datetime import timedelta

from sqlalchemy import Connection, Row, func, select

from resources.db.tables import Gpu, GpuPrice

ON_DEMAND = "on-demand"


def list_gpus(conn: Connection) -> list[Row]:
    return list(conn.execute(select(Gpu.__table__).order_by(Gpu.name)).all())


def on_demand_medians(conn: Connection, window_days: int) -> list[Row]:
    """Per GPU: median on-demand $/GPU-hour over the `window_days` before the newest observation.

    The window ends at the newest observation, not now: price data is imported in batches and
    may be months old, and "no price" would be a worse answer than "the price as last seen".
    """
    window_end = (
        select(func.max(GpuPrice.observed_at)).where(GpuPrice.pricing == ON_DEMAND)
    ).scalar_subquery()
    window_start = window_end - timedelta(days=window_days)
    query = (
        select(
            GpuPrice.gpu,
            func.percentile_cont(0.5)
            .within_group(GpuPrice.usd_per_gpu_hour)
            .label("on_demand_usd_per_gpu_hour_p50"),
            func.count().label("observations"),
            window_start.label("window_start"),
            window_end.label("window_end"),
        )
        .where(GpuPrice.pricing == ON_DEMAND, GpuPrice.observed_at > window_start)
        .group_by(GpuPrice.gpu)
    )
    return list(conn.execute(query).all())
