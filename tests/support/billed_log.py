"""Price LocalBedrock's request log (``request.billed``) with a price table, per report row.

The expected bill of a pipeline test comes from here: what LocalBedrock says each answer
billed, priced with the same table as the ledger, named the way a ledger report names its
rows (``guardrail:<id>``, ``retrieval:<model>``, ``agent:<model>``, ``retrieve:<kb>``, the
model id for chat, embeddings and rerank). Nothing is computed by hand.
"""

from __future__ import annotations

import re
import warnings
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from bedrock_kit.core.budget.pricing import PriceTable
from bedrock_kit.core.chat.types import Usage
from bedrock_kit.core.guardrails.assessments import GuardrailUsage
from bedrock_kit.testing import ReceivedRequest

_ARN_MODEL = re.compile(r"^arn:aws[\w-]*:bedrock:[^:]*:[^:]*:foundation-model/(.+)$")
_SNAKE = re.compile(r"(?<!^)(?=[A-Z])")
_CHAT = ("Converse", "ConverseStream", "InvokeModel", "InvokeModelWithResponseStream")


def model_of(arn_or_id: str) -> str:
    """A foundation-model ARN's model id (ids pass through)."""
    found = _ARN_MODEL.match(arn_or_id)
    return found.group(1) if found else arn_or_id


def guardrail_usage(units: Mapping[str, int]) -> GuardrailUsage:
    """Wire usage members (``contentPolicyUnits``...) as a GuardrailUsage."""
    return GuardrailUsage(**{_SNAKE.sub("_", name).lower(): n for name, n in units.items()})


@dataclass
class Bill:
    """The log priced per report row and per operation type, with calls per row."""

    rows: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    operations: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    guardrail_units: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def total(self) -> Decimal:
        return sum(self.rows.values(), Decimal(0))

    def add(self, row: str, operation: str, cost: Decimal, *, call: bool = True) -> None:
        self.rows[row] += cost
        self.operations[operation] += cost
        if call:
            self.calls[row] += 1


def _price(prices: PriceTable, row: str) -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an unknown model's fallback warns at the ledger too
        return prices.price(row)


def _tokens(prices: PriceTable, row: str, usage: Usage) -> Decimal:
    entry = _price(prices, row)
    return entry.cost(usage)  # type: ignore[attr-defined]


def price_log(
    requests: Iterable[ReceivedRequest],
    prices: PriceTable,
    *,
    unreported_caps: Mapping[str, int] | None = None,
) -> Bill:
    """What the log billed, priced with ``prices``.

    Args:
        requests: ``server.requests``.
        prices: The ledger's price table.
        unreported_caps: For answers that do not say what they billed (RetrieveAndGenerate),
            the output-token cap the caller configured, by operation: what a ledger charges
            for a call whose usage Bedrock never reports.
    """
    bill = Bill()
    caps = unreported_caps or {}
    for request in requests:
        billed = request.billed
        assert billed is not None, f"{request.operation}: LocalBedrock logged no bill"
        if billed.status >= 300 or billed.status == 0:
            continue
        op = request.operation
        for gid, units in billed.guardrail_units.items():
            cost = prices.guardrail_cost(guardrail_usage(units))
            bill.add(f"guardrail:{gid}", "guardrail", cost)
            bill.guardrail_units[f"guardrail:{gid}"] += sum(units.values())
        model = model_of(str(billed.model_id))
        if op == "Retrieve":
            row = f"retrieve:{request.path_params['knowledgeBaseId']}"
            bill.add(row, "retrieval", _tokens(prices, row, Usage(billed.retrieval_queries)))
        if billed.search_units or op == "Rerank":
            usage = Usage(input_tokens=billed.search_units)
            bill.add(model, "rerank", _tokens(prices, model, usage))
        elif billed.embedding_input_tokens:
            usage = Usage(input_tokens=billed.embedding_input_tokens)
            bill.add(model, "embeddings", _tokens(prices, model, usage))
        elif op in _CHAT:
            usage = Usage(
                billed.input_tokens,
                billed.output_tokens,
                cache_read_input_tokens=billed.cache_read_input_tokens,
                cache_write_input_tokens=billed.cache_write_input_tokens,
            )
            bill.add(model, "chat", _tokens(prices, model, usage))
        elif op.startswith("RetrieveAndGenerate"):
            row = f"retrieval:{model}"
            bill.add(row, "retrieval", _tokens(prices, row, Usage(0, caps[op])))
        elif op in ("InvokeAgent", "InvokeInlineAgent"):
            for agent_model, (tokens_in, tokens_out) in billed.agent_tokens.items():
                row = f"agent:{agent_model}"
                bill.add(row, "agents", _tokens(prices, row, Usage(tokens_in, tokens_out)))
    return bill
