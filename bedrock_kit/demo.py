"""``bedrock-kit demo``: the end-to-end pipeline a newcomer runs first.

Input guardrail masks PII in the question -> the Knowledge Base retriever finds passages ->
the chat model calls a tool -> the answer streams through the output stream guard -> a
usage report closes the run. Offline by default: LocalBedrock runs in-process with scripted
answers shaped like real Bedrock responses, and the real adapters talk to it over real HTTP.
``--live`` sends the same pipeline to real Bedrock with the caller's credentials and ids.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TextIO

DEFAULT_MODEL = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
BUDGET_USD = "0.05"
QUESTION = (
    "I'm jane.doe@example.com. What's the weather in Oslo, and does our travel policy say to "
    "pack an umbrella?"
)
MASKED = (
    "I'm {EMAIL}. What's the weather in Oslo, and does our travel policy say to pack an umbrella?"
)
ANSWER = (
    "Oslo is 12 degrees with rain right now. The travel policy asks travellers to pack rain "
    "gear for Nordic trips between October and April, so yes: bring an umbrella."
)
PASSAGES = [
    (
        "Travellers to Nordic offices between October and April should pack rain gear.",
        "s3://handbook/travel/nordics.md",
        0.81,
    ),
    (
        "Weather updates for each office are posted on the travel portal.",
        "s3://handbook/travel/portal.md",
        0.62,
    ),
]


@dataclass
class Settings:
    """What the pipeline talks to: LocalBedrock offline, real Bedrock with ``--live``."""

    model: str
    knowledge_base_id: str
    guardrail_id: str
    guardrail_version: str
    client_args: dict[str, Any] = field(default_factory=dict)


class _Printer:
    """Stage headings, results, and time per stage."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.stages = 0

    @contextmanager
    def stage(self, title: str) -> Iterator[None]:
        self.stages += 1
        self.out.write(f"\n[{self.stages}] {title}\n")
        self.out.flush()
        start = time.perf_counter()
        yield
        self.out.write(f"    ✓ {time.perf_counter() - start:.2f}s\n")

    def line(self, text: str) -> None:
        self.out.write(f"    {text}\n")
        self.out.flush()

    def stream(self, pieces: Iterator[str]) -> str:
        """Print pieces as they arrive, each window marked, and return the whole text."""
        seen = []
        self.out.write("    ")
        for piece in pieces:
            seen.append(piece)
            self.out.write(piece)
            self.out.flush()
        self.out.write("\n")
        return "".join(seen)


def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"12 degrees and rain in {city}"


def _usage_line(total_input: int, cache_read: int, cache_write: int, output: int) -> str:
    """One call's usage, split the way Bedrock bills it."""
    uncached = total_input - cache_read - cache_write
    return (
        f"usage: {total_input} input tokens = {uncached} billed at the input rate + "
        f"{cache_read} read from the prompt cache (at the lower cache-read rate) + {cache_write} "
        f"written to it; {output} output tokens"
    )


_BUDGET_NOTE = (
    "input = uncached input tokens, billed at the full input rate; cache read / cache write =",
    "prompt-cache tokens, billed at their own rates (a framework's input count adds all three).",
)


# ----------------------------------------------------------------------------- offline script


def _script(server: Any) -> None:
    """Queue, in order, what Bedrock would answer at each stage."""
    from bedrock_kit.testing import Reply
    from bedrock_kit.testing.scripts import build_usage, converse_reply, converse_stream_events

    pii = {
        "piiEntities": [
            {
                "type": "EMAIL",
                "match": "jane.doe@example.com",
                "action": "ANONYMIZED",
                "detected": True,
            }
        ]
    }
    server.script(
        "ApplyGuardrail",
        Reply.json(
            {
                "action": "GUARDRAIL_INTERVENED",
                "actionReason": "Guardrail masked.",
                "outputs": [{"text": MASKED}],
                "assessments": [{"sensitiveInformationPolicy": pii}],
                "usage": {"sensitiveInformationPolicyFreeUnits": 1, "contentPolicyUnits": 1},
            }
        ),
    )
    server.set_default(
        "ApplyGuardrail",
        Reply.json(
            {
                "action": "NONE",
                "outputs": [],
                "assessments": [],
                "usage": {"contentPolicyUnits": 1},
            }
        ),
    )
    server.script(
        "Retrieve",
        Reply.json(
            {
                "retrievalResults": [
                    {
                        "content": {"text": text, "type": "TEXT"},
                        "score": score,
                        "location": {"type": "S3", "s3Location": {"uri": uri}},
                        "metadata": {"x-amz-bedrock-kb-source-uri": uri},
                    }
                    for text, uri, score in PASSAGES
                ]
            }
        ),
    )
    server.script(
        "Converse",
        Reply.json(
            converse_reply(
                "Let me check the weather in Oslo.",
                tool_uses=[
                    {"name": "get_weather", "input": {"city": "Oslo"}, "toolUseId": "tooluse_1"}
                ],
                usage=build_usage(412, 38, cache_read=1200),
            )
        ),
    )
    server.script(
        "ConverseStream",
        Reply.events(
            converse_stream_events(
                ANSWER, usage=build_usage(486, 52, cache_read=1200), chunk_chars=9
            ),
            delay_between=0.01,
        ),
    )


