"""BedrockKitLLM's per-call fast paths give what the validated, rebuilt-every-call path gives.

* Answers: the assistant ``ChatMessage`` of an answer with nothing kept aside is built from
  a validated template (``bedrock_kit._prebuilt``); every ``chat`` / ``achat`` answer of the
  recorded Converse calls (../shared/conformance) and of LocalBedrock, tool calls included,
  equals the same objects built again through pydantic validation.
* Streams without a ledger iterate the core's deltas directly (no ledger-tag wrapper per
  chunk); the guardrail check still raises on the last chunk.
* The InferenceConfig comes from the core's ``inference_config``: the same config for the
  same values, a new one for a per-call value, and bad values (also ``True`` after a valid
  ``1``) are refused on every call.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from llama_index.core.llms import ChatMessage
from pydantic import BaseModel

from bedrock_kit.errors import ConfigurationError
from bedrock_kit.llama_index import BedrockKitLLM, _convert
from bedrock_kit.testing import LocalBedrock
from tests.support.replayed import recordings_with, replayed_llms

_HI = [ChatMessage(role="user", content="hi")]


def _validated(value: Any) -> Any:
    """The same object built again from its set fields, through its validators."""
    if isinstance(value, BaseModel):
        fields = {f: _validated(getattr(value, f)) for f in value.model_fields_set}
        return type(value)(**fields)
    if isinstance(value, list):
        return [_validated(v) for v in value]
    return value


def _check(response: Any) -> None:
    again = _validated(response)
    assert response == again
    assert response.model_dump() == again.model_dump()
    models = [response, response.message, *response.message.blocks]
    for built, validated in zip(models, [again, again.message, *again.message.blocks], strict=True):
        assert type(built) is type(validated)
        assert built.model_fields_set == validated.model_fields_set
        assert list(built.__dict__) == list(validated.__dict__)  # field order
        assert built.__dict__ == validated.__dict__
        assert built.__pydantic_extra__ == validated.__pydantic_extra__
        assert built.__pydantic_private__ == validated.__pydantic_private__


def _chat(llm: BedrockKitLLM, mode: str, messages: list[ChatMessage] = _HI, **kw: Any) -> Any:
    if mode == "chat":
        return llm.chat(messages, **kw)

    async def run() -> Any:
        try:
            return await llm.achat(messages, **kw)
        finally:
            await llm.aclose()

    return asyncio.run(run())


def test_message_template_is_on_for_this_llama_index():
    assert _convert._MESSAGE is not None


@pytest.mark.parametrize("mode", ["chat", "achat"])
def test_local_answers_equal_validated_ones(mode):
    with LocalBedrock() as server:
        llm = BedrockKitLLM(model="amazon.nova-micro-v1:0", endpoint_url=server.endpoint_url)
        first, second = _chat(llm, mode), _chat(llm, mode)
    for response in (first, second):
        _check(response)
        assert response.message.content
    # Fresh containers per answer, never shared between them.
    assert first.message.additional_kwargs is not second.message.additional_kwargs
    assert first.message.blocks is not second.message.blocks
    first.message.additional_kwargs["mine"] = 1
    assert "mine" not in second.message.additional_kwargs


@pytest.mark.conformance
@pytest.mark.parametrize("mode", ["chat", "achat"])
@pytest.mark.parametrize("recording", recordings_with("Converse"))
def test_recorded_answers_equal_validated_ones(recording, mode):
    seen = 0
    for llm in replayed_llms(recording, "Converse", lambda llm: _chat(llm, mode)):
        _check(_chat(llm, mode))
        seen += 1
    assert seen, recording.id


def test_kept_aside_blocks_still_take_the_validated_path():
    from bedrock_kit.core.chat.types import Message, TextBlock, UnknownBlock

    message = Message("assistant", (TextBlock("a"), UnknownBlock("audio", {"format": "mp3"})))
    built = _convert.to_chat_message(message)
    assert built.additional_kwargs[_convert.UNMAPPED_KEY] == [{"audio": {"format": "mp3"}}]
    assert built.additional_kwargs[_convert.UNMAPPED_POSITIONS_KEY] == [1]
    assert built == _validated(built)


def test_the_same_values_reuse_one_inference_config():
    llm = BedrockKitLLM(model="amazon.nova-micro-v1:0", max_tokens=100, temperature=0.5)
    first = llm._inference_config(llm.max_tokens, llm.temperature, llm.top_p, llm.stop)
    again = llm._inference_config(llm.max_tokens, llm.temperature, llm.top_p, llm.stop)
    assert again is first
    assert (first.max_tokens, first.temperature, first.top_p) == (100, 0.5, None)
    other = llm._inference_config(200, llm.temperature, llm.top_p, None)
    assert other.max_tokens == 200
    stops = llm._inference_config(100, 0.5, None, ["END"])
    assert stops.stop_sequences == ("END",)


def test_requests_follow_per_call_and_changed_settings():
    llm = BedrockKitLLM(model="amazon.nova-micro-v1:0", max_tokens=100)
    assert llm.build_request(_HI)["inferenceConfig"] == {"maxTokens": 100}
    assert llm.build_request(_HI, max_tokens=7)["inferenceConfig"] == {"maxTokens": 7}
    assert llm.build_request(_HI)["inferenceConfig"] == {"maxTokens": 100}
    llm.max_tokens = 300
    llm.temperature = 0.2
    assert llm.build_request(_HI)["inferenceConfig"] == {"maxTokens": 300, "temperature": 0.2}
    assert llm.build_request(_HI, stop=["x"])["inferenceConfig"]["stopSequences"] == ["x"]
    assert llm.build_request(_HI)["inferenceConfig"] == {"maxTokens": 300, "temperature": 0.2}


@pytest.mark.parametrize(
    "bad",
    [
        {"max_tokens": True},
        {"max_tokens": 0},
        {"temperature": 2.0},
        {"top_p": -1.0},
        {"max_tokens": [1]},
    ],
)
def test_bad_inference_values_fail_on_every_call(bad):
    llm = BedrockKitLLM(model="amazon.nova-micro-v1:0", max_tokens=1)
    llm.build_request(_HI)  # a valid config is remembered first
    for _ in range(2):
        with pytest.raises(ConfigurationError):
            llm.build_request(_HI, **bad)
    assert llm.build_request(_HI)["inferenceConfig"] == {"maxTokens": 1}


@pytest.mark.parametrize("mode", ["stream", "astream"])
def test_streams_without_a_ledger_send_at_the_first_chunk(mode):
    with LocalBedrock(answer_tokens=12, chunk_tokens=2) as server:
        llm = BedrockKitLLM(model="amazon.nova-micro-v1:0", endpoint_url=server.endpoint_url)

        async def arun() -> list[Any]:
            try:
                stream = await llm.astream_chat(_HI)
                assert len(server.requests) == 0  # nothing sent before the first chunk
                return [r async for r in stream]
            finally:
                await llm.aclose()

        if mode == "stream":
            stream = llm.stream_chat(_HI)
            assert len(server.requests) == 0  # nothing sent before the first chunk
            responses = list(stream)
        else:
            responses = asyncio.run(arun())
        assert len(server.requests) == 1
    texts = [r for r in responses if r.delta]
    assert len(texts) >= 3
    assert responses[-1].message.content == "".join(r.delta for r in texts)
    assert responses[-1].raw["usage"]["completion_tokens"] > 0


def test_result_response_templates_are_on_for_this_llama_index():
    assert set(_convert._RESULT_RESPONSES) == {None, ""}
    assert all(build is not None for build in _convert._RESULT_RESPONSES.values())


def test_other_deltas_take_the_validated_path():
    from bedrock_kit.core.chat.converse import parse_converse_response

    result = parse_converse_response(
        {
            "output": {"message": {"role": "assistant", "content": [{"text": "hi"}]}},
            "stopReason": "end_turn",
            "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2},
        },
        model_id="amazon.nova-micro-v1:0",
    )
    fast, other = _convert.to_chat_response(result), _convert.to_chat_response(result, delta="x")
    _check(fast)
    _check(other)
    assert other.delta == "x"
    assert fast.additional_kwargs == other.additional_kwargs
    assert fast.additional_kwargs["stop_reason"] == "end_turn"
    assert fast.raw["usage"]["total_tokens"] == 2
