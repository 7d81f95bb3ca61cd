"""Fuzzing the response parsers: bad wire data gives a typed error or a value, never a crash.

Response dicts are generated from botocore's own output shapes (the form botocore hands us
after decoding): every member may be missing or None, strings and numbers are random, enums
mix real values with random ones, unions pick any member. Event-stream bytes are random or
valid frames (built with :mod:`bedrock_kit.testing.eventstream`) with random mutations.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from typing import Any

import botocore.session
import pytest
from botocore.eventstream import EventStream, EventStreamBuffer, EventStreamMessage, ParserError
from botocore.model import OperationModel, Shape
from botocore.parsers import EventStreamJSONParser
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bedrock_kit.core.agents.runtime import _AgentLoop
from bedrock_kit.core.chat.converse import parse_converse_response
from bedrock_kit.core.chat.stream import StreamReducer, iter_deltas
from bedrock_kit.core.guardrails.apply import parse_apply_guardrail_response
from bedrock_kit.core.guardrails.assessments import parse_assessment
from bedrock_kit.core.knowledge_bases.requests import RetrievePager
from bedrock_kit.errors import BedrockKitError, translate_errors
from bedrock_kit.testing.eventstream import encode_event, encode_exception
from bedrock_kit.testing.scripts import converse_stream_events

MODEL = "amazon.nova-micro-v1:0"
FUZZ = settings(
    max_examples=int(__import__("os").environ.get("FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
_MAX_DEPTH = 7


# ------------------------------------------------------------------ shape-driven strategies


@cache
def _operation(service: str, name: str) -> OperationModel:
    return botocore.session.get_session().get_service_model(service).operation_model(name)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


def _scalar(shape: Shape) -> st.SearchStrategy[Any]:
    kind = shape.type_name
    if kind == "string":
        enum = list(getattr(shape, "enum", None) or ())
        return st.sampled_from(enum) | st.text(max_size=10) if enum else st.text(max_size=12)
    if kind in ("integer", "long"):
        return st.integers(-(2**40), 2**40)
    if kind in ("float", "double"):
        return st.floats(allow_nan=True, allow_infinity=True)
    if kind == "boolean":
        return st.booleans()
    if kind == "blob":
        return st.binary(max_size=24)
    if kind == "timestamp":
        return st.datetimes()
    return _JSON


def from_shape(shape: Shape, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values botocore could hand us for ``shape``, each member possibly missing or None."""
    kind = shape.type_name
    if depth > _MAX_DEPTH:  # recursive shapes end in empty containers, not None
        return (
            st.just([])
            if kind == "list"
            else st.just({})
            if kind in ("structure", "map")
            else _scalar(shape)
        )
    if kind == "structure" and shape.metadata.get("document"):
        return _JSON
    if kind == "structure":
        members = shape.members
        if getattr(shape, "is_union", False) or shape.serialization.get("eventstream"):
            options = [
                st.fixed_dictionaries({name: _maybe(member, depth)})
                for name, member in members.items()
            ] or [st.just({})]
            return st.one_of(*options, st.fixed_dictionaries({"someFutureMember": _JSON}))
        return st.fixed_dictionaries(
            {}, optional={name: _maybe(member, depth) for name, member in members.items()}
        )
    if kind == "list":
        return st.lists(_maybe(shape.member, depth), max_size=3)
    if kind == "map":
        return st.dictionaries(st.text(max_size=6), _maybe(shape.value, depth), max_size=3)
    return _scalar(shape)


def _maybe(shape: Shape, depth: int) -> st.SearchStrategy[Any]:
    # botocore omits absent members rather than writing None; None is tried at the top level.
    return st.deferred(lambda: from_shape(shape, depth + 1))


def _none_at_top(shape: Shape) -> st.SearchStrategy[Any]:
    """Like from_shape, but each top-level member may also be None (recorded JSON, other
    clients)."""
    return st.fixed_dictionaries(
        {},
        optional={name: st.none() | _maybe(member, 0) for name, member in shape.members.items()},
    )


def output_of(service: str, operation: str) -> st.SearchStrategy[Any]:
    """Random response dicts of ``operation`` (plus ResponseMetadata, as botocore adds)."""
    shape = _operation(service, operation).output_shape
    assert shape is not None
    meta = st.fixed_dictionaries(
        {}, optional={"RequestId": st.none() | st.text(max_size=8), "HTTPStatusCode": st.just(200)}
    )
    return st.tuples(_none_at_top(shape), meta).map(
        lambda pair: {**pair[0], "ResponseMetadata": pair[1]}
    )


def event_of(service: str, operation: str, member: str) -> st.SearchStrategy[Any]:
    """Random single events of the event-stream member ``member`` of the output."""
    output = _operation(service, operation).output_shape
    assert output is not None
    return from_shape(output.members[member])


def _only_typed(call: Any) -> Any:
    """Run ``call``; a BedrockKitError is fine, any other exception fails the test."""
    try:
        return call()
    except BedrockKitError:
        return None


