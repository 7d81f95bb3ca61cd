"""Billed operations other than a plain chat call, charged through a Ledger's public methods.

Each function here reserves before the request and settles after, so a class that takes
``ledger=`` charges its operation the same way in the core and both adapters, sync and async:

* **ApplyGuardrail** (:func:`reserve_apply_guardrail`, :func:`settle_apply_guardrail`):
  reserved from the text length, ``ceil(characters / 1000)`` text units for each policy the
  caller says the guardrail has (every priced text policy when not said), settled to the
  assessment's ``usage`` per policy.
* **Guardrails inside Converse / InvokeModel** (:func:`request_guardrail_worst_cost`): the
  chat reservation also holds the guardrail's worst case, input text plus ``maxTokens`` of
  output at :data:`OUTPUT_CHARACTERS_PER_TOKEN`; the result's trace settles it per policy.
  A stream's output is evaluated chunk by chunk (``streamProcessingMode`` sync or async),
  each evaluation billed at least one text unit per policy, and a chunk holds at least one
  token: a stream reserves ``maxTokens`` more units, and settles to every chunk's
  assessment once.
* **Retrieve** (:func:`charging_retrieve`): one query per request under the row
  ``retrieve:<knowledge base id>`` (operation type ``retrieval``), priced from the table's
  ``knowledge_bases`` section; no source in reach prices a Retrieve query, so it is booked at
  0 and every report lists it as unverified rather than showing it free. A Retrieve that
  reranks (``rerankingConfiguration``) also holds one rerank query per request under the
  reranker's row.
* **RetrieveAndGenerate** and **agents** (:func:`reserve_model_tokens`,
  :func:`settle_model_tokens`): model tokens, reserved from a cap (the generation's
  ``maxTokens``; for agents, the caller's ``max_tokens_per_invocation``) and settled to the
  tokens reported. An agent called with a ledger and no cap is refused
  (:class:`~bedrock_kit.errors.ConfigurationError`): its use is not known in advance.

One charge per request id: :func:`claim` records, per ledger, the request ids already
charged, so a callback handler that sees the same response (a LangChain or LlamaIndex budget
handler on top of a class with ``ledger=``) releases its own reservation instead of charging
twice.
"""

from __future__ import annotations

import math
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, Protocol

from bedrock_kit.core.budget.model_ids import is_reranker
from bedrock_kit.core.budget.pricing import PriceTable
from bedrock_kit.core.chat.types import Usage
from bedrock_kit.core.guardrails.assessments import GuardrailUsage
from bedrock_kit.errors import ConfigurationError, MalformedResponseError


class Reservation(Protocol):
    """What these functions need of a :class:`~bedrock_kit.core.budget.ledger.Reservation`."""

    def settle(self, usage: Usage, *, model_id: str | None = None) -> Decimal: ...

    def settle_guardrail(self, usage: GuardrailUsage) -> Decimal: ...

    def settle_reserved(self) -> Decimal: ...

    def release(self, error: BaseException | bool | None = None) -> None: ...


class Ledger(Protocol):
    """What these functions need of a :class:`~bedrock_kit.core.budget.ledger.Ledger` (the
    ledger module imports this one, so the type is structural)."""

    def reserve(
        self, model_id: str, input_tokens: int | None = None, max_output_tokens: int = 0
    ) -> Reservation: ...

    def reserve_guardrail(
        self, guardrail_id: str, characters: int, *, policies: Iterable[str] | None = None
    ) -> Reservation: ...


__all__ = [
    "OPERATIONS",
    "OUTPUT_CHARACTERS_PER_TOKEN",
    "TEXT_UNIT_CHARACTERS",
    "Ledger",
    "ModelTokenCharge",
    "Reservation",
    "charged",
    "charging_guardrail",
    "charging_model_tokens",
    "charging_retrieve",
    "check_policies",
    "claim",
    "operation_of",
    "request_guardrail_worst_cost",
    "request_text_characters",
    "reserve_apply_guardrail",
    "reserve_model_tokens",
    "settle_apply_guardrail",
    "settle_model_tokens",
]

