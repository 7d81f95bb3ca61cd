"""ChatBedrockKit(api="invoke") against real InvokeModel recordings (read from ../shared).

Each provider's recorded body is served over real HTTP; the expectations below are read
from the recorded body, headers and stream chunks by plain loops, independent of the codecs.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import pytest

from bedrock_kit import errors
from bedrock_kit.core.chat.invoke import codec_for
from bedrock_kit.langchain import ChatBedrockKit
from bedrock_kit.testing.conformance import Interaction, Recording, load_recordings, replay_server

pytestmark = pytest.mark.conformance

_OPERATIONS = ("InvokeModel", "InvokeModelWithResponseStream")
# Provider stop vocabularies -> Converse's, written out independently of the codecs.
_STOPS = {
    "FINISH": "end_turn",
    "LENGTH": "max_tokens",
    "max_tokens": "max_tokens",
    "end_turn": "end_turn",
}
_ERRORS = {400: errors.BedrockValidationError, 403: errors.AccessDeniedError}


def _expected_text_and_stop(model_id: str, body: dict[str, Any]) -> tuple[str, str]:
    if model_id.startswith("amazon.titan"):
        first = body["results"][0]
        return first["outputText"], _STOPS[first["completionReason"]]
    if model_id.startswith("amazon.nova"):
        content = body["output"]["message"]["content"]
        return "".join(b.get("text", "") for b in content), body["stopReason"]
    if model_id.startswith("anthropic."):
        return "".join(b.get("text", "") for b in body["content"]), _STOPS[body["stop_reason"]]
    raise AssertionError(f"no expectation written for {model_id}")


def _stream_expectation(interaction: Interaction) -> tuple[str, str, dict[str, int]]:
    text, stop, usage = "", "", {}
    for event in interaction.events or ():
        chunk = json.loads(base64.b64decode(event.payload["bytes"]))
        if chunk.get("type") == "content_block_delta":
            text += chunk["delta"].get("text", "")
        if chunk.get("type") == "message_delta":
            stop = _STOPS[chunk["delta"]["stop_reason"]]
        metrics = chunk.get("amazon-bedrock-invocationMetrics")
        if metrics:
            usage = {"input": metrics["inputTokenCount"], "output": metrics["outputTokenCount"]}
    return text, stop, usage


def _cases() -> list[Any]:
    cases = []
    for recording in load_recordings():
        if recording.operations and recording.operations[0] in _OPERATIONS:
            stream = recording.operations[0] == "InvokeModelWithResponseStream"
            for mode in ("stream", "astream") if stream else ("invoke", "ainvoke"):
                cases.append(pytest.param(recording, mode, id=f"{recording.id}-{mode}"))
    return cases or [
        pytest.param(None, "", marks=pytest.mark.skip(reason="../shared/conformance absent"))
    ]


def _call(model: ChatBedrockKit, mode: str) -> Any:
    if mode == "invoke":
        return model.invoke("hi")
    if mode == "stream":
        chunks = list(model.stream("hi"))
        total = chunks[0]
        for chunk in chunks[1:]:
            total += chunk
        return total

    async def run() -> Any:
        try:
            if mode == "ainvoke":
                return await model.ainvoke("hi")
            chunks = [c async for c in model.astream("hi")]
            total = chunks[0]
            for chunk in chunks[1:]:
                total += chunk
            return total
        finally:
            await model.aclose()

    return asyncio.run(run())


@pytest.mark.parametrize(("recording", "mode"), _cases())
def test_recorded_invoke(recording: Recording, mode: str) -> None:
    interaction = recording.interactions[0]
    model_id = interaction.model_id or ""
    kwargs: dict[str, Any] = {}
    request = interaction.request_json or {}
    if "amazon-bedrock-guardrailConfig" in request or "guardrail" in recording.name:
        kwargs["guardrail_config"] = {
            "guardrailIdentifier": "5zwrmdlsra2e",
            "guardrailVersion": "DRAFT",
        }
    with replay_server(recording) as server:
        model = ChatBedrockKit(
            model=model_id,
            api="invoke",
            endpoint_url=server.endpoint_url,
            region_name=interaction.region or "us-east-1",
            max_retries=0,
            **kwargs,
        )
        if interaction.status >= 400:
            try:
                codec_for(model_id)
            except errors.ConfigurationError:
                # No body format for this model: refused before any request is sent, and the
                # recorded error still maps to its type through the runtime with a raw body.
                with pytest.raises(errors.ConfigurationError, match="supported providers"):
                    _call(model, mode)
                assert server.requests == []
                raw = {"modelId": model_id, "body": b"{}", "contentType": "application/json"}
                with pytest.raises(_ERRORS[interaction.status]) as info:
                    model.runtime.invoke(raw)
            else:
                with pytest.raises(_ERRORS[interaction.status]) as info:
                    _call(model, mode)
            assert info.value.status_code == interaction.status
            return
        message = _call(model, mode)
    usage = message.usage_metadata
    if interaction.is_event_stream:
        text, stop, tokens = _stream_expectation(interaction)
    else:
        body = interaction.response_json or {}
        text, stop = _expected_text_and_stop(model_id, body)
        tokens = (
            {
                "input": int(interaction.headers["x-amzn-bedrock-input-token-count"]),
                "output": int(interaction.headers["x-amzn-bedrock-output-token-count"]),
            }
            if "x-amzn-bedrock-input-token-count" in interaction.headers
            else {}
        )
        trace = (body.get("amazon-bedrock-trace") or {}).get("guardrail")
        if trace:
            parsed = message.response_metadata["guardrail"]
            assert set(parsed.input_assessments) == set(trace["input"])
            regexes = [
                r
                for o in trace["outputs"]
                for a in o.values()
                for r in (a.get("sensitiveInformationPolicy") or {}).get("regexes", [])
            ]
            parsed_regexes = [
                (r.name, r.match, r.action)
                for group in parsed.output_assessments.values()
                for a in group
                for r in a.regexes
            ]
            assert parsed_regexes == [(r["name"], r["match"], r["action"]) for r in regexes]
            if body.get("amazon-bedrock-guardrailAction") == "INTERVENED":
                stop = "guardrail_intervened"
    assert text, "vacuous expectation"
    assert message.content == text
    assert message.response_metadata["raw_stop_reason"] == stop
    if tokens:
        assert (usage["input_tokens"], usage["output_tokens"]) == (
            tokens["input"],
            tokens["output"],
        )
    else:
        assert usage["output_tokens"] > 0
