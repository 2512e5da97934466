"""Schedules."""

import dagster as dg

from orchestration.jobs import registry_sync_job

daily_registry_sync = dg.ScheduleDefinition(
    name="daily_registry_sync",
    job=registry_sync_job,
    cron_schedule="0 3 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