OPERATIONS = (
    "chat",
    "guardrail",
    "embeddings",
    "rerank",
    "retrieval",
    "agents",
    "flows",
    "batch",
    "provisioned",
    "storage",
)
"""Operation types a report groups by (:func:`operation_of`)."""

TEXT_UNIT_CHARACTERS = 1000
"""A guardrail text unit: up to 1,000 characters, per policy, rounded up per evaluation."""

OUTPUT_CHARACTERS_PER_TOKEN = 8
"""Characters per output token assumed when reserving a Converse guardrail's output side
(text averages about 4; twice that errs high)."""

_KEEP = 4096  # request ids remembered per ledger
_ZERO = Decimal(0)
_lock = threading.Lock()
_seen: weakref.WeakKeyDictionary[Any, OrderedDict[str, None]] = weakref.WeakKeyDictionary()
# Row-id prefixes that name an operation; other rows are model calls (chat or embeddings).
_PREFIXES = {
    "guardrail": "guardrail",
    "batch": "batch",
    "rerank": "rerank",
    "retrieval": "retrieval",
    "retrieve": "retrieval",
    "agent": "agents",
    "flow": "flows",
    "provisioned": "provisioned",
    "storage": "storage",
    "embeddings": "embeddings",
}


def claim(ledger: Ledger, request_id: str | None, kind: str = "") -> bool:
    """Record that ``request_id`` is charged on ``ledger``; False when it already was.

    ``kind`` separates charges of one request that are billed apart (``"guardrail"`` for a
    standalone check). A request without an id is always charged (it cannot be matched).
    """
    if not request_id:
        return True
    key = f"{kind}:{request_id}"
    with _lock:
        seen = _seen.get(ledger)
        if seen is None:
            seen = _seen[ledger] = OrderedDict()
        if key in seen:
            return False
        seen[key] = None
        if len(seen) > _KEEP:
            seen.popitem(last=False)
        return True


def charged(ledger: Ledger, request_id: str | None, kind: str = "") -> bool:
    """True when ``request_id`` was already charged on ``ledger`` (see :func:`claim`)."""
    if not request_id:
        return False
    with _lock:
        seen = _seen.get(ledger)
        return seen is not None and f"{kind}:{request_id}" in seen


def operation_of(row_id: str, prices: PriceTable | None = None) -> str:
    """The operation type of a report row: its prefix, else the model's (chat, embeddings)."""
    head, sep, _ = row_id.partition(":")
    if sep and head in _PREFIXES:
        return _PREFIXES[head]
    if is_reranker(row_id):  # priced or not, a reranker's row is a rerank
        return "rerank"
    if prices is not None:
        entry = prices.lookup(row_id)
        if entry is not None and entry.operation in OPERATIONS:
            return entry.operation
    return "chat"


# -- ApplyGuardrail


def reserve_apply_guardrail(
    ledger: Ledger,
    guardrail_id: str,
    characters: int,
    *,
    policies: Iterable[str] | None = None,
) -> Reservation:
    """Hold an ApplyGuardrail call's worst case (before the request is sent).

    Raises:
        BudgetExceededError: it could cross a limit.
    """
    return ledger.reserve_guardrail(guardrail_id, characters, policies=policies)


def settle_apply_guardrail(
    ledger: Ledger, reservation: Reservation, usage: GuardrailUsage, request_id: str | None
) -> Decimal:
    """Settle to the billed units, once per request id (a repeat is released)."""
    if not claim(ledger, request_id, "guardrail"):
        reservation.release()
        return _ZERO
    return reservation.settle_guardrail(usage)


# -- guardrails inside Converse / InvokeModel


def request_text_characters(request: Mapping[str, Any]) -> int:
    """Characters of every text a Converse request sends (what its guardrail evaluates)."""
    return _characters(request.get("system")) + _characters(request.get("messages"))


def _characters(value: Any) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, Mapping):
        return sum(_characters(v) for k, v in value.items() if k not in ("bytes", "image"))
    if isinstance(value, list | tuple):
        return sum(_characters(v) for v in value)
    return 0


