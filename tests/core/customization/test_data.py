"""Training data builders, the validator and the split: pure tests."""

from __future__ import annotations

import json

import pytest

from bedrock_kit.core.chat.types import ImageBlock, Message, TextBlock
from bedrock_kit.core.customization.data import (
    Conversation,
    build_records,
    parse_jsonl,
    to_jsonl,
    train_validation_split,
    validate_records,
)
from bedrock_kit.core.customization.profiles import (
    CONVERSATION_SCHEMA,
    PROFILES,
    check_hyperparameters,
    find_profile,
)
from bedrock_kit.errors import ConfigurationError, TrainingDataError

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0:200k"
TITAN = "amazon.titan-text-express-v1:0:8k"


def user(text: str) -> Message:
    return Message("user", (TextBlock(text),))


def bot(text: str) -> Message:
    return Message("assistant", (TextBlock(text),))


def pairs(n: int) -> list[tuple[str, str]]:
    return [(f"ticket number {i}: my card was charged twice", f"billing {i}") for i in range(n)]


# -- profiles


@pytest.mark.parametrize(
    ("model", "method", "fmt"),
    [
        (HAIKU, "FINE_TUNING", "conversation"),
        ("us.amazon.nova-lite-v1:0:300k", "FINE_TUNING", "conversation"),
        (TITAN, "FINE_TUNING", "prompt_completion"),
        (TITAN, "CONTINUED_PRE_TRAINING", "pretraining"),
        ("cohere.command-light-text-v14:7:4k", "FINE_TUNING", "prompt_completion"),
        ("meta.llama3-1-8b-instruct-v1:0:128k", "FINE_TUNING", "prompt_completion"),
        ("meta.llama3-2-3b-instruct-v1:0:128k", "FINE_TUNING", "conversation"),
        (
            "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-text-premier-v1:0:32k",
            "FINE_TUNING",
            "prompt_completion",
        ),
    ],
)
def test_profile_chosen_by_base_model(model, method, fmt):
    assert find_profile(model, method).format == fmt


def test_unknown_model_or_method_is_refused_by_name():
    with pytest.raises(ConfigurationError, match=r"mistral\.large"):
        find_profile("mistral.large-2407-v1:0")
    with pytest.raises(ConfigurationError, match="CONTINUED_PRE_TRAINING"):
        find_profile(HAIKU, "CONTINUED_PRE_TRAINING")


def test_every_profile_names_sources_and_known_fields():
    fields = {
        "min_records",
        "max_records",
        "max_validation_records",
        "max_tokens_per_record",
        "format",
        "hyperparameters",
        "teachers",
        "model_prefixes",
    }
    for profile in PROFILES:
        assert profile.sources and all(s.startswith("https://") for s in profile.sources)
        assert set(profile.unverified) <= fields, profile.name
        for h in profile.hyperparameters:
            assert h.minimum <= h.maximum
            assert h.default is None or h.minimum <= h.default <= h.maximum


def test_hyperparameters_checked_against_documented_ranges():
    haiku = find_profile(HAIKU)
    wire = check_hyperparameters(haiku, {"epochCount": 3, "learningRateMultiplier": "0.5"})
    assert wire == {"epochCount": "3", "learningRateMultiplier": "0.5"}
    with pytest.raises(ConfigurationError) as caught:
        check_hyperparameters(
            haiku, {"epochCount": 11, "batchSize": 2.5, "learningRate": 1e-5, "x": "y"}
        )
    message = str(caught.value)
    for fragment in (
        "epochCount: 11 is outside [1, 10]",
        "batchSize: 2.5 is not an integer",
        "learningRate: not a hyperparameter",
        "x: not a hyperparameter",
    ):
        assert fragment in message


def test_unverified_ranges_are_named_and_can_be_refused():
    nova = find_profile("amazon.nova-micro-v1:0:128k")
    with pytest.raises(ConfigurationError, match="range unverified"):
        check_hyperparameters(nova, {"epochCount": 9})
    with pytest.raises(ConfigurationError, match="unverified"):
        check_hyperparameters(nova, {"epochCount": 2}, allow_unverified=False)
    titan = find_profile(TITAN)
    assert check_hyperparameters(titan, {"epochCount": 2}, allow_unverified=False) == {
        "epochCount": "2"
    }


# -- builders


def test_conversation_format_from_core_messages_and_pairs():
    conv = Conversation([user("Hi"), bot("Hello"), user("Bye"), bot("Ciao")], system="Be brief")
    records = build_records([conv, ("Q", "A")], find_profile(HAIKU))
    assert records[0] == {
        "schemaVersion": CONVERSATION_SCHEMA,
        "system": [{"text": "Be brief"}],
        "messages": [
            {"role": "user", "content": [{"text": "Hi"}]},
            {"role": "assistant", "content": [{"text": "Hello"}]},
            {"role": "user", "content": [{"text": "Bye"}]},
            {"role": "assistant", "content": [{"text": "Ciao"}]},
        ],
    }
    assert [m["role"] for m in records[1]["messages"]] == ["user", "assistant"]
    assert "system" not in records[1]


def test_prompt_completion_from_pairs_and_single_exchanges():
    records = build_records(
        [("Q1", "A1"), [user("Q2"), bot("A2")], Conversation([user("Q3"), bot("A3")], "Sys")],
        find_profile(TITAN),
    )
    assert records == [
        {"prompt": "Q1", "completion": "A1"},
        {"prompt": "Q2", "completion": "A2"},
        {"prompt": "Sys\n\nQ3", "completion": "A3"},
    ]


