"""Prices per model, inference-profile variant, service tier and cache tier, from a data file.

The figures live in ``prices.json`` next to this module (package data, not code). Every entry
carries its unit, region scope, source URL, the date it was read and an evidence level
(``aws_page``, ``aws_docs``, ``aws_github``, ``anthropic_page``, ``unverified``; ``user`` for
overrides); a part no source in reach confirmed is listed in :attr:`PriceEntry.unverified`
and flagged in reports (:meth:`PriceTable.unverified_for`). A user can override any entry
from a JSON file or a dict. Costs are :class:`~decimal.Decimal` throughout so that summing
thousands of calls never drifts.

Bedrock reports ``inputTokens`` *without* the cache reads and writes, so the cost of a call
is the sum of five disjoint parts, each at its own rate::

    input * input_price + cache_read * cache_read_price + cache_write_5m * cache_write_price
    + cache_write_1h * cache_write_1h_price + output * output_price   (per 1,000 tokens)

A model with a long-context tier (Claude Sonnet 4.5: above 200K input tokens, cache reads and
writes included) bills the *whole* request at the long-context rates; :meth:`PriceEntry.cost`
and :meth:`PriceEntry.for_input` switch to them, so such calls are reserved and settled at
the higher rate.

How a call is billed besides its model is written as qualifiers in front of the model id
(what :func:`priced_model_id` derives from a request, and what report rows show):
``priority:`` and ``flex:`` (service tiers), ``optimized:`` (latency-optimized inference),
``batch:`` (batch inference, :func:`batch_price`), ``reserved:`` (reserved tier, priced at
Standard with a warning). ``priority:us.amazon.nova-pro-v1:0`` is Nova Pro, geographic
profile, Priority tier. ``provisioned:`` rows (:mod:`~bedrock_kit.core.budget.provisioned`)
are priced at zero per token (``provisioned_tokens``): provisioned throughput bills hours.

Unknown models never crash and are never priced at a silent zero: a
:class:`UnknownModelPriceWarning` is raised and the configured fallback applies. Retired
models stay priced, for old logs, with a :class:`RetiredModelWarning`.
"""

from __future__ import annotations

import datetime
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Literal, TypeAlias

from bedrock_kit.core.budget.model_ids import (
    QUALIFIERS,
    Variant,
    cache_write_1h_tokens,
    is_reranker,
    normalise_model_id,
    priced_model_id,
    split_qualifiers,
)
from bedrock_kit.core.budget.price_files import (
    RATE_KEYS,
    merge_overrides,
    packaged_data,
    read_overrides,
)
from bedrock_kit.core.chat.types import Usage
from bedrock_kit.core.guardrails.assessments import GuardrailUsage
from bedrock_kit.errors import ConfigurationError

__all__ = [
    "QUALIFIERS",
    "GuardrailPrice",
    "PriceEntry",
    "PriceTable",
    "RetiredModelWarning",
    "UnknownModelPriceWarning",
    "UnknownPriceWarning",
    "Variant",
    "batch_price",
    "cache_write_1h_tokens",
    "default_prices",
    "load_prices",
    "normalise_model_id",
    "priced_model_id",
    "split_qualifiers",
]

OnUnknown: TypeAlias = "Literal['warn', 'error'] | PriceEntry"

_THOUSAND = Decimal(1000)
_ZERO = Decimal(0)
_ONE = Decimal(1)
_RATE_KEYS = RATE_KEYS
_CACHE_KEYS = _RATE_KEYS[2:]
_UNCONFIRMED = ("unverified", "fallback")
# What a qualifier is called in messages, and which section of an entry holds its figures.
_QUALIFIER_SECTIONS = {
    "batch": "batch",
    "optimized": "latency_optimized",
    "priority": "service_tiers",
    "flex": "service_tiers",
    "reserved": "service_tiers",
}


class UnknownPriceWarning(UserWarning):
    """A price needed for a cost is missing from the price table."""


class UnknownModelPriceWarning(UnknownPriceWarning):
    """A model id is not in the price table; the configured fallback price was used."""


