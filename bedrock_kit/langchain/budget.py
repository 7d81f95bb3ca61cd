"""LangChain callback that enforces a budget :class:`~bedrock_kit.core.budget.ledger.Ledger`.

Works with any LangChain chat model that reports ``usage_metadata`` (ChatBedrockKit,
langchain-aws's ChatBedrockConverse and ChatBedrock, and others):

* ``on_chat_model_start`` reserves the worst case and, being a ``raise_error`` handler,
  raises :class:`~bedrock_kit.errors.BudgetExceededError` before the request is sent. The
  model id comes from ``metadata["ls_model_name"]`` (LangChain fills it from the model's
  ``_get_ls_params``), else from ``invocation_params``, except that a provisioned-model ARN
  the model invokes is used over the base model it names (billed by the hour:
  :mod:`bedrock_kit.core.budget.provisioned`); ``max_tokens`` from
  ``invocation_params`` (which hold call-time overrides), else ``ls_max_tokens``, else
  ``default_max_tokens``.
  The input is counted by ``token_counter`` when given (ChatBedrockKit's
  ``get_num_tokens_from_messages`` asks Bedrock's CountTokens), else estimated so as to err
  high for every script (:mod:`bedrock_kit.core.chat.token_estimate`; bound tool schemas
  and the tool-use overhead included).
* ``on_llm_end`` settles to ``AIMessage.usage_metadata``. LangChain's ``input_tokens``
  *includes* cache reads and writes (``input_token_details``), so they are subtracted to get
  Bedrock's uncached count. Streams report usage on the last chunk, which LangChain merges
  into the final generation. A response without usage is charged its full reservation and
  counted in the report's ``usage_missing`` (with a :class:`UsageMissingWarning`).
* ``on_llm_error`` settles to the partial usage if any; a stream the consumer abandoned
  (``GeneratorExit`` / ``CancelledError``, after the request went out) is charged the input
  estimate plus one output token per chunk received, since Bedrock bills it; a stream that
  failed after output started (cut by the server or the network, a malformed event) is
  charged the reserved input plus the output received, estimated from its characters, and
  counted in ``partial``; any other error releases the reservation and counts an error.

Runs are keyed by ``run_id``, so concurrent calls through one handler stay separate.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, GenerationChunk, LLMResult
from langchain_core.tracers.context import register_configure_hook

from bedrock_kit.core.budget.ledger import Ledger, Reservation, estimate_tokens
from bedrock_kit.core.budget.operations import claim
from bedrock_kit.core.budget.provisioned import is_provisioned_arn
from bedrock_kit.core.budget.tags import tags_applied
from bedrock_kit.core.chat.token_estimate import TOOLS_OVERHEAD, estimate_text_tokens
from bedrock_kit.core.chat.types import Usage
from bedrock_kit.core.guardrails.assessments import GuardrailTrace
from bedrock_kit.core.transport.arguments import strict_keywords
from bedrock_kit.errors import BudgetExceededError, MalformedResponseError
from bedrock_kit.langchain._tags import tags_in_metadata

__all__ = ["BedrockBudgetCallback", "TokenBudgetCallbackHandler", "token_budget"]

_MODEL_KEYS = ("model_id", "model", "model_name", "modelId", "base_model_id")
_ABANDONED = (GeneratorExit, asyncio.CancelledError, KeyboardInterrupt)


class UsageMissingWarning(UserWarning):
    """A model returned no usage; the call was charged its reserved token counts."""


@dataclass
class _Run:
    reservation: Reservation
    tags: dict[str, str] = field(default_factory=dict)
    chunks: int = 0
    received: list[str] = field(default_factory=list)

    def output_estimate(self, response: LLMResult | None = None) -> int:
        """Output received, erring high: the larger of the chunks' and the response's text."""
        streamed = estimate_text_tokens("".join(self.received))
        merged = 0
        for generations in response.generations if response is not None else ():
            merged += sum(estimate_text_tokens(_generation_text(g)) for g in generations)
        return max(streamed, merged, self.chunks)


def usage_from_metadata(usage: Mapping[str, Any]) -> Usage:
    """Core :class:`Usage` from LangChain ``usage_metadata`` (whose input includes cache)."""
    details = usage.get("input_token_details") or {}
    cache_read = int(details.get("cache_read") or 0)
    cache_write = int(details.get("cache_creation") or 0)
    total_input = int(usage.get("input_tokens") or 0)
    output = int(usage.get("output_tokens") or 0)
    return Usage(
        input_tokens=max(total_input - cache_read - cache_write, 0),
        output_tokens=output,
        cache_read_input_tokens=cache_read,
        cache_write_input_tokens=cache_write,
        total_tokens=int(usage.get("total_tokens") or total_input + output),
        cache_write_1h_input_tokens=int(details.get("ephemeral_1h_input_tokens") or 0),
    )


def _first(sources: Sequence[Mapping[str, Any] | None], keys: Sequence[str]) -> Any:
    for source in sources:
        for key in keys:
            if source and source.get(key):
                return source[key]
    return None


def _message_text(message: BaseMessage) -> str:
    if isinstance(message.content, str):
        text = message.content
    else:
        text = "".join(
            p if isinstance(p, str) else str(p.get("text") or p.get("reasoning") or "")
            for p in message.content
        )
    calls = getattr(message, "tool_calls", None)
    if calls:  # the model reads the calls it made: their names and arguments are input
        text += json.dumps(calls, default=str, ensure_ascii=False)
    return text


def _generation_text(generation: Any) -> str:
    message = getattr(generation, "message", None)
    text = _message_text(message) if isinstance(message, BaseMessage) else ""
    return text or str(getattr(generation, "text", "") or "")


def _chunk_text(token: Any, chunk: Any) -> str:
    message = getattr(chunk, "message", None)
    if isinstance(message, BaseMessage):
        text = _message_text(message)
        calls = getattr(message, "tool_call_chunks", None)
        if calls:
            text += "".join(str(c.get("name") or "") + str(c.get("args") or "") for c in calls)
        return text
    return token if isinstance(token, str) else json.dumps(token, default=str)


class TokenBudgetCallbackHandler(BaseCallbackHandler):
    """Enforce and record a token budget for LangChain chat models.

    Args:
        ledger: The ledger to charge; a new unlimited one when None.
        token_counter: A chat model whose ``get_num_tokens_from_messages`` counts input
            (ChatBedrockKit asks Bedrock's CountTokens API; note that this is a blocking
            call, also on the async path), or ``(model_id, messages) -> int``; the
            documented estimate (see :mod:`bedrock_kit.core.budget.ledger`) when None.
        default_max_tokens: Output tokens to reserve when the model sets no ``max_tokens``.
    """

    raise_error = True
    """Let BudgetExceededError escape the callback and stop the call."""
    run_inline = True
    """Run in the caller's thread/loop: the ledger is cheap and must see the caller's scope."""

    @strict_keywords
    def __init__(
        self,
        ledger: Ledger | None = None,
        *,
        token_counter: Any = None,
        default_max_tokens: int = 4096,
    ) -> None:
        self.ledger = ledger or Ledger()
        self.token_counter = token_counter
        self.default_max_tokens = default_max_tokens
        self._runs: dict[UUID, _Run] = {}
        self._lock = threading.Lock()

    # -- start: reserve or refuse

    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[BaseMessage]],
        *,
        run_id: UUID,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Reserve the call's worst case; raises BudgetExceededError when it does not fit."""
        batch = messages[0] if messages else []
        model_id, max_tokens = self._model_and_max_tokens(serialized, metadata, kwargs)
        counter = self.token_counter
        tools = (kwargs.get("invocation_params") or {}).get("tools")
        if hasattr(counter, "get_num_tokens_from_messages"):
            count = counter.get_num_tokens_from_messages
            input_tokens = int(count(batch, tools=tools) if tools else count(batch))
        elif counter is not None:
            input_tokens = int(counter(model_id, batch))
        else:
            texts = [_message_text(m) for m in batch]
            if tools:
                texts.append(json.dumps(tools, default=str, ensure_ascii=False))
            input_tokens = estimate_tokens(texts, messages=len(batch))
            input_tokens += TOOLS_OVERHEAD if tools else 0
        self._start(run_id, model_id, input_tokens, max_tokens, metadata)

    def on_llm_start(
        self,
        serialized: dict[str, Any],
        prompts: list[str],
        *,
        run_id: UUID,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Same as :meth:`on_chat_model_start`, for completion-style LLMs."""
        model_id, max_tokens = self._model_and_max_tokens(serialized, metadata, kwargs)
        self._start(run_id, model_id, estimate_tokens(prompts[:1]), max_tokens, metadata)

    def _model_and_max_tokens(
        self,
        serialized: Mapping[str, Any] | None,
        metadata: Mapping[str, Any] | None,
        kwargs: Mapping[str, Any],
    ) -> tuple[str, int]:
        params = kwargs.get("invocation_params") or {}
        ser_kwargs = (serialized or {}).get("kwargs") or {}
        model_id = _first([metadata, params, ser_kwargs], ("ls_model_name", *_MODEL_KEYS))
        served = _first([params, ser_kwargs], _MODEL_KEYS[:2])
        if served and is_provisioned_arn(str(served)):
            model_id = served  # billed by the hour: not at the base model's per-token price
        # invocation_params carry call-time overrides (invoke(..., max_tokens=...)).
        max_tokens = _first([params, metadata, ser_kwargs], ("max_tokens", "ls_max_tokens"))
        return str(model_id or "unknown"), int(max_tokens or self.default_max_tokens)

    def _start(
        self,
        run_id: UUID,
        model_id: str,
        input_tokens: int,
        max_tokens: int,
        metadata: Mapping[str, Any] | None,
    ) -> None:
        # The run's bedrock_kit_tags: the reservation keeps their scopes, so it settles to
        # them from whichever thread or task ends the run.
        tags = tags_in_metadata(metadata)
        with tags_applied(self.ledger, tags):
            reservation = self.ledger.reserve(model_id, input_tokens, max_tokens)
        with self._lock:
            self._runs[run_id] = _Run(reservation, tags)

    # -- stream progress

    def on_llm_new_token(
        self,
        token: str | list[str | dict[str, Any]],
        *,
        chunk: GenerationChunk | ChatGenerationChunk | None = None,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        """Count chunks and their characters: a cut or abandoned stream is charged them."""
        text = _chunk_text(token, chunk)
        with self._lock:
            run = self._runs.get(run_id)
            if run is not None:
                run.chunks += 1
                run.received.append(text)

    # -- end: settle

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        """Settle the reservation to the billed usage."""
        run = self._pop(run_id)
        if run is None:
            return
        found = _usage_of(response)
        if found is None:
            warnings.warn(
                f"{run.reservation.model_id}: the response carried no usage_metadata "
                "(or only zeros); charged the reserved input and max output tokens",
                UsageMissingWarning,
                stacklevel=2,
            )
            run.reservation.settle_reserved()
            return
        usage, model_id, guardrail = found
        if not claim(self.ledger, _request_id_of(response)):
            run.reservation.release()  # a class with ledger= charged this request already
            return
        run.reservation.settle(usage, model_id=model_id)
        with tags_applied(self.ledger, run.tags):
            self.ledger.record_guardrail_trace(guardrail)

    def on_llm_error(
        self,
        error: BaseException,
        *,
        run_id: UUID,
        response: LLMResult | None = None,
        **kwargs: Any,
    ) -> None:
        """Settle to partial usage, charge an abandoned or cut stream, or release."""
        run = self._pop(run_id)
        if run is None:
            return
        found = _usage_of(response) if response is not None else None
        if found is not None:
            run.reservation.settle(found[0], model_id=found[1], error=True)
            with tags_applied(self.ledger, run.tags):
                self.ledger.record_guardrail_trace(found[2])
        elif isinstance(error, _ABANDONED) and run.chunks:
            run.reservation.abandon(run.chunks)
        elif isinstance(error, MalformedResponseError):
            # An answer came back but not in the documented shape (usage missing or
            # unreadable): Bedrock may have billed it, so the whole reservation is charged.
            warnings.warn(
                f"{run.reservation.model_id}: the response was malformed ({error}); its usage "
                "is unknown, charged the reserved input and max output tokens",
                UsageMissingWarning,
                stacklevel=2,
            )
            run.reservation.settle_reserved()
        elif run.chunks:  # output started, then the stream failed: Bedrock billed it
            run.reservation.settle_partial(run.output_estimate(response))
        else:
            run.reservation.release(error)

    def _pop(self, run_id: UUID) -> _Run | None:
        with self._lock:
            return self._runs.pop(run_id, None)

    @property
    def open_runs(self) -> int:
        """Runs started and not yet ended (0 when nothing leaked)."""
        with self._lock:
            return len(self._runs)


BedrockBudgetCallback = TokenBudgetCallbackHandler
"""Alias of :class:`TokenBudgetCallbackHandler`."""


def _request_id_of(response: LLMResult) -> str | None:
    for generations in response.generations:
        for generation in generations:
            if isinstance(generation, ChatGeneration):
                found = (generation.message.response_metadata or {}).get("request_id")
                if isinstance(found, str):
                    return found
    return None


def _usage_of(response: LLMResult) -> tuple[Usage, str | None, GuardrailTrace | None] | None:
    for generations in response.generations:
        for generation in generations:
            if not isinstance(generation, ChatGeneration):
                continue
            message = generation.message
            usage = getattr(message, "usage_metadata", None)
            # No input is no usage: a call always has input (langchain-aws's ChatBedrock
            # reports zeros when the InvokeModel token-count headers are absent).
            if usage and usage.get("input_tokens"):
                meta = message.response_metadata or {}
                model_id = _first([meta, response.llm_output], _MODEL_KEYS)
                # ChatBedrockKit puts the typed trace here; guardrail units cost money too.
                guardrail = meta.get("guardrail")
                if not isinstance(guardrail, GuardrailTrace):
                    guardrail = None
                return usage_from_metadata(usage), model_id, guardrail
    return None


_handler_var: ContextVar[TokenBudgetCallbackHandler | None] = ContextVar(
    "bedrock_kit_token_budget", default=None
)
register_configure_hook(_handler_var, inheritable=True)


@contextmanager
def token_budget(
    ledger: Ledger | None = None, **limits: Any
) -> Iterator[TokenBudgetCallbackHandler]:
    """Enforce a budget on every LangChain model call made inside the block.

    ``with token_budget(max_cost="0.10") as budget: chain.invoke(...)`` then
    ``print(budget.ledger.report())``. Pass ``ledger`` to share one across blocks (limits
    then apply as a named scope ``token_budget``).
    """
    if ledger is None:
        ledger = Ledger(**limits)
        limits = {}
    handler = TokenBudgetCallbackHandler(ledger)
    token = _handler_var.set(handler)
    try:
        if limits:
            with ledger.scope("token_budget", **limits):
                yield handler
        else:
            yield handler
    finally:
        _handler_var.reset(token)


class ProgressCallbackHandler(BaseCallbackHandler):
    """A progress bar over many model calls: ``llm.abatch(inputs, config={"callbacks":
    [ProgressCallbackHandler(len(inputs))]})``. Needs the ``progress`` extra (tqdm)."""

    run_inline = True

    @strict_keywords
    def __init__(self, total: int, desc: str = "model calls") -> None:
        from bedrock_kit.progress import progress_bar

        self.bar = progress_bar(total, desc)

    def on_llm_end(self, response: Any, **kwargs: Any) -> None:
        """One call finished."""
        self.bar.update(1)

    def on_llm_error(self, error: BaseException, **kwargs: Any) -> None:
        """A failed call also counts as done."""
        self.bar.update(1)

    def close(self) -> None:
        """Close the bar."""
        self.bar.close()


class _RaisedBudgetRefusal(logging.Filter):
    """Drops langchain-core's "Error in TokenBudgetCallbackHandler..." warning for a refusal.

    langchain-core logs every exception a callback raises before re-raising it for a
    ``raise_error`` handler, so a refused call printed its BudgetExceededError twice: once as
    that warning, once as the error the caller gets. The caller's error is the one kept.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if not isinstance(args, tuple) or len(args) != 3:
            return True
        handler, _, error = args
        ours = {TokenBudgetCallbackHandler.__name__} | {
            c.__name__ for c in _subclasses(TokenBudgetCallbackHandler)
        }
        return not (handler in ours and str(error).startswith(BudgetExceededError.__name__))


def _subclasses(cls: type) -> Iterator[type]:
    sub: type
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


logging.getLogger("langchain_core.callbacks.manager").addFilter(_RaisedBudgetRefusal())
