"""Bedrock Agents scenarios: the tools both adapters expose, return of control, agent streams."""

# No ``from __future__ import annotations``: LlamaIndex builds a tool's schema from the
# function's annotations as objects, and cannot resolve the string "Address".
import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel

from bedrock_kit.testing import LocalBedrock, Reply

AGENT_ID = "TFMZVIWXR7"
AGENT_ALIAS_ID = "ZT7YYHO8TO"
INLINE_MODEL = "anthropic.claude-3-5-sonnet-20240620-v1:0"
INLINE_INSTRUCTION = "You answer weather questions with the get_weather tool, briefly."


# -- plain functions; each adapter test wraps them in its framework's tool type


def get_weather(city: str, days: int = 0, metric: bool = False) -> str:
    """Weather forecast for a city."""
    return f"sunny in {city} for {days} days"


class Address(BaseModel):
    street: str
    city: str = "Seattle"


def ship(item: str, to: Address, quantity: int = 0) -> str:
    """Ship an item."""
    return f"{quantity} x {item} to {to.city}"


def broken(reason: str) -> str:
    """Always fails."""
    raise RuntimeError(f"broken: {reason}")


def barrier_weather() -> Callable[[str], str]:
    """A tool ``slow_weather(city)`` that answers only when two calls run at once.

    Two parallel return-of-control calls pass; run one after the other, the first call
    times out after five seconds.
    """
    barrier = threading.Barrier(2, timeout=5)

    def slow_weather(city: str) -> str:
        """Weather that takes a while."""
        barrier.wait()  # both calls must be in flight together
        return f"warm in {city}"

    return slow_weather


def overlapping_lookup() -> Callable[[str], Awaitable[str]]:
    """An async tool ``lookup(city)`` that answers only when two calls overlap."""
    started: list[str] = []
    both = asyncio.Event()

    async def lookup(city: str) -> str:
        """Look up."""
        started.append(city)
        if len(started) == 2:
            both.set()
        await asyncio.wait_for(both.wait(), 5)  # both calls overlap or this times out
        return f"mild in {city}"

    return lookup


# -- what the agent sends


def function_call(function: str, **values: str) -> dict[str, Any]:
    """One ``functionInvocationInput`` of the ``local_tools`` action group, string parameters."""
    return {
        "functionInvocationInput": {
            "actionGroup": "local_tools",
            "function": function,
            "parameters": [{"name": k, "type": "string", "value": v} for k, v in values.items()],
        }
    }


def return_control(*calls: dict[str, Any]) -> dict[str, Any]:
    """A ``returnControl`` event asking the caller to run ``calls`` (in parallel)."""
    return {"returnControl": {"invocationId": "inv-7", "invocationInputs": list(calls)}}


def control_reply(*calls: dict[str, Any], traces: tuple[dict[str, Any], ...] = ()) -> Reply:
    """An InvokeAgent stream of ``traces``, then a ``returnControl`` asking for ``calls``."""
    return Reply.events([*traces, return_control(*calls)])


def text_chunk(text: bytes) -> dict[str, Any]:
    """A ``chunk`` event of answer text."""
    return {"chunk": {"bytes": text}}


def answer(*texts: bytes) -> Reply:
    """An InvokeAgent stream of answer chunks and nothing else."""
    return Reply.events([text_chunk(t) for t in texts])


RATIONALE = {"trace": {"trace": {"orchestrationTrace": {"rationale": {"text": "Need weather."}}}}}
"""A trace event: the agent's rationale step."""


def action_group_trace(function: str) -> dict[str, Any]:
    """A trace event: the agent invokes ``function`` of ``local_tools`` by return of control."""
    invocation = {
        "actionGroupName": "local_tools",
        "function": function,
        "executionType": "RETURN_CONTROL",
    }
    return {
        "trace": {
            "trace": {
                "orchestrationTrace": {
                    "invocationInput": {"actionGroupInvocationInput": invocation}
                }
            }
        }
    }


CITED_CHUNK = {
    "chunk": {
        "bytes": b"Tides rise twice a day.",
        "attribution": {
            "citations": [
                {
                    "generatedResponsePart": {
                        "textResponsePart": {"text": "Tides rise", "span": {"start": 0, "end": 9}}
                    },
                    "retrievedReferences": [
                        {
                            "content": {"text": "The tide rises twice daily."},
                            "location": {"type": "S3", "s3Location": {"uri": "s3://kb/tides.pdf"}},
                        }
                    ],
                }
            ]
        },
    }
}
"""An answer chunk citing one knowledge base passage."""


# -- what the caller sent back


def sent_results(server: LocalBedrock, operation: str = "InvokeAgent") -> list[dict[str, Any]]:
    """``returnControlInvocationResults`` of the second request (the one after returnControl)."""
    body = server.requests_for(operation)[1].body
    key = "inlineSessionState" if operation == "InvokeInlineAgent" else "sessionState"
    results: list[dict[str, Any]] = body[key]["returnControlInvocationResults"]
    return results


def sent_bodies(server: LocalBedrock, operation: str = "InvokeAgent") -> list[str]:
    """The text of each function result sent back, in order."""
    return [
        r["functionResult"]["responseBody"]["TEXT"]["body"] for r in sent_results(server, operation)
    ]