class RetiredModelWarning(UserWarning):
    """A model past its Bedrock end-of-life date was priced (kept for old logs)."""


@dataclass(frozen=True)
class PriceEntry:
    """Prices of one model as one call is billed, in USD per 1,000 tokens."""

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
    """Date the figures were read (ISO 8601, or ``undated`` and how the copy was dated)."""
    evidence: str = "unverified"
    """``aws_page``, ``aws_docs``, ``aws_github``, ``anthropic_page``, ``unverified``,
    ``user`` (overrides) or ``fallback`` (an unknown model's stand-in)."""
    notes: str = ""
    """Caveats (assumptions, lifecycle)."""
    unit: str = "USD per 1,000 tokens"
    """Unit of every rate."""
    region_scope: str = ""
    """Where and on which tier the figures apply."""
    unverified: tuple[str, ...] = ()
    """Parts no source in reach confirmed: rate names (``cache_read``...), ``long_context``,
    or a qualifier (``priority``, ``batch``...); flagged in reports."""
    qualifiers: tuple[str, ...] = ()
    """Billing qualifiers applied (``batch``, ``priority``...), see the module doc."""
    retired: str = ""
    """Bedrock end-of-life date (ISO 8601) when the model is retired or scheduled to be."""
    operation: str = "chat"
    """What the model is billed for: ``chat``, ``embeddings``."""
    long_context: PriceEntry | None = None
    """Rates of the whole request when its input exceeds :attr:`long_context_above`."""
    long_context_above: int | None = None
    """Input tokens (cache reads and writes included) above which :attr:`long_context` bills."""

    @property
    def status(self) -> str:
        """Alias of :attr:`evidence` (the field's name before prices carried evidence)."""
        return self.evidence

    @property
    def verified(self) -> bool:
        """True when every part of the price is backed by a source (or given by the user)."""
        return self.evidence not in _UNCONFIRMED and not self.unverified

    @property
    def worst_input(self) -> Decimal:
        """Highest rate an input token can be billed at (it may end up a cache write)."""
        rates = (self.input, self.cache_write, self.cache_write_1h)
        return max(r for r in rates if r is not None)

    def for_input(self, input_tokens: int) -> PriceEntry:
        """The entry that bills a request of ``input_tokens`` (all input kinds).

        A request above the long-context threshold is billed entirely at the long-context
        rates; any other gets this entry.
        """
        above = self.long_context_above
        if self.long_context is not None and above is not None and input_tokens > above:
            return self.long_context
        return self

    def cost(self, usage: Usage, *, cache_write_1h_tokens: int = 0) -> Decimal:
        """Cost of one call's billed usage (long-context rates above the threshold).

        Args:
            usage: Billed tokens; ``input_tokens`` excludes cache reads and writes, as
                Bedrock reports it.
            cache_write_1h_tokens: How many of ``usage.cache_write_input_tokens`` were written
                with the 1 hour TTL (see :func:`cache_write_1h_tokens`).
        """
        entry = self.for_input(usage.total_input_tokens)
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
        return sum((Decimal(n) * entry._rate(kind) for n, kind in parts if n), _ZERO) / _THOUSAND

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

    def scaled(self, multiplier: Decimal, *, cache: bool = True) -> PriceEntry:
        """The same entry with its rates multiplied (premiums, tiers, batch discounts).

        Args:
            multiplier: Factor applied to input and output (and the long-context tier).
            cache: Scale the cache rates too (False keeps them, erring high).
        """

        def scale(rate: Decimal | None) -> Decimal | None:
            return None if rate is None else rate * multiplier

        rates: dict[str, Decimal | None] = {
            "input": self.input * multiplier,
            "output": self.output * multiplier,
        }
        if cache:
            rates.update({k: scale(getattr(self, k)) for k in _CACHE_KEYS})
        long_context = self.long_context
        if long_context is not None:
            long_context = long_context.scaled(multiplier, cache=cache)
        return replace(self.with_rates(**rates), long_context=long_context)

    def with_rates(self, **rates: Decimal | None) -> PriceEntry:
        """The same entry with some rates replaced (``input`` and ``output`` never None)."""
        unknown = set(rates) - set(_RATE_KEYS)
        if unknown:
            raise ConfigurationError(f"unknown price fields {sorted(unknown)}")
        new_input, new_output = rates.get("input"), rates.get("output")
        return replace(
            self,
            input=self.input if new_input is None else new_input,
            output=self.output if new_output is None else new_output,
            cache_read=rates.get("cache_read", self.cache_read),
            cache_write=rates.get("cache_write", self.cache_write),
            cache_write_1h=rates.get("cache_write_1h", self.cache_write_1h),
        )

    def unverified_note(self) -> str:
        """What of this price is unconfirmed, in words (empty when all of it is backed)."""
        if self.evidence in _UNCONFIRMED:
            free = not (self.input or self.output)
            return f"every rate {self.evidence}" + (": no price, booked at 0" if free else "")
        return f"{', '.join(self.unverified)} unverified" if self.unverified else ""