def test_builders_refuse_what_the_format_cannot_hold():
    with pytest.raises(ConfigurationError, match="item 0: prompt-completion records need one"):
        build_records([[user("a"), bot("b"), user("c"), bot("d")]], "prompt_completion")
    image = Message("user", (ImageBlock("png", data=b"x"),))
    with pytest.raises(ConfigurationError, match="ImageBlock content is not text"):
        build_records([[image, bot("b")]], "conversation")
    with pytest.raises(ConfigurationError, match="pre-training takes texts"):
        build_records([("a", "b")], "pretraining")


def test_pretraining_records_and_jsonl_round_trip():
    records = build_records(["first text", "ünïcode 文字"], "pretraining")
    data = to_jsonl(records)
    assert data.count(b"\n") == 2 and "文字".encode() in data
    assert [r for _, r in parse_jsonl(data)] == records


# -- validator


def test_valid_dataset_passes_with_measurements():
    profile = find_profile(TITAN)
    records = build_records(pairs(20), profile)
    report = validate_records(records, profile)
    assert report.records == 20
    assert report.bytes == len(to_jsonl(records))
    assert report.estimated and report.max_record_tokens > 0
    assert report.total_tokens >= report.max_record_tokens * 1


def test_every_bad_record_is_listed_with_its_line():
    profile = find_profile(HAIKU).with_limits(min_records=1)
    good = build_records([("What is 2+2?", "4")], profile)[0]
    lines = [
        json.dumps(good),
        json.dumps({**good, "schemaVersion": "v1"}),
        "{not json",
        json.dumps(
            {
                "schemaVersion": CONVERSATION_SCHEMA,
                "messages": [
                    {"role": "user", "content": [{"text": "a"}]},
                    {"role": "user", "content": [{"text": "b"}]},
                ],
            }
        ),
        "",
        json.dumps(good),
        json.dumps(
            {
                "schemaVersion": CONVERSATION_SCHEMA,
                "messages": [
                    {"role": "assistant", "content": [{"text": "a"}]},
                    {"role": "user", "content": [{"text": " "}]},
                ],
                "extra": 1,
            }
        ),
    ]
    with pytest.raises(TrainingDataError) as caught:
        validate_records(parse_jsonl("\n".join(lines)), profile)
    problems = caught.value.problems
    by_line: dict[int, list[str]] = {}
    for line, reason in problems:
        by_line.setdefault(line, []).append(reason)
    assert 1 not in by_line
    assert any("schemaVersion" in r for r in by_line[2])
    assert any("not valid JSON" in r for r in by_line[3])
    assert any("roles must alternate" in r for r in by_line[4])
    assert any("the last turn must be the assistant's" in r for r in by_line[4])
    assert by_line[5] == ["empty line"]
    assert by_line[6] == ["duplicate of line 1"]
    assert {
        "unexpected fields ['extra']",
        "the first turn must be the user's",
        "the last turn must be the assistant's",
        "turn 2 is empty",
    } <= set(by_line[7])
    assert "line 4:" in str(caught.value) and "line 7:" in str(caught.value)


def test_record_counts_tokens_and_sizes_against_limits():
    profile = find_profile(TITAN).with_limits(
        min_records=3, max_tokens_per_record=20, max_record_bytes=200, max_file_bytes=300
    )
    records = [
        {"prompt": "short", "completion": "ok"},
        {"prompt": "word " * 60, "completion": "long"},
    ]
    with pytest.raises(TrainingDataError) as caught:
        validate_records(records, profile)
    reasons = dict(caught.value.problems)
    text = " ".join(r for _, r in caught.value.problems)
    assert "estimated (the estimate errs high), above the 20 per record" in reasons[2]
    assert "above the 200 per record" in text
    assert "2 training records, fewer than the 3" in text
    assert "file limit" in text
    with pytest.raises(TrainingDataError, match="counted, above"):
        validate_records(records, profile, count_tokens=lambda t: 1000)


def test_validation_limits_and_empty_fields():
    profile = find_profile(TITAN).with_limits(max_validation_records=1)
    records = [{"prompt": "a", "completion": ""}, {"prompt": 3}]
    with pytest.raises(TrainingDataError) as caught:
        validate_records(records, profile, validation=True)
    text = str(caught.value)
    assert "'completion' is empty" in text
    assert "'prompt' is missing or not a string" in text
    assert "2 validation records, more than the 1" in text


def test_reserved_keywords_refused_for_nova():
    profile = find_profile("amazon.nova-pro-v1:0:300k").with_limits(min_records=1)
    records = build_records([("User: hello", "hi")], profile)
    with pytest.raises(TrainingDataError, match="reserved keyword 'User:'"):
        validate_records(records, profile)


def test_empty_dataset_refused():
    with pytest.raises(TrainingDataError, match="holds no records"):
        validate_records([], find_profile(TITAN))


# -- split


def test_split_is_reproducible_disjoint_and_capped():
    profile = find_profile(TITAN).with_limits(max_validation_records=3)
    records = build_records(pairs(50), profile)
    train, valid = train_validation_split(records, validation_fraction=0.2, seed=7)
    again = train_validation_split(records, validation_fraction=0.2, seed=7)
    assert (train, valid) == again
    assert len(valid) == 10 and len(train) == 40
    assert sorted(map(json.dumps, train + valid)) == sorted(map(json.dumps, records))
    capped_train, capped_valid = train_validation_split(
        records, validation_fraction=0.2, profile=profile
    )
    assert len(capped_valid) == 3 and len(capped_train) == 47
    with pytest.raises(ConfigurationError):
        train_validation_split(records, validation_fraction=1.0)
