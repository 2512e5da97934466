"""Partitions shared across domains."""

import dagster as dg

# One partition per model id (`models.id`): the registry sync adds new models, and per-model
# work (benchmark runs) is partitioned by it.
models_partitions = dg.DynamicPartitionsDefinition(name="models")
