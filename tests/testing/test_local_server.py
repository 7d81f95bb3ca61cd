"""A real boto3 client against LocalBedrock: default and scripted replies."""

from __future__ import annotations

import base64
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from bedrock_kit.testing import LocalBedrock, Reply
from bedrock_kit.testing.scripts import converse_reply, converse_stream_events

MESSAGES = [{"role": "user", "content": [{"text": "What is Bedrock?"}]}]


def test_default_converse_echoes_the_last_user_text(server: LocalBedrock, client: Any) -> None:
    response = client.converse(
        modelId="amazon.nova-micro-v1:0",
        system=[{"text": "Be brief."}],
        messages=[*MESSAGES, {"role": "assistant", "content": [{"text": "ok"}]}, MESSAGES[0]],
    )
    assert response["output"]["message"] == {
        "role": "assistant",
        "content": [{"text": "echo: What is Bedrock?"}],
    }
    assert response["stopReason"] == "end_turn"
    usage = response["usage"]
    assert usage["outputTokens"] == 6  # 22 characters, about 4 per token
    assert usage["inputTokens"] > 0
    assert usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"]
    assert "latencyMs" in response["metrics"]


def test_every_response_has_request_id_and_date(server: LocalBedrock, client: Any) -> None:
    headers = client.converse(modelId="m", messages=MESSAGES)["ResponseMetadata"]["HTTPHeaders"]
    assert len(headers["x-amzn-requestid"]) == 36
    assert headers["date"].endswith("GMT")


def test_default_converse_stream_has_the_recorded_event_shapes(
    server: LocalBedrock, client: Any
) -> None:
    response = client.converse_stream(modelId="m", messages=MESSAGES)
    assert response["ResponseMetadata"]["HTTPHeaders"]["transfer-encoding"] == "chunked"
    events = list(response["stream"])
    names = [next(iter(event)) for event in events]
    assert names[0] == "messageStart"
    assert names[-3:] == ["contentBlockStop", "messageStop", "metadata"]
    assert set(names[1:-3]) == {"contentBlockDelta"}
    text = "".join(e["contentBlockDelta"]["delta"]["text"] for e in events[1:-3])
    assert text == "echo: What is Bedrock?"
    # Default chunks are 4 tokens (16 characters): the answer needs two deltas.
    assert len(events[1:-3]) == 2
    assert events[-2] == {"messageStop": {"stopReason": "end_turn"}}
    assert events[-1]["metadata"]["usage"]["outputTokens"] == 6


def test_default_count_tokens(server: LocalBedrock, client: Any) -> None:
    response = client.count_tokens(
        modelId="anthropic.claude-3-5-haiku-20241022-v1:0",
        input={"converse": {"messages": MESSAGES}},
    )
    assert response["inputTokens"] == 4  # 16 characters
    assert server.requests[0].body == {"input": {"converse": {"messages": MESSAGES}}}


def test_constructor_options_shape_default_answers() -> None:
    with LocalBedrock(default_text="fixed", answer_tokens=10, chunk_tokens=1) as server:
        fresh = boto3.client(
            "bedrock-runtime",
            region_name="us-east-1",
            endpoint_url=server.endpoint_url,
            aws_access_key_id="AKIDLOCALBEDROCK",
            aws_secret_access_key="x",
        )
        response = fresh.converse(modelId="m", messages=MESSAGES)
        text = response["output"]["message"]["content"][0]["text"]
        assert len(text) == 40 and text.startswith("fixed fixed")
        assert response["usage"]["outputTokens"] == 10
        events = list(fresh.converse_stream(modelId="m", messages=MESSAGES)["stream"])
        deltas = [e for e in events if "contentBlockDelta" in e]
        assert len(deltas) == 10  # one token (4 characters) per delta
        fresh.close()


def test_scripted_replies_are_fifo_then_default(server: LocalBedrock, client: Any) -> None:
    server.script(
        "Converse",
        Reply.json(converse_reply("first")),
        Reply.json(converse_reply("second")),
    )
    assert server.pending("Converse") == 2
    texts = [
        client.converse(modelId="m", messages=MESSAGES)["output"]["message"]["content"][0]["text"]
        for _ in range(3)
    ]
    assert texts == ["first", "second", "echo: What is Bedrock?"]
    assert server.pending() == 0


