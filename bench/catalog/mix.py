"""The queries timed: the listing's mix, the web UI's benchmark filters, the lineage models,
and the code this change replaced (the baseline)."""

from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import Connection, func, select, text

from bench.catalog.seed_results import H100
from resources.db.tables import MlModel
from serving.models import repository
from serving.models.filters import BenchFilters, Cursor, ModelFilters, Pricing, Sort, encode_cursor

SINCE = datetime(2026, 4, 1, tzinfo=UTC)  # `updated_since`: about the last 5 weeks of the data


def query_mix(conn: Connection) -> list[tuple[str, ModelFilters, int]]:
    """(label, filters, depth): depth is the row a deep page starts at (cursor here, OFFSET in
    the baseline). Authors are picked from the data: the largest, and a middling one."""
    by_author = conn.execute(
        select(MlModel.author, func.count()).group_by(MlModel.author).order_by(func.count().desc())
    ).all()
    big, mid = by_author[0][0], by_author[len(by_author) // 3][0]
    f = ModelFilters
    return [
        ("default -downloads", f(), 0),
        ("sort -likes", f(sort=Sort.likes_desc), 0),
        ("sort -last_modified", f(sort=Sort.last_modified_desc), 0),
        ("sort downloads (asc)", f(sort=Sort.downloads), 0),
        ("task text-generation", f(task="text-generation"), 0),
        ("task text-to-video (rare)", f(task="text-to-video"), 0),
        ("task feature-extr. -likes", f(task="feature-extraction", sort=Sort.likes_desc), 0),
        (f"author {big} (largest)", f(author=big), 0),
        (f"author {mid}", f(author=mid, sort=Sort.last_modified_desc), 0),
        ("license apache-2.0", f(license="apache-2.0"), 0),
        ("license gemma -last_mod", f(license="gemma", sort=Sort.last_modified_desc), 0),
        ("params 7B..8B", f(min_params=7_000_000_000, max_params=8_000_000_000), 0),
        ("params >= 70B -likes", f(min_params=70_000_000_000, sort=Sort.likes_desc), 0),
        ("task+license+params", f(task="text-generation", license="mit", min_params=10**9), 0),
        ("q llama", f(q="llama"), 0),
        ("q xenova", f(q="xenova"), 0),
        ("q gguf -last_modified", f(q="gguf", sort=Sort.last_modified_desc), 0),
        ("q mistral-7b + task", f(q="mistral-7b", task="text-generation"), 0),
        ("q zephyr (rare)", f(q="zephyr"), 0),
        ("include_removed sort id", f(include_removed=True, sort=Sort.id), 0),
        ("source manifest (1%)", f(sources=("manifest",)), 0),
        ("source hf,manifest -likes", f(sources=("hf", "manifest"), sort=Sort.likes_desc), 0),
        ("gated (5%)", f(gated=True), 0),
        ("gated=false -last_modified", f(gated=False, sort=Sort.last_modified_desc), 0),
        ("updated_since 5 weeks", f(updated_since=SINCE), 0),
        ("updated_since -last_modified", f(updated_since=SINCE, sort=Sort.last_modified_desc), 0),
        (
            "source+gated+since+task",
            f(task="text-generation", sources=("hf",), gated=False, updated_since=SINCE),
            0,
        ),  # fmt: skip
        ("gated+removed+params", f(gated=True, include_removed=True, min_params=7 * 10**9), 0),
        ("page @5,000 (offset)", f(offset=5_000), 0),
        ("deep page @20,000", f(), 20_000),
        ("deep page @60,000", f(), 60_000),
        ("deep -last_mod @50,000", f(sort=Sort.last_modified_desc), 50_000),
        ("deep task @10,000", f(task="text-generation"), 10_000),
        ("deep source hf @20,000", f(sources=("hf",)), 20_000),
        ("deep gated=false @20,000", f(gated=False), 20_000),
    ]


def bench_mix() -> list[tuple[str, ModelFilters, int]]:
    """The web UI's benchmark filters (new database only); `measured` deep page by cursor."""
    f, b = ModelFilters, BenchFilters
    return [
        ("measured", f(bench=b(measured=True)), 0),
        (f"gpu {H100}", f(bench=b(gpu=H100)), 0),
        ("max_p95_ms 25", f(bench=b(max_p95_ms=25)), 0),
        ("max_cost 0.2 spot", f(bench=b(max_cost_per_mtok=0.2)), 0),
        ("max_cost 0.2 on_demand", f(bench=b(max_cost_per_mtok=0.2, pricing=Pricing.on_demand)), 0),
        ("measured+task+gpu+p95+cost", f(task="text-generation", bench=b(
            gpu=H100, max_p95_ms=25, max_cost_per_mtok=0.5, measured=True)), 0),
        ("deep measured @1,000", f(bench=b(measured=True)), 1_000),
    ]  # fmt: skip


def with_cursor(conn: Connection, f: ModelFilters, depth: int) -> ModelFilters:
    """`f` continuing after row `depth - 1` of its listing (found by the new code, untimed)."""
    if not depth:
        return f
    walk = f
    while depth > 0:  # pages of 500, the API's largest, to the row before `depth`
        listing = repository.list_models(conn, replace(walk, limit=min(500, depth)))
        last, depth = listing.rows[-1], depth - len(listing.rows)
        value = None if f.sort.field == "id" else getattr(last, f.sort.field)
        walk = replace(walk, after=Cursor(value, last.id))
    return replace(walk, limit=f.limit)


def old_list_models(conn: Connection, f: ModelFilters, depth: int) -> None:
    """The code this change replaced: exact COUNT(*), then ORDER BY ... OFFSET."""
    conditions = repository._conditions(f)
    conn.scalar(select(func.count()).select_from(MlModel).where(*conditions))
    column = repository._SORT_COLUMNS[f.sort.field]
    primary = column.desc() if f.sort.descending else column.asc()
    order = [primary.nulls_last(), MlModel.id.asc()] if f.sort.field != "id" else [primary]
    query = select(*repository._LISTED).where(*conditions).order_by(*order)
    conn.execute(query.limit(f.limit).offset(f.offset + depth)).all()


def api_params(f: ModelFilters) -> dict:
    params = {k: v for k in ("task", "author", "license", "min_params", "max_params", "q")
              if (v := getattr(f, k)) is not None}  # fmt: skip
    params |= {"sort": f.sort.value, "limit": f.limit, "include_removed": f.include_removed}
    if f.sources:
        params["source"] = ",".join(f.sources)
    if f.gated is not None:
        params["gated"] = f.gated
    if f.updated_since is not None:
        params["updated_since"] = f.updated_since.isoformat()
    if f.offset:
        params["offset"] = f.offset
    if f.bench is not None:
        b = f.bench
        params |= {k: v for k in ("gpu", "max_p95_ms", "max_cost_per_mtok")
                   if (v := getattr(b, k)) is not None}  # fmt: skip
        params |= {"pricing": b.pricing.value, "measured": b.measured}
    if f.after is not None:
        params["cursor"] = encode_cursor(f, f.after.value, f.after.id)
    return params


def lineage_mix(conn: Connection) -> list[tuple[str, str]]:
    """(label, model id): the listed base with the most children, one at the median, a leaf."""
    named = func.unnest(MlModel.base_models).table_valued("base").render_derived(name="named")
    children = (
        select(named.c.base, func.count().label("n"))
        .select_from(MlModel)
        .join(named, text("true"))
        .where(MlModel.removed_at.is_(None))
        .group_by(named.c.base)
        .subquery()
    )
    bases = conn.execute(
        select(children.c.base, children.c.n)
        .join(MlModel, MlModel.id == children.c.base)
        .order_by(children.c.n.desc(), children.c.base)
    ).all()
    leaf = conn.scalar(
        select(MlModel.id).where(MlModel.base_models != []).order_by(MlModel.id).limit(1)
    )
    (top, most), (middle, median) = bases[0], bases[len(bases) // 2]
    return [
        (f"largest base ({most:,} children)", top),
        (f"median base ({median:,} children)", middle),
        ("a child (no children)", leaf),
    ]
