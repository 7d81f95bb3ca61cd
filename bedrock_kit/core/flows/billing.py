"""Prompt Flows on a :class:`~bedrock_kit.core.budget.ledger.Ledger`: node transitions.

Bedrock bills a Prompt Flow per node transition (the ``flows`` entry of the price table,
``USD per 1,000 node transitions``; still unverified, so reports flag it). How many nodes
an invocation runs is not known in advance, so a ledger needs a cap the caller sets,
``max_node_transitions_per_invocation``: each InvokeFlow call reserves the cap under the row
id ``flow:<flow id>/<alias id>`` (operation type ``flows`` in
:func:`~bedrock_kit.core.budget.summary.summarize`) before the request, and settles

* with traces on (``enable_trace=True``): to the node executions the traces show, per node
  the larger of its ``nodeInputTrace`` and ``nodeOutputTrace`` counts (an input node has no
  input trace, an output node no output trace), which errs high of the transitions between
  them; beyond the cap it is charged what ran (counted as an overrun);
* without traces (or traces that name no node): the whole cap (counted as usage missing).

A request refused before its stream began (no request id) is released; a stream that failed
or was dropped after it began is settled as above, the nodes having run. With no flows price
in the table, the ledger's unknown-price policy applies (warn and charge the fallback, or
refuse with ``on_unknown="error"``, or a given price).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from bedrock_kit.core.budget.ledger import Ledger, Reservation
from bedrock_kit.core.chat.types import Usage
from bedrock_kit.core.flows.traces import FlowNodeInputTrace, FlowNodeOutputTrace, FlowTrace
from bedrock_kit.errors import ConfigurationError

__all__ = ["check_flow_budget", "node_transitions", "reserve_flow", "settle_flow"]

_ZERO = Decimal(0)


def check_flow_budget(ledger: Any, cap: Any, *, flow: str = "") -> tuple[Ledger | None, int | None]:
    """Validate ``ledger=`` and ``max_node_transitions_per_invocation=``, by name.

    Raises:
        ConfigurationError: ``ledger`` is not a Ledger; a cap that is not an int >= 1; a
            ledger without a cap.
    """
    what = f"flow {flow}" if flow else "flow"
    if ledger is not None and not isinstance(ledger, Ledger):
        raise ConfigurationError(
            f"{what}: ledger must be a bedrock_kit Ledger, got {type(ledger).__name__}",
            model_id=flow or None,
            resource="flow",
        )
    if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 1):
        raise ConfigurationError(
            f"{what}: max_node_transitions_per_invocation must be an int >= 1, got {cap!r}",
            model_id=flow or None,
            resource="flow",
        )
    if ledger is not None and cap is None:
        raise ConfigurationError(
            f"{what}: a ledger needs max_node_transitions_per_invocation (how many nodes an "
            "invocation runs is not known in advance, so the ledger cannot reserve it otherwise)",
            model_id=flow or None,
            resource="flow",
        )
    return ledger, cap


def node_transitions(traces: Iterable[FlowTrace]) -> int:
    """Node executions the traces show (see the module doc)."""
    inputs: dict[str, int] = {}
    outputs: dict[str, int] = {}
    for trace in traces:
        if isinstance(trace, FlowNodeInputTrace):
            inputs[trace.node_name] = inputs.get(trace.node_name, 0) + 1
        elif isinstance(trace, FlowNodeOutputTrace):
            outputs[trace.node_name] = outputs.get(trace.node_name, 0) + 1
    return sum(max(inputs.get(n, 0), outputs.get(n, 0)) for n in {*inputs, *outputs})


def reserve_flow(ledger: Ledger, flow: str, cap: int) -> Reservation:
    """Hold ``cap`` node transitions of ``flow`` (``flowId/aliasId``).

    Raises:
        BudgetExceededError: it could cross a limit; nothing is sent.
    """
    return ledger.reserve(f"flow:{flow}", cap, 0)


def settle_flow(
    reservation: Reservation,
    *,
    sent: bool,
    traced: bool,
    traces: Iterable[FlowTrace],
    error: BaseException | None = None,
) -> Decimal:
    """Settle one invocation (see the module doc); returns its cost."""
    if not sent:
        reservation.release(error if error is not None else True)
        return _ZERO
    count = node_transitions(traces) if traced else 0
    if count <= 0:  # no traces, or traces without a node (every flow has two): the cap
        return reservation.settle_reserved()
    usage = Usage(input_tokens=count, total_tokens=count)
    return reservation.settle(usage, error=error is not None)
