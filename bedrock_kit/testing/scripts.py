"""Small pure builders of Bedrock response shapes for scripting LocalBedrock.

The shapes follow real recordings: ConverseStream text blocks have no ``contentBlockStart``,
tool-use blocks do, and ``metadata`` comes last with usage, metrics and any trace.
"""

from __future__ import annotations

import json
import math
import secrets
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

DEFAULT_INPUT_TOKENS = 10
"""Input tokens reported by the builders when the caller gives none."""


def estimate_tokens(text: str) -> int:
    """About one token per four characters, as a stand-in tokenizer (0 for empty text)."""
    return math.ceil(len(text) / 4)


def build_usage(
    input_tokens: int,
    output_tokens: int,
    *,
    cache_read: int | None = None,
    cache_write: int | None = None,
) -> dict[str, int]:
    """A Converse ``usage`` dict; ``totalTokens`` counts cache tokens too, as Bedrock does."""
    out = {"inputTokens": input_tokens, "outputTokens": output_tokens}
    total = input_tokens + output_tokens
    if cache_read is not None:
        out["cacheReadInputTokens"] = cache_read
        total += cache_read
    if cache_write is not None:
        out["cacheWriteInputTokens"] = cache_write
        total += cache_write
    out["totalTokens"] = total
    return out


def new_tool_use_id() -> str:
    """A fresh id shaped like Bedrock's (``tooluse_`` and 22 URL-safe characters)."""
    return f"tooluse_{secrets.token_urlsafe(16)}"


def tool_use(name: str, input: Mapping[str, Any], tool_use_id: str | None = None) -> dict[str, Any]:
    """A ``toolUse`` member: ``{"toolUseId", "name", "input"}``.

    Without ``tool_use_id`` every call gets a new id, so parallel calls of one tool (and the
    same tool called on two turns) never share one.
    """
    return {"toolUseId": tool_use_id or new_tool_use_id(), "name": name, "input": dict(input)}


def server_tool(
    name: str,
    input: Mapping[str, Any],
    result: Sequence[Mapping[str, Any]],
    *,
    result_type: str | None = None,
    status: str | None = "success",
    tool_use_id: str | None = None,
) -> dict[str, Any]:
    """A server-side tool turn for :func:`converse_reply` / :func:`converse_stream_events`.

    Bedrock runs system tools itself and returns the call (``toolUse`` with type
    ``server_tool_use``) and its result (``toolResult`` with the tool's result type) inside
    the assistant message.

    Args:
        name: The system tool, e.g. ``nova_code_interpreter``.
        input: The call's arguments.
        result: The result's content blocks (``{"json": ...}`` or ``{"text": ...}``).
        result_type: ``toolResult.type``; defaults to ``<name>_result``.
        status: ``toolResult.status`` (None leaves it out).
        tool_use_id: The call's id; a fresh one by default.
    """
    return {
        "toolUseId": tool_use_id or new_tool_use_id(),
        "name": name,
        "input": dict(input),
        "result": [dict(block) for block in result],
        "result_type": result_type or f"{name}_result",
        "status": status,
    }


def _server_blocks(item: Mapping[str, Any]) -> list[dict[str, Any]]:
    use = {
        "toolUseId": item["toolUseId"],
        "name": item["name"],
        "input": dict(item["input"]),
        "type": "server_tool_use",
    }
    result: dict[str, Any] = {
        "toolUseId": item["toolUseId"],
        "content": list(item["result"]),
        "type": item["result_type"],
    }
    if item.get("status") is not None:
        result["status"] = item["status"]
    return [{"toolUse": use}, {"toolResult": result}]


def _server_events(index: int, item: Mapping[str, Any], chunk_chars: int) -> list[dict[str, Any]]:
    """A server tool call and its result as ConverseStream events (two blocks)."""
    start = {"toolUseId": item["toolUseId"], "name": item["name"], "type": "server_tool_use"}
    events: list[dict[str, Any]] = [
        {"contentBlockStart": {"contentBlockIndex": index, "start": {"toolUse": start}}}
    ]
    arguments = json.dumps(item["input"], separators=(",", ":"))
    events.extend(
        _delta(index, {"toolUse": {"input": piece}}) for piece in _pieces(arguments, chunk_chars)
    )
    events.append(_stop(index))
    result_start: dict[str, Any] = {"toolUseId": item["toolUseId"], "type": item["result_type"]}
    if item.get("status") is not None:
        result_start["status"] = item["status"]
    events.append(
        {
            "contentBlockStart": {
                "contentBlockIndex": index + 1,
                "start": {"toolResult": result_start},
            }
        }
    )
    for block in item["result"]:
        if "text" in block:
            events.extend(
                _delta(index + 1, {"toolResult": [{"text": piece}]})
                for piece in _pieces(str(block["text"]), chunk_chars)
            )
        else:
            events.append(_delta(index + 1, {"toolResult": [dict(block)]}))
    events.append(_stop(index + 1))
    return events


