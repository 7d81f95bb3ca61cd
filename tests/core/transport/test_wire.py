"""The wire reader: one fail-closed rule, depth-limited JSON, the botocore body check."""

from __future__ import annotations

import json
import random

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st

from bedrock_kit.core.transport.wire import (
    MAX_JSON_DEPTH,
    JsonDepthMeter,
    WireReader,
    document_too_deep,
    excerpt,
    install_body_check,
    json_too_deep,
)
from bedrock_kit.core.transport.wire_events import read_events
from bedrock_kit.errors import MalformedResponseError
from tests.support.hostile import DUMMY_KEYS, HostileServer, Script, json_reply

R = WireReader("Test response", model_id="m-1", request_id="req-1", region="us-east-1")
DEEP = "[" * 50_000 + "]" * 50_000


def _depth(value: object) -> int:
    """Reference nesting depth of a decoded JSON value (recursive; only for shallow values)."""
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


# ------------------------------------------------------------------ the typed error


def test_malformed_names_the_call_model_request_and_quotes_an_excerpt():
    error = R.malformed("stopReason is missing", {"output": "x" * 500})
    assert isinstance(error, MalformedResponseError)
    assert (error.model_id, error.request_id, error.region) == ("m-1", "req-1", "us-east-1")
    text = str(error)
    assert text.startswith("Test response is malformed: stopReason is missing: {'output':")
    assert "request_id=req-1" in text and "model=m-1" in text
    assert len(text) < 400  # an excerpt, not the whole body


def test_the_whole_body_is_kept_as_raw_when_the_reader_has_it():
    reader = WireReader("Body", body=b'{"a": [1, "x"]}')
    assert reader.malformed("a[1] is not a number", "x").raw == '{"a": [1, "x"]}'
    assert WireReader("Body").malformed("bad", "x").raw == "x"


def test_excerpt_is_short_single_line_and_survives_deep_values():
    deep: list = []
    cursor = deep
    for _ in range(5000):  # repr() of this raises RecursionError
        cursor.append([])
        cursor = cursor[0]
    assert len(excerpt(deep)) <= 260
    assert excerpt(b"<html>\n  <body>login</body>\n</html>") == "<html> <body>login</body> </html>"
    assert excerpt("y" * 1000).endswith("(800 more characters)")


@pytest.mark.parametrize(
    "error",
    [
        AttributeError("'list' object has no attribute 'get'"),
        KeyError("id"),
        TypeError("'int' object is not iterable"),
        ValueError("invalid literal"),
        IndexError("list index out of range"),
        RecursionError("maximum recursion depth exceeded"),
    ],
)
def test_guard_turns_every_bare_parse_error_into_the_typed_one(error):
    with pytest.raises(MalformedResponseError) as info, R.guard({"data": 1}):
        raise error
    assert info.value.__cause__ is error
    assert info.value.request_id == "req-1"


def test_guard_adds_its_context_to_an_inner_readers_error():
    inner = WireReader("InvokeModel response body")
    with pytest.raises(MalformedResponseError) as info, R.guard():
        raise inner.malformed("stop reason is missing")
    assert (info.value.model_id, info.value.request_id) == ("m-1", "req-1")


def test_guard_lets_other_errors_through():
    with pytest.raises(RuntimeError), R.guard():
        raise RuntimeError("not a parse error")


# ------------------------------------------------------------------ field readers


@pytest.mark.parametrize(
    ("method", "value", "problem"),
    [
        ("obj", None, "x is missing"),
        ("obj", [1], "x is a list, not an object"),
        ("items", "ab", "x is a string, not a list"),
        ("text", 3, "x is a number, not a string"),
        ("count", None, "x is missing"),
        ("count", -1, "not a count"),
        ("count", True, "not a count"),
        ("count", 2.5, "not a count"),
        ("number", float("nan"), "not a finite number"),
        ("number", "1", "not a finite number"),
    ],
)
def test_readers_refuse_the_wrong_shape(method, value, problem):
    with pytest.raises(MalformedResponseError, match=problem):
        getattr(R, method)(value, "x")