def _context(passages: list[tuple[str, str, float]]) -> str:
    return "\n".join(f"[{uri}] {text}" for text, uri, _ in passages)


# ----------------------------------------------------------------------------- LangChain


def _run_langchain(printer: _Printer, settings: Settings, ledger: Any) -> list[Any]:
    from langchain_core.messages import HumanMessage, SystemMessage, ToolMessage

    from bedrock_kit.langchain import (
        BedrockGuardrail,
        BedrockKnowledgeBaseRetriever,
        ChatBedrockKit,
        TokenBudgetCallbackHandler,
    )

    args = settings.client_args
    guard = BedrockGuardrail(
        guardrail_identifier=settings.guardrail_id,
        guardrail_version=settings.guardrail_version,
        ledger=ledger,  # text units reserved before each check, settled from its usage
        **args,
    )
    with printer.stage(
        "Input guardrail (ApplyGuardrail, INPUT): PII is masked before anything else"
    ):
        question = guard.invoke(QUESTION)
        printer.line(f"question: {question}")
    with printer.stage("Knowledge Base retriever (Retrieve): passages with scores and sources"):
        retriever = BedrockKnowledgeBaseRetriever(
            knowledge_base_id=settings.knowledge_base_id, number_of_results=4, **args
        )
        docs = retriever.invoke(question)
        for doc in docs:
            printer.line(
                f"{doc.metadata['score']:.2f} {doc.metadata['source_uri']}: {doc.page_content}"
            )
    budget = TokenBudgetCallbackHandler(ledger)  # reserves before each call, settles after
    llm = ChatBedrockKit(
        model=settings.model, max_tokens=400, callbacks=[budget], **args
    ).bind_tools([get_weather])
    context = _context([(d.page_content, d.metadata["source_uri"], 0.0) for d in docs])
    messages: list[Any] = [
        SystemMessage(f"Answer from the context and tools.\n{context}"),
        HumanMessage(question),
    ]
    with printer.stage("Chat model (Converse) decides to call a tool; the tool runs locally"):
        ai = llm.invoke(messages)
        for call in ai.tool_calls:
            printer.line(
                f"tool call: {call['name']}({call['args']}) -> {get_weather(**call['args'])}"
            )
        usage = ai.usage_metadata or {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}
        details = usage.get("input_token_details") or {}
        printer.line(
            _usage_line(
                usage["input_tokens"],
                details.get("cache_read", 0),
                details.get("cache_creation", 0),
                usage["output_tokens"],
            )
        )
    messages += [
        ai,
        *(ToolMessage(get_weather(**c["args"]), tool_call_id=c["id"]) for c in ai.tool_calls),
    ]
    stream_guard = guard.with_source("OUTPUT").stream_guard(first_window_size=120)
    with printer.stage("Answer streams (ConverseStream) through the output stream guard"):
        chunks: list[Any] = []

        def pieces() -> Iterator[str]:
            for chunk in stream_guard.guard_stream(llm.stream(messages)):
                chunks.append(chunk)
                yield chunk.text  # content may be indexed blocks (tools bound)

        printer.stream(pieces())
        stats = stream_guard.stats
        printer.line(
            f"guard: {stats.calls} ApplyGuardrail calls, {stats.text_units} text units; "
            "no text released before its window passed"
        )
    return [ai, *chunks]


# ----------------------------------------------------------------------------- LlamaIndex