def _known_crash(value: Any) -> bool:
    """Inputs of crashes the fuzz found, now fixed and tested below (kept out of the broad fuzz)."""
    if isinstance(value, list):
        return any(_known_crash(v) for v in value)
    if not isinstance(value, Mapping):
        return False
    extra = value.get("additionalModelResponseFields")
    if extra is not None and not isinstance(extra, Mapping):
        return True
    return any(_known_crash(v) for v in value.values())


# ------------------------------------------------------------------ (a) event-stream frames


def _valid_frames() -> list[bytes]:
    frames = [
        encode_event(name, body)
        for e in converse_stream_events("hi there")
        for name, body in e.items()
    ]
    frames.append(encode_exception("throttlingException", "slow down"))
    return frames


_FRAMES = _valid_frames()


@st.composite
def _mutated_stream(draw: st.DrawFn) -> bytes:
    data = bytearray(b"".join(draw(st.lists(st.sampled_from(_FRAMES), min_size=1, max_size=6))))
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        if action == "flip":
            data[at] ^= draw(st.integers(1, 255))
        elif action == "cut":
            del data[at:]
            if not data:
                break
        elif action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        else:
            del data[at : at + draw(st.integers(1, 8))]
            if not data:
                break
    return bytes(data)


_STREAM_BYTES = st.binary(max_size=200) | _mutated_stream()


def _chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)] or [b""]


@FUZZ
@given(data=_STREAM_BYTES, size=st.integers(1, 64))
def test_event_stream_buffer_yields_frames_or_parser_errors(data, size):
    buffer = EventStreamBuffer()
    try:
        for chunk in _chunks(data, size):
            buffer.add_data(chunk)
            for message in buffer:
                assert isinstance(message, EventStreamMessage)
                assert isinstance(message.headers, dict) and isinstance(message.payload, bytes)
    except ParserError:
        pass


class _RawStream:
    """What botocore's EventStream reads: a body with ``stream()`` and ``close()``."""

    def __init__(self, data: bytes, size: int) -> None:
        self._body = io.BytesIO(data)
        self._size = size

    def stream(self) -> Iterator[bytes]:
        while chunk := self._body.read(self._size):
            yield chunk

    def close(self) -> None:
        self._body.close()


def _converse_stream(data: bytes, size: int) -> EventStream:
    shape = _operation("bedrock-runtime", "ConverseStream").output_shape
    assert shape is not None
    stream_shape = shape.members["stream"]
    return EventStream(
        _RawStream(data, size), stream_shape, EventStreamJSONParser(), "ConverseStream"
    )


@FUZZ
@given(data=_STREAM_BYTES, size=st.integers(1, 64))
def test_converse_stream_bytes_give_typed_errors_or_a_result(data, size):
    """The stream path: botocore decodes frames, our reducer turns events into deltas."""

    def run() -> list[Any]:
        with translate_errors(model_id=MODEL):
            return list(iter_deltas(_converse_stream(data, size), StreamReducer(MODEL)))

    _only_typed(run)


def test_valid_frames_decode_to_the_full_answer():
    """Control for the fuzz above: unmutated frames do give the answer."""
    data = b"".join(_FRAMES[:-1])
    with translate_errors(model_id=MODEL):
        deltas = list(iter_deltas(_converse_stream(data, 7), StreamReducer(MODEL)))
    assert deltas[-1].result.text == "hi there"  # type: ignore[union-attr]


_STREAM_EVENT = event_of("bedrock-runtime", "ConverseStream", "stream")


@FUZZ
@given(events=st.lists(_STREAM_EVENT, max_size=8))
def test_random_converse_stream_events_into_reducer(events):
    assume(not _known_crash(events))
    _only_typed(lambda: list(iter_deltas(iter(events), StreamReducer(MODEL))))


@FUZZ
@given(events=st.lists(_STREAM_EVENT, max_size=8))
def test_random_stream_events_after_a_valid_start(events):
    assume(not _known_crash(events))
    start = converse_stream_events("x")[:2]
    _only_typed(lambda: list(iter_deltas(iter([*start, *events]), StreamReducer(MODEL))))


# ------------------------------------------------------------------ (b) Converse


@FUZZ
@given(response=output_of("bedrock-runtime", "Converse"))
def test_random_converse_responses(response):
    assume(not _known_crash(response))
    _only_typed(lambda: parse_converse_response(response, model_id=MODEL))


# ------------------------------------------------------------------ (c) ApplyGuardrail


@FUZZ
@given(response=output_of("bedrock-runtime", "ApplyGuardrail"))
def test_random_apply_guardrail_responses(response):
    _only_typed(lambda: parse_apply_guardrail_response(response))


_ASSESSMENT = from_shape(
    _operation("bedrock-runtime", "ApplyGuardrail").output_shape.members["assessments"].member  # type: ignore[union-attr]
)


@FUZZ
@given(assessment=_ASSESSMENT)
def test_random_guardrail_assessments(assessment):
    _only_typed(lambda: parse_assessment(assessment or {}))


# ------------------------------------------------------------------ (d) Retrieve


