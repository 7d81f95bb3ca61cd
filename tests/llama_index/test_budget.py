"""LlamaIndex budget handlers: refuse before the call via the callback manager, settle after."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseAsyncGen,
    CompletionResponseGen,
    LLMMetadata,
)
from llama_index.core.callbacks import CallbackManager
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.llms import LLM
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback

from bedrock_kit.core.budget.ledger import Ledger
from bedrock_kit.core.chat.types import Usage
from bedrock_kit.errors import BudgetExceededError
from bedrock_kit.llama_index.budget import (
    BudgetEventHandler,
    TokenBudgetHandler,
    usage_from_raw,
)
from tests.support.scenarios.budget import FLAT_PRICES, LIMIT, NOVA, chat_requests, race_threads

USAGE = {"prompt_tokens": 1000, "completion_tokens": 1000, "total_tokens": 2000}


class FakeBedrockLLM(LLM):
    """Answers with raw["usage"] shaped like BedrockKitLLM's."""

    model: str = "acme.flat-v1"
    max_tokens: int = 1000
    usage: dict[str, Any] | None = USAGE
    fail: bool = False
    sent: list[int] = []

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(model_name=self.model, num_output=self.max_tokens, is_chat_model=True)

    def _response(self, text: str = "hi") -> ChatResponse:
        raw = {"usage": self.usage} if self.usage is not None else {}
        return ChatResponse(message=ChatMessage(role="assistant", content=text), raw=raw)

    def _send(self) -> None:
        self.sent.append(1)
        if self.fail:
            raise RuntimeError("model error")

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        self._send()
        return self._response()

    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        await asyncio.sleep(0)  # the request is in flight
        self._send()
        return self._response()

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        self._send()

        def gen() -> ChatResponseGen:
            for word in ("a", "b"):
                yield ChatResponse(message=ChatMessage(role="assistant", content=word), delta=word)
            yield self._response("ab")  # usage arrives with the last chunk

        return gen()

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        self._send()
        return CompletionResponse(text="hi", raw={"usage": self.usage})

    async def astream_chat(self, messages: Any, **kwargs: Any) -> ChatResponseAsyncGen:
        raise NotImplementedError

    def stream_complete(
        self, prompt: str, formatted: bool = False, **kw: Any
    ) -> CompletionResponseGen:
        raise NotImplementedError

    async def acomplete(
        self, prompt: str, formatted: bool = False, **kw: Any
    ) -> CompletionResponse:
        raise NotImplementedError

    async def astream_complete(
        self, prompt: str, formatted: bool = False, **kw: Any
    ) -> CompletionResponseAsyncGen:
        raise NotImplementedError


def make(max_cost: str | None = None, **llm_kw: Any) -> tuple[FakeBedrockLLM, TokenBudgetHandler]:
    handler = TokenBudgetHandler(
        Ledger(prices=FLAT_PRICES, max_cost=max_cost), token_counter=lambda m, t: 1000
    )
    FakeBedrockLLM.model_fields["sent"].default.clear()
    llm = FakeBedrockLLM(callback_manager=CallbackManager([handler]), **llm_kw)
    return llm, handler


MSG = [ChatMessage(role="user", content="hello")]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"usage": USAGE}, Usage(1000, 1000, 0, 0, 2000)),
        (
            {"usage": {"prompt_tokens": 2, "completion_tokens": 5, "cache_write_input_tokens": 1322,
                       "cache_read_input_tokens": 0, "total_tokens": 1329}},
            Usage(2, 5, 0, 1322, 1329),
        ),
        (  # prompt_tokens that already include the cache tokens are not double counted
            {"usage": {"prompt_tokens": 1324, "completion_tokens": 5,
                       "cache_write_input_tokens": 1322, "total_tokens": 1329}},
            Usage(2, 5, 0, 1322, 1329),
        ),
        (
            {"usage": {"inputTokens": 2, "outputTokens": 5, "cacheReadInputTokens": 1322,
                       "totalTokens": 1329}},
            Usage(2, 5, 1322, 0, 1329),
        ),
        ({}, None),
        (None, None),
        ({"usage": {"prompt_tokens": 0, "completion_tokens": 0}}, None),
    ],
)  # fmt: skip
def test_usage_from_raw(raw, expected):
    assert usage_from_raw(raw) == expected


