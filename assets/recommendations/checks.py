"""Checks on the published recommendations."""

import dagster as dg

from resources.database import DatabaseResource


@dg.asset_check(asset="recommendations", description="Exactly one active version, and every "
                "ranking's scores lie in [0, 1] in non-increasing order.")  # fmt: skip
def recommendations_are_well_formed(database: DatabaseResource) -> dg.AssetCheckResult:
    active = database.scalar("SELECT count(*) FROM recommendation_versions WHERE active")
    bad = database.scalar(
        """
        SELECT count(*) FROM recommendations r
        JOIN recommendation_versions v ON v.version = r.version AND v.active
        CROSS JOIN LATERAL (
            SELECT (item->>'score')::float AS score,
                   lag((item->>'score')::float) OVER (ORDER BY ord) AS previous
            FROM jsonb_array_elements(r.payload->'items') WITH ORDINALITY AS t(item, ord)
        ) s
        WHERE r.kind = 'ranking' AND (s.score < 0 OR s.score > 1 OR s.score > s.previous)
        """
    )
    return dg.AssetCheckResult(
        passed=active == 1 and bad == 0,
        metadata={"active_versions": active, "bad_items": bad},
    )
