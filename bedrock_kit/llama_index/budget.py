"""LlamaIndex handlers that enforce or record a :class:`~bedrock_kit.core.budget.ledger.Ledger`.

Why a *callback* handler enforces and the *instrumentation* handler only records: LlamaIndex's
instrumentation dispatcher (``llama_index_instrumentation.Dispatcher.event`` and
``span_enter``) catches and discards every exception a handler raises, so a budget check
there cannot stop a call. The legacy :class:`~llama_index.core.callbacks.CallbackManager`
does not: ``llm_chat_callback`` / ``llm_completion_callback`` call
``CallbackManager.on_event_start`` *before* the model method runs, and an exception raised
there propagates to the caller, so the request is never sent.

* :class:`TokenBudgetHandler` (callback manager): reserves on the LLM event start, raising
  :class:`~bedrock_kit.errors.BudgetExceededError` before the request; settles on the event
  end from ``response.raw["usage"]``. The input is counted by ``token_counter`` when given,
  else estimated so as to err high for every script
  (:mod:`bedrock_kit.core.chat.token_estimate`). Settle rules: a response without usage is
  charged its full reservation (``usage_missing`` in the report); a stream that fails after
  output started (cut by the server or the network, a malformed event) is charged the
  reserved input plus the output received, estimated from its characters (``partial``); a
  stream the consumer abandons is charged its reserved input; an error before any output
  releases. The callback payload of a failed stream carries only
  the exception, so the handler follows the stream's progress through LlamaIndex's
  instrumentation events (``LLMChatInProgressEvent`` / ``LLMCompletionInProgressEvent``,
  matched by span id; one shared observer on the root dispatcher, installed on first use).
  Attach it with ``CallbackManager([handler])`` on the LLM or in ``Settings``.
* :class:`BudgetEventHandler` (instrumentation): records the usage of any LlamaIndex LLM
  call, without enforcing. Use one or the other for a given LLM, not both.

Usage is the core ``Usage`` BedrockKitLLM puts in ``additional_kwargs["usage"]`` when
present (exact), else ``ChatResponse.raw["usage"]``: ``prompt_tokens`` /
``completion_tokens`` plus ``cache_read_input_tokens`` / ``cache_write_input_tokens``, or
Bedrock's camelCase ``inputTokens`` / ``outputTokens`` / ``cacheReadInputTokens`` /
``cacheWriteInputTokens``. BedrockKitLLM's ``prompt_tokens`` includes the cache tokens
(``total_tokens == prompt_tokens + completion_tokens``); when the totals show that, the cache
tokens are subtracted instead of double counted, otherwise ``prompt_tokens`` is taken as
Bedrock's uncached count. A typed guardrail trace in ``additional_kwargs["guardrail"]`` is
charged too.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from llama_index.core.callbacks.base_handler import BaseCallbackHandler
from llama_index.core.callbacks.schema import CBEventType, EventPayload
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events import BaseEvent
from llama_index.core.instrumentation.events.llm import (
    LLMChatEndEvent,
    LLMChatInProgressEvent,
    LLMChatStartEvent,
    LLMCompletionEndEvent,
    LLMCompletionInProgressEvent,
    LLMCompletionStartEvent,
)
from llama_index.core.instrumentation.span import active_span_id
from pydantic import Field, PrivateAttr

from bedrock_kit._strict_arguments import StrictArguments
from bedrock_kit.core.budget.ledger import Ledger, Reservation, estimate_tokens
from bedrock_kit.core.budget.operations import claim
from bedrock_kit.core.budget.tags import check_tags, tags_applied
from bedrock_kit.core.chat.token_estimate import estimate_text_tokens
from bedrock_kit.core.chat.types import Usage
from bedrock_kit.core.guardrails.assessments import GuardrailTrace
from bedrock_kit.core.transport.arguments import strict_keywords
from bedrock_kit.errors import MalformedResponseError
from bedrock_kit.llama_index._tags import CALL_KEYWORD, call_tags

__all__ = ["BudgetEventHandler", "TokenBudgetHandler", "usage_from_raw"]

_MODEL_KEYS = ("model_id", "model", "model_name")
_ABANDONED = (GeneratorExit, KeyboardInterrupt)
_MAX_OPEN_SPANS = 10_000


class UsageMissingWarning(UserWarning):
    """An LLM response carried no usage; the call was charged its reserved token counts."""


def _int(usage: Mapping[str, Any], *keys: str) -> int:
    for key in keys:
        if usage.get(key) is not None:
            return int(usage[key])
    return 0


def usage_from_raw(raw: Any) -> Usage | None:
    """Core :class:`Usage` from ``ChatResponse.raw`` (see the module doc), or None."""
    usage = raw.get("usage") if isinstance(raw, Mapping) else getattr(raw, "usage", None)
    if not isinstance(usage, Mapping) or not usage:
        return None
    prompt = _int(usage, "prompt_tokens", "inputTokens", "input_tokens")
    output = _int(usage, "completion_tokens", "outputTokens", "output_tokens")
    read = _int(usage, "cache_read_input_tokens", "cacheReadInputTokens")
    write = _int(
        usage, "cache_write_input_tokens", "cacheWriteInputTokens", "cache_creation_input_tokens"
    )
    total = _int(usage, "total_tokens", "totalTokens")
    if total and (read or write) and total == prompt + output:
        prompt = max(prompt - read - write, 0)  # prompt_tokens already held the cache tokens
    if not (prompt or output or read or write):
        return None  # all zeros is no usage: a call always has input
    return Usage(prompt, output, read, write, total or prompt + read + write + output)


@dataclass
class _Progress:
    pieces: int = 0
    text: str = ""


class _StreamProgress(BaseEventHandler):
    """Root-dispatcher observer: the output streamed so far, for spans a handler watches."""

    _watched: dict[str, _Progress] = PrivateAttr(default_factory=dict)
    _lock: Any = PrivateAttr(default_factory=threading.Lock)

    @classmethod
    def class_name(cls) -> str:
        """Class name."""
        return "BedrockKitBudgetStreamProgress"

    def watch(self, span_id: str) -> None:
        with self._lock:
            self._watched[span_id] = _Progress()
            if len(self._watched) > _MAX_OPEN_SPANS:  # spans never ended: stay bounded
                del self._watched[next(iter(self._watched))]

    def unwatch(self, span_id: str | None) -> _Progress:
        with self._lock:
            return self._watched.pop(span_id or "", None) or _Progress()

    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        """Keep the longest output text seen for a watched span."""
        if not isinstance(event, LLMChatInProgressEvent | LLMCompletionInProgressEvent):
            return
        text = _response_text(event.response)
        with self._lock:
            progress = self._watched.get(str(event.span_id))
            if progress is not None:
                progress.pieces += 1
                if len(text) > len(progress.text):
                    progress.text = text


def _response_text(response: Any) -> str:
    message = getattr(response, "message", None)
    if message is None:  # CompletionResponse
        return str(getattr(response, "text", "") or "")
    parts = [str(message.content or "")]
    for block in getattr(message, "blocks", None) or ():
        if type(block).__name__ != "TextBlock":  # tool calls, thinking: output too
            parts.append(str(block))
    return "".join(parts)


_progress_lock = threading.Lock()
_progress: list[_StreamProgress] = []  # the one observer, once installed


def _stream_progress() -> _StreamProgress:
    with _progress_lock:
        if not _progress:
            from llama_index_instrumentation import get_dispatcher

            _progress.append(_StreamProgress())
            get_dispatcher().add_event_handler(_progress[0])
        return _progress[0]


def _texts(payload: Mapping[Any, Any]) -> tuple[list[str], int]:
    messages = payload.get(EventPayload.MESSAGES)
    if messages is not None:
        return [str(m.content or "") for m in messages], len(messages)
    return [str(payload.get(EventPayload.PROMPT) or "")], 1


def _response_usage(response: Any) -> tuple[Usage | None, str | None]:
    if response is None:
        return None, None
    raw = getattr(response, "raw", None)
    extra = getattr(response, "additional_kwargs", None) or {}
    # BedrockKitLLM also puts the core Usage itself in additional_kwargs: exact, use it.
    usage = extra.get("usage") if isinstance(extra.get("usage"), Usage) else usage_from_raw(raw)
    if usage is not None and usage.total_input_tokens <= 0:
        usage = None  # a call always has input: zeros mean the usage is missing
    model_id = None
    if isinstance(raw, Mapping):
        model_id = next((raw[k] for k in (*_MODEL_KEYS, "modelId") if raw.get(k)), None)
    return usage, model_id


def _request_id_of(response: Any) -> str | None:
    found = (getattr(response, "additional_kwargs", None) or {}).get("request_id")
    return found if isinstance(found, str) else None


def _guardrail_of(response: Any) -> GuardrailTrace | None:
    trace = (getattr(response, "additional_kwargs", None) or {}).get("guardrail")
    return trace if isinstance(trace, GuardrailTrace) else None


class TokenBudgetHandler(BaseCallbackHandler):
    """Enforce a budget on LlamaIndex LLM calls (chat, complete, their streams and async).

    Args:
        ledger: The ledger to charge; a new unlimited one when None.
        token_counter: ``(model_id, texts) -> input tokens``; the documented estimate when
            None.
        default_max_tokens: Output tokens to reserve when the LLM's metadata has no
            ``num_output``.
    """

    @strict_keywords
    def __init__(
        self,
        ledger: Ledger | None = None,
        *,
        token_counter: Any = None,
        default_max_tokens: int = 4096,
    ) -> None:
        super().__init__(event_starts_to_ignore=[], event_ends_to_ignore=[])
        self.ledger = ledger or Ledger()
        self.token_counter = token_counter
        self.default_max_tokens = default_max_tokens
        self._runs: dict[str, Reservation | None] = {}
        self._tags: dict[str, dict[str, str]] = {}
        self._spans: dict[str, str | None] = {}
        self._lock = threading.Lock()
        self._progress = _stream_progress()

    def on_event_start(
        self,
        event_type: CBEventType,
        payload: dict[str, Any] | None = None,
        event_id: str = "",
        parent_id: str = "",
        **kwargs: Any,
    ) -> str:
        """Reserve an LLM call's worst case; raises BudgetExceededError when it does not fit."""
        if event_type != CBEventType.LLM or payload is None:
            return event_id
        with self._lock:
            nested = parent_id in self._runs
        if nested:  # e.g. CustomLLM.chat calling complete: one request, one reservation
            with self._lock:
                self._runs[event_id] = None
            return event_id
        model = payload.get(EventPayload.SERIALIZED) or {}
        extra = payload.get(EventPayload.ADDITIONAL_KWARGS) or {}
        model_id = str(next((model[k] for k in _MODEL_KEYS if model.get(k)), "unknown"))
        max_tokens = int(
            extra.get("max_tokens") or model.get("num_output") or self.default_max_tokens
        )
        texts, count = _texts(payload)
        if self.token_counter is not None:
            input_tokens = int(self.token_counter(model_id, texts))
        else:
            input_tokens = estimate_tokens(texts, messages=count)
        # The call's ledger_tags (and the LLM's own): the reservation keeps their scopes, so
        # it settles to them from whichever thread ends the call.
        tags = call_tags(check_tags(model.get(CALL_KEYWORD)), extra.get(CALL_KEYWORD))
        with tags_applied(self.ledger, tags):
            reservation = self.ledger.reserve(model_id, input_tokens, max_tokens)
        span_id = active_span_id.get()
        if span_id is not None:
            self._progress.watch(span_id)
        with self._lock:
            self._runs[event_id] = reservation
            self._tags[event_id] = tags
            self._spans[event_id] = span_id
        return event_id

    def on_event_end(
        self,
        event_type: CBEventType,
        payload: dict[str, Any] | None = None,
        event_id: str = "",
        **kwargs: Any,
    ) -> None:
        """Settle to the response's usage, or release on error."""
        if event_type != CBEventType.LLM:
            return
        with self._lock:
            reservation = self._runs.pop(event_id, None)
            tags = self._tags.pop(event_id, {})
            span_id = self._spans.pop(event_id, None)
        if reservation is None:
            return
        progress = self._progress.unwatch(span_id)
        payload = payload or {}
        error = payload.get(EventPayload.EXCEPTION)
        response = payload.get(EventPayload.RESPONSE) or payload.get(EventPayload.COMPLETION)
        usage, model_id = _response_usage(response)
        partial_text = progress.text or str(getattr(error, "partial_text", "") or "")
        if usage is not None and not claim(self.ledger, _request_id_of(response)):
            reservation.release()  # a class with ledger= charged this request already
        elif usage is not None:
            reservation.settle(usage, model_id=model_id, error=error is not None)
            with tags_applied(self.ledger, tags):
                self.ledger.record_guardrail_trace(_guardrail_of(response))
        elif isinstance(error, _ABANDONED):
            # The request went out and Bedrock bills its input; output is charged as zero,
            # as before the settle rules (the consumer chose to stop reading).
            reservation.abandon()
        elif isinstance(error, MalformedResponseError):
            # An answer came back but not in the documented shape (usage missing or
            # unreadable): Bedrock may have billed it, so the whole reservation is charged.
            warnings.warn(
                f"{reservation.model_id}: the response was malformed ({error}); its usage "
                "is unknown, charged the reserved input and max output tokens",
                UsageMissingWarning,
                stacklevel=2,
            )
            reservation.settle_reserved()
        elif error is not None and (progress.pieces or partial_text):
            # Output started, then the stream failed (cut): Bedrock billed it.
            output = max(estimate_text_tokens(partial_text), progress.pieces)
            reservation.settle_partial(output, model_id=model_id)
        elif error is not None:
            reservation.release(error)
        else:
            warnings.warn(
                f"{reservation.model_id}: the response carried no usage; "
                "charged the reserved input and max output tokens",
                UsageMissingWarning,
                stacklevel=2,
            )
            reservation.settle_reserved()

    def start_trace(self, trace_id: str | None = None) -> None:
        """Nothing to do per trace."""

    def end_trace(
        self, trace_id: str | None = None, trace_map: dict[str, list[str]] | None = None
    ) -> None:
        """Nothing to do per trace."""

    @property
    def open_runs(self) -> int:
        """LLM events started and not yet ended (0 when nothing leaked)."""
        with self._lock:
            return len(self._runs)


