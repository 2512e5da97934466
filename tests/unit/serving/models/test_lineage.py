"""How a model derives from a base, read from the Hub's `base_model:` tags."""

import pytest

from serving.models.lineage import RELATIONS, relation

BASE = "Qwen/Qwen3-14B"


@pytest.mark.parametrize("kind", RELATIONS)
def test_the_tag_names_the_relation(kind):
    assert relation(["text-generation", f"base_model:{kind}:{BASE}"], BASE) == kind


@pytest.mark.parametrize(
    "tags",
    [
        [],
        [f"base_model:{BASE}"],  # named without a relation
        ["base_model:quantized:Qwen/Qwen3-8B"],  # another base
        [f"base_model:distilled:{BASE}"],  # not a relation the Hub uses
        [f"quantized:{BASE}"],  # not a base_model tag
        [f"license:base_model:quantized:{BASE}"],
    ],
)
def test_no_relation_unless_a_tag_states_one_for_this_base(tags):
    assert relation(tags, BASE) is None


def test_each_base_of_a_model_gets_its_own_relation():
    tags = ["base_model:merge:a/x", "base_model:finetune:b/y"]
    assert (relation(tags, "a/x"), relation(tags, "b/y")) == ("merge", "finetune")