def test_readers_accept_the_documented_shape():
    assert R.count(28.0, "titan count") == 28 and R.count(0, "n") == 0
    assert R.opt_obj(None, "o") == {} and R.opt_items(None, "l") == ()
    assert R.opt_count(None, "c") is None and R.opt_text(None, "t") is None
    assert R.number(3, "n") == 3.0
    assert R.one_of("NONE", ("INTERVENED", "NONE"), "action") == "NONE"
    with pytest.raises(MalformedResponseError, match="action is not one of"):
        R.one_of("BLOCKED?", ("INTERVENED", "NONE"), "action")
    with pytest.raises(MalformedResponseError, match="t is empty"):
        R.text("", "t", empty=False)


# ------------------------------------------------------------------ JSON with a depth limit


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "is empty"),
        (b"  \n", "is empty"),
        (b"<html>login</html>", "is not JSON"),
        (b"\xff\xfe", "is not UTF-8"),
        (DEEP.encode(), f"deeper than {MAX_JSON_DEPTH} levels"),
        ('{"a": ' * 50_000 + "1" + "}" * 50_000, f"deeper than {MAX_JSON_DEPTH} levels"),
    ],
)
def test_loads_refuses_what_is_not_json_or_too_deep(data, problem):
    with pytest.raises(MalformedResponseError, match=problem):
        R.loads(data)


def test_loads_object_refuses_other_json_values():
    assert R.loads_object(b'{"a": [1]}') == {"a": [1]}
    for data in (b"[1, 2]", b'"str"', b"3", b"null"):
        with pytest.raises(MalformedResponseError, match="not an object"):
            R.loads_object(data)


def test_nesting_at_the_limit_is_read_and_one_more_is_not():
    at_limit = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert _depth(R.loads(at_limit)) == MAX_JSON_DEPTH
    with pytest.raises(MalformedResponseError):
        R.loads("[" + at_limit + "]")


def test_brackets_inside_strings_do_not_count():
    text = json.dumps({"code": "[[[[" * 100 + '\\"' + "{{{{" * 100})
    assert not json_too_deep(text)
    assert R.loads(text)["code"].startswith("[[[[")


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab', max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=30,
)


@settings(max_examples=200, deadline=None)
@given(value=_JSON, limit=st.integers(0, 6), cuts=st.lists(st.integers(0, 400), max_size=6))
def test_depth_meter_agrees_with_the_decoded_depth_however_the_text_is_cut(value, limit, cuts):
    text = json.dumps(value)
    expected_too_deep = _depth(value) > limit
    assert json_too_deep(text, limit) is expected_too_deep
    assert document_too_deep(value, limit) is expected_too_deep
    meter = JsonDepthMeter(limit)
    points = sorted({c % (len(text) + 1) for c in cuts})
    pieces = [text[a:b] for a, b in zip([0, *points], [*points, len(text)], strict=True)]
    accepted = all([meter.feed(piece) for piece in pieces])
    assert accepted is not expected_too_deep


def test_depth_meter_handles_an_escape_split_across_pieces():
    meter = JsonDepthMeter(1)
    for piece in ['{"a": "x\\', '"[[[[', '"}']:  # the escaped quote opens no bracket
        assert meter.feed(piece)
    assert meter.depth == 0


# ------------------------------------------------------------------ event-stream reads


def test_read_events_types_botocores_bare_errors_and_only_those():
    def broken():
        yield {"ok": 1}
        raise AttributeError("'list' object has no attribute 'get'")

    seen = []
    with pytest.raises(MalformedResponseError, match="could not decode"):
        for event in read_events(broken(), R):
            seen.append(event)
    assert seen == [{"ok": 1}]

    # An error in the consumer's own code is not relabelled.
    with pytest.raises(KeyError):
        for event in read_events(iter([{"ok": 1}]), R):
            event["missing"]


# ------------------------------------------------------------------ the botocore body check


