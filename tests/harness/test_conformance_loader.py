"""The conformance loader: every third-party recording loads, routes and decodes."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from bedrock_kit.testing.conformance import (
    CONFORMANCE_DIR_ENV,
    EVENT_STREAM_CONTENT_TYPE,
    conformance_dir,
    decode_event_stream,
    load_recording,
    load_recordings,
    operation_for_path,
    replay_server,
)
from bedrock_kit.testing.eventstream import encode_event

# Operations per file, from the conformance README's table (one entry per interaction).
EXPECTED_OPERATIONS = {
    "Arize-ai__openinference/test_agent_call_without_traces": ("InvokeAgent",),
    "Arize-ai__openinference/test_apply_guardrails": ("ApplyGuardrail",),
    "Arize-ai__openinference/test_guardrail_intervention": ("InvokeAgent",),
    "Arize-ai__openinference/test_retrieve": ("Retrieve",),
    "Arize-ai__openinference/test_retrieve_and_generate_with_knowledge_base": (
        "RetrieveAndGenerate",
    ),
    "DataDog__dd-trace-py/agent_invoke": ("InvokeAgent",),
    "DataDog__dd-trace-py/bedrock_converse_stream_prompt_caching": (
        "ConverseStream",
        "ConverseStream",
    ),
    "DataDog__dd-trace-py/meta_invoke_error": ("InvokeModel",),
    "open-telemetry__opentelemetry-python-contrib/test_converse_stream_with_content": (
        "ConverseStream",
    ),
    "open-telemetry__opentelemetry-python-contrib/test_converse_stream_with_content_tool_call": (
        "ConverseStream",
        "ConverseStream",
    ),
    "open-telemetry__opentelemetry-python-contrib/test_converse_stream_with_invalid_model": (
        "ConverseStream",
    ),
    "open-telemetry__opentelemetry-python-contrib/test_converse_tool_call_with_content": (
        "Converse",
        "Converse",
    ),
    "open-telemetry__opentelemetry-python-contrib/test_converse_with_content": ("Converse",),
    "open-telemetry__opentelemetry-python-contrib/test_converse_with_invalid_model": ("Converse",),
    "open-telemetry__opentelemetry-python-contrib/test_invoke_agent_with_return_control": (
        "InvokeAgent",
        "InvokeAgent",
    ),
    "open-telemetry__opentelemetry-python-contrib/test_invoke_model_with_content[amazon.nova]": (
        "InvokeModel",
    ),
    "open-telemetry__opentelemetry-python-contrib/test_invoke_model_with_content[amazon.titan]": (
        "InvokeModel",
    ),
    "open-telemetry__opentelemetry-python-contrib/"
    "test_invoke_model_with_content[anthropic.claude]": ("InvokeModel",),
    "open-telemetry__opentelemetry-python-contrib/test_invoke_model_with_invalid_model": (
        "InvokeModel",
    ),
    "open-telemetry__opentelemetry-python-contrib/"
    "test_invoke_model_with_response_stream_with_content[anthropic.claude]": (
        "InvokeModelWithResponseStream",
    ),
    "pydantic__pydantic-ai/test_bedrock_cache_write_and_read": ("Converse", "Converse"),
    "pydantic__pydantic-ai/test_bedrock_count_tokens_tool_config": ("CountTokens",),
    "pydantic__pydantic-ai/test_bedrock_error": ("Converse",),
    "pydantic__pydantic-ai/test_bedrock_model_guardrail_config": ("Converse",),
    "pydantic__pydantic-ai/test_bedrock_model_thinking_part_stream": ("ConverseStream",),
    "pydantic__pydantic-ai/test_bedrock_streaming_error": ("ConverseStream",),
    "traceloop__openllmetry/test_guardrail_converse": ("Converse",),
    "traceloop__openllmetry/test_guardrail_converse_stream": ("ConverseStream",),
    "traceloop__openllmetry/test_guardrail_invoke": ("InvokeModel",),
}
STREAMING = {"ConverseStream", "InvokeModelWithResponseStream", "InvokeAgent"}

needs_shared = pytest.mark.skipif(
    conformance_dir() is None, reason="conformance cassettes not found (../shared is absent)"
)


@pytest.fixture(scope="module")
def recordings():
    if conformance_dir() is None:
        pytest.skip("conformance cassettes not found (../shared is absent)")
    return {r.id: r for r in load_recordings()}


# --- pure: routing and decoding ---------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "host", "expected"),
    [
        ("POST", "/model/a%3A0/converse", "", ("bedrock-runtime", "Converse", False)),
        ("POST", "/model/a/converse-stream", "", ("bedrock-runtime", "ConverseStream", True)),
        (
            "POST",
            "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Aprovisioned-model%2Fx/invoke",
            "",
            ("bedrock-runtime", "InvokeModel", False),
        ),
        ("GET", "/async-invoke", "", ("bedrock-runtime", "ListAsyncInvokes", False)),
        (
            "POST",
            "/agents/A/agentAliases/B/sessions/S/text",
            "bedrock-agent-runtime.us-east-1.amazonaws.com",
            ("bedrock-agent-runtime", "InvokeAgent", True),
        ),
        ("POST", "/agents/S", "", ("bedrock-agent-runtime", "InvokeInlineAgent", True)),
        ("POST", "/knowledgebases/K/retrieve", "", ("bedrock-agent-runtime", "Retrieve", False)),
        (
            "POST",
            "/guardrail/g1/version/DRAFT/apply",
            "",
            ("bedrock-runtime", "ApplyGuardrail", False),
        ),
    ],
)
def test_operation_for_path(method: str, path: str, host: str, expected: tuple) -> None:
    assert operation_for_path(method, path, host) == expected


def test_unknown_path_is_an_error() -> None:
    with pytest.raises(ValueError, match="no Bedrock operation for GET /model/x/converse"):
        operation_for_path("GET", "/model/x/converse")


def test_decode_event_stream_checks_crcs() -> None:
    body = encode_event("messageStart", {"role": "assistant"}) + encode_event(
        "messageStop", {"stopReason": "end_turn"}
    )
    events = decode_event_stream(body)
    assert [(e.event_type, e.message_type, e.payload) for e in events] == [
        ("messageStart", "event", {"role": "assistant"}),
        ("messageStop", "event", {"stopReason": "end_turn"}),
    ]
    corrupted = bytearray(body)
    corrupted[20] ^= 0xFF
    with pytest.raises(ValueError, match="invalid event stream"):
        decode_event_stream(bytes(corrupted))
    with pytest.raises(ValueError, match="trailing bytes"):
        decode_event_stream(body + body[:10])


def test_quirks_on_a_synthetic_recording(tmp_path: Path, monkeypatch) -> None:
    """parsed_body, !!binary headers, missing Content-Type, dropped hop headers."""
    source = tmp_path / "some__source"
    source.mkdir()
    stream = encode_event("chunk", {"bytes": "aGk="})
    import base64

    (source / "rec.yaml").write_text(
        "interactions:\n"
        "- request:\n"
        '    body: \'{"inputText": "hi"}\'\n'
        "    headers: {}\n"
        "    method: POST\n"
        "    uri: https://bedrock-agent-runtime.eu-west-1.amazonaws.com/agents/A/agentAliases/B/sessions/S/text\n"
        "  response:\n"
        "    body:\n"
        "      string: !!binary |\n"
        f"        {base64.b64encode(stream).decode()}\n"
        "    headers: {}\n"
        "    status: {code: 200, message: OK}\n"
        "- request:\n"
        "    body: null\n"
        "    headers: {}\n"
        "    method: POST\n"
        "    uri: https://bedrock-runtime.us-east-1.amazonaws.com/model/m/converse\n"
        "  response:\n"
        "    headers:\n"
        "      Content-Length: ['99']\n"
        "      content-type:\n"
        "      - !!binary |\n"
        "        YXBwbGljYXRpb24vanNvbg==\n"
        "    parsed_body:\n"
        "      message: nope\n"
        "    status: {code: 400, message: Bad Request}\n"
        "version: 1\n"
    )
    monkeypatch.setenv(CONFORMANCE_DIR_ENV, str(tmp_path))
    assert conformance_dir() == tmp_path
    (recording,) = load_recordings()
    assert recording.id == "some__source/rec"
    agent, error = recording.interactions
    assert agent.operation == "InvokeAgent" and agent.region == "eu-west-1"
    assert agent.headers == {"content-type": EVENT_STREAM_CONTENT_TYPE}
    assert agent.request_json == {"inputText": "hi"}
    assert agent.body_bytes == stream and agent.response_json is None
    assert [(e.event_type, e.payload) for e in agent.events] == [("chunk", {"bytes": "aGk="})]
    assert error.status == 400 and error.headers == {"content-type": "application/json"}
    assert json.loads(error.body_bytes) == {"message": "nope"} == error.response_json
    assert error.request_json is None and error.events is None and error.model_id == "m"


def test_missing_directory_loads_nothing(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(CONFORMANCE_DIR_ENV, str(tmp_path / "absent"))
    assert conformance_dir() is None
    assert load_recordings() == []


# --- the real recordings ----------------------------------------------------------------


@needs_shared
def test_every_file_loads_with_the_right_operations(recordings) -> None:
    files = sorted(conformance_dir().glob("*/*.yaml"))
    # 29 recordings (the folder's 30th file is its README).
    assert len(files) == len(recordings) == len(EXPECTED_OPERATIONS) == 29
    assert {rid: r.operations for rid, r in recordings.items()} == EXPECTED_OPERATIONS


@needs_shared
def test_streams_decode_and_json_parses(recordings) -> None:
    frames = 0
    for recording in recordings.values():
        for interaction in recording.interactions:
            streamed = interaction.operation in STREAMING and interaction.status == 200
            assert interaction.is_event_stream is streamed, recording.id
            if streamed:
                assert interaction.events, recording.id
                assert {e.message_type for e in interaction.events} == {"event"}
                frames += len(interaction.events)
            else:
                assert interaction.response_json is not None, recording.id
    assert frames > 300  # every frame's CRCs were checked by botocore while decoding


@needs_shared
def test_recorded_shapes_survive_loading(recordings) -> None:
    converse = recordings["open-telemetry__opentelemetry-python-contrib/test_converse_with_content"]
    (interaction,) = converse.interactions
    assert interaction.model_id == "amazon.titan-text-lite-v1"
    assert interaction.request_json["messages"][0]["role"] == "user"
    assert interaction.response_json["stopReason"] == "max_tokens"
    thinking = recordings["pydantic__pydantic-ai/test_bedrock_model_thinking_part_stream"]
    kinds = [e.event_type for e in thinking.interactions[0].events]
    assert kinds[0] == "messageStart" and kinds[-1] == "metadata"
    deltas = [e.payload["delta"] for e in thinking.interactions[0].events if "delta" in e.payload]
    assert any("reasoningContent" in d for d in deltas)
    error = recordings["pydantic__pydantic-ai/test_bedrock_error"].interactions[0]
    assert error.response_json == {"message": "The provided model identifier is invalid."}


def _client(endpoint_url: str, service: str = "bedrock-runtime"):
    return boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url=endpoint_url,
        config=Config(retries={"total_max_attempts": 1}),
    )


@needs_shared
def test_replay_converse_through_boto3(recordings) -> None:
    recording = recordings[
        "open-telemetry__opentelemetry-python-contrib/test_converse_with_content"
    ]
    expected = recording.interactions[0].response_json
    with replay_server(recording) as server:
        reply = _client(server.endpoint_url).converse(
            modelId="amazon.titan-text-lite-v1",
            messages=[{"role": "user", "content": [{"text": "anything"}]}],
        )
        assert [r.operation for r in server.requests] == ["Converse"]
    assert reply["output"] == expected["output"]
    assert reply["output"]["message"]["content"][0]["text"].strip()
    assert reply["stopReason"] == "max_tokens"
    assert reply["usage"] == expected["usage"]
    headers = reply["ResponseMetadata"]["HTTPHeaders"]
    assert (
        reply["ResponseMetadata"]["RequestId"]
        == recording.interactions[0].headers["x-amzn-requestid"]
    )
    assert headers["date"].count("GMT") == 1  # one Date, not the server's and the recorded one


@needs_shared
def test_replay_stream_and_error_through_boto3(recordings) -> None:
    stream = recordings["traceloop__openllmetry/test_guardrail_converse_stream"]
    with replay_server(stream) as server:
        response = _client(server.endpoint_url).converse_stream(
            modelId="amazon.titan-text-express-v1",
            messages=[{"role": "user", "content": [{"text": "x"}]}],
        )
        events = list(response["stream"])
    recorded = [{e.event_type: e.payload} for e in stream.interactions[0].events]
    assert [next(iter(e)) for e in events] == [next(iter(e)) for e in recorded]
    assert events[-2]["messageStop"]["stopReason"] == "guardrail_intervened"

    error = recordings[
        "open-telemetry__opentelemetry-python-contrib/test_converse_with_invalid_model"
    ]
    with replay_server(error) as server:
        client = _client(server.endpoint_url)
        with pytest.raises(client.exceptions.ValidationException):
            client.converse(modelId="does-not-exist", messages=[])


@needs_shared
async def test_replay_invoke_agent_through_aiobotocore(recordings) -> None:
    import aiobotocore.session

    recording = recordings["Arize-ai__openinference/test_agent_call_without_traces"]
    with replay_server(recording) as server:
        async with aiobotocore.session.get_session().create_client(
            "bedrock-agent-runtime", region_name="us-east-1", endpoint_url=server.endpoint_url
        ) as client:
            response = await client.invoke_agent(
                agentId="XNW1LGJJZT",
                agentAliasId="K0P4LV9GPO",
                sessionId="default_session_id",
                inputText="What is task decomposition?",
            )
            chunks = [event async for event in response["completion"]]
    assert len(chunks) == 1
    assert chunks[0]["chunk"]["bytes"].decode().startswith("Sorry")


def test_load_recording_rejects_unknown_paths(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "interactions:\n- request: {method: GET, uri: 'https://h/nowhere', body: null}\n"
        "  response: {status: {code: 200}, headers: {}, body: {string: ''}}\n"
    )
    with pytest.raises(ValueError, match="no Bedrock operation"):
        load_recording(path)