def inference_profile_reply(
    profile_arn: str, model_id: str, *, regions: Sequence[str] = ("us-east-1",)
) -> dict[str, Any]:
    """A ``GetInferenceProfile`` response body for an application inference profile.

    Args:
        profile_arn: The profile's ARN.
        model_id: The foundation model it routes to.
        regions: One ``models[]`` entry per region, all for ``model_id``.
    """
    profile_id = profile_arn.rsplit("/", 1)[-1]
    return {
        "inferenceProfileName": f"profile-{profile_id}",
        "inferenceProfileArn": profile_arn,
        "inferenceProfileId": profile_id,
        "models": [
            {"modelArn": f"arn:aws:bedrock:{region}::foundation-model/{model_id}"}
            for region in regions
        ],
        "status": "ACTIVE",
        "type": "APPLICATION",
    }


def _tool_uses(tool_uses: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for index, item in enumerate(tool_uses):
        found = dict(item)
        found.setdefault("toolUseId", f"tooluse_{index}_{found['name']}")
        found.setdefault("input", {})
        out.append(found)
    return out


def _stop_reason(stop_reason: str | None, tool_uses: Sequence[Any]) -> str:
    if stop_reason is not None:
        return stop_reason
    return "tool_use" if tool_uses else "end_turn"


def _output_tokens(
    text: str | None, reasoning: str | None, tool_uses: Sequence[Mapping[str, Any]]
) -> int:
    spent = (text or "") + (reasoning or "")
    spent += "".join(json.dumps(item["input"]) for item in tool_uses)
    return max(1, estimate_tokens(spent))


def converse_reply(
    text: str | None = None,
    *,
    tool_uses: Iterable[Mapping[str, Any]] = (),
    reasoning: str | None = None,
    reasoning_signature: str | None = None,
    stop_reason: str | None = None,
    usage: Mapping[str, int] | None = None,
    input_tokens: int = DEFAULT_INPUT_TOKENS,
    latency_ms: int = 100,
    trace: Mapping[str, Any] | None = None,
    server_tools: Iterable[Mapping[str, Any]] = (),
    server_tool_usage: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A Converse response body.

    Args:
        text: Assistant text (omitted when None).
        tool_uses: ``{"name", "input", "toolUseId"?}`` mappings, one toolUse block each. A
            missing id becomes ``tooluse_<index>_<name>``, unique within this reply and the
            same in :func:`converse_stream_events`; build items with :func:`tool_use` for
            ids unique across replies.
        reasoning: Reasoning text, sent first as a ``reasoningContent`` block.
        reasoning_signature: Signature of the reasoning block.
        stop_reason: Defaults to ``tool_use`` with tool uses, else ``end_turn``.
        usage: The usage dict; by default estimated from the output.
        input_tokens: Input tokens of the estimated usage.
        latency_ms: ``metrics.latencyMs``.
        trace: The ``trace`` member, e.g. ``{"guardrail": {...}}``.
        server_tools: :func:`server_tool` items: each call and its result come before the
            text, as Nova sends them.
        server_tool_usage: ``usage.serverToolUsage``.

    Returns:
        The JSON body, ready for ``Reply.json``.
    """
    tools = _tool_uses(tool_uses)
    content: list[dict[str, Any]] = []
    if reasoning is not None:
        reasoning_text: dict[str, Any] = {"text": reasoning}
        if reasoning_signature is not None:
            reasoning_text["signature"] = reasoning_signature
        content.append({"reasoningContent": {"reasoningText": reasoning_text}})
    for item in server_tools:
        content.extend(_server_blocks(item))
    if text is not None:
        content.append({"text": text})
    content.extend({"toolUse": item} for item in tools)
    if usage is None:
        usage = build_usage(input_tokens, _output_tokens(text, reasoning, tools))
    usage_wire: dict[str, Any] = dict(usage)
    if server_tool_usage is not None:
        usage_wire["serverToolUsage"] = dict(server_tool_usage)
    body: dict[str, Any] = {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": _stop_reason(stop_reason, tools),
        "usage": usage_wire,
        "metrics": {"latencyMs": latency_ms},
    }
    if trace is not None:
        body["trace"] = dict(trace)
    return body


def _pieces(text: str, size: int) -> list[str]:
    if size < 1:
        raise ValueError(f"chunk size must be >= 1, got {size}")
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _delta(index: int, delta: Mapping[str, Any]) -> dict[str, Any]:
    return {"contentBlockDelta": {"contentBlockIndex": index, "delta": dict(delta)}}


def _stop(index: int) -> dict[str, Any]:
    return {"contentBlockStop": {"contentBlockIndex": index}}


def converse_stream_events(
    text: str | None = None,
    *,
    tool_uses: Iterable[Mapping[str, Any]] = (),
    reasoning: str | None = None,
    reasoning_signature: str | None = None,
    stop_reason: str | None = None,
    usage: Mapping[str, int] | None = None,
    input_tokens: int = DEFAULT_INPUT_TOKENS,
    latency_ms: int = 100,
    trace: Mapping[str, Any] | None = None,
    chunk_chars: int = 16,
    server_tools: Iterable[Mapping[str, Any]] = (),
    server_tool_usage: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """ConverseStream events for the same content :func:`converse_reply` would return.

    Blocks come in the order reasoning, text, tool uses; text, reasoning and tool input JSON
    are split into ``chunk_chars`` pieces so clients must reassemble them.

    Args:
        text: Assistant text.
        tool_uses: ``{"name", "input", "toolUseId"?}`` mappings.
        reasoning: Reasoning text, streamed as ``reasoningContent`` deltas.
        reasoning_signature: Sent as a final ``reasoningContent.signature`` delta.
        stop_reason: Defaults to ``tool_use`` with tool uses, else ``end_turn``.
        usage: The usage dict; by default estimated from the output.
        input_tokens: Input tokens of the estimated usage.
        latency_ms: ``metrics.latencyMs`` of the metadata event.
        trace: The metadata ``trace`` member, e.g. ``{"guardrail": {...}}``.
        chunk_chars: Characters per delta.
        server_tools: :func:`server_tool` items, streamed before the text: a ``toolUse``
            start with type ``server_tool_use`` and input deltas, then a ``toolResult``
            start and ``toolResult`` deltas.
        server_tool_usage: ``usage.serverToolUsage`` of the metadata event.

    Returns:
        Events ready for ``Reply.events``.
    """
    tools = _tool_uses(tool_uses)
    events: list[dict[str, Any]] = [{"messageStart": {"role": "assistant"}}]
    index = 0
    if reasoning is not None:
        for piece in _pieces(reasoning, chunk_chars):
            events.append(_delta(index, {"reasoningContent": {"text": piece}}))
        if reasoning_signature is not None:
            events.append(_delta(index, {"reasoningContent": {"signature": reasoning_signature}}))
        events.append(_stop(index))
        index += 1
    for item in server_tools:
        events.extend(_server_events(index, item, chunk_chars))
        index += 2
    if text is not None:
        events.extend(_delta(index, {"text": piece}) for piece in _pieces(text, chunk_chars))
        events.append(_stop(index))
        index += 1
    for item in tools:
        start = {"toolUse": {"toolUseId": item["toolUseId"], "name": item["name"]}}
        events.append({"contentBlockStart": {"contentBlockIndex": index, "start": start}})
        arguments = json.dumps(item["input"], separators=(",", ":"))
        events.extend(
            _delta(index, {"toolUse": {"input": piece}})
            for piece in _pieces(arguments, chunk_chars)
        )
        events.append(_stop(index))
        index += 1
    events.append({"messageStop": {"stopReason": _stop_reason(stop_reason, tools)}})
    if usage is None:
        usage = build_usage(input_tokens, _output_tokens(text, reasoning, tools))
    usage_wire: dict[str, Any] = dict(usage)
    if server_tool_usage is not None:
        usage_wire["serverToolUsage"] = dict(server_tool_usage)
    metadata: dict[str, Any] = {"usage": usage_wire, "metrics": {"latencyMs": latency_ms}}
    if trace is not None:
        metadata["trace"] = dict(trace)
    events.append({"metadata": metadata})
    return events


def invoke_agent_events(text: str, *, chunk_chars: int | None = None) -> list[dict[str, Any]]:
    """InvokeAgent ``chunk`` events carrying ``text`` as bytes (sent base64-encoded).

    Args:
        text: The agent's answer.
        chunk_chars: Split the answer into chunks of this many characters (one chunk if None).
    """
    pieces = [text] if chunk_chars is None else _pieces(text, chunk_chars)
    return [{"chunk": {"bytes": piece.encode("utf-8")}} for piece in pieces]


def _texts(content: Any) -> list[str]:
    if not isinstance(content, list):
        return []
    return [block["text"] for block in content if isinstance(block, dict) and "text" in block]


def request_texts(converse: Mapping[str, Any]) -> list[str]:
    """Every text of a Converse request's ``system`` and ``messages``, in order."""
    found = _texts(converse.get("system"))
    for message in converse.get("messages") or ():
        if isinstance(message, dict):
            found.extend(_texts(message.get("content")))
    return found


def last_user_text(converse: Mapping[str, Any]) -> str:
    """The text blocks of the last user message, joined by spaces ("" when none)."""
    for message in reversed(converse.get("messages") or ()):
        if isinstance(message, dict) and message.get("role") == "user":
            return " ".join(_texts(message.get("content")))
    return ""
