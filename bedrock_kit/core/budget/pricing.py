"""Prices per model, inference-profile variant and cache tier, read from a data file.

The figures live in ``prices.json`` next to this module (package data, not code), each with
its source and date; a user can override any entry from a JSON file or a dict. Costs are
:class:`~decimal.Decimal` throughout so that summing thousands of calls never drifts.

Bedrock reports ``inputTokens`` *without* the cache reads and writes, so the cost of a call
is the sum of four disjoint parts, each at its own rate::

    input * input_price + cache_read * cache_read_price
    + cache_write * cache_write_price + output * output_price   (all per 1,000 tokens)

Unknown models never crash and are never priced at a silent zero: a
:class:`UnknownModelPriceWarning` is raised and the configured fallback applies.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal, TypeAlias

from bedrock_kit.core.budget.money import format_usd
from bedrock_kit.core.chat.models import profile_base
from bedrock_kit.core.chat.types import Usage
from bedrock_kit.core.guardrails.assessments import GuardrailUsage
from bedrock_kit.errors import ConfigurationError

__all__ = [
    "GuardrailPrice",
    "PriceEntry",
    "PriceTable",
    "UnknownModelPriceWarning",
    "UnknownPriceWarning",
    "Variant",
    "cache_write_1h_tokens",
    "default_prices",
    "format_prices",
    "load_prices",
    "normalise_model_id",
]

Variant: TypeAlias = Literal["global", "geo", "in_region"]
OnUnknown: TypeAlias = "Literal['warn', 'error'] | PriceEntry"

_THOUSAND = Decimal(1000)
_ZERO = Decimal(0)
# Inference-profile prefixes: global routes anywhere, the others stay in one geography.
_PROFILE = re.compile(r"^(global|us-gov|us|eu|apac|jp|au|ca)\.")
# ARN resource types whose last path segment is a model or system profile id.
_ARN_RESOURCE = re.compile(r"^arn:aws[\w-]*:bedrock:[^:]*:[^:]*:([\w-]+)/(.+)$")
_RESOLVABLE_ARNS = ("foundation-model", "inference-profile")


class UnknownPriceWarning(UserWarning):
    """A price needed for a cost is missing from the price table."""


class UnknownModelPriceWarning(UnknownPriceWarning):
    """A model id is not in the price table; the configured fallback price was used."""


@dataclass(frozen=True)
class PriceEntry:
    """On-demand prices of one model, in USD per 1,000 tokens."""

    input: Decimal
    """Uncached input tokens."""
    output: Decimal
    """Output tokens."""
    cache_read: Decimal | None = None
    """Input tokens read from the prompt cache; None when the model has no caching."""
    cache_write: Decimal | None = None
    """Input tokens written to the prompt cache with the default (5 minute) TTL."""
    cache_write_1h: Decimal | None = None
    """Input tokens written with the 1 hour TTL, where it is priced differently."""
    model_id: str = ""
    """Normalised model id the entry is for (empty for ad-hoc fallback entries)."""
    name: str = ""
    """Human-readable model name."""
    variant: str = ""
    """Inference-profile variant the figures apply to (``global``, ``geo``, ``in_region``)."""
    source: str = ""
    """URL the figures were read from."""
    as_of: str = ""
    """Date the figures were read (ISO 8601)."""
    status: str = "unverified"
    """``provider-page``, ``third-party``, ``unverified`` or ``user``."""
    notes: str = ""
    """Caveats (batch, long-context tiers, assumptions)."""

    @property
    def worst_input(self) -> Decimal:
        """Highest rate an input token can be billed at (it may end up a cache write)."""
        rates = (self.input, self.cache_write, self.cache_write_1h)
        return max(r for r in rates if r is not None)

    def cost(self, usage: Usage, *, cache_write_1h_tokens: int = 0) -> Decimal:
        """Cost of one call's billed usage.

        Args:
            usage: Billed tokens; ``input_tokens`` excludes cache reads and writes, as
                Bedrock reports it.
            cache_write_1h_tokens: How many of ``usage.cache_write_input_tokens`` were written
                with the 1 hour TTL (see :func:`cache_write_1h_tokens`).
        """
        one_hour = min(
            max(cache_write_1h_tokens, usage.cache_write_1h_input_tokens),
            usage.cache_write_input_tokens,
        )
        five_min = usage.cache_write_input_tokens - one_hour
        parts = (
            (usage.input_tokens, "input"),
            (usage.output_tokens, "output"),
            (usage.cache_read_input_tokens, "cache_read"),
            (five_min, "cache_write"),
            (one_hour, "cache_write_1h"),
        )
        return sum((Decimal(n) * self._rate(kind) for n, kind in parts if n), _ZERO) / _THOUSAND

    def _rate(self, kind: str) -> Decimal:
        rate: Decimal | None = getattr(self, kind)
        if rate is not None:
            return rate
        # Never a silent zero: a model without a cache price bills cache tokens at the
        # dearest known input rate, and says so.
        fallback = self.cache_write if kind == "cache_write_1h" else None
        fallback = fallback if fallback is not None else self.worst_input
        warnings.warn(
            f"no {kind} price for {self.model_id or 'this model'}; "
            f"charged at {fallback} per 1,000 tokens",
            UnknownPriceWarning,
            stacklevel=4,
        )
        return fallback

    def scaled(self, multiplier: Decimal) -> PriceEntry:
        """The same entry with every rate multiplied (regional premiums)."""

        def scale(rate: Decimal | None) -> Decimal | None:
            return None if rate is None else rate * multiplier

        return self.with_rates(
            input=self.input * multiplier,
            output=self.output * multiplier,
            cache_read=scale(self.cache_read),
            cache_write=scale(self.cache_write),
            cache_write_1h=scale(self.cache_write_1h),
        )

    def with_rates(self, **rates: Decimal | None) -> PriceEntry:
        """The same entry with some rates replaced (``input`` and ``output`` never None)."""
        unknown = set(rates) - set(_RATE_KEYS)
        if unknown:
            raise ConfigurationError(f"unknown price fields {sorted(unknown)}")
        new_input, new_output = rates.get("input"), rates.get("output")
        return PriceEntry(
            input=self.input if new_input is None else new_input,
            output=self.output if new_output is None else new_output,
            cache_read=rates.get("cache_read", self.cache_read),
            cache_write=rates.get("cache_write", self.cache_write),
            cache_write_1h=rates.get("cache_write_1h", self.cache_write_1h),
            model_id=self.model_id,
            name=self.name,
            variant=self.variant,
            source=self.source,
            as_of=self.as_of,
            status=self.status,
            notes=self.notes,
        )


@dataclass(frozen=True)
class GuardrailPrice:
    """Price of one guardrail policy, in USD per 1,000 text units."""

    policy: str
    """:class:`GuardrailUsage` field name (``content_policy_units``...)."""
    price: Decimal | None
    """Price per 1,000 text units; None when no figure could be confirmed."""
    status: str = "unverified"
    """Confidence in the figure, as for :attr:`PriceEntry.status`."""


@dataclass(frozen=True)
class PriceTable:
    """Model and guardrail prices, looked up by any form of model id."""

    models: Mapping[str, Mapping[str, Any]]
    """Raw model entries keyed by normalised model id, as in ``prices.json``."""
    guardrails: Mapping[str, GuardrailPrice] = field(default_factory=dict)
    """Guardrail prices keyed by :class:`GuardrailUsage` field."""
    guardrail_source: str = ""
    """Where the guardrail prices come from."""

    def lookup(self, model_id: str) -> PriceEntry | None:
        """Prices for ``model_id`` (any id, profile id or ARN), or None when unknown."""
        base, variant = normalise_model_id(model_id)
        raw = self.models.get(base) or self._alias(base)
        if raw is None:
            return None
        entry = _entry(base, raw, variant)
        spec = (raw.get("variants") or {}).get(variant)
        if not spec:
            return entry
        entry = replace(
            entry,
            status=spec.get("status", entry.status),
            source=spec.get("source", entry.source),
        )
        if "multiplier" in spec:
            entry = entry.scaled(Decimal(str(spec["multiplier"])))
        overrides = {k: Decimal(str(spec[k])) for k in _RATE_KEYS if spec.get(k) is not None}
        return entry.with_rates(**overrides)

    def price(self, model_id: str, *, on_unknown: OnUnknown = "warn") -> PriceEntry:
        """Prices for ``model_id``, applying ``on_unknown`` when the table lacks it.

        Args:
            model_id: Model id, inference-profile id or ARN.
            on_unknown: ``"warn"`` (default) warns and charges the dearest input and output
                rates in the table, so a budget errs on the safe side; ``"error"`` raises
                :class:`ConfigurationError`; a :class:`PriceEntry` warns and uses it.

        Raises:
            ConfigurationError: the model is unknown and ``on_unknown="error"``.
        """
        entry = self.lookup(model_id)
        if entry is not None:
            return entry
        if on_unknown == "error":
            raise ConfigurationError(
                f"no price for model {model_id!r}: add it with load_prices(overrides=...) "
                "or pass on_unknown='warn' or a PriceEntry",
                model_id=model_id,
            )
        fallback = on_unknown if isinstance(on_unknown, PriceEntry) else self._dearest()
        warnings.warn(
            f"no price for model {model_id!r}; charging the fallback of "
            f"{fallback.input} input / {fallback.output} output per 1,000 tokens. "
            "Add the model with load_prices(overrides=...) to price it exactly.",
            UnknownModelPriceWarning,
            stacklevel=2,
        )
        return replace(fallback, model_id=fallback.model_id or model_id)

    def guardrail_cost(self, usage: GuardrailUsage) -> Decimal:
        """Cost of the text units one guardrail evaluation billed."""
        total = _ZERO
        for f in fields(GuardrailUsage):
            units = getattr(usage, f.name)
            price = self.guardrails.get(f.name)
            if not units or f.name == "automated_reasoning_policies":
                continue
            if price is None or price.price is None:
                warnings.warn(
                    f"no price for guardrail {f.name} ({units} text units); not costed",
                    UnknownPriceWarning,
                    stacklevel=2,
                )
                continue
            total += Decimal(units) * price.price / _THOUSAND
        return total

    def entries(self) -> list[PriceEntry]:
        """Every model's base entry, sorted by model id (for ``bedrock-kit prices``)."""
        return [_entry(k, v, "global") for k, v in sorted(self.models.items())]

    def _alias(self, base: str) -> Mapping[str, Any] | None:
        for raw in self.models.values():
            if base in (raw.get("aliases") or ()):
                return raw
        return None

    def _dearest(self) -> PriceEntry:
        known = self.entries()
        if not known:
            raise ConfigurationError("the price table is empty; pass a PriceEntry fallback")
        return PriceEntry(
            input=max(e.worst_input for e in known),
            output=max(e.output for e in known),
            name="fallback: dearest known rates",
            status="fallback",
        )


