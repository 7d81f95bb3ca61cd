"""The budget never overspends, from outside: both adapters, sync and async, real HTTP.

* 64 concurrent calls with CJK, emoji and code prompts against LocalBedrock, which bills
  each prompt's true token count (Claude's published tokenizer, plus template tokens): the
  ledger never spends past ``max_cost``; the old ``chars / 4`` estimate would have.
* Streams the server cuts after text arrived (HostileServer ``cut_after``) are charged the
  reserved input plus the output received, and flagged partial.
* Answers without usage are charged their full reservation and flagged.
* The same for the LangChain and LlamaIndex callbacks.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from llama_index.core.callbacks import CallbackManager
from llama_index.core.llms import ChatMessage

from bedrock_kit import Ledger, Usage
from bedrock_kit.core.chat.token_estimate import estimate_request_tokens, estimate_text_tokens
from bedrock_kit.errors import BedrockKitError, BudgetExceededError, MalformedResponseError
from bedrock_kit.langchain import ChatBedrockKit
from bedrock_kit.langchain.budget import TokenBudgetCallbackHandler
from bedrock_kit.llama_index import BedrockKitLLM
from bedrock_kit.llama_index.budget import TokenBudgetHandler
from bedrock_kit.testing import LocalBedrock, Reply
from bedrock_kit.testing.scripts import build_usage, converse_reply, converse_stream_events
from tests.support.hostile import DUMMY_KEYS, HostileServer, event, json_reply, stream_reply
from tests.support.token_samples import ANSWER, ANSWER_TOKENS, CLAUDE_TOKENS, SAMPLES

NOVA = "us.amazon.nova-micro-v1:0"
CLAUDE = "us.anthropic.claude-sonnet-4-20250514-v1:0"
MAX_TOKENS = 32  # >= ANSWER_TOKENS: Bedrock never bills more output than maxTokens
TEMPLATE_TOKENS = 10  # what Converse adds to a one-message prompt (Claude: "Hello" -> 8..10)
PROMPTS = ["zh", "ja", "ko", "th", "hi", "emoji", "emoji_only", "mixed", "code_py", "code_js"]
CALLS = 64
LC_MODES = ("invoke", "stream", "ainvoke", "astream")
LI_MODES = ("chat", "stream_chat", "achat", "astream_chat")


# -- calling either adapter in any mode


def make(framework: str, endpoint: str, model: str = NOVA, **options: Any) -> Any:
    common = {"endpoint_url": endpoint, "max_retries": 0, "max_tokens": MAX_TOKENS, **DUMMY_KEYS}
    common.update(options)
    if framework == "langchain":
        return ChatBedrockKit(model=model, **common)
    return BedrockKitLLM(model=model, **common)


def call(llm: Any, mode: str, prompt: str) -> str:
    """One call to completion in a sync mode."""
    if mode == "invoke":
        return str(llm.invoke(prompt).content)
    if mode == "stream":
        return "".join(str(c.content) for c in llm.stream(prompt))
    messages = [ChatMessage(role="user", content=prompt)]
    if mode == "chat":
        return str(llm.chat(messages).message.content)
    return "".join(r.delta or "" for r in llm.stream_chat(messages))


async def acall(llm: Any, mode: str, prompt: str) -> str:
    """One call to completion in an async mode."""
    if mode == "ainvoke":
        return str((await llm.ainvoke(prompt)).content)
    if mode == "astream":
        return "".join([str(c.content) async for c in llm.astream(prompt)])
    messages = [ChatMessage(role="user", content=prompt)]
    if mode == "achat":
        return str((await llm.achat(messages)).message.content)
    return "".join([r.delta or "" async for r in await llm.astream_chat(messages)])


def run(llm: Any, mode: str, prompt: str) -> str:
    if mode.startswith("a"):
        return asyncio.run(acall(llm, mode, prompt))
    return call(llm, mode, prompt)


def request_of(llm: Any, prompt: str, mode: str) -> dict[str, Any]:
    stream = "stream" in mode
    if isinstance(llm, ChatBedrockKit):
        return llm.build_request([HumanMessage(prompt)], stream=stream)
    return llm.build_request([ChatMessage(role="user", content=prompt)], stream=stream)


def framework_modes() -> list[tuple[str, str]]:
    return [("langchain", m) for m in LC_MODES] + [("llama_index", m) for m in LI_MODES]


# -- 64 concurrent calls, billed their true token counts

BY_TEXT = {SAMPLES[name]: name for name in PROMPTS}


def true_input(name: str) -> int:
    return CLAUDE_TOKENS[name] + TEMPLATE_TOKENS


def last_user_text(body: dict[str, Any]) -> str:
    return str(body["messages"][-1]["content"][0]["text"])


def billing(request: Any) -> Reply:
    """Bill the prompt's true token count, as Bedrock would."""
    usage = build_usage(true_input(BY_TEXT[last_user_text(request.body)]), ANSWER_TOKENS)
    if request.operation == "ConverseStream":
        return Reply.events(converse_stream_events(ANSWER, usage=usage, chunk_chars=6))
    return Reply.json(converse_reply(ANSWER, usage=usage))