def test_scripted_tool_use_stream(server: LocalBedrock, client: Any) -> None:
    events = converse_stream_events(
        "Let me check.",
        tool_uses=[{"name": "weather", "input": {"city": "Paris", "days": [1, 2]}}],
        chunk_chars=5,
    )
    server.script("ConverseStream", Reply.events(events))
    received = list(client.converse_stream(modelId="m", messages=MESSAGES)["stream"])
    assert received == events
    fragments = [
        e["contentBlockDelta"]["delta"]["toolUse"]["input"]
        for e in received
        if "toolUse" in e.get("contentBlockDelta", {}).get("delta", {})
    ]
    assert len(fragments) > 1
    assert "".join(fragments) == '{"city":"Paris","days":[1,2]}'


def test_requests_are_recorded(server: LocalBedrock, client: Any) -> None:
    client.converse(modelId="m", messages=MESSAGES, inferenceConfig={"maxTokens": 5})
    (request,) = server.requests
    assert request.operation == "Converse"
    assert request.service == "bedrock-runtime"
    assert request.method == "POST"
    assert request.path == "/model/m/converse"
    assert request.body == {"messages": MESSAGES, "inferenceConfig": {"maxTokens": 5}}
    assert request.headers["Content-Type"] == "application/json"
    assert server.requests_for("ConverseStream") == []
    server.clear()
    assert server.requests == []


def test_unscripted_operation_is_a_500_naming_it(server: LocalBedrock, make_client: Any) -> None:
    client = make_client("bedrock-agent-runtime")
    with pytest.raises(ClientError) as caught:
        client.get_agent_memory(
            agentId="A1", agentAliasId="B1", memoryType="SESSION_SUMMARY", memoryId="m-1"
        )
    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert error["Error"]["Code"] == "InternalServerException"
    assert "GetAgentMemory" in error["Error"]["Message"]


def test_scripted_agent_runtime_json(server: LocalBedrock, make_client: Any) -> None:
    body = {
        "retrievalResults": [
            {"content": {"text": "Bedrock is a service."}, "score": 0.9, "location": {"type": "S3"}}
        ],
        "nextToken": "t2",
    }
    server.script("Retrieve", Reply.json(body))
    client = make_client("bedrock-agent-runtime")
    response = client.retrieve(knowledgeBaseId="KB12345678", retrievalQuery={"text": "q"})
    assert response["retrievalResults"][0]["content"]["text"] == "Bedrock is a service."
    assert response["nextToken"] == "t2"
    assert server.requests[0].path_params == {"knowledgeBaseId": "KB12345678"}


def test_invoke_agent_chunk_bytes_decode(server: LocalBedrock, make_client: Any) -> None:
    server.script(
        "InvokeAgent",
        Reply.events([{"chunk": {"bytes": b"Hello "}}, {"chunk": {"bytes": "wörld".encode()}}]),
    )
    client = make_client("bedrock-agent-runtime")
    response = client.invoke_agent(
        agentId="A1", agentAliasId="AL1", sessionId="s-1", inputText="hi"
    )
    assert response["sessionId"] == "s-1"  # header member echoed from the path
    chunks = [event["chunk"]["bytes"] for event in response["completion"]]
    assert b"".join(chunks).decode() == "Hello wörld"


def test_raw_reply_for_invoke_model(server: LocalBedrock, client: Any) -> None:
    server.script(
        "InvokeModel",
        Reply.raw(200, {"Content-Type": "application/json"}, b'{"outputText": "hi"}'),
    )
    response = client.invoke_model(modelId="amazon.titan-text-lite-v1", body=b"{}")
    assert response["body"].read() == b'{"outputText": "hi"}'
    assert response["contentType"] == "application/json"
    assert server.requests[0].body == {}


def test_error_reply_carries_code_status_and_request_id(server: LocalBedrock, client: Any) -> None:
    server.script("Converse", Reply.error(400, "ValidationException", "bad model id"))
    with pytest.raises(client.exceptions.ValidationException) as caught:
        client.converse(modelId="m", messages=MESSAGES)
    response = caught.value.response
    assert response["Error"] == {"Code": "ValidationException", "Message": "bad model id"}
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["ResponseMetadata"]["RequestId"]


def test_unknown_path_answers_404(server: LocalBedrock) -> None:
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(server.endpoint_url + "/nope", data=b"{}")
    assert caught.value.code == 404
    assert caught.value.headers["x-amzn-ErrorType"] == "UnknownOperationException"
    caught.value.close()


