"""Model ids as the price table keys them: profile variants, ARNs and billing qualifiers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal, TypeAlias

from bedrock_kit.core.chat.models import profile_base

__all__ = [
    "LABELS",
    "QUALIFIERS",
    "Variant",
    "cache_write_1h_tokens",
    "is_reranker",
    "normalise_model_id",
    "priced_model_id",
    "split_qualifiers",
]

Variant: TypeAlias = Literal["global", "geo", "in_region"]

QUALIFIERS = ("batch", "flex", "optimized", "priority", "reserved")
"""Billing qualifiers a priced model id may start with (``priority:<model id>``)."""

LABELS = ("agent", "embeddings", "provisioned", "rerank", "retrieval")
"""Operation labels a report row id may start with (``agent:<model id>``); priced as the
model (see :func:`~bedrock_kit.core.budget.operations.operation_of`)."""

# Inference-profile prefixes: global routes anywhere, the others stay in one geography.
_PROFILE = re.compile(r"^(global|us-gov|us|eu|apac|jp|au|ca)\.")
# ARN resource types whose last path segment is a model or system profile id.
_ARN_RESOURCE = re.compile(r"^arn:aws[\w-]*:bedrock:[^:]*:[^:]*:([\w-]+)/(.+)$")
_RESOLVABLE_ARNS = ("foundation-model", "inference-profile")


def split_qualifiers(model_id: str) -> tuple[tuple[str, ...], str]:
    """Split ``priority:batch:<model id>`` into ``(("priority", "batch"), "<model id>")``.

    Operation labels (``agent:``, ``retrieval:``...) are dropped: they do not change a price.
    """
    found: list[str] = []
    rest = model_id.strip()
    while True:
        head, sep, tail = rest.partition(":")
        if not sep or head.lower() not in (*QUALIFIERS, *LABELS):
            return tuple(found), rest
        if head.lower() in QUALIFIERS:
            found.append(head.lower())
        rest = tail


def priced_model_id(request: Mapping[str, Any]) -> str:
    """The qualified model id a Converse or InvokeModel request is billed under.

    ``performanceConfig.latency="optimized"`` (InvokeModel: ``performanceConfigLatency``)
    adds ``optimized:``; ``serviceTier`` priority, flex or reserved adds that tier. Standard
    requests keep their model id unchanged.
    """
    model_id = str(request["modelId"])
    qualifiers: list[str] = []
    performance = request.get("performanceConfig")
    latency = performance.get("latency") if isinstance(performance, Mapping) else None
    if (latency or request.get("performanceConfigLatency")) == "optimized":
        qualifiers.append("optimized")
    tier = request.get("serviceTier")
    tier = tier.get("type") if isinstance(tier, Mapping) else tier
    if tier in ("priority", "flex", "reserved"):
        qualifiers.append(str(tier))
    return ":".join((*qualifiers, model_id))


def normalise_model_id(model_id: str) -> tuple[str, Variant]:
    """Reduce any model reference to the price table's key and its profile variant.

    ``arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-haiku-4-5-20251001-v1:0``,
    ``us.anthropic.claude-haiku-4-5-20251001-v1:0`` and
    ``anthropic.claude-haiku-4-5-20251001-v1`` all become
    ``anthropic.claude-haiku-4-5-20251001-v1``. Application inference profiles and
    provisioned-model ARNs name no model, so they stay as they are (and are unknown).
    Billing qualifiers (``priority:``...) are dropped.

    Returns:
        ``(key, variant)``: variant is ``global`` for ``global.`` ids, ``geo`` for
        geography prefixes and ``in_region`` for bare ids.
    """
    model_id = split_qualifiers(model_id)[1].strip()
    model_id = (profile_base(model_id) or model_id).lower()  # a resolved application profile
    arn = _ARN_RESOURCE.match(model_id)
    if arn:
        if arn.group(1) not in _RESOLVABLE_ARNS:
            return model_id, "in_region"
        model_id = arn.group(2)
    variant: Variant = "in_region"
    profile = _PROFILE.match(model_id)
    if profile:
        variant = "global" if profile.group(1) == "global" else "geo"
        model_id = model_id[profile.end() :]
    # ":0" version suffixes and ":200k"-style context variants share the base price.
    return model_id.split(":", 1)[0], variant


def is_reranker(model_id: str) -> bool:
    """True for a reranker model id (``amazon.rerank-v1:0``, ``cohere.rerank-v3-5:0``, ARNs,
    ``rerank:`` row ids): priced per query, never by tokens."""
    return model_id.startswith("rerank:") or ".rerank-" in normalise_model_id(model_id)[0]


def cache_write_1h_tokens(usage_wire: Mapping[str, Any] | None) -> int:
    """Cache-write tokens with the 1 hour TTL, from a Converse ``usage.cacheDetails``."""
    details = (usage_wire or {}).get("cacheDetails") or ()
    return sum(int(d.get("inputTokens") or 0) for d in details if d.get("ttl") == "1h")