class BudgetEventHandler(StrictArguments, BaseEventHandler):
    """Record the usage of every LlamaIndex LLM call in a ledger (observe only).

    ``get_dispatcher().add_event_handler(BudgetEventHandler(ledger=ledger))``.
    """

    ledger: Ledger = Field(default_factory=Ledger)
    """The ledger to record into."""
    _models: dict[str, str] = PrivateAttr(default_factory=dict)
    _lock: Any = PrivateAttr(default_factory=threading.Lock)

    @classmethod
    def class_name(cls) -> str:
        """Class name."""
        return "BedrockKitBudgetEventHandler"

    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        """Remember the model at start; record usage at end."""
        if isinstance(event, LLMChatStartEvent | LLMCompletionStartEvent):
            model = event.model_dict or {}
            model_id = next((model[k] for k in _MODEL_KEYS if model.get(k)), "unknown")
            with self._lock:
                self._models[str(event.span_id)] = str(model_id)
                # A call refused by a budget gets a start event and no end event: keep the
                # map bounded instead of growing with every refusal.
                if len(self._models) > _MAX_OPEN_SPANS:
                    del self._models[next(iter(self._models))]
        elif isinstance(event, LLMChatEndEvent | LLMCompletionEndEvent):
            with self._lock:
                model_id = self._models.pop(str(event.span_id), "unknown")
            usage, reported = _response_usage(event.response)
            if usage is None:
                warnings.warn(
                    f"{model_id}: LLM response carried no usage; not recorded",
                    UsageMissingWarning,
                    stacklevel=2,
                )
                return
            if not claim(self.ledger, _request_id_of(event.response)):
                return  # a class with ledger= charged this request already
            self.ledger.record(reported or model_id, usage)
            self.ledger.record_guardrail_trace(_guardrail_of(event.response))