_RATE_KEYS = ("input", "output", "cache_read", "cache_write", "cache_write_1h")


def _decimal(raw: Mapping[str, Any], key: str, model_id: str) -> Decimal | None:
    value = raw.get(key)
    if value is None:
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError as exc:
        raise ConfigurationError(f"price {key} of {model_id!r} is not a number: {value!r}") from exc
    if number < 0:
        raise ConfigurationError(f"price {key} of {model_id!r} is negative: {value!r}")
    return number


def _entry(model_id: str, raw: Mapping[str, Any], variant: str) -> PriceEntry:
    rates = {k: _decimal(raw, k, model_id) for k in _RATE_KEYS}
    if rates["input"] is None or rates["output"] is None:
        raise ConfigurationError(f"price entry {model_id!r} needs both 'input' and 'output'")
    return PriceEntry(
        input=rates["input"],
        output=rates["output"],
        cache_read=rates["cache_read"],
        cache_write=rates["cache_write"],
        cache_write_1h=rates["cache_write_1h"],
        model_id=model_id,
        name=str(raw.get("name", "")),
        variant=variant,
        source=str(raw.get("source", "")),
        as_of=str(raw.get("as_of", "")),
        status=str(raw.get("status", "unverified")),
        notes=str(raw.get("notes", "")),
    )