def test_reasoning_and_guardrail_trace_round_trip(server: LocalBedrock, client: Any) -> None:
    trace = {"guardrail": {"inputAssessment": {"g1": {"topicPolicy": {"topics": []}}}}}
    events = converse_stream_events(
        "Answer.", reasoning="Thinking hard", reasoning_signature="sig", trace=trace
    )
    server.script("ConverseStream", Reply.events(events))
    received = list(client.converse_stream(modelId="m", messages=MESSAGES)["stream"])
    reasoning = [
        e["contentBlockDelta"]["delta"]["reasoningContent"]
        for e in received
        if "reasoningContent" in e.get("contentBlockDelta", {}).get("delta", {})
    ]
    assert "".join(r.get("text", "") for r in reasoning) == "Thinking hard"
    assert reasoning[-1] == {"signature": "sig"}
    assert received[-1]["metadata"]["trace"] == trace


def test_json_reply_bytes_are_base64(server: LocalBedrock, client: Any) -> None:
    server.script(
        "Converse",
        Reply.json(
            {
                "output": {
                    "message": {
                        "role": "assistant",
                        "content": [{"image": {"format": "png", "source": {"bytes": b"\x89PNG"}}}],
                    }
                },
                "stopReason": "end_turn",
                "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2},
                "metrics": {"latencyMs": 1},
            }
        ),
    )
    response = client.converse(modelId="m", messages=MESSAGES)
    block = response["output"]["message"]["content"][0]
    assert block["image"]["source"]["bytes"] == b"\x89PNG"
    assert base64.b64encode(b"\x89PNG")  # botocore decoded what the server encoded


def test_callable_reply_sees_the_request(server: LocalBedrock, make_client: Any) -> None:
    def page(request: Any) -> Reply:
        token = request.body.get("nextToken")
        results = [{"content": {"text": f"page {token or 1}"}}]
        return Reply.json({"retrievalResults": results, **({} if token else {"nextToken": "2"})})

    server.set_default("Retrieve", page)
    client = make_client("bedrock-agent-runtime")
    first = client.retrieve(knowledgeBaseId="KB12345678", retrievalQuery={"text": "q"})
    second = client.retrieve(
        knowledgeBaseId="KB12345678", retrievalQuery={"text": "q"}, nextToken=first["nextToken"]
    )
    assert first["retrievalResults"][0]["content"]["text"] == "page 1"
    assert second["retrievalResults"][0]["content"]["text"] == "page 2"
    assert "nextToken" not in second
    server.set_default("Retrieve", None)  # back to the rule-file answer: no documents
    again = client.retrieve(knowledgeBaseId="KB12345678", retrievalQuery={"text": "q"})
    assert again["retrievalResults"] == []


def test_scripted_replies_take_precedence_over_set_default(
    server: LocalBedrock, client: Any
) -> None:
    server.set_default("Converse", Reply.json(converse_reply("default")))
    server.script("Converse", Reply.json(converse_reply("scripted")))
    texts = [
        client.converse(modelId="m", messages=MESSAGES)["output"]["message"]["content"][0]["text"]
        for _ in range(2)
    ]
    assert texts == ["scripted", "default"]


def test_broken_callable_reply_is_a_500_not_a_dead_server(
    server: LocalBedrock, client: Any
) -> None:
    def broken(request: Any) -> Reply:
        raise RuntimeError("script bug")

    server.script("Converse", broken)
    with pytest.raises(ClientError) as caught:
        client.converse(modelId="m", messages=MESSAGES)
    assert "script bug" in caught.value.response["Error"]["Message"]
    assert client.converse(modelId="m", messages=MESSAGES)["stopReason"] == "end_turn"


def test_stop_closes_keep_alive_connections_and_threads(boto_session: Any) -> None:
    import threading
    import time

    before = threading.active_count()
    with LocalBedrock() as server:
        clients = [
            boto_session.client(
                "bedrock-runtime",
                region_name="us-east-1",
                endpoint_url=server.endpoint_url,
                aws_access_key_id="AKIDLOCALBEDROCK",
                aws_secret_access_key="x",
            )
            for _ in range(5)
        ]
        for each in clients:
            each.converse(modelId="m", messages=MESSAGES)
        assert threading.active_count() >= before + 5  # one live thread per kept-alive socket
        assert len(server._connections) == 5
        for each in clients:
            each.close()
    deadline = time.monotonic() + 5
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert threading.active_count() <= before
    with pytest.raises(RuntimeError):
        server.endpoint_url  # noqa: B018
