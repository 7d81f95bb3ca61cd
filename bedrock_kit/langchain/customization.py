"""LangChain chat message lists as training data for Bedrock model customization.

.. code-block:: python

    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
    from bedrock_kit.langchain.customization import training_records

    records = training_records(
        [[SystemMessage("Label the ticket."), HumanMessage("My card was charged twice"),
          AIMessage("billing")]],
        "anthropic.claude-3-haiku-20240307-v1:0:200k",
    )
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from langchain_core.messages import BaseMessage

from bedrock_kit.core.budget.ledger import Ledger
from bedrock_kit.core.customization.data import Conversation, Record, build_records
from bedrock_kit.core.customization.profiles import Method, find_profile
from bedrock_kit.core.customization.serving import (
    Commitment,
    aprovision,
    plane_arguments,
    provision,
)
from bedrock_kit.core.customization.wire import CustomModel
from bedrock_kit.errors import ConfigurationError
from bedrock_kit.langchain._convert import to_core
from bedrock_kit.langchain.chat import ChatBedrockKit


def to_conversation(messages: Sequence[BaseMessage]) -> Conversation:
    """One training :class:`Conversation` from a LangChain message list.

    Raises:
        ConfigurationError: A system message holds something other than plain text.
    """
    system, turns = to_core(messages)
    texts = [getattr(block, "text", None) for block in system]
    if any(not isinstance(t, str) for t in texts):
        raise ConfigurationError("training system prompts take plain text only")
    return Conversation(turns, "\n".join(t for t in texts if t) or None)


def training_records(
    conversations: Iterable[Sequence[BaseMessage]],
    base_model_id: str,
    method: Method = "FINE_TUNING",
) -> list[Record]:
    """Records in the format ``base_model_id`` takes for ``method``, one per conversation."""
    profile = find_profile(base_model_id, method)
    return build_records((to_conversation(c) for c in conversations), profile)


def provisioned_chat_model(
    model: str | CustomModel,
    *,
    model_units: int,
    name: str,
    commitment: Commitment | None = None,
    ledger: Ledger | None = None,
    hourly_rate: Any = None,
    poll_interval: float = 30.0,
    timeout: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
    plane_args: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> ChatBedrockKit:
    """Buy provisioned throughput for ``model``, wait until it serves, return a chat model on it.

    With ``ledger`` and ``hourly_rate``, the purchase is checked against the ledger's
    ``max_cost_per_month`` before the request and accrues hourly in its reports
    (:func:`bedrock_kit.core.customization.serving.provision`). The chat model returned charges
    the same ledger: its calls are booked on the provisioned throughput's row with their real
    token counts at 0 USD per token (provisioned throughput is billed by the hour, not per
    token), sync, async and streamed (:mod:`bedrock_kit.core.budget.provisioned`).

    Args:
        model: A custom model, its ARN, or a foundation model id.
        model_units: Model units to buy.
        name: The provisioned model's name.
        commitment: ``OneMonth``, ``SixMonths`` or None (custom models only).
        ledger: Charge the purchase to this ledger's recurring charges, and the returned
            model's calls to this ledger (their tokens at 0 USD).
        hourly_rate: USD per model unit per hour (the console's): needed with ``ledger``.
        poll_interval: Seconds between status checks while it is ``Creating``.
        timeout: Give up waiting after this many seconds.
        sleep: Sleep function (tests pass a fake).
        plane_args: Client arguments of the ``bedrock`` control plane; by default the
            client settings among ``kwargs``.
        **kwargs: Arguments of the chat model.
    """
    handle = provision(
        model,
        model_units=model_units,
        name=name,
        commitment=commitment,
        ledger=ledger,
        hourly_rate=hourly_rate,
        poll_interval=poll_interval,
        timeout=timeout,
        sleep=sleep,
        **plane_arguments(kwargs, plane_args),
    )
    return ChatBedrockKit.from_custom_model(handle, ledger=ledger, **kwargs)


async def aprovisioned_chat_model(
    model: str | CustomModel,
    *,
    model_units: int,
    name: str,
    commitment: Commitment | None = None,
    ledger: Ledger | None = None,
    hourly_rate: Any = None,
    poll_interval: float = 30.0,
    timeout: float | None = None,
    plane_args: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> ChatBedrockKit:
    """Async :func:`provisioned_chat_model`."""
    handle = await aprovision(
        model,
        model_units=model_units,
        name=name,
        commitment=commitment,
        ledger=ledger,
        hourly_rate=hourly_rate,
        poll_interval=poll_interval,
        timeout=timeout,
        **plane_arguments(kwargs, plane_args),
    )
    return ChatBedrockKit.from_custom_model(handle, ledger=ledger, **kwargs)


__all__ = [
    "aprovisioned_chat_model",
    "provisioned_chat_model",
    "to_conversation",
    "training_records",
]
