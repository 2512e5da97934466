"""benchmark plan (#4): the (model, GPU, config) runs the planner wants, with cost estimates

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30

One row per (model, GPU, config_key); the planner replaces the whole table each time, and the
API reads it in `rank` order. `benchmark_plan_budget` holds the caps the plan was made against,
one row per plan; the items reference it by `planned_at` and go when it goes.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "benchmark_plan_budget",
        sa.Column("planned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("max_gpu_hours", sa.Float(), nullable=False),
        sa.Column("max_usd", sa.Float(), nullable=False),
        sa.Column("max_gpu_hours_per_run", sa.Float(), nullable=False),
        sa.Column("max_usd_per_run", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("planned_at", name=op.f("pk_benchmark_plan_budget")),
    )
    op.create_table(
        "benchmark_plan",
        sa.Column("model_id", sa.String(length=512), nullable=False),
        sa.Column("gpu", sa.String(length=64), nullable=False),
        sa.Column("config_key", sa.String(length=16), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("revision", sa.String(length=64), nullable=True),
        sa.Column("num_gpus", sa.Integer(), nullable=False),
        sa.Column("config", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("downloads", sa.BigInteger(), nullable=True),
        sa.Column("estimate_basis", sa.String(length=64), nullable=False),
        sa.Column("est_gpu_hours", sa.Float(), nullable=True),
        sa.Column("est_usd_spot", sa.Float(), nullable=True),
        sa.Column("est_usd_on_demand", sa.Float(), nullable=True),
        sa.Column("planned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["planned_at"],
            ["benchmark_plan_budget.planned_at"],
            name=op.f("fk_benchmark_plan_planned_at_benchmark_plan_budget"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("model_id", "gpu", "config_key", name=op.f("pk_benchmark_plan")),
    )
    op.create_index("ix_benchmark_plan_rank", "benchmark_plan", ["rank"])


def downgrade() -> None:
    op.drop_index("ix_benchmark_plan_rank", table_name="benchmark_plan")
    op.drop_table("benchmark_plan")
    op.drop_table("benchmark_plan_budget")
