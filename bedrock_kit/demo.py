"""``bedrock-kit demo``: the end-to-end pipeline a newcomer runs first.

Offline by default: LocalBedrock runs in-process with scripted answers shaped like real
Bedrock responses, and the real adapters talk to it over real HTTP. ``--live`` sends the
same pipeline to real Bedrock with the caller's credentials.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

DEFAULT_MODEL = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
QUESTION = "What is the weather in Oslo, and should I pack an umbrella?"
ANSWER = (
    "Oslo is 12 degrees and rainy right now, so yes: pack an umbrella and a light jacket. "
    "Showers should ease by the evening."
)


class _Printer:
    """Stage headings and results, with elapsed time per stage."""

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
        self.out.write(f"    done in {time.perf_counter() - start:.2f}s\n")

    def line(self, text: str) -> None:
        self.out.write(f"    {text}\n")
        self.out.flush()


def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"12 degrees and rain in {city}"


def _script(server: Any) -> None:
    from bedrock_kit.testing import Reply
    from bedrock_kit.testing.scripts import build_usage, converse_reply, converse_stream_events

    server.script(
        "Converse",
        Reply.json(
            converse_reply(
                "Let me check the weather.",
                tool_uses=[{"name": "get_weather", "input": {"city": "Oslo"}, "toolUseId": "t1"}],
                usage=build_usage(310, 42, cache_read=1200),
            )
        ),
    )
    server.script(
        "ConverseStream",
        Reply.events(converse_stream_events(ANSWER, usage=build_usage(380, 40), chunk_chars=12)),
    )


def _run_langchain(printer: _Printer, llm_kwargs: dict[str, Any]) -> None:
    from langchain_core.messages import HumanMessage, ToolMessage

    from bedrock_kit.langchain import ChatBedrockKit

    llm = ChatBedrockKit(**llm_kwargs)
    with printer.stage("Chat model decides to call a tool (Converse)"):
        ai = llm.bind_tools([get_weather]).invoke(QUESTION)
        for call in ai.tool_calls:
            printer.line(f"tool call: {call['name']}({call['args']})")
        printer.line(f"usage: {ai.usage_metadata}")
    with printer.stage("Tool runs locally; the answer streams back (ConverseStream)"):
        results = [
            ToolMessage(get_weather(**c["args"]), tool_call_id=c["id"]) for c in ai.tool_calls
        ]
        out = printer.out
        out.write("    ")
        last = None
        for chunk in llm.bind_tools([get_weather]).stream([HumanMessage(QUESTION), ai, *results]):
            out.write(str(chunk.content))
            out.flush()
            last = chunk
        out.write("\n")
        if last is not None:  # the last chunk carries stop reason and billed usage
            printer.line(f"stop reason: {last.response_metadata.get('stop_reason')}")
            printer.line(f"usage: {last.usage_metadata}")


def run(
    *,
    live: bool = False,
    model: str | None = None,
    out: TextIO = sys.stdout,
    framework: str = "langchain",
) -> int:
    """Run the demo pipeline; returns a process exit code."""
    printer = _Printer(out)
    runners: dict[str, Callable[[_Printer, dict[str, Any]], None]] = {"langchain": _run_langchain}
    if framework not in runners:
        out.write(f"unknown framework {framework!r}; choose one of {sorted(runners)}\n")
        return 2
    started = time.perf_counter()
    if live:
        if not (os.environ.get("AWS_ACCESS_KEY_ID") or os.environ.get("AWS_PROFILE")):
            out.write("--live needs AWS credentials (AWS_PROFILE or AWS_ACCESS_KEY_ID).\n")
            return 2
        runners[framework](printer, {"model": model or DEFAULT_MODEL})
    else:
        from bedrock_kit.testing import LocalBedrock

        with LocalBedrock() as server:
            out.write(f"LocalBedrock listening on {server.endpoint_url} (offline demo)\n")
            _script(server)
            runners[framework](
                printer,
                {
                    "model": model or DEFAULT_MODEL,
                    "endpoint_url": server.endpoint_url,
                    "region_name": "us-east-1",
                    "aws_access_key_id": "demo",
                    "aws_secret_access_key": "demo",
                },
            )
    out.write(f"\nPipeline finished in {time.perf_counter() - started:.2f}s\n")
    return 0
