"""Reading a Converse ``usage`` and ``metrics`` object (responses and stream metadata alike).

Every count is checked (a missing ``usage`` is not zero tokens); a usage holding only plain
counts, the shape nearly every response has, is checked without a reader call per count.
"""

from __future__ import annotations

from typing import Any

from bedrock_kit.core.chat.types import Usage, assemble
from bedrock_kit.core.transport.wire import WireReader

_USAGE_MEMBERS = dict.fromkeys(["inputTokens", "outputTokens", "totalTokens", "cacheDetails"])
_USAGE_MEMBERS |= dict.fromkeys(
    ["cacheReadInputTokens", "cacheWriteInputTokens", "serverToolUsage"]
)
# A usage of these members only is counts and nothing else (no cache details, no tools).
_PLAIN_USAGE = frozenset(
    ["inputTokens", "outputTokens", "totalTokens", "cacheReadInputTokens", "cacheWriteInputTokens"]
)


def _plain_usage(wire: dict[str, Any]) -> Usage | None:
    """The Usage of a usage holding only int counts >= 0 (None: read it member by member)."""
    got = wire.get
    i, o, t = got("inputTokens"), got("outputTokens"), got("totalTokens")
    read, write = got("cacheReadInputTokens", 0), got("cacheWriteInputTokens", 0)
    if not (type(i) is int and type(o) is int and type(t) is int):  # bools are not counts
        return None
    if not (type(read) is int and type(write) is int):
        return None
    if i < 0 or o < 0 or t < 0 or read < 0 or write < 0:
        return None
    return assemble(
        Usage,
        {
            "input_tokens": i,
            "output_tokens": o,
            "cache_read_input_tokens": read,
            "cache_write_input_tokens": write,
            "total_tokens": t,
            "cache_write_1h_input_tokens": 0,
            "server_tool_usage": {},
        },
    )


def plain_usage(wire: Any) -> Usage | None:
    """The Usage of a usage object of plain int counts only (what nearly every response
    has), read without a reader call; None: anything else, for :func:`parse_usage`."""
    if type(wire) is dict and wire.keys() <= _PLAIN_USAGE:
        return _plain_usage(wire)
    return None


def parse_usage(wire: Any, reader: WireReader | None = None, where: str = "usage") -> Usage:
    """Parse a Converse ``usage`` object (required: a missing one is not zero tokens).

    Raises:
        MalformedResponseError: ``usage`` is missing or lacks ``inputTokens``,
            ``outputTokens`` or ``totalTokens``.
    """
    plain = plain_usage(wire)
    if plain is not None:
        return plain
    r = reader or WireReader("Converse usage")
    usage = {**_USAGE_MEMBERS, **r.obj(wire, where)}  # absent ones None: read by subscript
    details = usage["cacheDetails"]
    one_hour = 0
    for i, detail in enumerate(
        () if details is None else r.items(details, f"{where}.cacheDetails")
    ):
        detail = r.obj(detail, f"{where}.cacheDetails[{i}]")
        tokens = r.count(detail.get("inputTokens"), f"{where}.cacheDetails[{i}].inputTokens")
        one_hour += tokens if detail.get("ttl") == "1h" else 0
    return Usage(
        input_tokens=r.count(usage["inputTokens"], f"{where}.inputTokens"),
        output_tokens=r.count(usage["outputTokens"], f"{where}.outputTokens"),
        cache_read_input_tokens=r.opt_count(
            usage["cacheReadInputTokens"], f"{where}.cacheReadInputTokens"
        )
        or 0,
        cache_write_input_tokens=r.opt_count(
            usage["cacheWriteInputTokens"], f"{where}.cacheWriteInputTokens"
        )
        or 0,
        total_tokens=r.count(usage["totalTokens"], f"{where}.totalTokens"),
        cache_write_1h_input_tokens=one_hour,
        server_tool_usage=_server_tool_usage(r, usage["serverToolUsage"], where),
    )


def _server_tool_usage(r: WireReader, value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    where = f"{where}.serverToolUsage"
    return dict(r.document(dict(r.opt_obj(value, where)), where))


def parse_latency(r: WireReader, metrics: Any, where: str = "metrics") -> int | None:
    """``metrics.latencyMs`` (None when Bedrock sent no metrics; never a made-up value)."""
    if type(metrics) is dict:
        latency = metrics.get("latencyMs")
        if type(latency) is int and latency >= 0:  # the usual answer, read without a call
            return latency
    return r.opt_count(r.opt_obj(metrics, where).get("latencyMs"), f"{where}.latencyMs")