@dataclass(frozen=True)
class GuardrailPrice:
    """Price of one guardrail policy, in USD per 1,000 text units (images for image units)."""

    policy: str
    """:class:`GuardrailUsage` field name (``content_policy_units``...)."""
    price: Decimal | None
    """Price per 1,000 units; None when no figure could be confirmed."""
    evidence: str = "unverified"
    """Evidence level, as for :attr:`PriceEntry.evidence`."""
    unit: str = "USD per 1,000 text units"
    """Unit of :attr:`price`."""
    source: str = ""
    """URL the figure was read from."""
    as_of: str = ""
    """Date the figure was read."""

    @property
    def status(self) -> str:
        """Alias of :attr:`evidence`."""
        return self.evidence


@dataclass(frozen=True)
class PriceTable:
    """Model and guardrail prices, looked up by any form of model id."""

    models: Mapping[str, Mapping[str, Any]]
    """Raw model entries keyed by normalised model id, as in ``prices.json``."""
    guardrails: Mapping[str, GuardrailPrice] = field(default_factory=dict)
    """Guardrail prices keyed by :class:`GuardrailUsage` field."""
    guardrail_source: str = ""
    """Where the guardrail prices come from."""
    sections: Mapping[str, Any] = field(default_factory=dict)
    """The table's other sections (``batch``, ``service_tiers``, ``rerank``...)."""

    def lookup(self, model_id: str) -> PriceEntry | None:
        """Prices for ``model_id`` (any id, profile id or ARN), or None when unknown.

        Qualifiers (``priority:``...) are applied; no warning is raised (see :meth:`price`).
        """
        if model_id.startswith("flow:"):
            flows = self.sections.get("flows")
            return self._per_unit("flows", flows, "per_1k_node_transitions", "flows")
        if model_id.startswith("provisioned:"):  # billed by the hour: its tokens cost nothing
            spec = self.sections.get("provisioned_tokens")
            return _entry(split_qualifiers(model_id)[1], spec, "in_region") if spec else None
        if model_id.startswith("retrieve:"):  # Retrieve queries: no source prices them
            kb: dict[str, Any] = {"per_1k_queries": "0", "evidence": "unverified"}
            kb |= self.sections.get("knowledge_bases") or {}
            return self._per_unit("retrieval", kb, "per_1k_queries", "knowledge_bases")
        qualifiers, bare = split_qualifiers(model_id)
        base, variant = normalise_model_id(bare)
        raw = self.models.get(base) or self._alias(base)
        if raw is None:
            rerank = (self.sections.get("rerank") or {}).get(base)
            return self._per_unit("rerank", rerank, "per_1k_queries", base)
        entry = _entry(base, raw, variant)
        spec = (raw.get("variants") or {}).get(variant)
        if spec:
            entry = replace(
                entry,
                evidence=spec.get("evidence", spec.get("status", entry.evidence)),
                source=spec.get("source", entry.source),
                as_of=spec.get("as_of", entry.as_of),
                region_scope=spec.get("region_scope", entry.region_scope),
                unverified=_union(entry.unverified, spec.get("unverified_rates")),
            )
            if "multiplier" in spec:
                entry = entry.scaled(Decimal(str(spec["multiplier"])))
            overrides = {k: Decimal(str(spec[k])) for k in _RATE_KEYS if spec.get(k) is not None}
            entry = entry.with_rates(**overrides)
        for qualifier in qualifiers:
            entry = self._qualify(entry, qualifier, raw)
        return entry

    def price(self, model_id: str, *, on_unknown: OnUnknown = "warn") -> PriceEntry:
        """Prices for ``model_id``, applying ``on_unknown`` when the table lacks it.

        Args:
            model_id: Model id, inference-profile id or ARN, optionally qualified
                (``batch:``, ``priority:``, ``flex:``, ``optimized:``; see the module doc).
            on_unknown: ``"warn"`` (default) warns and charges the dearest input and output
                rates in the table, so a budget errs on the safe side; ``"error"`` raises
                :class:`ConfigurationError`; a :class:`PriceEntry` warns and uses it.

        Raises:
            ConfigurationError: the model is unknown and ``on_unknown="error"``.
        """
        entry = self.lookup(model_id)
        if entry is not None:
            if entry.retired and entry.retired <= datetime.date.today().isoformat():
                warnings.warn(
                    f"{entry.name or entry.model_id} ({entry.model_id}) was retired on Bedrock "
                    f"on {entry.retired}; priced for old logs, but calls to it fail: move to an "
                    "active model",
                    RetiredModelWarning,
                    stacklevel=2,
                )
            return entry
        if on_unknown == "error":
            raise ConfigurationError(
                f"no price for model {model_id!r}: add it with load_prices(overrides=...) "
                "or pass on_unknown='warn' or a PriceEntry",
                model_id=model_id,
            )
        fallback = on_unknown if isinstance(on_unknown, PriceEntry) else self._dearest(model_id)
        per = "queries" if is_reranker(model_id) else "tokens"
        warnings.warn(
            f"no price for model {model_id!r}; charging the fallback of "
            f"{fallback.input} input / {fallback.output} output per 1,000 {per}. "
            "Add the model with load_prices(overrides=...) to price it exactly.",
            UnknownModelPriceWarning,
            stacklevel=2,
        )
        entry = replace(fallback, model_id=fallback.model_id or model_id)
        for qualifier in split_qualifiers(model_id)[0]:
            entry = self._qualify(entry, qualifier, {})
        return entry

    def batch_price(self, model_id: str, *, on_unknown: OnUnknown = "warn") -> PriceEntry:
        """Batch-inference prices of ``model_id`` (:func:`batch_price`)."""
        if "batch" in split_qualifiers(model_id)[0]:
            return self.price(model_id, on_unknown=on_unknown)
        return self.price(f"batch:{model_id}", on_unknown=on_unknown)

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

    def guardrail_unit_price(self, policies: Iterable[str] | None = None) -> Decimal:
        """Price of one text unit through ``policies`` (every priced text policy when None).

        Image units are left out: a text-length reservation has no images.
        """
        wanted = None if policies is None else set(policies)
        return sum(
            (
                p.price
                for name, p in self.guardrails.items()
                if p.price is not None
                and name != "content_policy_image_units"
                and (wanted is None or name in wanted)
            ),
            _ZERO,
        )

    def rerank_cost(self, model_id: str, queries: int, documents: int = 0) -> Decimal:
        """Cost of ``queries`` rerank queries (each billed per up to N documents).

        Raises:
            ConfigurationError: no rerank price for the model.
        """
        base = normalise_model_id(model_id)[0]
        spec = (self.sections.get("rerank") or {}).get(base)
        if not spec or spec.get("per_1k_queries") is None:
            raise ConfigurationError(
                f"no rerank price for {base!r}; add it under 'rerank' with load_prices(...)",
                model_id=model_id,
            )
        per_query_docs = int(spec.get("documents_per_query") or 0)
        units = queries
        if per_query_docs and documents > per_query_docs * queries:
            units = -(-documents // per_query_docs)
        return Decimal(units) * Decimal(str(spec["per_1k_queries"])) / _THOUSAND

    def unverified_for(self, row_ids: Iterable[str]) -> tuple[str, ...]:
        """One line per priced id whose price is not fully confirmed (for reports).

        ``row_ids`` are report rows' ids: model ids (qualified or not) and ``guardrail:<id>``.
        """
        lines: dict[str, str] = {}
        for row_id in row_ids:
            if row_id.startswith("guardrail:"):
                open_ = sorted(n for n, p in self.guardrails.items() if p.evidence in _UNCONFIRMED)
                if open_:
                    lines["guardrail"] = f"guardrail prices: {', '.join(open_)} unverified"
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                entry = self.lookup(row_id)
            note = "no price in the table (fallback)" if entry is None else entry.unverified_note()
            if note:
                lines[row_id] = f"{row_id}: {note}"
        return tuple(lines[k] for k in sorted(lines))

    def entries(self) -> list[PriceEntry]:
        """Every model's base entry, sorted by model id (for ``bedrock-kit prices``)."""
        return [_entry(k, v, "global") for k, v in sorted(self.models.items())]

    def _qualify(self, entry: PriceEntry, qualifier: str, raw: Mapping[str, Any]) -> PriceEntry:
        section = raw.get(_QUALIFIER_SECTIONS[qualifier]) or {}
        if qualifier in ("priority", "flex", "reserved"):
            section = section.get(qualifier) or {}
        shared = self.sections.get(_QUALIFIER_SECTIONS[qualifier]) or {}
        if qualifier in ("priority", "flex", "reserved"):
            shared = shared.get(qualifier) or {}
        cache = qualifier != "batch"  # batch prices name no cache rates: keep on-demand ones
        if section.get("input") is not None and raw.get("input") is not None:
            # Explicit figures: scale by their ratio to Standard, so that the variant
            # premium and the long-context tier carry over (the table's input and output
            # ratios are equal; a test checks it).
            factor = Decimal(str(section["input"])) / Decimal(str(raw["input"]))
            evidence = str(section.get("evidence", "unverified"))
        elif section.get("multiplier") is not None:
            factor, evidence = Decimal(str(section["multiplier"])), str(section.get("evidence"))
        elif qualifier == "batch" and shared.get("discount") is not None:
            factor, evidence = Decimal(str(shared["discount"])), str(shared.get("evidence"))
        elif shared.get("multiplier") is not None:
            # A table-wide multiplier says nothing of this model: flagged unverified.
            factor, evidence = Decimal(str(shared["multiplier"])), "unverified"
        else:
            warnings.warn(
                f"no {qualifier} price for {entry.model_id or 'this model'}; charged at the "
                "Standard on-demand rates",
                UnknownPriceWarning,
                stacklevel=3,
            )
            factor, evidence = _ONE, "unverified"
        qualified = entry.scaled(factor, cache=cache)
        unverified = entry.unverified + ((qualifier,) if evidence in _UNCONFIRMED else ())
        return replace(qualified, qualifiers=(*entry.qualifiers, qualifier), unverified=unverified)

    def _per_unit(
        self, operation: str, spec: Mapping[str, Any] | None, key: str, model_id: str
    ) -> PriceEntry | None:
        # Sections priced per 1,000 units (flows: node transitions, rerank: queries): one
        # unit is one "input token" of the row, so a ledger reserves and settles units.
        if not spec or spec.get(key) is None:
            return None
        return PriceEntry(
            input=Decimal(str(spec[key])),
            output=_ZERO,
            model_id=model_id,
            name=str(spec.get("name", model_id)),
            source=str(spec.get("source", "")),
            as_of=str(spec.get("as_of", "")),
            evidence=str(spec.get("evidence", "unverified")),
            notes=str(spec.get("note", "")),
            unit=str(spec.get("unit", "")),
            region_scope=str(spec.get("region_scope", "")),
            operation=operation,
        )

    def _alias(self, base: str) -> Mapping[str, Any] | None:
        for raw in self.models.values():
            if base in (raw.get("aliases") or ()):
                return raw
        return None

    def _dearest(self, model_id: str = "") -> PriceEntry:
        if is_reranker(model_id):  # per query: only another reranker's price is comparable
            known = [e for k in self.sections.get("rerank") or {} if (e := self.lookup(k))]
        else:
            known = [e for e in self.entries() if e.operation == "chat"] or self.entries()
        if not known:
            what = f"no price for {model_id or 'a model'} and none in the table to fall back on"
            raise ConfigurationError(f"{what}; pass a PriceEntry", model_id=model_id or None)
        return PriceEntry(
            input=max(e.worst_input for e in known),
            output=max(e.output for e in known),
            name="fallback: dearest known rates",
            evidence="fallback",
        )


def _union(have: tuple[str, ...], more: Iterable[str] | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*have, *(more or ()))))


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
    lifecycle = raw.get("lifecycle") or {}
    unverified = tuple(raw.get("unverified_rates") or ())
    long_raw = raw.get("long_context")
    long_context = None
    if long_raw:
        inherited = {k: v for k, v in raw.items() if k not in ("long_context", *_RATE_KEYS)}
        long_context = replace(
            _entry(model_id, {**inherited, **long_raw}, variant),
            notes=str(long_raw.get("note", "")),
            unverified=unverified,
        )
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
        evidence=str(raw.get("evidence", raw.get("status", "unverified"))),
        notes=str(raw.get("notes", "")),
        unit=str(raw.get("unit", "USD per 1,000 tokens")),
        region_scope=str(raw.get("region_scope", "")),
        unverified=unverified,
        retired=str(lifecycle.get("retired", "")),
        operation=str(raw.get("operation", "chat")),
        long_context=long_context,
        long_context_above=int(long_raw["above_input_tokens"]) if long_raw else None,
    )