def _run_llama_index(printer: _Printer, settings: Settings, ledger: Any) -> list[Any]:
    from llama_index.core.callbacks import CallbackManager
    from llama_index.core.llms import ChatMessage
    from llama_index.core.tools import FunctionTool

    from bedrock_kit.llama_index import (
        BedrockGuardrail,
        BedrockKitLLM,
        BedrockKnowledgeBaseRetriever,
        TokenBudgetHandler,
    )

    args = settings.client_args
    guard = BedrockGuardrail(
        guardrail_id=settings.guardrail_id,
        guardrail_version=settings.guardrail_version,
        first_window_size=120,
        ledger=ledger,  # text units reserved before each check, settled from its usage
        **args,
    )
    with printer.stage(
        "Input guardrail (ApplyGuardrail, INPUT): PII is masked before anything else"
    ):
        question = guard.check(QUESTION, "INPUT")
        printer.line(f"question: {question}")
    with printer.stage("Knowledge Base retriever (Retrieve): passages with scores and sources"):
        retriever = BedrockKnowledgeBaseRetriever(
            knowledge_base_id=settings.knowledge_base_id, **args
        )
        nodes = retriever.retrieve(question)
        for node in nodes:
            printer.line(
                f"{node.score:.2f} {node.node.metadata.get('source_uri')}: "
                f"{node.node.get_content()}"
            )
    budget = CallbackManager([TokenBudgetHandler(ledger)])  # reserves before, settles after
    llm = BedrockKitLLM(model=settings.model, max_tokens=400, callback_manager=budget, **args)
    tool = FunctionTool.from_defaults(fn=get_weather)
    context = _context(
        [(n.node.get_content(), str(n.node.metadata.get("source_uri")), 0.0) for n in nodes]
    )
    messages = [
        ChatMessage(role="system", content=f"Answer from the context and tools.\n{context}"),
        ChatMessage(role="user", content=question),
    ]
    with printer.stage("Chat model (Converse) decides to call a tool; the tool runs locally"):
        response = llm.chat_with_tools([tool], chat_history=messages)
        calls = llm.get_tool_calls_from_response(response, error_on_no_tool_call=True)
        for call in calls:
            printer.line(
                f"tool call: {call.tool_name}({call.tool_kwargs}) -> "
                f"{get_weather(**call.tool_kwargs)}"
            )
        raw = (response.raw or {}).get("usage") or {}
        printer.line(
            _usage_line(
                raw.get("prompt_tokens", 0),
                raw.get("cache_read_input_tokens", 0),
                raw.get("cache_write_input_tokens", 0),
                raw.get("completion_tokens", 0),
            )
        )
    messages.append(response.message)
    messages += [
        ChatMessage(
            role="tool",
            content=get_weather(**c.tool_kwargs),
            additional_kwargs={"tool_call_id": c.tool_id},
        )
        for c in calls
    ]
    with printer.stage("Answer streams (ConverseStream) through the output stream guard"):
        finals: list[Any] = []

        def pieces() -> Iterator[str]:
            for piece in guard.guard_llm_stream(
                llm.stream_chat_with_tools([tool], chat_history=messages)
            ):
                finals.append(piece)
                yield piece.delta or ""

        printer.stream(pieces())
        stats = guard.stream_stats
        printer.line(
            f"guard: {stats.calls} ApplyGuardrail calls, {stats.text_units} text units; "
            "no text released before its window passed"
        )
    return [response, *finals]


_RUNNERS: dict[str, Callable[[_Printer, Settings, Any], list[Any]]] = {
    "langchain": _run_langchain,
    "llama-index": _run_llama_index,
}


def _run_with_budget(printer: _Printer, framework: str, settings: Settings) -> None:
    from bedrock_kit.core.budget.ledger import Ledger
    from bedrock_kit.core.budget.money import format_usd

    ledger = Ledger(max_cost=BUDGET_USD)
    _RUNNERS[framework](printer, settings, ledger)
    limit = format_usd(BUDGET_USD)
    with printer.stage(f"Token budget (limit {limit}, enforced before each call)"):
        for line in ledger.report().to_text().splitlines():
            printer.line(line)
        for line in _BUDGET_NOTE:
            printer.line(line)
        printer.line(f"left: {format_usd(ledger.remaining().get('max_cost'))} of {limit}")


def _live_settings(model: str | None, out: TextIO) -> Settings | None:
    missing = [
        name
        for name in ("BEDROCK_KIT_KB_ID", "BEDROCK_KIT_GUARDRAIL_ID")
        if not os.environ.get(name)
    ]
    if not (os.environ.get("AWS_ACCESS_KEY_ID") or os.environ.get("AWS_PROFILE")):
        missing.insert(0, "AWS credentials (AWS_PROFILE or AWS_ACCESS_KEY_ID)")
    if missing:
        out.write(f"--live needs: {', '.join(missing)}\n")
        return None
    return Settings(
        model or DEFAULT_MODEL,
        os.environ["BEDROCK_KIT_KB_ID"],
        os.environ["BEDROCK_KIT_GUARDRAIL_ID"],
        os.environ.get("BEDROCK_KIT_GUARDRAIL_VERSION", "DRAFT"),
    )


def run(
    *,
    live: bool = False,
    model: str | None = None,
    out: TextIO = sys.stdout,
    framework: str = "langchain",
) -> int:
    """Run the demo pipeline; returns a process exit code."""
    if framework not in _RUNNERS:
        out.write(f"unknown framework {framework!r}; choose one of {sorted(_RUNNERS)}\n")
        return 2
    printer = _Printer(out)
    started = time.perf_counter()
    out.write(f"bedrock-kit demo ({framework}, {'live Bedrock' if live else 'offline'})\n")
    if live:
        settings = _live_settings(model, out)
        if settings is None:
            return 2
        _run_with_budget(printer, framework, settings)
    else:
        from bedrock_kit.testing import LocalBedrock

        with LocalBedrock() as server:
            out.write(
                f"LocalBedrock on {server.endpoint_url} plays Bedrock's part over real HTTP\n"
            )
            _script(server)
            settings = Settings(
                model or DEFAULT_MODEL, "KBDEMO0001", "gr-demo", "1", server.client_kwargs()
            )
            _run_with_budget(printer, framework, settings)
    out.write(f"\nPipeline finished in {time.perf_counter() - started:.2f}s\n")
    return 0
