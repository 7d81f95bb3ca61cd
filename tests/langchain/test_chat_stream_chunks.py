"""Stream chunks built without re-validation equal the validated ones, chunk for chunk.

ChatBedrockKit builds a text delta's ``AIMessageChunk`` and ``ChatGenerationChunk`` from what
validation made of a sample (``bedrock_kit._prebuilt``). Every chunk of every recorded
ConverseStream answer (../shared/conformance) and of LocalBedrock streams is compared with
the same object built again through pydantic validation: ``==``, ``model_dump`` and the
fields counted as set must agree.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from pydantic import BaseModel

from bedrock_kit.langchain import ChatBedrockKit, _content
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


def _check(generation: Any) -> str:
    again = _validated(generation)
    assert generation == again
    assert generation.model_dump() == again.model_dump()
    assert generation.model_fields_set == again.model_fields_set
    assert generation.message.model_fields_set == again.message.model_fields_set
    assert generation.message.__dict__ == again.message.__dict__
    assert list(generation.message.__dict__) == list(again.message.__dict__)  # field order
    assert type(generation.text) is type(again.text)  # langchain-core's TextAccessor
    assert generation.text == again.text == generation.message.text
    content = generation.message.content
    return "text" if isinstance(content, str) and content else type(content).__name__


def _stream(model: ChatBedrockKit, mode: str) -> list[Any]:
    messages = [HumanMessage("hi")]
    if mode == "stream":
        return list(model._stream(messages))

    async def run() -> list[Any]:
        try:
            return [g async for g in model._astream(messages)]
        finally:
            await model.aclose()

    return asyncio.run(run())


def test_prebuilt_chunks_are_on_for_this_langchain_core():
    assert _content._TEXT_CHUNK is not None
    assert _content._GENERATION is not None


@pytest.mark.parametrize("mode", ["stream", "astream"])
@pytest.mark.parametrize("output_version", [None, "v1"])
def test_local_stream_chunks_equal_validated_ones(mode, output_version):
    extra = {} if output_version is None else {"output_version": output_version}
    with LocalBedrock(answer_tokens=40, chunk_tokens=2) as server:
        model = ChatBedrockKit(
            model="amazon.nova-micro-v1:0", endpoint_url=server.endpoint_url, **extra
        )
        generations = _stream(model, mode)
    kinds = [_check(g) for g in generations]
    assert kinds.count("text" if output_version is None else "list") >= 20
    first, second = generations[0].message, generations[1].message
    # Nothing is shared between chunks: each has its own containers.
    assert first.additional_kwargs is not second.additional_kwargs
    assert first.tool_calls is not second.tool_calls
    assert first.response_metadata is not second.response_metadata


@pytest.mark.conformance
@pytest.mark.parametrize("mode", ["stream", "astream"])
@pytest.mark.parametrize("recording", recordings_with("ConverseStream"))
def test_recorded_stream_chunks_equal_validated_ones(recording, mode):
    kinds: list[str] = []
    replayed = replayed_llms(
        recording, "ConverseStream", lambda m: _stream(m, mode), ChatBedrockKit
    )
    for model in replayed:
        kinds += [_check(g) for g in _stream(model, mode)]
    assert kinds, recording.id