def batch_price(
    model_id: str, *, prices: PriceTable | None = None, on_unknown: OnUnknown = "warn"
) -> PriceEntry:
    """The batch-inference price of ``model_id``: the model's batch figures where the table
    has them, else 50% of on-demand (AWS docs). Cache rates stay at on-demand.

    The batch job code and the ledger (``batch:`` row ids) both price batches with it.
    """
    return (prices or default_prices()).batch_price(model_id, on_unknown=on_unknown)


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
            policy,
            None if value is None else Decimal(str(value)),
            str(spec.get("evidence", spec.get("status", "unverified"))),
            str(spec.get("unit", "USD per 1,000 text units")),
            str(spec.get("source", raw.get("source", ""))),
            str(spec.get("as_of", raw.get("as_of", ""))),
        )
    return prices


def load_prices(overrides: str | Path | Mapping[str, Any] | None = None) -> PriceTable:
    """Load the packaged price table, optionally with overrides on top.

    Args:
        overrides: A JSON file path or a dict shaped like ``prices.json``
            (``{"models": {"<model id>": {"input": "0.003", "output": "0.015", ...}}}``).
            Entries merge field by field into the packaged ones; model ids may be given in
            any form (profile id, ARN, ``:0`` suffix). Prices are per 1,000 tokens. Other
            sections (``rerank``, ``batch``, ``service_tiers``) replace the packaged ones.

    Raises:
        ConfigurationError: the overrides cannot be read or hold invalid prices.
    """
    data = packaged_data()
    if overrides is not None:
        data = merge_overrides(data, read_overrides(overrides))
    guardrails = data.get("guardrails") or {}
    table = PriceTable(
        models=data.get("models") or {},
        guardrails=_parse_guardrails(guardrails),
        guardrail_source=str(guardrails.get("source", "")),
        sections={k: v for k, v in data.items() if k not in ("models", "guardrails")},
    )
    table.entries()  # validate every entry now, not at the first call
    return table


@cache
def default_prices() -> PriceTable:
    """The packaged price table (cached)."""
    return load_prices()
