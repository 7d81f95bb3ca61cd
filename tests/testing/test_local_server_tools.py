"""LocalBedrock serves server-side tool turns with real framing: a Converse JSON body and
ConverseStream event frames that plain boto3 decodes into the service model's shapes
(``toolUse.type``, ``toolResult`` starts and list deltas), and its request rules accept the
history that carries them back. GetInferenceProfile is served on the control plane."""

from __future__ import annotations

import boto3
import pytest

from bedrock_kit.testing import LocalBedrock, Reply, ScriptedModel
from bedrock_kit.testing.scripts import (
    converse_reply,
    converse_stream_events,
    inference_profile_reply,
    server_tool,
)

MODEL = "us.amazon.nova-2-lite-v1:0"
CODE = server_tool(
    "nova_code_interpreter",
    {"code": "print(1)"},
    [{"json": {"stdout": "1\n"}}, {"text": "done"}],
    tool_use_id="tooluse_s",
)
TOOLS = {"tools": [{"systemTool": {"name": "nova_code_interpreter"}}]}


@pytest.fixture
def server():
    with LocalBedrock() as local:
        yield local


def _client(server: LocalBedrock, service: str = "bedrock-runtime"):
    return boto3.client(service, **server.client_kwargs())


def test_converse_body_decodes_with_server_blocks(server):
    server.script("Converse", Reply.json(converse_reply("1", server_tools=[CODE])))
    response = _client(server).converse(
        modelId=MODEL, messages=[{"role": "user", "content": [{"text": "run"}]}], toolConfig=TOOLS
    )
    use, result, text = response["output"]["message"]["content"]
    assert use["toolUse"]["type"] == "server_tool_use"
    assert result["toolResult"]["type"] == "nova_code_interpreter_result"
    assert result["toolResult"]["content"] == [{"json": {"stdout": "1\n"}}, {"text": "done"}]
    assert text == {"text": "1"}


def test_stream_frames_decode_into_the_service_model_events(server):
    events = converse_stream_events("1", server_tools=[CODE], chunk_chars=3)
    server.script("ConverseStream", Reply.events(events))
    response = _client(server).converse_stream(
        modelId=MODEL, messages=[{"role": "user", "content": [{"text": "run"}]}], toolConfig=TOOLS
    )
    decoded = list(response["stream"])
    starts = [e["contentBlockStart"] for e in decoded if "contentBlockStart" in e]
    assert starts[0]["start"]["toolUse"] == {
        "toolUseId": "tooluse_s",
        "name": "nova_code_interpreter",
        "type": "server_tool_use",
    }
    assert starts[1]["start"]["toolResult"] == {
        "toolUseId": "tooluse_s",
        "type": "nova_code_interpreter_result",
        "status": "success",
    }
    result_deltas = [
        e["contentBlockDelta"]["delta"]["toolResult"]
        for e in decoded
        if "toolResult" in e.get("contentBlockDelta", {}).get("delta", {})
    ]
    assert result_deltas[0] == [{"json": {"stdout": "1\n"}}]
    assert "".join(d[0]["text"] for d in result_deltas[1:]) == "done"
    assert decoded == events  # byte-for-byte framing: what was scripted is what boto3 reads


def test_the_scripted_model_runs_bound_system_tools_and_accepts_them_back(server):
    ScriptedModel().install(server)
    client = _client(server)
    question = {"role": "user", "content": [{"text": "run"}]}
    answer = client.converse(modelId=MODEL, messages=[question], toolConfig=TOOLS)
    assert answer["stopReason"] == "end_turn"
    content = answer["output"]["message"]["content"]
    assert [next(iter(b)) for b in content] == ["toolUse", "toolResult", "text"]
    again = client.converse(
        modelId=MODEL,
        messages=[
            question,
            {"role": "assistant", "content": content},
            {"role": "user", "content": [{"text": "thanks"}]},
        ],
        toolConfig=TOOLS,
    )
    assert again["output"]["message"]["content"][-1]["text"]


def test_a_client_tool_result_left_unanswered_is_still_refused(server):
    ScriptedModel().install(server)
    history = [
        {"role": "user", "content": [{"text": "run"}]},
        {
            "role": "assistant",
            "content": [{"toolUse": {"toolUseId": "c1", "name": "add", "input": {}}}],
        },
        {"role": "user", "content": [{"text": "no result"}]},
    ]
    tools = {"tools": [{"toolSpec": {"name": "add", "inputSchema": {"json": {"type": "object"}}}}]}
    with pytest.raises(client_error(server)) as caught:
        _client(server).converse(modelId=MODEL, messages=history, toolConfig=tools)
    assert "no toolResult block" in str(caught.value)


def client_error(server: LocalBedrock):
    return _client(server).exceptions.ValidationException


def test_get_inference_profile_is_served_on_the_control_plane(server):
    arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123"
    server.script(
        "GetInferenceProfile",
        Reply.json(inference_profile_reply(arn, "amazon.nova-micro-v1:0", regions=("us-east-1",))),
    )
    profile = _client(server, "bedrock").get_inference_profile(inferenceProfileIdentifier=arn)
    assert profile["models"] == [
        {"modelArn": "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0"}
    ]
    assert server.requests[-1].path_params["inferenceProfileIdentifier"] == arn
