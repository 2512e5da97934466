from serving.recommendations.messages import (
    missing_detail,
    missing_message,
    usable_index,
    valid_values,
)

CHOICES = {
    "tasks": ["chat", "code"],
    "gpus": ["H100"],
    "profiles": ["balanced"],
    "axes": ["a", "b"],
}


def test_names_each_unknown_value_with_the_valid_ones():
    message = missing_message(
        "ranking", {"task": "img", "gpu": "T4", "profile": "balanced"}, CHOICES, "v1"
    )
    assert message == (
        "no ranking in version v1 for task='img', gpu='T4', profile='balanced': "
        "unknown task 'img' (valid: chat, code); unknown gpu 'T4' (valid: H100)"
    )


def test_known_values_in_an_unknown_combination():
    message = missing_message("pareto", {"task": "code", "gpu": "H100", "x": "a", "y": "b"},
                              CHOICES, "v1")  # fmt: skip
    assert message.startswith("no Pareto front in version v1 for task='code'")
    assert message.endswith("each value exists, but not this combination")


def test_nothing_published():
    assert missing_message("ranking", {"task": "t"}, {}, None) == (
        "no recommendations have been published yet"
    )


def test_an_empty_list_reads_none():
    assert "(valid: none)" in missing_message("ranking", {"profile": "p"}, {}, "v1")


def test_gpus_are_those_of_the_task_when_the_index_says():
    choices = CHOICES | {"gpus": ["B200", "H100"], "gpus_by_task": {"code": ["B200"]}}
    requested = {"task": "code", "gpu": "H100", "profile": "balanced"}
    assert "unknown gpu 'H100' (valid: B200)" in missing_message(
        "ranking", requested, choices, "v1"
    )
    assert missing_detail(requested, choices, "v1")["valid"]["gpus"] == ["B200"]
    # An unknown task: any GPU of the version is listed.
    assert valid_values("gpu", {"task": "nope"}, choices) == ["B200", "H100"]


def test_usable_index():
    assert usable_index(CHOICES)
    assert not usable_index({"recommendations_version": "v1"})
    assert not usable_index(["tasks"])


def test_detail_lists_only_the_relevant_choices():
    detail = missing_detail({"task": "t", "x": "a", "y": "z"}, CHOICES, "v1")
    assert detail == {
        "requested": {"task": "t", "x": "a", "y": "z"},
        "version": "v1",
        "valid": {"axes": ["a", "b"], "tasks": ["chat", "code"]},
    }