def request_guardrail_worst_cost(
    prices: PriceTable, request: Mapping[str, Any], max_output_tokens: int, *, stream: bool = False
) -> Decimal:
    """USD a request's ``guardrailConfig`` could bill: input and output text, every policy.

    Zero when the request has no guardrail. InvokeModel bodies are measured by their length.
    ``stream``: the output is evaluated per chunk (see the module doc), up to one evaluation
    per output token, each rounded up to a whole text unit.
    """
    if not request.get("guardrailConfig") and not request.get("guardrailIdentifier"):
        return _ZERO
    body = request.get("body")
    if isinstance(body, bytes | bytearray | str):
        inbound = len(body)
    else:
        inbound = request_text_characters(request)
    outbound = max_output_tokens * OUTPUT_CHARACTERS_PER_TOKEN
    units = _units(inbound) + _units(outbound) + (max(max_output_tokens, 1) if stream else 0)
    return Decimal(units) * prices.guardrail_unit_price() / 1000


def _units(characters: int) -> int:
    return math.ceil(characters / TEXT_UNIT_CHARACTERS) if characters > 0 else 0


# -- model tokens of RetrieveAndGenerate and agents


def reserve_model_tokens(
    ledger: Ledger,
    row_id: str,
    *,
    input_tokens: int,
    max_output_tokens: int | None,
    what: str,
) -> Reservation:
    """Hold the model tokens of an operation whose model runs inside Bedrock.

    Args:
        ledger: The ledger.
        row_id: ``retrieval:<model id>`` or ``agent:<model id>``; priced as the model.
        input_tokens: Input tokens reserved (the caller's cap or estimate).
        max_output_tokens: Output tokens reserved; None refuses (no cap was given).
        what: The resource named in a refusal (``agent ABC123 alias TSTALIASID``).

    Raises:
        ConfigurationError: no cap was given.
        BudgetExceededError: it could cross a limit.
    """
    if isinstance(max_output_tokens, bool) or (
        max_output_tokens is not None
        and (not isinstance(max_output_tokens, int) or max_output_tokens < 1)
    ):
        raise ConfigurationError(
            f"{what}: max_tokens_per_invocation must be an int >= 1, got {max_output_tokens!r}"
        )
    if max_output_tokens is None:
        raise ConfigurationError(
            f"{what}: a ledger needs max_tokens_per_invocation (its token use is not known in "
            "advance, so the ledger cannot reserve it otherwise)"
        )
    return ledger.reserve(row_id, input_tokens, max_output_tokens)


def settle_model_tokens(
    ledger: Ledger,
    reservation: Reservation,
    usage: Usage | None,
    request_id: str | None,
    *,
    model_id: str | None = None,
) -> Decimal:
    """Settle to the tokens reported (the whole reservation when none were), once per id."""
    if not claim(ledger, request_id):
        reservation.release()
        return _ZERO
    if usage is None or usage.total_input_tokens + usage.output_tokens <= 0:
        return reservation.settle_reserved()
    return reservation.settle(usage, model_id=model_id)


_POLICY_FIELDS = tuple(
    name for name in GuardrailUsage.__dataclass_fields__ if name.endswith("_policy_units")
)


def check_policies(
    policies: Iterable[str] | None, *, guardrail_id: str = ""
) -> tuple[str, ...] | None:
    """Validate the policies a guardrail has configured (``content``, ``topic``, ``word``,
    ``sensitive_information``, ``contextual_grounding``, ``automated_reasoning``, or the
    :class:`GuardrailUsage` field names); None stays None (every priced policy).

    Raises:
        ConfigurationError: an unknown policy name.
    """
    if policies is None:
        return None
    if isinstance(policies, str):
        policies = (policies,)
    fields: list[str] = []
    for name in policies:
        field_name = name if name.endswith("_units") else f"{name}_policy_units"
        if field_name not in _POLICY_FIELDS:
            raise ConfigurationError(
                f"unknown guardrail policy {name!r}"
                + (f" for guardrail {guardrail_id}" if guardrail_id else "")
                + f"; expected some of {[f.removesuffix('_policy_units') for f in _POLICY_FIELDS]}",
                model_id=guardrail_id or None,
            )
        fields.append(field_name)
    return tuple(dict.fromkeys(fields))