def counting(request: Any) -> Reply:
    converse = request.body["input"]["converse"]
    return Reply.json({"inputTokens": true_input(BY_TEXT[last_user_text(converse)])})


@pytest.fixture(scope="module")
def billed() -> Iterator[LocalBedrock]:
    with LocalBedrock() as server:
        server.set_default("Converse", billing)
        server.set_default("ConverseStream", billing)
        server.set_default("CountTokens", counting)
        yield server


def prompts() -> list[str]:
    return [SAMPLES[PROMPTS[i % len(PROMPTS)]] for i in range(CALLS)]


def limit_for(model: str, calls: int) -> Decimal:
    """A max_cost that ``calls`` average calls would spend: the limit binds."""
    price = Ledger().prices.price(model)
    mean = sum(price.cost(Usage(true_input(n), ANSWER_TOKENS)) for n in PROMPTS) / len(PROMPTS)
    return (mean * calls).quantize(Decimal("0.000000001"))


def test_the_old_estimate_was_below_what_these_prompts_bill():
    # the bug this suite guards against: chars / 4 (+4 per message) under-reserves them all
    for name in PROMPTS[:8]:
        assert math.ceil(len(SAMPLES[name]) / 4) + 4 < true_input(name), name


def check_never_overspent(ledger: Ledger, outcomes: list[Any], limit: Decimal) -> None:
    unexpected = [o for o in outcomes if isinstance(o, BaseException)]
    refused = [o for o in unexpected if isinstance(o, BudgetExceededError)]
    assert len(refused) == len(unexpected), unexpected[:3]
    assert 0 < len(refused) < CALLS  # the limit bound: some calls fitted, some did not
    assert all(o == ANSWER for o in outcomes if isinstance(o, str))
    total = ledger.report().total
    assert ledger.spent() <= limit, (ledger.spent(), limit)
    assert total.calls == CALLS - len(refused) and total.overruns == 0
    assert ledger.open_reservations() == 0 and ledger.reserved() == 0
    # the usage charged is the server's true count, not the estimate
    assert total.input_tokens == sum(
        true_input(BY_TEXT[p])
        for p, o in zip(prompts(), outcomes, strict=True)
        if isinstance(o, str)
    )


@pytest.mark.parametrize("framework", ["langchain", "llama_index"])
def test_64_threads_with_cjk_emoji_and_code_never_exceed_max_cost(billed, framework):
    limit = limit_for(NOVA, 24)
    ledger = Ledger(max_cost=limit)
    llm = make(framework, billed.endpoint_url, ledger=ledger)
    modes = ("invoke", "stream") if framework == "langchain" else ("chat", "stream_chat")

    def one(i: int, prompt: str) -> Any:
        try:
            return call(llm, modes[i % 2], prompt)
        except Exception as exc:  # collected and checked: only refusals are allowed
            return exc

    with ThreadPoolExecutor(CALLS) as pool:
        outcomes = list(pool.map(one, range(CALLS), prompts()))
    check_never_overspent(ledger, outcomes, limit)
    assert ledger.report().total.estimated == CALLS - sum(
        isinstance(o, BudgetExceededError) for o in outcomes
    )  # Nova has no CountTokens: every reservation was the estimate, and it held


@pytest.mark.parametrize("framework", ["langchain", "llama_index"])
async def test_64_tasks_with_cjk_emoji_and_code_never_exceed_max_cost(billed, framework):
    limit = limit_for(NOVA, 24)
    ledger = Ledger(max_cost=limit)
    llm = make(framework, billed.endpoint_url, ledger=ledger)
    modes = ("ainvoke", "astream") if framework == "langchain" else ("achat", "astream_chat")
    outcomes = await asyncio.gather(
        *(acall(llm, modes[i % 2], p) for i, p in enumerate(prompts())), return_exceptions=True
    )
    check_never_overspent(ledger, list(outcomes), limit)


@pytest.mark.parametrize("framework", ["langchain", "llama_index"])
async def test_64_tasks_reserved_with_count_tokens_are_exact(billed, framework):
    limit = limit_for(CLAUDE, 24)
    ledger = Ledger(max_cost=limit)
    llm = make(framework, billed.endpoint_url, CLAUDE, ledger=ledger)
    modes = ("ainvoke", "astream") if framework == "langchain" else ("achat", "astream_chat")
    outcomes = await asyncio.gather(
        *(acall(llm, modes[i % 2], p) for i, p in enumerate(prompts())), return_exceptions=True
    )
    check_never_overspent(ledger, list(outcomes), limit)
    assert ledger.report().total.estimated == 0  # every input side came from CountTokens
    # ten distinct prompts, counted once each per request shape (stream or not) at most
    assert ledger.counter.calls <= 2 * len(PROMPTS) < CALLS


# -- streams cut after output started

PIECE = "人工智能正在改变我们的生活 🚀 "
PIECES = 6