def _converse(server: HostileServer, check: bool = True):
    client = boto3.client("bedrock-runtime", endpoint_url=server.url, **DUMMY_KEYS)
    if check:
        install_body_check(client)
    return client.converse(modelId="m", messages=[{"role": "user", "content": [{"text": "q"}]}])


_BAD_BODIES = [
    pytest.param(
        Script(body=b"<html>login</html>", headers={"content-type": "text/html"}),
        "is not JSON.*<html>login</html>",
        id="html",
    ),
    pytest.param(
        Script(body=b"", headers={"content-type": "application/json"}),
        "the body is empty",
        id="empty",
    ),
    pytest.param(Script(body=b"not json"), "is not JSON", id="text"),
    pytest.param(json_reply([1, 2]), "JSON list, not an object", id="array"),
    pytest.param(json_reply("str"), "JSON str, not an object", id="string"),
    pytest.param(Script(body=DEEP.encode()), "deeper than 128", id="deep"),
    pytest.param(json_reply({"output": 1}), "output is a number, not an object", id="wrong-type"),
    pytest.param(
        json_reply({"output": {"message": {"role": "assistant", "content": [{}]}}}),
        r"content\[0\] must have exactly one member",
        id="empty-union",
    ),
    pytest.param(
        json_reply({"output": {"message": {"role": "assistant", "content": [{"text": 7}]}}}),
        r"content\[0\].text is a number",
        id="text-not-string",
    ),
]


@pytest.mark.parametrize(("script", "problem"), _BAD_BODIES)
def test_body_check_refuses_what_botocore_would_read_as_empty_or_crash_on(hostile, script, problem):
    hostile.push(script)
    with pytest.raises(MalformedResponseError, match=problem) as info:
        _converse(hostile)
    assert info.value.request_id == "hostile-request-1"


def test_without_the_check_botocore_hides_the_body_or_crashes(hostile):
    """What the check is for: botocore's own handling of the same bodies."""
    hostile.push(Script(body=b"<html>login</html>", headers={"content-type": "text/html"}))
    assert set(_converse(hostile, check=False)) == {"ResponseMetadata"}  # HTML read as {}
    hostile.push(json_reply([1, 2]))
    with pytest.raises(AttributeError):
        _converse(hostile, check=False)
    hostile.push(Script(body=DEEP.encode()))
    with pytest.raises(RecursionError):
        _converse(hostile, check=False)


def test_body_check_passes_documented_bodies_installed_any_number_of_times(hostile):
    body = {
        "output": {"message": {"role": "assistant", "content": [{"text": "hi"}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2},
        "metrics": {"latencyMs": 3},
    }
    client = boto3.client("bedrock-runtime", endpoint_url=hostile.url, **DUMMY_KEYS)
    for _ in range(3):
        install_body_check(client)
    hostile.push(json_reply(body))
    response = client.converse(modelId="m", messages=[{"role": "user", "content": [{"text": "q"}]}])
    assert response["output"]["message"]["content"] == [{"text": "hi"}]


def test_body_check_leaves_error_statuses_to_the_error_translation(hostile):
    hostile.push(Script(status=503, body=b"<html>bad gateway</html>"))
    client = install_body_check(
        boto3.client(
            "bedrock-runtime",
            endpoint_url=hostile.url,
            config=Config(retries={"max_attempts": 1}),
            **DUMMY_KEYS,
        )
    )
    with pytest.raises(ClientError):
        client.converse(modelId="m", messages=[{"role": "user", "content": [{"text": "q"}]}])


def test_random_garbage_bodies_never_escape_untyped(hostile):
    rng = random.Random(7)
    client = install_body_check(
        boto3.client("bedrock-runtime", endpoint_url=hostile.url, **DUMMY_KEYS)
    )
    for _ in range(25):
        hostile.push(Script(body=bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))))
        with pytest.raises(MalformedResponseError):
            client.converse(modelId="m", messages=[{"role": "user", "content": [{"text": "q"}]}])
