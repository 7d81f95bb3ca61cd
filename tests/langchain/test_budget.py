"""LangChain budget callback: refuses before the call, settles to usage_metadata, streams."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from bedrock_kit.core.budget.ledger import Ledger
from bedrock_kit.core.chat.types import Usage
from bedrock_kit.errors import BudgetExceededError
from bedrock_kit.langchain.budget import (
    BedrockBudgetCallback,
    TokenBudgetCallbackHandler,
    token_budget,
    usage_from_metadata,
)
from tests.support.scenarios.budget import FLAT_PRICES, LIMIT, NOVA, chat_requests, race_threads

SONNET_45 = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
CASSETTES = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "cassettes"


class FakeBedrockChat(BaseChatModel):
    """Answers like ChatBedrockKit will: usage_metadata with cache details, model_id."""

    model: str = "acme.flat-v1"
    max_tokens: int | None = 1000
    usage: dict[str, Any] | None = {
        "input_tokens": 1000, "output_tokens": 1000, "total_tokens": 2000
    }  # fmt: skip
    fail: bool = False
    sent: list[int] = []  # one entry per "request" this instance sent

    @property
    def _llm_type(self) -> str:
        return "fake-bedrock"

    def _answer(self) -> AIMessage:
        self.sent.append(1)
        if self.fail:
            raise RuntimeError("model error")
        return AIMessage(
            "hi", usage_metadata=self.usage, response_metadata={"model_id": self.model}
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self._answer())])

    async def _agenerate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any):
        await asyncio.sleep(0)  # the request is in flight
        return ChatResult(generations=[ChatGeneration(message=self._answer())])

    def _stream(
        self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> Iterator[ChatGenerationChunk]:
        self.sent.append(1)
        for word in ("a", "b", "c"):
            yield ChatGenerationChunk(message=AIMessageChunk(word))
        final = AIMessageChunk(
            "", usage_metadata=self.usage, response_metadata={"model_id": self.model}
        )
        yield ChatGenerationChunk(message=final)

    async def _astream(
        self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> AsyncIterator[ChatGenerationChunk]:
        for chunk in self._stream(messages):
            await asyncio.sleep(0)
            yield chunk


def fixed_count(model_id: str, messages: list[BaseMessage]) -> int:
    return 1000


@pytest.fixture
def model() -> FakeBedrockChat:
    FakeBedrockChat.model_fields["sent"].default.clear()
    return FakeBedrockChat()


def handler(max_cost: str | None = None, **kw: Any) -> TokenBudgetCallbackHandler:
    return TokenBudgetCallbackHandler(
        Ledger(prices=FLAT_PRICES, max_cost=max_cost), token_counter=fixed_count, **kw
    )


def test_alias():
    assert BedrockBudgetCallback is TokenBudgetCallbackHandler


def test_usage_metadata_input_includes_cache_and_is_split_back():
    usage = usage_from_metadata(
        {
            "input_tokens": 1324,
            "output_tokens": 5,
            "total_tokens": 1329,
            "input_token_details": {"cache_read": 0, "cache_creation": 1322},
        }
    )
    assert usage == Usage(2, 5, 0, 1322, 1329)


def test_settles_to_usage_with_model_id_from_response(model):
    cb = handler("1")
    model.invoke("hello", config={"callbacks": [cb]})
    assert cb.ledger.spent() == Decimal("0.003")
    row = cb.ledger.report().rows[0]
    assert (row.model_id, row.calls, row.input_tokens, row.output_tokens) == (
        "acme.flat-v1",
        1,
        1000,
        1000,
    )
    assert cb.open_runs == 0 and cb.ledger.open_reservations() == 0


def test_refused_before_the_request_is_sent(model):
    cb = handler("0.0029")  # worst case is 0.003
    with pytest.raises(BudgetExceededError, match=r"max_cost=\$0\.0029"):
        model.invoke("hello", config={"callbacks": [cb]})
    assert model.sent == []  # the model was never called
    assert cb.ledger.reserved() == 0


def test_model_id_and_max_tokens_read_from_langchain_metadata(model):
    seen: dict[str, Any] = {}

    def counter(model_id: str, messages: list[BaseMessage]) -> int:
        seen["model"] = model_id
        return 10

    cb = TokenBudgetCallbackHandler(Ledger(prices=FLAT_PRICES), token_counter=counter)
    model.max_tokens = 123
    model.invoke("hello", config={"callbacks": [cb]})
    assert seen["model"] == "acme.flat-v1"
    # reserved 10 * 0.001 + 123 * 0.002 per 1,000 before settling; check via a refusal:
    tight = TokenBudgetCallbackHandler(
        Ledger(prices=FLAT_PRICES, max_output_tokens=122), token_counter=counter
    )
    with pytest.raises(BudgetExceededError, match="max_output_tokens=122"):
        model.invoke("hello", config={"callbacks": [tight]})


def test_call_time_max_tokens_override_is_reserved(model):
    cb = TokenBudgetCallbackHandler(
        Ledger(prices=FLAT_PRICES, max_output_tokens=5), token_counter=fixed_count
    )
    model.usage = {"input_tokens": 1000, "output_tokens": 5, "total_tokens": 1005}
    model.invoke("hello", max_tokens=5, config={"callbacks": [cb]})  # 1000 would not fit
    assert cb.ledger.report().total.output_tokens == 5


def test_default_estimate_without_a_counter(model):
    cb = TokenBudgetCallbackHandler(Ledger(prices=FLAT_PRICES, max_input_tokens=42))
    # "abcdefgh": ceil(8/4) + 32 per request + 8 per message = 42 tokens: fits exactly.
    model.usage = {"input_tokens": 42, "output_tokens": 1, "total_tokens": 43}
    model.invoke("abcdefgh", config={"callbacks": [cb]})
    with pytest.raises(BudgetExceededError, match="max_input_tokens"):
        model.invoke("abcdefgh", config={"callbacks": [cb]})


def test_cache_tokens_priced_at_their_own_rates():
    cb = TokenBudgetCallbackHandler(Ledger(), token_counter=fixed_count)
    llm = FakeBedrockChat(
        model=SONNET_45,
        usage={
            "input_tokens": 1324,
            "output_tokens": 5,
            "total_tokens": 1329,
            "input_token_details": {"cache_read": 0, "cache_creation": 1322},
        },
    )
    llm.invoke("hi", config={"callbacks": [cb]})
    # Same as the recorded Bedrock call, priced by hand in tests/core/budget/test_pricing.py.
    assert cb.ledger.spent() == Decimal("0.00554235")


def test_error_releases_and_counts(model):
    cb = handler("1")
    model.fail = True
    with pytest.raises(RuntimeError):
        model.invoke("hello", config={"callbacks": [cb]})
    assert cb.ledger.open_reservations() == 0 and cb.ledger.spent() == 0
    assert cb.ledger.report().total.errors == 1


def test_stream_settles_from_the_final_chunk(model):
    cb = handler("1")
    chunks = list(model.stream("hello", config={"callbacks": [cb]}))
    assert "".join(c.content for c in chunks) == "abc"
    assert cb.ledger.spent() == Decimal("0.003") and cb.open_runs == 0


def test_abandoned_stream_is_charged_what_it_received(model):
    cb = handler("1")
    stream = model.stream("hello", config={"callbacks": [cb]})
    next(stream)
    next(stream)
    stream.close()
    assert cb.open_runs == 0 and cb.ledger.open_reservations() == 0
    row = cb.ledger.report().rows[0]
    # 1000 input tokens (the count) + 2 chunks received; counted as a failed call
    assert (row.input_tokens, row.output_tokens, row.errors) == (1000, 2, 1)


async def test_async_stream_and_invoke(model):
    cb = handler("1")
    await model.ainvoke("hello", config={"callbacks": [cb]})
    async for _ in model.astream("hello", config={"callbacks": [cb]}):
        pass
    assert cb.ledger.spent() == Decimal("0.006") and cb.open_runs == 0


async def test_64_concurrent_ainvoke_never_overspend(model):
    cb = handler(str(LIMIT))
    results = await asyncio.gather(
        *(model.ainvoke("hi", config={"callbacks": [cb]}) for _ in range(64)),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, BudgetExceededError)]
    assert len(refused) == 44 and len(model.sent) == 20
    assert cb.ledger.spent() == Decimal("0.06") <= LIMIT
    assert cb.open_runs == 0 and cb.ledger.open_reservations() == 0


def test_64_threads_invoke_never_overspend(model):
    cb = handler(str(LIMIT))
    outcomes = race_threads(lambda: model.invoke("hi", config={"callbacks": [cb]}))
    assert outcomes.count("ok") == 20 and outcomes.count("refused") == 44
    assert len(model.sent) == 20 and cb.ledger.spent() == Decimal("0.06")
    assert cb.open_runs == 0


def test_token_budget_context_manager_applies_without_passing_callbacks(model):
    model.model = "amazon.nova-micro-v1:0"
    with token_budget(max_calls=1) as budget:
        model.invoke("hello")
        with pytest.raises(BudgetExceededError, match="max_calls=1"):
            model.invoke("hello")
    assert budget.ledger.report().total.calls == 1
    model.invoke("hello")  # outside the block: no budget
    assert budget.ledger.report().total.calls == 1


def test_token_budget_with_shared_ledger_uses_a_scope(model):
    ledger = Ledger(prices=FLAT_PRICES)
    with token_budget(ledger, max_calls=1):
        model.invoke("hello")
        with pytest.raises(BudgetExceededError, match="token_budget"):
            model.invoke("hello")
    assert ledger.report("token_budget").total.calls == 1


def test_guardrail_trace_in_response_metadata_is_charged(model):
    from bedrock_kit.core.guardrails.assessments import parse_guardrail_trace

    trace = parse_guardrail_trace(
        {
            "inputAssessment": {"gr1": {"invocationMetrics": {"usage": {"contentPolicyUnits": 3}}}},
            "outputAssessments": {
                "gr1": [{"invocationMetrics": {"usage": {"topicPolicyUnits": 1}}}]
            },
        }
    )

    class Guarded(FakeBedrockChat):
        def _answer(self) -> AIMessage:
            message = super()._answer()
            message.response_metadata["guardrail"] = trace
            return message

    cb = handler("1")
    Guarded().invoke("hello", config={"callbacks": [cb]})
    rows = {r.model_id: r for r in cb.ledger.report().rows}
    assert rows["guardrail:gr1"].guardrail_text_units == 4
    # 0.003 tokens + 4 units * 0.15 / 1000
    assert cb.ledger.spent() == Decimal("0.0036")


def test_missing_usage_is_charged_the_reserved_counts_with_a_warning(model):
    cb = handler("1")
    model.usage = None
    with pytest.warns(UserWarning, match="charged the reserved input and max output"):
        model.invoke("hello", config={"callbacks": [cb]})
    assert cb.ledger.spent() == Decimal("0.003")


# -- langchain-aws's ChatBedrockConverse, replaying a real recording


def _replayable(tmp_path: Path, name: str) -> Path:
    """The recording with its ``parsed_body`` (pydantic-ai's format) turned back into a body.

    The copy lives in pytest's tmp_path only; the third-party recording stays in ../shared.
    """
    yaml = pytest.importorskip("yaml")
    source = CASSETTES / name
    if not source.exists():
        pytest.skip("conformance cassettes not available")
    data = yaml.safe_load(source.read_text())
    for interaction in data["interactions"]:
        response = interaction["response"]
        if "parsed_body" in response:
            response["body"] = {"string": json.dumps(response.pop("parsed_body"))}
    target = tmp_path / "cassette.yaml"
    target.write_text(yaml.safe_dump(data))
    return target


@pytest.mark.conformance
def test_chat_bedrock_converse_counted_from_recorded_cache_write_and_read(tmp_path):
    langchain_aws = pytest.importorskip("langchain_aws")
    vcr = pytest.importorskip("vcr")
    import boto3

    cassette = _replayable(tmp_path, "pydantic__pydantic-ai/test_bedrock_cache_write_and_read.yaml")
    client = boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    llm = langchain_aws.ChatBedrockConverse(model=SONNET_45, client=client, max_tokens=100)
    cb = TokenBudgetCallbackHandler(Ledger())
    recorder = vcr.VCR(record_mode="none", match_on=["method", "host", "path"])
    with recorder.use_cassette(str(cassette)) as tape:
        llm.invoke("What is 10 + 11?", config={"callbacks": [cb]})
        llm.invoke("What is 10 + 11?", config={"callbacks": [cb]})
        assert tape.all_played
    row = cb.ledger.report().rows[0]
    assert (row.calls, row.input_tokens, row.output_tokens) == (2, 4, 10)
    assert (row.cache_read_input_tokens, row.cache_write_input_tokens) == (1322, 1322)
    # 0.00554235 (write) + 0.00052536 (read), priced by hand in tests/core/budget/test_pricing.py
    assert cb.ledger.spent() == Decimal("0.00606771")


# -- ChatBedrockKit against LocalBedrock (real boto3 / aiobotocore over HTTP)

ANSWER = 40


def _kit(server: Any, max_tokens: int = ANSWER) -> Any:
    from bedrock_kit.langchain import ChatBedrockKit

    return ChatBedrockKit(
        model=NOVA,
        endpoint_url=server.endpoint_url,
        region_name="us-east-1",
        max_tokens=max_tokens,
        max_retries=0,
    )


def test_chat_bedrock_kit_refused_call_sends_no_http_request():
    from bedrock_kit.testing import LocalBedrock

    with LocalBedrock() as server:
        llm = _kit(server)
        cb = TokenBudgetCallbackHandler(Ledger(max_cost="0.000001"))
        with pytest.raises(BudgetExceededError):
            llm.invoke("What is the capital of France?", config={"callbacks": [cb]})
        assert chat_requests(server) == 0 and server.requests == []


def test_chat_bedrock_kit_invoke_and_stream_counted_from_bedrock_usage():
    from bedrock_kit.testing import LocalBedrock

    with LocalBedrock(answer_tokens=ANSWER, chunk_tokens=2) as server:
        llm = _kit(server)
        cb = TokenBudgetCallbackHandler(Ledger(), token_counter=llm)
        message = llm.invoke("What is the capital of France?", config={"callbacks": [cb]})
        chunks = list(llm.stream("And of Italy?", config={"callbacks": [cb]}))
        assert message.usage_metadata is not None and len(chunks) > ANSWER // 2
        total = cb.ledger.report().total
        assert (total.calls, total.output_tokens) == (2, 2 * ANSWER)
        assert total.input_tokens == message.usage_metadata["input_tokens"] + sum(
            (c.usage_metadata or {}).get("input_tokens", 0) for c in chunks
        )
        assert cb.ledger.report().rows[0].model_id == NOVA  # read from response_metadata
        assert cb.open_runs == 0 and cb.ledger.open_reservations() == 0


def test_chat_bedrock_kit_abandoned_stream_and_failed_call():
    from bedrock_kit.errors import ThrottlingError
    from bedrock_kit.testing import LocalBedrock, Reply

    with LocalBedrock(answer_tokens=ANSWER, chunk_tokens=1) as server:
        llm = _kit(server)
        cb = TokenBudgetCallbackHandler(Ledger())
        stream = llm.stream("Tell me a story", config={"callbacks": [cb]})
        next(stream)
        next(stream)
        stream.close()
        server.script("Converse", Reply.error(429, "ThrottlingException", "slow down"))
        with pytest.raises(ThrottlingError):
            llm.invoke("hi", config={"callbacks": [cb]})
        assert cb.open_runs == 0 and cb.ledger.open_reservations() == 0
        row = cb.ledger.report().rows[0]
        # abandoned: charged its input estimate and the chunks received; both count as errors
        assert (row.calls, row.errors) == (1, 2) and row.output_tokens >= 2


def _kit_limit(server: Any) -> tuple[Decimal, TokenBudgetCallbackHandler]:
    llm = _kit(server)
    probe = TokenBudgetCallbackHandler(Ledger(), token_counter=llm)
    llm.invoke("What is the capital of France?", config={"callbacks": [probe]})
    call_cost = probe.ledger.spent()
    limit = call_cost * 20 + call_cost / 2
    return call_cost, TokenBudgetCallbackHandler(Ledger(max_cost=limit), token_counter=llm)


def test_chat_bedrock_kit_64_threads_with_latency_never_overspend():
    from bedrock_kit.testing import LocalBedrock

    with LocalBedrock(latency=0.05, answer_tokens=ANSWER) as server:
        call_cost, cb = _kit_limit(server)
        llm = _kit(server)
        sent_before = chat_requests(server)
        outcomes = race_threads(
            lambda: llm.invoke("What is the capital of France?", config={"callbacks": [cb]})
        )
        assert outcomes.count("ok") == 20 and outcomes.count("refused") == 44
        assert chat_requests(server) - sent_before == 20
        assert cb.ledger.spent() == call_cost * 20
        assert cb.open_runs == 0


async def test_chat_bedrock_kit_64_async_tasks_with_latency_never_overspend():
    pytest.importorskip("aiobotocore")
    from bedrock_kit.testing import LocalBedrock

    with LocalBedrock(latency=0.05, answer_tokens=ANSWER) as server:
        call_cost, cb = _kit_limit(server)
        llm = _kit(server)
        sent_before = chat_requests(server)
        results = await asyncio.gather(
            *(
                llm.ainvoke("What is the capital of France?", config={"callbacks": [cb]})
                for _ in range(64)
            ),
            return_exceptions=True,
        )
        refused = [r for r in results if isinstance(r, BudgetExceededError)]
        assert len(refused) == 44
        assert chat_requests(server) - sent_before == 20
        assert cb.ledger.spent() == call_cost * 20
        assert cb.open_runs == 0 and cb.ledger.open_reservations() == 0
        await llm.aclose()


def test_chat_bedrock_converse_against_local_bedrock_invoke_and_stream():
    langchain_aws = pytest.importorskip("langchain_aws")
    import boto3

    from bedrock_kit.testing import LocalBedrock, Reply
    from bedrock_kit.testing.scripts import converse_reply

    with LocalBedrock(answer_tokens=ANSWER, chunk_tokens=2) as server:
        client = boto3.client(
            "bedrock-runtime", region_name="us-east-1", endpoint_url=server.endpoint_url
        )
        llm = langchain_aws.ChatBedrockConverse(model=NOVA, client=client, max_tokens=ANSWER)
        cb = TokenBudgetCallbackHandler(Ledger())
        usage = {"inputTokens": 7, "outputTokens": 9, "cacheReadInputTokens": 100,
                 "cacheWriteInputTokens": 0, "totalTokens": 116}  # fmt: skip
        server.script("Converse", Reply.json(converse_reply("Paris", usage=usage)))
        llm.invoke("What is the capital of France?", config={"callbacks": [cb]})
        chunks = list(llm.stream("And of Italy?", config={"callbacks": [cb]}))
        assert chunks and cb.open_runs == 0
        row = cb.ledger.report().rows[0]
        assert row.model_id == NOVA
        # invoke: 7 uncached + 100 cache read (langchain-aws reports 107 input tokens);
        # stream: the default echo answer of ANSWER tokens.
        assert row.cache_read_input_tokens == 100 and row.calls == 2
        assert row.output_tokens == 9 + ANSWER
        streamed_input = sum((c.usage_metadata or {}).get("input_tokens", 0) for c in chunks)
        assert row.input_tokens == 7 + streamed_input


def test_chat_bedrock_invoke_model_against_local_bedrock_counts_cache_tokens():
    langchain_aws = pytest.importorskip("langchain_aws")
    import boto3

    from bedrock_kit.testing import LocalBedrock, Reply

    haiku = "anthropic.claude-3-haiku-20240307-v1:0"
    body = json.dumps(
        {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "content": [{"type": "text", "text": "Paris"}],
            "stop_reason": "end_turn",
        }
    ).encode()
    # InvokeModel reports usage in headers, which ChatBedrock reads.
    counted = {
        "Content-Type": "application/json",
        "X-Amzn-Bedrock-Input-Token-Count": "11",
        "X-Amzn-Bedrock-Output-Token-Count": "3",
        "X-Amzn-Bedrock-Cache-Read-Input-Token-Count": "200",
        "X-Amzn-Bedrock-Cache-Write-Input-Token-Count": "0",
    }
    with LocalBedrock() as server:
        server.script("InvokeModel", Reply.raw(200, counted, body))
        server.script("InvokeModel", Reply.raw(200, {"Content-Type": "application/json"}, body))
        client = boto3.client(
            "bedrock-runtime", region_name="us-east-1", endpoint_url=server.endpoint_url
        )
        llm = langchain_aws.ChatBedrock(model=haiku, client=client, max_tokens=100)
        cb = TokenBudgetCallbackHandler(Ledger(), token_counter=fixed_count)
        llm.invoke("What is the capital of France?", config={"callbacks": [cb]})
        row = cb.ledger.report().rows[0]
        assert (row.input_tokens, row.cache_read_input_tokens, row.output_tokens) == (11, 200, 3)
        # Haiku 3: (11*0.00025 + 200*0.00003 + 3*0.00125) / 1000
        assert cb.ledger.spent() == Decimal("0.0000125")
        # Without the headers ChatBedrock reports all zeros: not taken as a free call.
        with pytest.warns(UserWarning, match="only zeros"):
            llm.invoke("What is the capital of France?", config={"callbacks": [cb]})
    # the full reservation: 1000 counted input at the dearest input rate + 100 max output
    reserved = Ledger().reserve(haiku, 1000, 100).cost
    assert cb.ledger.spent() == Decimal("0.0000125") + reserved
    assert cb.ledger.report().total.usage_missing == 1


def test_one_hour_cache_writes_survive_the_langchain_round_trip():
    from bedrock_kit.core.chat.types import Usage
    from bedrock_kit.langchain._convert import usage_metadata
    from bedrock_kit.langchain.budget import usage_from_metadata

    usage = Usage(10, 5, 0, 3000, 3015, cache_write_1h_input_tokens=2000)
    metadata = usage_metadata(usage)
    assert metadata["input_token_details"]["ephemeral_1h_input_tokens"] == 2000  # type: ignore[typeddict-item]
    assert usage_from_metadata(metadata) == usage