def test_chat_settles_to_raw_usage():
    llm, handler = make("1")
    llm.chat(MSG)
    assert handler.ledger.spent() == Decimal("0.003")
    row = handler.ledger.report().rows[0]
    assert (row.model_id, row.calls, row.input_tokens) == ("acme.flat-v1", 1, 1000)
    assert handler.open_runs == 0


def test_refused_before_the_request_is_sent():
    llm, handler = make("0.0029")
    with pytest.raises(BudgetExceededError, match=r"max_cost=\$0\.0029"):
        llm.chat(MSG)
    assert llm.sent == [] and handler.ledger.reserved() == 0 and handler.open_runs == 0


def test_instrumentation_dispatcher_swallows_handler_errors():
    """Why enforcement lives in the callback manager: the dispatcher drops exceptions."""

    class Raiser(BudgetEventHandler):
        def handle(self, event: Any, **kwargs: Any) -> None:
            raise BudgetExceededError("would not stop the call")

    raiser = Raiser()
    root = get_dispatcher()
    root.add_event_handler(raiser)
    try:
        llm, _ = make("1")
        llm.chat(MSG)  # no exception reaches the caller
        assert llm.sent == [1]
    finally:
        root.event_handlers.remove(raiser)


def test_error_releases_and_counts():
    llm, handler = make("1", fail=True)
    with pytest.raises(RuntimeError):
        llm.chat(MSG)
    assert handler.ledger.open_reservations() == 0 and handler.ledger.spent() == 0
    assert handler.ledger.report().total.errors == 1


def test_stream_settles_from_the_last_response():
    llm, handler = make("1")
    assert [r.delta for r in llm.stream_chat(MSG)] == ["a", "b", None]
    assert handler.ledger.spent() == Decimal("0.003") and handler.open_runs == 0


def test_abandoned_stream_is_charged_its_input_and_leaks_nothing():
    llm, handler = make("1")
    stream = llm.stream_chat(MSG)
    next(stream)
    stream.close()
    assert handler.open_runs == 0 and handler.ledger.open_reservations() == 0
    row = handler.ledger.report().rows[0]
    assert (row.input_tokens, row.output_tokens, row.errors) == (1000, 0, 1)


def test_complete_is_budgeted_too():
    llm, handler = make("1")
    llm.complete("hello")
    assert handler.ledger.report().total.calls == 1
    assert handler.ledger.spent() == Decimal("0.003")  # usage read from the completion


def test_missing_usage_charged_reserved_counts_with_warning():
    llm, handler = make("1", usage=None)
    with pytest.warns(UserWarning, match="no usage"):
        llm.chat(MSG)
    assert handler.ledger.spent() == Decimal("0.003")


async def test_64_concurrent_achat_never_overspend():
    llm, handler = make(str(LIMIT))
    results = await asyncio.gather(*(llm.achat(MSG) for _ in range(64)), return_exceptions=True)
    refused = [r for r in results if isinstance(r, BudgetExceededError)]
    assert len(refused) == 44 and len(llm.sent) == 20
    assert handler.ledger.spent() == Decimal("0.06") <= LIMIT
    assert handler.open_runs == 0 and handler.ledger.open_reservations() == 0


def test_64_threads_never_overspend():
    llm, handler = make(str(LIMIT))
    outcomes = race_threads(lambda: llm.chat(MSG))
    assert outcomes.count("ok") == 20 and outcomes.count("refused") == 44
    assert len(llm.sent) == 20 and handler.ledger.spent() == Decimal("0.06")


def test_event_handler_records_any_llm_call():
    recorder = BudgetEventHandler(ledger=Ledger(prices=FLAT_PRICES))
    root = get_dispatcher()
    root.add_event_handler(recorder)
    try:
        FakeBedrockLLM.model_fields["sent"].default.clear()
        llm = FakeBedrockLLM()
        llm.chat(MSG)
        list(llm.stream_chat(MSG))
    finally:
        root.event_handlers.remove(recorder)
    total = recorder.ledger.report().total
    assert (total.calls, total.input_tokens, total.output_tokens) == (2, 2000, 2000)
    assert recorder.ledger.spent() == Decimal("0.006")


