"""Every response parser fails closed, on literal wire data: the documented shape or a typed
MalformedResponseError carrying the model, the request id and an excerpt; never a bare
Python error, never a default that reads as "fine" (0/0 usage, ``end_turn``, ``NONE``).

The over-the-wire versions of these cases (real HTTP, both frameworks, sync and async) are
in ``tests/reliability/test_hostile_parsers.py``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from bedrock_kit.core.agents.runtime import _AgentLoop
from bedrock_kit.core.agents.tools import LocalTool, handle_lambda_event
from bedrock_kit.core.chat.converse import parse_converse_response
from bedrock_kit.core.chat.invoke import InvokeStreamAdapter, parse_invoke_response
from bedrock_kit.core.chat.runtime import parse_count_tokens_response
from bedrock_kit.core.chat.stream import StreamReducer, ToolCallDelta, iter_deltas
from bedrock_kit.core.chat.types import ToolSpec
from bedrock_kit.core.embeddings.runtime import embedding_model_spec, parse_embedding_response
from bedrock_kit.core.knowledge_bases.requests import RetrievePager
from bedrock_kit.core.knowledge_bases.results import parse_generation_response
from bedrock_kit.core.knowledge_bases.runtime import GenerationStreamReducer
from bedrock_kit.errors import MalformedResponseError

MODEL = "amazon.nova-micro-v1:0"
META = {"ResponseMetadata": {"RequestId": "req-42", "HTTPStatusCode": 200}}
USAGE = {"inputTokens": 3, "outputTokens": 2, "totalTokens": 5}
OK = {
    "output": {"message": {"role": "assistant", "content": [{"text": "fine"}]}},
    "stopReason": "end_turn",
    "usage": USAGE,
    "metrics": {"latencyMs": 10},
    **META,
}


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


def _raises(call: Callable[[], Any], match: str, *, request_id: str | None = "req-42"):
    with pytest.raises(MalformedResponseError, match=match) as info:
        call()
    error = info.value
    if request_id is not None:
        assert error.request_id == request_id
    return error


# ------------------------------------------------------------------ Converse


def _with(**changes: Any) -> dict[str, Any]:
    response = {**OK, **changes}
    return {k: v for k, v in response.items() if v is not _DROP}


_DROP = object()

CONVERSE_CASES = [
    ("no-usage", _with(usage=_DROP), "usage is missing"),
    ("usage-empty", _with(usage={}), "usage.inputTokens is missing"),
    ("usage-no-total", _with(usage={"inputTokens": 1, "outputTokens": 1}), "totalTokens"),
    ("usage-negative", _with(usage={**USAGE, "outputTokens": -1}), "not a count"),
    ("usage-string", _with(usage={**USAGE, "inputTokens": "3"}), "not a count"),
    ("no-stop-reason", _with(stopReason=_DROP), "stopReason is missing"),
    ("empty-stop-reason", _with(stopReason=""), "stopReason is empty"),
    ("no-output", _with(output=_DROP), "output is missing"),
    ("no-message", _with(output={}), "output.message is missing"),
    ("content-not-list", _with(output={"message": {"content": "hi"}}), "content is a string"),
    ("block-empty", _with(output={"message": {"content": [{}]}}), r"content\[0\] has no member"),
    ("block-not-object", _with(output={"message": {"content": ["hi"]}}), r"content\[0\] is"),
    (
        "tool-without-name",
        _with(output={"message": {"content": [{"toolUse": {"toolUseId": "t", "input": {}}}]}}),
        "toolUse.name is missing",
    ),
    (
        "tool-input-not-object",
        _with(
            output={
                "message": {"content": [{"toolUse": {"toolUseId": "t", "name": "f", "input": 3}}]}
            }
        ),
        "no JSON object input",
    ),
    ("image-without-source", _with(output={"message": {"content": [{"image": {}}]}}), "source"),
    ("trace-not-object", _with(trace="oops"), "trace is a string"),
    (
        "guardrail-trace-wrong-shape",
        _with(trace={"guardrail": {"inputAssessment": {"g": "oops"}}}),
        "guardrail trace is malformed",
    ),
    ("deep-document", _with(additionalModelResponseFields={"a": _nested(500)}), "deeper than"),
    ("metrics-wrong", _with(metrics={"latencyMs": "fast"}), "latencyMs is not a count"),
]


@pytest.mark.parametrize(
    ("response", "match"), [c[1:] for c in CONVERSE_CASES], ids=[c[0] for c in CONVERSE_CASES]
)
def test_converse_response(response, match):
    error = _raises(lambda: parse_converse_response(response, model_id=MODEL), match)
    assert error.model_id == MODEL


def test_converse_response_that_is_not_an_object():
    _raises(
        lambda: parse_converse_response([1, 2], model_id=MODEL), "not an object", request_id=None
    )  # type: ignore[arg-type]


def test_converse_control_the_documented_shape_parses():
    result = parse_converse_response(OK, model_id=MODEL)
    assert (result.text, result.stop_reason, result.usage.total_tokens) == ("fine", "end_turn", 5)


# ------------------------------------------------------------------ ConverseStream

START = {"messageStart": {"role": "assistant"}}
TEXT = {"contentBlockDelta": {"contentBlockIndex": 0, "delta": {"text": "Hi"}}}
STOP = {"messageStop": {"stopReason": "end_turn"}}
METADATA = {"metadata": {"usage": USAGE, "metrics": {"latencyMs": 1}}}
TOOL_DELTA = {"contentBlockDelta": {"contentBlockIndex": 1, "delta": {"toolUse": {"input": "{}"}}}}

STREAM_CASES = [
    (
        "stop-and-metadata-twice",
        [START, TEXT, STOP, METADATA, STOP, METADATA],
        "after messageStop and metadata",
    ),
    ("metadata-twice", [START, TEXT, STOP, METADATA, METADATA], "after messageStop and metadata"),
    ("text-after-metadata", [START, TEXT, STOP, METADATA, TEXT], "after messageStop and metadata"),
    ("text-after-stop", [START, STOP, TEXT, METADATA], "after messageStop"),
    ("second-stop", [START, TEXT, STOP, STOP, METADATA], "a second messageStop"),
    ("metadata-before-stop", [START, TEXT, METADATA, STOP], "metadata before messageStop"),
    (
        "tool-delta-never-started",
        [START, TEXT, TOOL_DELTA, STOP, METADATA],
        "no contentBlockStart opened",
    ),
    ("delta-payload-not-json", [START, {"contentBlockDelta": {}}, STOP, METADATA], "not JSON"),
    ("metadata-payload-not-json", [START, TEXT, STOP, {"metadata": {}}], "not JSON"),
    ("stop-payload-not-json", [START, TEXT, {"messageStop": {}}, METADATA], "not JSON"),
    (
        "metadata-without-usage",
        [START, TEXT, STOP, {"metadata": {"metrics": {"latencyMs": 1}}}],
        "usage is missing",
    ),
    (
        "stop-without-reason",
        [START, TEXT, {"messageStop": {"additionalModelResponseFields": {}}}, METADATA],
        "stopReason is missing",
    ),
    (
        "delta-two-members",
        [
            START,
            {"contentBlockDelta": {"contentBlockIndex": 0, "delta": {"text": "a", "citation": {}}}},
            STOP,
            METADATA,
        ],
        "more than one member",
    ),
    (
        "delta-no-index",
        [START, {"contentBlockDelta": {"delta": {"text": "a"}}}, STOP, METADATA],
        "contentBlockIndex is missing",
    ),
    (
        "delta-after-block-stop",
        [START, TEXT, {"contentBlockStop": {"contentBlockIndex": 0}}, TEXT, STOP, METADATA],
        "after its contentBlockStop",
    ),
    ("second-message-start", [START, TEXT, START, STOP, METADATA], "messageStart after"),
    (
        "start-twice",
        [
            START,
            *[
                {
                    "contentBlockStart": {
                        "contentBlockIndex": 1,
                        "start": {"toolUse": {"toolUseId": "t", "name": "f"}},
                    }
                }
            ]
            * 2,
        ],
        "already started",
    ),
    (
        "tool-start-without-name",
        [
            START,
            {
                "contentBlockStart": {
                    "contentBlockIndex": 1,
                    "start": {"toolUse": {"toolUseId": "t"}},
                }
            },
            STOP,
            METADATA,
        ],
        "name is missing",
    ),
    (
        "text-on-a-tool-block",
        [
            START,
            {
                "contentBlockStart": {
                    "contentBlockIndex": 0,
                    "start": {"toolUse": {"toolUseId": "t", "name": "f"}},
                }
            },
            TEXT,
            STOP,
            METADATA,
        ],
        "which is a tool block",
    ),
    (
        "tool-input-not-object",
        [
            START,
            {
                "contentBlockStart": {
                    "contentBlockIndex": 1,
                    "start": {"toolUse": {"toolUseId": "t", "name": "f"}},
                }
            },
            {"contentBlockDelta": {"contentBlockIndex": 1, "delta": {"toolUse": {"input": "[1]"}}}},
            STOP,
            METADATA,
        ],
        "not an object",
    ),
    (
        "tool-input-deep",
        [
            START,
            {
                "contentBlockStart": {
                    "contentBlockIndex": 1,
                    "start": {"toolUse": {"toolUseId": "t", "name": "f"}},
                }
            },
        ]
        + [
            {
                "contentBlockDelta": {
                    "contentBlockIndex": 1,
                    "delta": {"toolUse": {"input": "[" * 10_000}},
                }
            }
        ]
        * 5,
        "deeper than 128",
    ),
    ("event-not-object", [START, "chunk"], "not an object"),
    ("event-null-member", [START, {"contentBlockDelta": None}], "no members"),
    (
        "deep-additional-fields",
        [
            START,
            TEXT,
            {
                "messageStop": {
                    "stopReason": "end_turn",
                    "additionalModelResponseFields": {"x": _nested(300)},
                }
            },
            METADATA,
        ],
        "deeper than",
    ),
]


@pytest.mark.parametrize(
    ("events", "match"), [c[1:] for c in STREAM_CASES], ids=[c[0] for c in STREAM_CASES]
)
def test_stream_events(events, match):
    reducer = StreamReducer(MODEL, "us-east-1")
    reducer.request_id = "req-42"
    seen: list[Any] = []

    def run() -> None:
        seen.extend(iter_deltas(iter(events), reducer))

    error = _raises(run, match)
    assert (error.model_id, error.region) == (MODEL, "us-east-1")
    assert not any(type(d).__name__ == "CompletedDelta" for d in seen)  # no result, no usage


def test_a_tool_delta_never_yields_a_nameless_tool_call():
    """Before: a toolUse delta for a block never started gave a tool call named '' with id None."""
    deltas: list[Any] = []
    with pytest.raises(MalformedResponseError):
        for delta in iter_deltas(iter([START, TOOL_DELTA, STOP, METADATA]), StreamReducer(MODEL)):
            deltas.append(delta)
    assert not [d for d in deltas if isinstance(d, ToolCallDelta)]


def test_stream_control_the_documented_stream_completes():
    deltas = list(iter_deltas(iter([START, TEXT, STOP, METADATA]), StreamReducer(MODEL)))
    assert deltas[-1].result.usage.total_tokens == 5  # type: ignore[union-attr]


# ------------------------------------------------------------------ InvokeModel bodies

ANTHROPIC = "anthropic.claude-3-haiku-20240307-v1:0"
TOKEN_HEADERS = {
    "ResponseMetadata": {
        "RequestId": "req-42",
        "HTTPHeaders": {
            "x-amzn-bedrock-input-token-count": "4",
            "x-amzn-bedrock-output-token-count": "2",
        },
    }
}
ANTHROPIC_OK = {"content": [{"type": "text", "text": "hi"}], "stop_reason": "end_turn"}

INVOKE_CASES = [
    ("html", ANTHROPIC, b"<html><body>Sign in to the Wi-Fi</body></html>", "is not JSON"),
    ("empty", ANTHROPIC, b"", "is empty"),
    ("not-json", ANTHROPIC, b"oops", "is not JSON"),
    ("array", ANTHROPIC, b"[1, 2]", "not an object"),
    ("deep", ANTHROPIC, b"[" * 50_000 + b"]" * 50_000, "deeper than 128"),
    ("not-utf8", ANTHROPIC, b"\xff\xfe{}", "not UTF-8"),
    ("anthropic-no-stop-reason", ANTHROPIC, {"content": []}, "stop reason is missing"),
    (
        "anthropic-content-string",
        ANTHROPIC,
        {"content": "hi", "stop_reason": "end_turn"},
        "content is a string",
    ),
    (
        "anthropic-tool-without-id",
        ANTHROPIC,
        {"content": [{"type": "tool_use", "name": "f", "input": {}}], "stop_reason": "tool_use"},
        r"content\[0\].id is missing",
    ),
    (
        "anthropic-bad-redacted",
        ANTHROPIC,
        {"content": [{"type": "redacted_thinking", "data": "@@"}], "stop_reason": "end_turn"},
        "not base64",
    ),
    (
        "titan-no-results",
        "amazon.titan-text-express-v1",
        {"inputTextTokenCount": 1, "results": []},
        "results is empty",
    ),
    (
        "titan-no-reason",
        "amazon.titan-text-express-v1",
        {"results": [{"outputText": "x"}]},
        "completionReason is missing",
    ),
    (
        "llama-no-generation",
        "meta.llama3-8b-instruct-v1:0",
        {"stop_reason": "stop"},
        "generation is missing",
    ),
    (
        "mistral-outputs-not-list",
        "mistral.mistral-7b-instruct-v0:2",
        {"outputs": {"text": "x"}},
        "outputs is an object",
    ),
    ("cohere-no-finish", "cohere.command-r-v1:0", {"text": "x"}, "finish_reason is missing"),
    ("chat-no-choices", "ai21.jamba-1-5-mini-v1:0", {"choices": []}, "choices is empty"),
    (
        "chat-deep-arguments",
        "mistral.mistral-large-2407-v1:0",
        {
            "choices": [
                {
                    "finish_reason": "tool_calls",
                    "message": {
                        "tool_calls": [
                            {"id": "c", "function": {"name": "f", "arguments": "[" * 50_000}}
                        ]
                    },
                }
            ]
        },
        "deeper than 128",
    ),
    (
        "chat-arguments-not-json",
        "mistral.mistral-large-2407-v1:0",
        {
            "choices": [
                {
                    "finish_reason": "tool_calls",
                    "message": {
                        "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": "{oops"}}]
                    },
                }
            ]
        },
        "not JSON",
    ),
    ("nova-no-output", "amazon.nova-micro-v1:0", {"stopReason": "end_turn"}, "output is missing"),
]


@pytest.mark.parametrize(
    ("model", "body", "match"), [c[1:] for c in INVOKE_CASES], ids=[c[0] for c in INVOKE_CASES]
)
def test_invoke_model_body(model, body, match):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    error = _raises(lambda: parse_invoke_response(TOKEN_HEADERS, raw, model_id=model), match)
    assert error.model_id == model


def test_invoke_model_without_counts_in_body_or_headers_is_not_zero_tokens():
    """Before: a Mistral instruct body with no headers billed 0/0; Cohere estimated chars/4."""
    for model, body in [
        ("mistral.mistral-7b-instruct-v0:2", {"outputs": [{"text": "x", "stop_reason": "stop"}]}),
        ("cohere.command-r-v1:0", {"text": "x", "finish_reason": "COMPLETE"}),
    ]:
        raw = json.dumps(body).encode()
        _raises(lambda: parse_invoke_response(META, raw, model_id=model), "no input token count")  # noqa: B023
        result = parse_invoke_response(TOKEN_HEADERS, raw, model_id=model)
        assert (result.usage.input_tokens, result.usage.output_tokens) == (4, 2)


def test_invoke_model_bad_token_header():
    headers = {"ResponseMetadata": {"HTTPHeaders": {"x-amzn-bedrock-input-token-count": "many"}}}
    raw = json.dumps(ANTHROPIC_OK).encode()
    _raises(
        lambda: parse_invoke_response(headers, raw, model_id=ANTHROPIC),
        "not a count",
        request_id=None,
    )


# ------------------------------------------------------------------ InvokeModel stream chunks

METRICS = {"amazon-bedrock-invocationMetrics": {"inputTokenCount": 1, "outputTokenCount": 1}}


def _chunk(value: Any) -> dict[str, Any]:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return {"chunk": {"bytes": raw}}


CHUNK_CASES = [
    ("chunk-without-bytes", "meta.llama3-8b-instruct-v1:0", [{"chunk": {}}], "has no bytes"),
    ("chunk-not-json", "meta.llama3-8b-instruct-v1:0", [_chunk(b"<html>")], "not JSON"),
    ("chunk-array", "meta.llama3-8b-instruct-v1:0", [_chunk([1])], "not an object"),
    ("chunk-deep", "meta.llama3-8b-instruct-v1:0", [_chunk(b"[" * 50_000)], "deeper than 128"),
    (
        "metrics-before-stop",
        "meta.llama3-8b-instruct-v1:0",
        [_chunk({"generation": "x", **METRICS})],
        "before any stop reason",
    ),
    (
        "chunk-after-metrics",
        "meta.llama3-8b-instruct-v1:0",
        [
            _chunk({"generation": "x", "stop_reason": "stop", **METRICS}),
            _chunk({"generation": "more"}),
        ],
        "after the final metrics",
    ),
    (
        "second-stop",
        "amazon.titan-text-express-v1",
        [
            _chunk({"outputText": "a", "completionReason": "FINISH"}),
            _chunk({"outputText": "b", "completionReason": "FINISH"}),
        ],
        "a second stop reason",
    ),
    (
        "metrics-without-counts",
        "meta.llama3-8b-instruct-v1:0",
        [
            _chunk(
                {"generation": "x", "stop_reason": "stop", "amazon-bedrock-invocationMetrics": {}}
            )
        ],
        "inputTokenCount is missing",
    ),
    (
        "anthropic-delta-without-index",
        ANTHROPIC,
        [_chunk({"type": "content_block_delta", "delta": {"type": "text_delta", "text": "x"}})],
        "index is missing",
    ),
    (
        "anthropic-text-not-string",
        ANTHROPIC,
        [
            _chunk(
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": 5},
                }
            )
        ],
        "delta.text is a number",
    ),
    (
        "nova-metadata-without-usage",
        "amazon.nova-micro-v1:0",
        [_chunk({"messageStop": {"stopReason": "end_turn"}}), _chunk({"metadata": {}})],
        "metadata.usage is missing",
    ),
]


@pytest.mark.parametrize(
    ("model", "wire", "match"), [c[1:] for c in CHUNK_CASES], ids=[c[0] for c in CHUNK_CASES]
)
def test_invoke_stream_chunks(model, wire, match):
    adapter = InvokeStreamAdapter(model)
    reducer = StreamReducer(model)
    reducer.request_id = "req-42"
    events = (e for w in wire for e in adapter.events(w))
    error = _raises(lambda: list(iter_deltas(events, reducer)), match)
    assert error.model_id == model


# ------------------------------------------------------------------ CountTokens


@pytest.mark.parametrize(
    ("response", "match"),
    [
        ({}, "inputTokens is missing"),
        ({"inputTokens": -3}, "not a count"),
        ({"inputTokens": "9"}, "not a count"),
    ],
)
def test_count_tokens(response, match):
    _raises(lambda: parse_count_tokens_response({**response, **META}, model_id=MODEL), match)


# ------------------------------------------------------------------ Knowledge Bases


def _retrieve(response: dict[str, Any]) -> Any:
    pager = RetrievePager({"knowledgeBaseId": "KB1", "retrievalQuery": {"text": "q"}})
    pager.add_page({**response, **META})
    return pager.result()


RETRIEVE_CASES = [
    ("empty-body", {}, "retrievalResults is missing"),
    ("results-not-list", {"retrievalResults": {"a": 1}}, "retrievalResults is an object"),
    ("result-not-object", {"retrievalResults": ["text"]}, r"retrievalResults\[0\] is a string"),
    (
        "score-string",
        {"retrievalResults": [{"content": {"text": "x"}, "score": "high"}]},
        "score is not a finite number",
    ),
    (
        "location-without-type",
        {"retrievalResults": [{"content": {"text": "x"}, "location": {}}]},
        "location.type is missing",
    ),
    (
        "unknown-guardrail-action",
        {"retrievalResults": [], "guardrailAction": "BLOCKED"},
        "guardrailAction is not one of",
    ),
    (
        "text-not-string",
        {"retrievalResults": [{"content": {"text": 3}}]},
        "content.text is a number",
    ),
    (
        "deep-metadata",
        {"retrievalResults": [{"content": {"text": "x"}, "metadata": {"k": _nested(300)}}]},
        "deeper than",
    ),
]


@pytest.mark.parametrize(
    ("response", "match"), [c[1:] for c in RETRIEVE_CASES], ids=[c[0] for c in RETRIEVE_CASES]
)
def test_retrieve(response, match):
    assert _raises(lambda: _retrieve(response), match).model_id == "KB1"


GENERATE_CASES = [
    ("empty-body", {}, "output is missing"),
    ("no-text", {"output": {}, "sessionId": "s"}, "output.text is missing"),
    ("no-session", {"output": {"text": "x"}}, "sessionId is missing"),
    (
        "citations-not-list",
        {"output": {"text": "x"}, "sessionId": "s", "citations": "c"},
        "citations is a string",
    ),
    (
        "span-garbage",
        {
            "output": {"text": "x"},
            "sessionId": "s",
            "citations": [
                {"generatedResponsePart": {"textResponsePart": {"span": {"start": "a", "end": 1}}}}
            ],
        },
        "span.start",
    ),
    (
        "unknown-guardrail-action",
        {"output": {"text": "x"}, "sessionId": "s", "guardrailAction": "?"},
        "guardrailAction is not one of",
    ),
]


@pytest.mark.parametrize(
    ("response", "match"), [c[1:] for c in GENERATE_CASES], ids=[c[0] for c in GENERATE_CASES]
)
def test_retrieve_and_generate(response, match):
    _raises(lambda: parse_generation_response({**response, **META}), match)


GENERATE_STREAM_CASES = [
    ("output-not-json", {"output": {}}, "not JSON"),
    ("output-text-missing", {"output": {"t": 1}}, "output.text is missing"),
    ("guardrail-without-action", {"guardrail": {"x": 1}}, "guardrail.action is missing"),
    ("citation-not-object", {"citation": {"citation": "c"}}, "is a string, not an object"),
    ("event-not-object", ["output"], "not an object"),
]


@pytest.mark.parametrize(
    ("event", "match"),
    [c[1:] for c in GENERATE_STREAM_CASES],
    ids=[c[0] for c in GENERATE_STREAM_CASES],
)
def test_retrieve_and_generate_stream_events(event, match):
    reducer = GenerationStreamReducer("s-1", "req-42")
    _raises(lambda: reducer.handle(event), match)


# ------------------------------------------------------------------ InvokeAgent


def _agent() -> _AgentLoop:
    loop = _AgentLoop({"agentId": "A1", "agentAliasId": "B1", "inputText": "q"}, (), 3, "FAILURE")
    loop.begin({"sessionId": "s-1", **META})
    return loop


AGENT_CASES = [
    ("chunk-not-json", {"chunk": {}}, "not JSON"),
    ("chunk-without-bytes", {"chunk": {"attribution": {}}}, "chunk.bytes is missing"),
    ("trace-not-json", {"trace": {}}, "not JSON"),
    ("trace-without-part", {"trace": {"agentId": "A1"}}, "trace.trace is missing"),
    (
        "guardrail-trace-unknown-action",
        {"trace": {"trace": {"guardrailTrace": {"action": "MAYBE"}}}},
        "action is not one of",
    ),
    ("return-control-not-json", {"returnControl": {}}, "not JSON"),
    (
        "return-control-without-id",
        {"returnControl": {"invocationInputs": []}},
        "invocationId is missing",
    ),
    (
        "return-control-without-inputs",
        {"returnControl": {"invocationId": "i"}},
        "invocationInputs is missing",
    ),
    (
        "invocation-of-unknown-kind",
        {"returnControl": {"invocationId": "i", "invocationInputs": [{"somethingNew": {}}]}},
        "neither a function nor an API call",
    ),
    (
        "function-without-name",
        {
            "returnControl": {
                "invocationId": "i",
                "invocationInputs": [{"functionInvocationInput": {"actionGroup": "g"}}],
            }
        },
        "function is missing",
    ),
    ("files-not-list", {"files": {"files": "f"}}, "files.files is a string"),
    (
        "attribution-wrong-shape",
        {"chunk": {"bytes": b"x", "attribution": {"citations": [3]}}},
        "unexpected shape",
    ),
]


@pytest.mark.parametrize(
    ("event", "match"), [c[1:] for c in AGENT_CASES], ids=[c[0] for c in AGENT_CASES]
)
def test_invoke_agent_events(event, match):
    loop = _agent()
    assert _raises(lambda: loop.feed(event), match).model_id == "A1/B1"


def test_agent_parameter_nested_too_deep_is_reprompted_not_a_recursion_error():
    tool = LocalTool(
        ToolSpec("f", "f", {"type": "object", "properties": {"x": {"type": "array"}}}),
        func=lambda x: "ran",
    )
    event = {
        "messageVersion": "1.0",
        "actionGroup": "g",
        "function": "f",
        "parameters": [{"name": "x", "type": "array", "value": "[" * 50_000}],
    }
    response = handle_lambda_event(event, {"f": tool})
    assert response["response"]["functionResponse"]["responseState"] == "REPROMPT"


# ------------------------------------------------------------------ embeddings

EMBED_CASES = [
    ("html", b"<html>", "is not JSON"),
    ("deep", b"[" * 50_000, "deeper than 128"),
    ("boolean-values", json.dumps({"embedding": [True, False]}).encode(), "not a finite number"),
    ("nan", b'{"embedding": [NaN, 1.0]}', "not a finite number"),
    ("empty-vector", json.dumps({"embedding": []}).encode(), "is empty"),
    (
        "token-count-string",
        json.dumps({"embedding": [1.0], "inputTextTokenCount": "3"}).encode(),
        "not a count",
    ),
]


@pytest.mark.parametrize(
    ("raw", "match"), [c[1:] for c in EMBED_CASES], ids=[c[0] for c in EMBED_CASES]
)
def test_titan_embedding_body(raw, match):
    spec = embedding_model_spec("amazon.titan-embed-text-v2:0")
    error = _raises(
        lambda: parse_embedding_response(
            spec, META, raw, 1, model_id="amazon.titan-embed-text-v2:0"
        ),
        match,
    )
    assert error.raw == raw.decode("utf-8", "replace")[: 64 * 1024]


def test_cohere_vectors_of_different_sizes():
    spec = embedding_model_spec("cohere.embed-english-v3")
    raw = json.dumps({"embeddings": [[1.0, 2.0], [3.0]]}).encode()
    _raises(lambda: parse_embedding_response(spec, META, raw, 2), "dimensions")


CASE_COUNTS = {
    "converse": len(CONVERSE_CASES) + 1,
    "converse_stream": len(STREAM_CASES) + 1,
    "invoke_model": len(INVOKE_CASES) + 2,
    "invoke_stream": len(CHUNK_CASES),
    "count_tokens": 3,
    "retrieve": len(RETRIEVE_CASES),
    "retrieve_and_generate": len(GENERATE_CASES) + len(GENERATE_STREAM_CASES),
    "invoke_agent": len(AGENT_CASES) + 1,
    "embeddings": len(EMBED_CASES) + 1,
}
"""Malformed cases per parser class in this file (quoted in the fail-closed report)."""