def normalise_model_id(model_id: str) -> tuple[str, Variant]:
    """Reduce any model reference to the price table's key and its profile variant.

    ``arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0``,
    ``us.anthropic.claude-3-haiku-20240307-v1:0`` and ``anthropic.claude-3-haiku-20240307-v1``
    all become ``anthropic.claude-3-haiku-20240307-v1``. Application inference profiles
    and provisioned-model ARNs name no model, so they stay as they are (and are unknown).

    Returns:
        ``(key, variant)``: variant is ``global`` for ``global.`` ids, ``geo`` for
        geography prefixes and ``in_region`` for bare ids.
    """
    model_id = profile_base(model_id.strip()) or model_id  # a resolved application profile
    model_id = model_id.strip().lower()
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


def cache_write_1h_tokens(usage_wire: Mapping[str, Any] | None) -> int:
    """Cache-write tokens with the 1 hour TTL, from a Converse ``usage.cacheDetails``."""
    details = (usage_wire or {}).get("cacheDetails") or ()
    return sum(int(d.get("inputTokens") or 0) for d in details if d.get("ttl") == "1h")


def _parse_guardrails(raw: Mapping[str, Any]) -> dict[str, GuardrailPrice]:
    known = {f.name for f in fields(GuardrailUsage)}
    prices: dict[str, GuardrailPrice] = {}
    for policy, spec in (raw.get("policies") or {}).items():
        if policy not in known:
            raise ConfigurationError(
                f"unknown guardrail policy {policy!r} in prices; expected one of {sorted(known)}"
            )
        value = spec.get("price")
        prices[policy] = GuardrailPrice(
            policy, None if value is None else Decimal(str(value)), spec.get("status", "")
        )
    return prices