# -- BedrockKitLLM against LocalBedrock (real boto3 / aiobotocore over HTTP)

ANSWER = 30


def _kit(server: Any, handler: TokenBudgetHandler) -> Any:
    from bedrock_kit.llama_index import BedrockKitLLM

    return BedrockKitLLM(
        model=NOVA,
        endpoint_url=server.endpoint_url,
        region_name="us-east-1",
        max_tokens=ANSWER,
        max_retries=0,
        callback_manager=CallbackManager([handler]),
    )


def test_bedrock_kit_llm_refused_call_sends_no_http_request():
    from bedrock_kit.testing import LocalBedrock

    with LocalBedrock() as server:
        handler = TokenBudgetHandler(Ledger(max_cost="0.0000001"))
        llm = _kit(server, handler)
        with pytest.raises(BudgetExceededError):
            llm.chat(MSG)
        with pytest.raises(BudgetExceededError):
            llm.complete("hello")
        assert server.requests == [] and handler.open_runs == 0


def test_bedrock_kit_llm_cache_tokens_and_stream_counted_once():
    from bedrock_kit.testing import LocalBedrock, Reply
    from bedrock_kit.testing.scripts import converse_reply

    usage = {"inputTokens": 2, "outputTokens": 5, "cacheReadInputTokens": 0,
             "cacheWriteInputTokens": 1322, "totalTokens": 1329}  # fmt: skip
    with LocalBedrock(answer_tokens=ANSWER, chunk_tokens=2) as server:
        server.script("Converse", Reply.json(converse_reply("21", usage=usage)))
        handler = TokenBudgetHandler(Ledger())
        llm = _kit(server, handler)
        response = llm.chat(MSG)
        assert response.raw["usage"]["prompt_tokens"] == 1324  # includes the cache write
        # Nova Micro: (2*0.000035 + 5*0.00014 + 1322*0.000035) / 1000, cache write once
        assert handler.ledger.spent() == Decimal("0.00004704")
        list(llm.stream_chat(MSG))
        row = handler.ledger.report().rows[0]
        assert row.cache_write_input_tokens == 1322 and row.calls == 2
        assert row.output_tokens == 5 + ANSWER
        assert handler.open_runs == 0 and handler.ledger.open_reservations() == 0


async def test_bedrock_kit_llm_64_async_chats_with_latency_never_overspend():
    pytest.importorskip("aiobotocore")
    from bedrock_kit.testing import LocalBedrock

    with LocalBedrock(latency=0.05, answer_tokens=ANSWER) as server:
        probe = TokenBudgetHandler(Ledger())
        await _kit(server, probe).achat(MSG)
        # billed input is the server's count, below the estimate: settled calls free room,
        # so the limit is set from the reservation (the worst case), not the bill.
        billed = probe.ledger.report().rows[0]
        reserved = Ledger().reserve(NOVA, estimate_tokens_for(MSG), ANSWER).cost
        limit = reserved * 20 + reserved / 2
        handler = TokenBudgetHandler(Ledger(max_cost=limit))
        llm = _kit(server, handler)
        before = chat_requests(server)
        results = await asyncio.gather(*(llm.achat(MSG) for _ in range(64)), return_exceptions=True)
        refused = [r for r in results if isinstance(r, BudgetExceededError)]
        # all 64 reserve before any answer arrives (latency), so exactly 20 fit
        assert len(refused) == 44 and chat_requests(server) - before == 20
        assert handler.ledger.spent() <= limit
        assert handler.ledger.spent() == billed.cost * 20
        assert handler.open_runs == 0 and handler.ledger.open_reservations() == 0
        await llm.aclose()


def estimate_tokens_for(messages: Sequence[ChatMessage]) -> int:
    from bedrock_kit.core.budget.ledger import estimate_tokens

    return estimate_tokens([str(m.content) for m in messages], messages=len(messages))