@contextmanager
def charging_guardrail(
    ledger: Ledger | None,
    guardrail_id: str,
    characters: int,
    policies: Iterable[str] | None = None,
) -> Iterator[Callable[[GuardrailUsage, str | None], Decimal]]:
    """Reserve an ApplyGuardrail call; the yielded function settles it to the billed usage.

    A malformed answer is charged the whole reservation (Bedrock answered, so it billed);
    any other exception releases it. Without a ledger, nothing is charged.
    """
    if ledger is None:
        yield lambda usage, request_id: _ZERO
        return
    reservation = reserve_apply_guardrail(ledger, guardrail_id, characters, policies=policies)
    try:
        yield lambda usage, request_id: settle_apply_guardrail(
            ledger, reservation, usage, request_id
        )
    except MalformedResponseError:
        reservation.settle_reserved()
        raise
    except BaseException as exc:
        reservation.release(exc)
        raise


class ModelTokenCharge:
    """One held charge of model tokens run inside Bedrock (an agent or RetrieveAndGenerate
    call); see :func:`charging_model_tokens`."""

    def __init__(self, ledger: Ledger, reservation: Reservation) -> None:
        self.ledger = ledger
        self.reservation = reservation
        self.requests = 0
        """Requests sent so far (after the first, an error still bills)."""

    def sent(self) -> None:
        """Note that a request went out."""
        self.requests += 1

    def settle(
        self, usage: Usage | None, request_id: str | None, *, model_id: str | None = None
    ) -> Decimal:
        """Settle to the reported tokens (the whole hold when none were reported)."""
        return settle_model_tokens(
            self.ledger, self.reservation, usage, request_id, model_id=model_id
        )


@contextmanager
def charging_model_tokens(
    ledger: Ledger | None, row_id: str, max_tokens: int | None, *, what: str
) -> Iterator[ModelTokenCharge | None]:
    """Hold ``max_tokens`` (the caller's per-invocation cap) for an agent or RAG call.

    The cap is reserved as output tokens, the dearest kind, so it bounds any split of that
    many billed tokens. An exception after a request went out charges the whole hold (the
    call was billed, its usage is unknown); before, it releases. Without a ledger, yields
    None.

    Raises:
        ConfigurationError: a ledger without a cap.
        BudgetExceededError: the cap could cross a limit.
    """
    if ledger is None:
        yield None
        return
    reservation = reserve_model_tokens(
        ledger, row_id, input_tokens=0, max_output_tokens=max_tokens, what=what
    )
    charge = ModelTokenCharge(ledger, reservation)
    try:
        yield charge
    except BaseException as exc:
        if charge.requests:
            reservation.settle_reserved()
        else:
            reservation.release(exc)
        raise
    finally:
        reservation.release()  # no-op once settled


@contextmanager
def charging_retrieve(
    ledger: Ledger | None, knowledge_base_id: str, *, reranker: str | None = None
) -> Iterator[ModelTokenCharge | None]:
    """Hold one Retrieve query on ``ledger``; settled to the requests sent (one per page).

    ``reranker``: the model of the request's ``rerankingConfiguration``; each request also
    bills it one rerank query (a retrieval returns at most 100 results), held and settled
    under that model's row like a Rerank call (an unpriced reranker follows the ledger's
    unknown-price policy). Call ``charge.sent()`` per request. A failure before any request
    releases the holds; after one, the requests sent are charged. Without a ledger, yields
    None.

    Raises:
        BudgetExceededError: the query could cross a limit (``max_calls``, a cost limit when
            the table prices Retrieve or the reranker).
    """
    if ledger is None:
        yield None
        return
    holds = [ledger.reserve(f"retrieve:{knowledge_base_id}", 1, 0)]
    try:
        if reranker:
            holds.append(ledger.reserve(reranker, 1, 0))
    except BaseException as exc:
        holds[0].release(exc)
        raise
    charge = ModelTokenCharge(ledger, holds[0])
    try:
        yield charge
    except BaseException as exc:
        for hold in holds:
            if charge.requests:
                hold.settle(Usage(charge.requests, 0))
            else:
                hold.release(exc)
        raise
    for hold in holds:
        hold.settle(Usage(charge.requests, 0))