def _merge(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    models = {k: dict(v) for k, v in (base.get("models") or {}).items()}
    for model_id, entry in (overrides.get("models") or {}).items():
        key = normalise_model_id(model_id)[0]
        models[key] = {**models.get(key, {}), "status": "user", **entry}
    guardrails = dict(base.get("guardrails") or {})
    if "guardrails" in overrides:
        policies = {**(guardrails.get("policies") or {})}
        policies.update((overrides["guardrails"] or {}).get("policies") or {})
        guardrails = {**guardrails, **overrides["guardrails"], "policies": policies}
    return {**base, "models": models, "guardrails": guardrails}


def _read_overrides(overrides: str | Path | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(overrides, Mapping):
        data: Any = overrides
    else:
        try:
            data = json.loads(Path(overrides).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"cannot read price overrides {overrides!s}: {exc}") from exc
    if not isinstance(data, Mapping) or not isinstance(data.get("models", {}), Mapping):
        raise ConfigurationError("price overrides must be a mapping with a 'models' mapping")
    return data


@cache
def _packaged() -> dict[str, Any]:
    text = resources.files("bedrock_kit.core.budget").joinpath("prices.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def load_prices(overrides: str | Path | Mapping[str, Any] | None = None) -> PriceTable:
    """Load the packaged price table, optionally with overrides on top.

    Args:
        overrides: A JSON file path or a dict shaped like ``prices.json``
            (``{"models": {"<model id>": {"input": "0.003", "output": "0.015", ...}}}``).
            Entries merge field by field into the packaged ones; model ids may be given in
            any form (profile id, ARN, ``:0`` suffix). Prices are per 1,000 tokens.

    Raises:
        ConfigurationError: the overrides cannot be read or hold invalid prices.
    """
    data = _packaged()
    if overrides is not None:
        data = _merge(data, _read_overrides(overrides))
    guardrails = data.get("guardrails") or {}
    table = PriceTable(
        models=data.get("models") or {},
        guardrails=_parse_guardrails(guardrails),
        guardrail_source=str(guardrails.get("source", "")),
    )
    table.entries()  # validate every entry now, not at the first call
    return table


@cache
def default_prices() -> PriceTable:
    """The packaged price table (cached)."""
    return load_prices()


def format_prices(table: PriceTable | None = None) -> str:
    """The known prices as a plain-text table (what ``bedrock-kit prices`` prints)."""
    table = table or default_prices()
    header = ("model", "input", "output", "cache read", "cache write", "write 1h", "status")

    def cell(rate: Decimal | None) -> str:
        return format_usd(rate, exact=True)

    rows = [
        (e.model_id, cell(e.input), cell(e.output), cell(e.cache_read), cell(e.cache_write),
         cell(e.cache_write_1h), e.status)
        for e in table.entries()
    ]  # fmt: skip
    rows += [
        (f"guardrail {g.policy}", cell(g.price), "", "", "", "", g.status)
        for g in table.guardrails.values()
    ]
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in (header, *rows)
    ]
    note = (
        "USD per 1,000 tokens (guardrails: per 1,000 text units); on-demand, global variant. "
        "Sources and dates: bedrock_kit/core/budget/prices.json."
    )
    return "\n".join([*lines, "", note])
