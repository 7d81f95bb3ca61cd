"""ConverseFrame and plain_frame: a request is its messages joined to a frame of the rest.

The kept (shared) frame of a plain model gives the request the general builder gives, and
every request gets its own members: changing one request changes no other.
"""

from __future__ import annotations

import json

import pytest

from bedrock_kit.core.chat.converse import (
    build_converse_request,
    converse_frame,
    converse_messages,
    plain_frame,
)
from bedrock_kit.core.chat.types import InferenceConfig, Message, TextBlock, ToolUseBlock
from bedrock_kit.errors import ConfigurationError

MODEL = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
TURNS = [Message("user", (TextBlock("hi"),))]


@pytest.mark.parametrize(
    ("max_tokens", "temperature", "top_p", "stop"),
    [
        (None, None, None, ()),
        (256, None, None, ()),
        (256, 0.2, 0.9, ()),
        (1, 1, 1.0, ("END", "STOP")),
        (None, 0.0, None, ("\n\nHuman:",)),
    ],
)
def test_plain_frame_gives_the_general_builders_request(max_tokens, temperature, top_p, stop):
    inference = InferenceConfig(max_tokens, temperature, top_p, stop)
    expected = build_converse_request(MODEL, TURNS, inference=inference)
    got = plain_frame(MODEL, max_tokens, temperature, top_p, stop).request(TURNS)
    assert got == expected
    assert json.dumps(got) == json.dumps(expected)  # same key order, same number types


def test_plain_frames_are_kept_per_typed_value_set():
    assert plain_frame(MODEL, 64, 0.5, None, ()) is plain_frame(MODEL, 64, 0.5, None, ())
    one, one_float = plain_frame(MODEL, 64, 1, None, ()), plain_frame(MODEL, 64, 1.0, None, ())
    assert one is not one_float
    assert (
        json.dumps(one.request(TURNS)["inferenceConfig"]) == '{"maxTokens": 64, "temperature": 1}'
    )
    assert json.dumps(one_float.request(TURNS)["inferenceConfig"]).endswith('"temperature": 1.0}')


def test_each_request_of_a_shared_frame_has_its_own_members():
    frame = plain_frame(MODEL, 100, None, None, ("END",))
    first = frame.request(TURNS)
    first["inferenceConfig"]["maxTokens"] = 1
    first["inferenceConfig"]["stopSequences"].append("MORE")
    second = frame.request(TURNS)
    assert second["inferenceConfig"] == {"maxTokens": 100, "stopSequences": ["END"]}
    assert second["messages"] is not first["messages"]


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        ((0, None, None, ()), "max_tokens"),
        ((None, 3.0, None, ()), "temperature"),
        ((True, None, None, ()), "max_tokens"),
    ],
)
def test_a_refused_value_set_raises_every_time(args, problem):
    for _ in range(2):
        with pytest.raises(ConfigurationError, match=problem):
            plain_frame(MODEL, *args)


def test_texts_are_checked_where_they_are_and_named_as_in_the_request():
    with pytest.raises(ConfigurationError, match=r"request\.messages\[0\]\.content\[0\]\.text"):
        plain_frame(MODEL, 10, None, None, ()).request([Message("user", (TextBlock("a\ud800"),))])
    with pytest.raises(ConfigurationError, match=r"request\.modelId"):
        converse_frame("model\udc00")
    with pytest.raises(ConfigurationError, match=r"request\.additionalModelRequestFields\.k"):
        converse_frame(MODEL, additional_model_request_fields={"k": "x\ud800"})


def test_the_messages_are_checked_as_the_general_builder_checks_them():
    frame = plain_frame(MODEL, None, None, None, ())
    cases = [
        [],
        [Message("assistant", (TextBlock("first"),))],
        [Message("user", ())],
        [Message("user", (TextBlock("a"),)), Message("assistant", (ToolUseBlock("t1", "f", {}),))],
    ]
    for turns in cases:
        try:
            expected: object = build_converse_request(MODEL, turns)
        except ConfigurationError as exc:
            expected = str(exc)
        try:
            got: object = frame.request(turns)
        except ConfigurationError as exc:
            got = str(exc)
        assert got == expected


def test_consecutive_turns_are_merged_in_the_messages():
    turns = [Message("user", (TextBlock("a"),)), Message("user", (TextBlock("b"),))]
    assert converse_messages(MODEL, turns) == [
        {"role": "user", "content": [{"text": "a"}, {"text": "b"}]}
    ]


def test_zero_and_negative_zero_are_sent_as_given():
    zero = plain_frame(MODEL, 8, 0.0, None, ()).request(TURNS)
    negative = plain_frame(MODEL, 8, -0.0, None, ()).request(TURNS)
    assert json.dumps(zero["inferenceConfig"]) == '{"maxTokens": 8, "temperature": 0.0}'
    assert json.dumps(negative["inferenceConfig"]) == '{"maxTokens": 8, "temperature": -0.0}'
