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

from collections.abc import Iterable, Sequence

from langchain_core.messages import BaseMessage

from bedrock_kit.core.customization.data import Conversation, Record, build_records
from bedrock_kit.core.customization.profiles import Method, find_profile
from bedrock_kit.errors import ConfigurationError
from bedrock_kit.langchain._convert import to_core


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


__all__ = ["to_conversation", "training_records"]