def _retrieve(response: Mapping[str, Any]) -> Any:
    pager = RetrievePager({"knowledgeBaseId": "KB", "retrievalQuery": {"text": "q"}})
    pager.add_page(response)
    return pager.result()


@FUZZ
@given(response=output_of("bedrock-agent-runtime", "Retrieve"))
def test_random_retrieve_responses(response):
    _only_typed(lambda: _retrieve(response))


# ------------------------------------------------------------------ (e) InvokeAgent


_AGENT_EVENT = event_of("bedrock-agent-runtime", "InvokeAgent", "completion")


def _feed_agent(events: list[Any]) -> list[Any]:
    loop = _AgentLoop({"agentId": "A", "agentAliasId": "B"}, (), 3, "FAILURE")
    out: list[Any] = []
    for event in events:
        out.extend(loop.feed(event))
    out.extend(loop.end_round())
    return out


@FUZZ
@given(events=st.lists(_AGENT_EVENT, max_size=5))
def test_random_invoke_agent_events(events):
    _only_typed(lambda: _feed_agent(events))


# ------------------------------------------------------------------ crashes the fuzz found (fixed)

_NON_OBJECT_DOCUMENTS = [[""], [None], "0", True, 3]


@pytest.mark.parametrize("extra", _NON_OBJECT_DOCUMENTS)
def test_converse_non_object_additional_fields(extra):
    response = {"output": {"message": {}}, "additionalModelResponseFields": extra}
    _only_typed(lambda: parse_converse_response(response, model_id=MODEL))


@pytest.mark.parametrize("extra", _NON_OBJECT_DOCUMENTS)
def test_stream_non_object_additional_fields(extra):
    events = [{"messageStop": {"stopReason": "end_turn", "additionalModelResponseFields": extra}}]
    _only_typed(lambda: list(iter_deltas(iter(events), StreamReducer(MODEL))))


@pytest.mark.parametrize("event", ["contentBlockStart", "contentBlockDelta", "messageStop"])
def test_stream_event_with_null_members(event):
    _only_typed(lambda: list(iter_deltas(iter([{event: None}]), StreamReducer(MODEL))))


# Null members inside otherwise well-shaped responses. botocore omits absent members rather
# than decoding them to None, so these are reachable only from dicts built elsewhere (recorded
# or hand-written JSON, other SDKs); each still ends in a bare TypeError/AttributeError.
_NULL_MEMBER_CRASHES: list[tuple[str, Callable[[], Any]]] = [
    (
        "core/chat/stream.py StreamReducer._on_block_start: int(contentBlockIndex=None)",
        lambda: list(
            iter_deltas(
                iter([{"contentBlockStart": {"contentBlockIndex": None}}]), StreamReducer(MODEL)
            )
        ),
    ),
    (
        "core/chat/stream.py StreamReducer._on_block_start: start.toolUse=None .get",
        lambda: list(
            iter_deltas(
                iter([{"contentBlockStart": {"start": {"toolUse": None}}}]), StreamReducer(MODEL)
            )
        ),
    ),
    (
        "core/chat/stream.py StreamReducer.partial_text (via finish): delta.text=None joined",
        lambda: list(
            iter_deltas(
                iter([{"contentBlockDelta": {"delta": {"text": None}}}]), StreamReducer(MODEL)
            )
        ),
    ),
    (
        "core/chat/converse.py _image_from_wire (block_from_wire): content [{'image': None}]",
        lambda: parse_converse_response(
            {"output": {"message": {"content": [{"image": None}]}}}, model_id=MODEL
        ),
    ),
    (
        "core/chat/converse.py _document_from_wire (block_from_wire): content [{'document': None}]",
        lambda: parse_converse_response(
            {"output": {"message": {"content": [{"document": None}]}}}, model_id=MODEL
        ),
    ),
    (
        "core/guardrails/assessments.py _grounding: float(threshold=None)",
        lambda: parse_assessment({"contextualGroundingPolicy": {"filters": [{"threshold": None}]}}),
    ),
    (
        "core/agents/tools.py parse_invocation_inputs (via agents/runtime.py _AgentLoop.feed): "
        "functionInvocationInput=None .get",
        lambda: _feed_agent(
            [{"returnControl": {"invocationInputs": [{"functionInvocationInput": None}]}}]
        ),
    ),
]


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(call, id=f"null-{index}")
        for index, (name, call) in enumerate(_NULL_MEMBER_CRASHES)
    ],
)
def test_null_members_give_typed_errors_or_results(call):
    _only_typed(call)


if __name__ == "__main__":  # pragma: no cover - handy for shrinking by hand
    pytest.main([__file__, "-q"])


def test_null_list_items_in_assessments_are_skipped_not_crashing():
    assessment = parse_assessment(
        {
            "topicPolicy": {"topics": [None, {"name": "t", "type": "DENY", "action": "BLOCKED"}]},
            "contentPolicy": {"filters": [None]},
            "sensitiveInformationPolicy": {"piiEntities": [None], "regexes": [None]},
            "contextualGroundingPolicy": {"filters": [None]},
        }
    )
    assert [t.name for t in assessment.topics] == ["t"] and assessment.blocked
