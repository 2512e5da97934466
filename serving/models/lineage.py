"""A model's lineage: the base models it names, and its children (the models naming it).

`base_models` holds what the registry declares (`base_model` in the card, `base_model:` tags);
a child is any listed model whose `base_models` contains the id: fine-tunes, quantizations,
adapters, merges. Children are read through the GIN index on `base_models` (migration 0005) with
the containment operator, `base_models @> ARRAY[id]`, which that index serves.

`of_model` answers for one model page (the API's fallback); `of_all_models` for every page at
once (the serving cache). Both order and cut the children the same way, so the two renderings
of a page agree byte for byte.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, Text, func, select, true
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.orm import aliased

from resources.db.tables import MlModel

# A popular base has thousands of fine-tunes and quantizations: the page shows the most
# downloaded ones and the count; the listing finds the rest.
CHILDREN_SHOWN = 20
# The Hub's relation names in `base_model:<relation>:<id>` tags.
RELATIONS = ("adapter", "finetune", "merge", "quantized")
_TAG = "base_model:"


def relation(tags: Iterable[str], base_id: str) -> str | None:
    """How a model with these tags derives from `base_id`: one of RELATIONS, or None where the
    registry names the base without saying how (a card's `base_model`, a bare tag)."""
    for tag in tags:
        if not tag.startswith(_TAG):
            continue
        kind, _, named = tag.removeprefix(_TAG).partition(":")
        if named == base_id and kind in RELATIONS:
            return kind
    return None


LineageDict = dict[str, Any]  # base_models, children, children_count: schemas.Lineage


def _lineage(
    model: Any, known: set[str], children: list[dict[str, Any]], count: int
) -> LineageDict:
    bases = [
        {"id": base, "relation": relation(model.tags, base), "in_catalog": base in known}
        for base in model.base_models
    ]
    return {"base_models": bases, "children": children, "children_count": count}


def _child(row: Any, base_id: str) -> dict[str, Any]:
    return {
        "id": row.id,
        "relation": relation(row.tags, base_id),
        "pipeline_tag": row.pipeline_tag,
        "downloads": row.downloads,
    }


def _child_order(columns: Any) -> list[Any]:
    # The listing's default order: most downloaded first, missing counts last, ties by id.
    return [columns.downloads.desc().nulls_last(), columns.id.asc()]


def children_query(model_id: str) -> Select:
    """The most downloaded listed children of `model_id`, each row with the total count."""
    return (
        select(
            MlModel.id,
            MlModel.tags,
            MlModel.pipeline_tag,
            MlModel.downloads,
            func.count().over().label("total"),
        )
        .where(
            # `@>` with an array of the column's type: what the GIN index serves (`= ANY` is not).
            MlModel.base_models.contains(array([model_id], type_=Text)),
            MlModel.removed_at.is_(None),
            MlModel.id != model_id,  # a record naming itself as its base is not its own child
        )
        .order_by(*_child_order(MlModel))
        .limit(CHILDREN_SHOWN)
    )


def of_model(conn: Connection, model: Any) -> LineageDict:
    """The lineage of one model row (any row with id, tags and base_models)."""
    bases: Sequence[str] = model.base_models
    known = set(conn.scalars(select(MlModel.id).where(MlModel.id.in_(bases)))) if bases else set()
    children = conn.execute(children_query(model.id)).all()
    count = children[0].total if children else 0
    return _lineage(model, known, [_child(row, model.id) for row in children], count)


@dataclass(frozen=True)
class AllLineages:
    """Every model's children (already cut to CHILDREN_SHOWN) and the bases the catalog has."""

    children: dict[str, list[dict[str, Any]]]
    counts: dict[str, int]
    known: set[str]

    def of(self, model: Any) -> LineageDict:
        children = self.children.get(model.id, [])
        return _lineage(model, self.known, children, self.counts.get(model.id, 0))


def _unnested(name: str) -> Any:
    """`unnest(models.base_models) AS name(base)`: one row per (model, named base)."""
    return func.unnest(MlModel.base_models).table_valued("base").render_derived(name=name)


def of_all_models(conn: Connection) -> AllLineages:
    """Every model's lineage from two scans of `models`, not one query per model."""
    named = _unnested("named")
    # Distinct: a record naming one base twice is still one child, as `of_model` counts it.
    edges = (
        select(
            named.c.base.label("base_id"),
            MlModel.id,
            MlModel.tags,
            MlModel.pipeline_tag,
            MlModel.downloads,
        )
        .select_from(MlModel)
        .join(named, true())
        .where(MlModel.removed_at.is_(None), named.c.base != MlModel.id)
        .distinct()
        .subquery("edges")
    )
    ranked = select(
        edges,
        func.row_number()
        .over(partition_by=edges.c.base_id, order_by=_child_order(edges.c))
        .label("rank"),
        func.count().over(partition_by=edges.c.base_id).label("total"),
    ).subquery("ranked")
    shown = select(ranked).where(ranked.c.rank <= CHILDREN_SHOWN)
    children: dict[str, list[dict[str, Any]]] = {}
    counts: dict[str, int] = {}
    for row in conn.execute(shown.order_by(ranked.c.base_id, ranked.c.rank)):
        children.setdefault(row.base_id, []).append(_child(row, row.base_id))
        counts[row.base_id] = row.total
    listed = aliased(MlModel)
    every_base = _unnested("every_base")
    known = set(
        conn.scalars(
            select(every_base.c.base)
            .select_from(MlModel)
            .join(every_base, true())
            .join(listed, listed.id == every_base.c.base)
            .distinct()
        )
    )
    return AllLineages(children, counts, known)