def text_frames(*, metadata: dict[str, Any] | None) -> list[bytes]:
    frames = [event("messageStart", {"role": "assistant"})]
    frames += [
        event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": PIECE}})
        for _ in range(PIECES)
    ]
    frames += [
        event("contentBlockStop", {"contentBlockIndex": 0}),
        event("messageStop", {"stopReason": "end_turn"}),
    ]
    if metadata is not None:
        frames.append(event("metadata", metadata))
    return frames


def cut_stream() -> Any:
    frames = text_frames(metadata={"usage": build_usage(50, 60), "metrics": {"latencyMs": 1}})
    # the socket closes half way through the fourth text frame: three pieces arrived
    cut = sum(len(f) for f in frames[:4]) + len(frames[4]) // 2
    return stream_reply(frames, cut_after=cut)


def expected_partial(ledger: Ledger, request: dict[str, Any]) -> tuple[int, int, Decimal]:
    input_tokens = estimate_request_tokens(request)
    output = estimate_text_tokens(PIECE * 3)
    return input_tokens, output, ledger.prices.price(NOVA).cost(Usage(input_tokens, output))


@pytest.mark.parametrize(
    ("framework", "mode"), [fm for fm in framework_modes() if "stream" in fm[1]]
)
def test_a_stream_cut_after_output_is_charged_partial(hostile: HostileServer, framework, mode):
    hostile.push(cut_stream())
    ledger = Ledger()
    llm = make(framework, hostile.url, ledger=ledger, max_tokens=1000)  # no cap in the way
    with pytest.raises(BedrockKitError):
        run(llm, mode, "你好")
    total = ledger.report().total
    input_tokens, output, cost = expected_partial(ledger, request_of(llm, "你好", mode))
    assert (total.input_tokens, total.output_tokens) == (input_tokens, output)
    assert (total.partial, total.errors, total.calls, total.usage_missing) == (1, 1, 1, 0)
    assert ledger.spent() == cost > 0
    assert ledger.open_reservations() == 0


# -- answers without usage


def no_usage_reply(streaming: bool) -> Any:
    if streaming:
        return stream_reply(text_frames(metadata={"metrics": {"latencyMs": 1}}))
    body = converse_reply(ANSWER)
    del body["usage"]
    return json_reply(body)


@pytest.mark.parametrize(("framework", "mode"), framework_modes())
def test_an_answer_without_usage_is_charged_its_full_reservation(
    hostile: HostileServer, framework, mode
):
    hostile.push(no_usage_reply("stream" in mode))
    ledger = Ledger()
    llm = make(framework, hostile.url, ledger=ledger)
    with contextlib.suppress(MalformedResponseError):  # a parser may call it malformed
        run(llm, mode, "你好")
    request = request_of(llm, "你好", mode)
    reserved = Ledger().reserve(NOVA, estimate_request_tokens(request), MAX_TOKENS).cost
    total = ledger.report().total
    assert ledger.spent() == reserved > 0
    assert (total.usage_missing, total.partial, total.output_tokens) == (1, 0, MAX_TOKENS)
    assert ledger.open_reservations() == 0


# -- the callbacks (a model without its own ledger, budget enforced by the framework)


def with_callback(framework: str, endpoint: str, **options: Any) -> tuple[Any, Any]:
    if framework == "langchain":
        handler: Any = TokenBudgetCallbackHandler(Ledger())
        return make(framework, endpoint, callbacks=[handler], **options), handler
    handler = TokenBudgetHandler(Ledger())
    llm = make(framework, endpoint, callback_manager=CallbackManager([handler]), **options)
    return llm, handler


@pytest.mark.parametrize(
    ("framework", "mode"), [fm for fm in framework_modes() if "stream" in fm[1]]
)
def test_callbacks_charge_a_cut_stream_partial(hostile: HostileServer, framework, mode):
    hostile.push(cut_stream())
    llm, handler = with_callback(framework, hostile.url, max_tokens=1000)
    with pytest.raises(BedrockKitError):
        run(llm, mode, "你好")
    total = handler.ledger.report().total
    assert (total.partial, total.errors, total.usage_missing) == (1, 1, 0)
    # at least what arrived (three pieces); the callback sees text, not wire frames
    assert total.output_tokens >= estimate_text_tokens(PIECE * 3)
    assert handler.ledger.spent() > 0 and handler.open_runs == 0
    assert handler.ledger.open_reservations() == 0


@pytest.mark.parametrize(("framework", "mode"), framework_modes())
def test_callbacks_charge_an_answer_without_usage_its_full_reservation(
    hostile: HostileServer, framework, mode
):
    hostile.push(no_usage_reply("stream" in mode))
    llm, handler = with_callback(framework, hostile.url)
    with contextlib.suppress(MalformedResponseError), pytest.warns(UserWarning, match="usage"):
        run(llm, mode, "你好")
    total = handler.ledger.report().total
    assert (total.usage_missing, total.output_tokens, total.calls) == (1, MAX_TOKENS, 1)
    assert handler.ledger.spent() > 0 and handler.ledger.open_reservations() == 0
