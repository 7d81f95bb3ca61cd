"""Stream responses built without re-validation equal the validated ones, chunk for chunk.

BedrockKitLLM builds the ``ChatResponse`` of a one-text-block answer from what validation
made of a sample (``bedrock_kit._prebuilt``). Every response of every recorded
ConverseStream answer (../shared/conformance) and of LocalBedrock streams is compared with
the same object built again through pydantic validation: ``==``, ``model_dump`` and the
fields counted as set must agree, on the response, its message and its blocks.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from llama_index.core.llms import ChatMessage
from pydantic import BaseModel

from bedrock_kit.llama_index import BedrockKitLLM, _convert
from bedrock_kit.testing import LocalBedrock
from tests.support.replayed import recordings_with, replayed_llms


def _validated(value: Any) -> Any:
    """The same object built again from its set fields, through its validators."""
    if isinstance(value, BaseModel):
        fields = {f: _validated(getattr(value, f)) for f in value.model_fields_set}
        return type(value)(**fields)
    if isinstance(value, list):
        return [_validated(v) for v in value]
    return value


def _models(response: Any) -> list[Any]:
    return [response, response.message, *response.message.blocks]


def _check(response: Any) -> None:
    again = _validated(response)
    assert response == again
    assert response.model_dump() == again.model_dump()
    for built, validated in zip(_models(response), _models(again), strict=True):
        assert built.model_fields_set == validated.model_fields_set
        assert list(built.__dict__) == list(validated.__dict__)  # field order
        assert built.__dict__ == validated.__dict__


def _stream(llm: BedrockKitLLM, mode: str) -> list[Any]:
    messages = [ChatMessage(role="user", content="hi")]
    if mode == "stream":
        return list(llm.stream_chat(messages))

    async def run() -> list[Any]:
        try:
            return [r async for r in await llm.astream_chat(messages)]
        finally:
            await llm.aclose()

    return asyncio.run(run())


def test_prebuilt_responses_are_on_for_this_llama_index():
    assert _convert._TEXT_RESPONSE is not None


@pytest.mark.parametrize("mode", ["stream", "astream"])
def test_local_stream_responses_equal_validated_ones(mode):
    with LocalBedrock(answer_tokens=40, chunk_tokens=2) as server:
        llm = BedrockKitLLM(model="amazon.nova-micro-v1:0", endpoint_url=server.endpoint_url)
        responses = _stream(llm, mode)
    for response in responses:
        _check(response)
    texts = [r for r in responses if r.delta]
    assert len(texts) >= 20
    assert texts[-1].message.content == "".join(r.delta for r in texts)
    first, second = texts[0], texts[1]
    assert first.additional_kwargs is not second.additional_kwargs
    assert first.message.additional_kwargs is not second.message.additional_kwargs
    assert first.message.blocks is not second.message.blocks


@pytest.mark.conformance
@pytest.mark.parametrize("mode", ["stream", "astream"])
@pytest.mark.parametrize("recording", recordings_with("ConverseStream"))
def test_recorded_stream_responses_equal_validated_ones(recording, mode):
    seen = 0
    for llm in replayed_llms(recording, "ConverseStream", lambda llm: list(_stream(llm, mode))):
        for response in _stream(llm, mode):
            _check(response)
            seen += 1
    assert seen, recording.id
