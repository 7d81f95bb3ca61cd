"""Framework-neutral domain types shared by every bedrock-kit component.

Wire shapes stay Bedrock's camelCase dicts (built and parsed in :mod:`converse`); these small
dataclasses are what the rest of the code, and both adapters, talk in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, TypeVar

from bedrock_kit.core.transport.validation import check_number, check_text
from bedrock_kit.errors import ConfigurationError

if TYPE_CHECKING:
    from bedrock_kit.core.guardrails.assessments import GuardrailTrace

_D = TypeVar("_D")
_new = object.__new__
_set = object.__setattr__

Role: TypeAlias = Literal["user", "assistant"]
# InferenceConfiguration.stopSequences: at most 2,500 strings of at least one character.
_MAX_STOP_SEQUENCES = 2500

StopReason: TypeAlias = Literal[
    "end_turn",
    "tool_use",
    "max_tokens",
    "stop_sequence",
    "guardrail_intervened",
    "content_filtered",
    "model_context_window_exceeded",
    "malformed_model_output",
    "malformed_tool_use",
    "unknown",
]

# Bedrock's stopReason values -> ours (identical today; the table keeps unknown values from
# leaking through as if they were known, and gives new ones one place to land).
STOP_REASONS: dict[str, StopReason] = {
    "end_turn": "end_turn",
    "tool_use": "tool_use",
    "max_tokens": "max_tokens",
    "stop_sequence": "stop_sequence",
    "guardrail_intervened": "guardrail_intervened",
    "content_filtered": "content_filtered",
    "model_context_window_exceeded": "model_context_window_exceeded",
    "malformed_model_output": "malformed_model_output",
    "malformed_tool_use": "malformed_tool_use",
}


def parse_stop_reason(raw: str | None) -> StopReason:
    """Map Bedrock's ``stopReason`` to ours; unknown values become ``unknown``."""
    return STOP_REASONS.get(raw or "", "unknown")


@dataclass(frozen=True)
class TextBlock:
    """Plain text content."""

    text: str
    """The text."""


@dataclass(frozen=True)
class ImageBlock:
    """An image, inline bytes or in S3."""

    format: str
    """``png``, ``jpeg``, ``gif`` or ``webp``."""
    data: bytes | None = None
    """Raw image bytes (not base64); None when ``s3_uri`` is set."""
    s3_uri: str | None = None
    """``s3://`` location of the image, instead of bytes."""


@dataclass(frozen=True)
class DocumentBlock:
    """A document (pdf, csv, doc, docx, xls, xlsx, html, txt, md)."""

    format: str
    """Document format as Bedrock names it."""
    name: str
    """Document name; Bedrock allows letters, digits, spaces, hyphens, parentheses, brackets."""
    data: bytes | None = None
    """Raw document bytes."""
    text: str | None = None
    """Document given as text instead of bytes."""
    s3_uri: str | None = None
    """``s3://`` location of the document."""
    citations: bool = False
    """Ask the model to cite this document (models that support document citations)."""


@dataclass(frozen=True)
class JsonBlock:
    """A JSON value, used in tool results."""

    value: Any
    """The decoded JSON value."""


@dataclass(frozen=True)
class ToolUseBlock:
    """A tool call the model made."""

    id: str
    """``toolUseId``, echoed back in the matching :class:`ToolResultBlock`."""
    name: str
    """Name of the tool to call."""
    input: dict[str, Any]
    """Arguments, decoded from JSON."""
    type: str | None = None
    """Converse ``toolUse.type``: ``server_tool_use`` for a call Bedrock runs itself (a
    system tool such as ``nova_code_interpreter``); None for a call the client must run."""

    @property
    def server(self) -> bool:
        """True for a server-side tool call: Bedrock ran it, the client must not."""
        return self.type == SERVER_TOOL_USE


SERVER_TOOL_USE = "server_tool_use"
"""``toolUse.type`` of a tool call Bedrock runs server-side (botocore ``ToolUseType``)."""


ToolResultContent: TypeAlias = "TextBlock | JsonBlock | ImageBlock | DocumentBlock"


@dataclass(frozen=True)
class ToolResultBlock:
    """The result of running a tool, sent back to the model."""

    tool_use_id: str
    """The ``id`` of the :class:`ToolUseBlock` this answers."""
    content: tuple[ToolResultContent, ...]
    """What the tool returned."""
    status: Literal["success", "error"] | None = None
    """``error`` tells the model the tool failed (models that support it)."""
    type: str | None = None
    """Converse ``toolResult.type``: set on the result of a server-side tool, which Bedrock
    returns inside the assistant turn (e.g. ``nova_code_interpreter_result``)."""


@dataclass(frozen=True)
class ReasoningBlock:
    """Model reasoning ("extended thinking"), sent back unchanged on the next turn."""

    text: str = ""
    """The reasoning text; empty when redacted."""
    signature: str | None = None
    """Signature that lets Bedrock verify the reasoning was not altered."""
    redacted_content: bytes | None = None
    """Encrypted reasoning the provider withheld."""


@dataclass(frozen=True)
class CachePointBlock:
    """A prompt-cache checkpoint: everything before it may be cached."""

    type: str = "default"
    """Cache point type; Bedrock knows ``default``."""
    ttl: str | None = None
    """Cache time to live (``5m`` or ``1h``) where the model offers a choice."""


@dataclass(frozen=True)
class GuardContentBlock:
    """Text that a guardrail should evaluate (and only this text, when present)."""

    text: str
    """The text to guard."""
    qualifiers: tuple[str, ...] = ()
    """``grounding_source``, ``query`` or ``guard_content``."""


@dataclass(frozen=True)
class CitationsBlock:
    """Generated text with citations into documents the caller sent."""

    text: str
    """The generated text the citations support."""
    citations: tuple[dict[str, Any], ...]
    """Bedrock citation objects (location, source content), kept as sent."""


@dataclass(frozen=True)
class UnknownBlock:
    """A content block type this version does not know; kept, never dropped."""

    type: str
    """The wire key of the block."""
    raw: Any
    """The block's value as Bedrock sent it."""


ContentBlock: TypeAlias = (
    "TextBlock | ImageBlock | DocumentBlock | ToolUseBlock | ToolResultBlock | ReasoningBlock"
    " | CachePointBlock | GuardContentBlock | CitationsBlock | JsonBlock | UnknownBlock"
)
SystemBlock: TypeAlias = "TextBlock | CachePointBlock | GuardContentBlock"


@dataclass(frozen=True)
class Message:
    """One conversation turn."""

    role: Role
    """``user`` or ``assistant`` (system prompts travel separately)."""
    content: tuple[ContentBlock, ...]
    """The turn's content blocks, in order."""

    @property
    def text(self) -> str:
        """All text blocks joined."""
        return "".join(b.text for b in self.content if isinstance(b, TextBlock | CitationsBlock))

    @property
    def tool_calls(self) -> list[ToolUseBlock]:
        """The tool calls the client must run, in order (server-side calls left out)."""
        return [b for b in self.content if isinstance(b, ToolUseBlock) and not b.server]

    @property
    def server_tool_calls(self) -> list[ToolUseBlock]:
        """The server-side tool calls in this turn (Bedrock ran them), in order."""
        return [b for b in self.content if isinstance(b, ToolUseBlock) and b.server]


@dataclass(frozen=True)
class Usage:
    """Tokens Bedrock billed for one call.

    Bedrock's ``inputTokens`` excludes cache reads and writes; :attr:`total_input_tokens`
    adds them back so nothing is counted twice or lost.
    """

    input_tokens: int = 0
    """Uncached input tokens (Bedrock ``inputTokens``)."""
    output_tokens: int = 0
    """Output tokens (``outputTokens``)."""
    cache_read_input_tokens: int = 0
    """Input tokens read from the prompt cache (``cacheReadInputTokens``)."""
    cache_write_input_tokens: int = 0
    """Input tokens written to the prompt cache (``cacheWriteInputTokens``)."""
    total_tokens: int = 0
    """``totalTokens`` as Bedrock reported it."""
    cache_write_1h_input_tokens: int = 0
    """The part of the cache writes made with the 1 hour TTL (``cacheDetails``), priced apart."""
    server_tool_usage: dict[str, Any] = field(default_factory=dict, hash=False)
    """``usage.serverToolUsage`` as sent: what server-side tools (system tools) used."""

    @property
    def total_input_tokens(self) -> int:
        """Every input token: uncached, cache read and cache write."""
        return self.input_tokens + self.cache_read_input_tokens + self.cache_write_input_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_input_tokens + other.cache_read_input_tokens,
            self.cache_write_input_tokens + other.cache_write_input_tokens,
            self.total_tokens + other.total_tokens,
            self.cache_write_1h_input_tokens + other.cache_write_1h_input_tokens,
            _add_counts(self.server_tool_usage, other.server_tool_usage),
        )


def _add_counts(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    """Sum two free-form usage documents: numbers add up, nested objects merge, the rest
    keeps the later value (nothing is dropped)."""
    merged = dict(left)
    for key, value in right.items():
        mine = merged.get(key)
        if isinstance(mine, int | float) and isinstance(value, int | float):
            merged[key] = mine + value
        elif isinstance(mine, dict) and isinstance(value, dict):
            merged[key] = _add_counts(mine, value)
        else:
            merged[key] = value
    return merged


@dataclass(frozen=True)
class InferenceConfig:
    """Converse ``inferenceConfig``; None leaves the model's default."""

    max_tokens: int | None = None
    """Maximum output tokens."""
    temperature: float | None = None
    """Sampling temperature."""
    top_p: float | None = None
    """Nucleus sampling mass."""
    stop_sequences: tuple[str, ...] = ()
    """Sequences that end generation."""

    def __post_init__(self) -> None:
        # Converse's documented ranges (botocore's service model): checked here, so every
        # request builder (Converse, InvokeModel, RetrieveAndGenerate) refuses the same way.
        if self.max_tokens is not None:
            check_number(self.max_tokens, "max_tokens", low=1, integer=True)
        if self.temperature is not None:
            check_number(self.temperature, "temperature", low=0, high=1)
        if self.top_p is not None:
            check_number(self.top_p, "top_p", low=0, high=1)
        stops = self.stop_sequences
        if stops == ():  # the common case: nothing below to check
            return
        if isinstance(stops, str) or not isinstance(stops, tuple | list):
            raise ConfigurationError(
                f"stop sequences must be a list of strings, got {type(stops).__name__}"
            )
        if len(stops) > _MAX_STOP_SEQUENCES or not all(isinstance(x, str) and x for x in stops):
            raise ConfigurationError(
                f"stop sequences must be at most {_MAX_STOP_SEQUENCES} non-empty strings, "
                f"got {list(stops)!r:.80}"
            )
        check_text(list(stops), "stop")


def _keepable(value: Any) -> bool:
    # None, an int or a float told apart from every other value by == and its type: not
    # a bool (typed keys keep True from 1) and not a zero (0.0 == -0.0); NaN never hits.
    kind = type(value)
    return value is None or kind is int or (kind is float and value != 0.0)


@lru_cache(maxsize=256, typed=True)
def _kept_inference(max_tokens: Any, temperature: Any, top_p: Any) -> InferenceConfig:
    return InferenceConfig(max_tokens, temperature, top_p)


def inference_config(
    max_tokens: Any, temperature: Any, top_p: Any, stop_sequences: Any = ()
) -> InferenceConfig:
    """``InferenceConfig(max_tokens, temperature, top_p, stop_sequences)``, checked.

    A call's settings are usually the model's own, the same on every call: without stop
    sequences, and for values that equal no other value of their type, the checked (frozen)
    object is kept and given again. A refusal raises every time (it is not kept).

    Raises:
        ConfigurationError: As :class:`InferenceConfig` does.
    """
    if (
        stop_sequences == ()
        and _keepable(max_tokens)
        and _keepable(temperature)
        and _keepable(top_p)
    ):
        return _kept_inference(max_tokens, temperature, top_p)
    return InferenceConfig(max_tokens, temperature, top_p, stop_sequences)


@dataclass(frozen=True)
class ToolSpec:
    """A tool the model may call, described by a JSON Schema."""

    name: str
    """Tool name: ``[a-zA-Z0-9_-]{1,64}``."""
    description: str
    """What the tool does; the model reads this."""
    input_schema: dict[str, Any]
    """JSON Schema (type object) of the arguments."""
    strict: bool | None = None
    """Ask for schema-exact arguments where the model supports it."""


@dataclass(frozen=True)
class SystemTool:
    """A tool Bedrock runs server-side (Converse ``toolConfig.tools[].systemTool``).

    Its calls and results come back inside the assistant turn (``toolUse`` with type
    ``server_tool_use``, ``toolResult`` with the tool's result type); the client never runs
    them. Example names: Nova's ``nova_grounding`` and ``nova_code_interpreter``.
    """

    name: str
    """The system tool's name: ``[a-zA-Z0-9_-]{1,64}``."""


@dataclass(frozen=True)
class GuardrailConfig:
    """A guardrail applied inside Converse / ConverseStream."""

    identifier: str
    """Guardrail id or ARN."""
    version: str
    """Guardrail version (``DRAFT`` or a number)."""
    trace: Literal["enabled", "disabled", "enabled_full"] = "enabled"
    """Return the guardrail trace; bedrock-kit needs it to type interventions."""
    stream_processing_mode: Literal["sync", "async"] | None = None
    """ConverseStream only: check chunks before (sync) or after (async) sending them."""


@dataclass(frozen=True)
class ConverseResult:
    """Everything a Converse call (or a completed stream) returned."""

    message: Message
    """The assistant turn."""
    stop_reason: StopReason
    """Why generation stopped (``unknown`` when Bedrock sent a value we do not know)."""
    raw_stop_reason: str
    """``stopReason`` exactly as Bedrock sent it."""
    usage: Usage
    """Billed tokens."""
    model_id: str
    """The model id or ARN the request addressed."""
    latency_ms: int | None = None
    """``metrics.latencyMs``."""
    guardrail: GuardrailTrace | None = None
    """Parsed ``trace.guardrail``, when the request had a guardrail with trace enabled."""
    request_id: str | None = None
    """``x-amzn-RequestId``."""
    additional_model_response_fields: dict[str, Any] = field(default_factory=dict)
    """``additionalModelResponseFields`` as sent."""
    trace: dict[str, Any] = field(default_factory=dict)
    """The full ``trace`` object (prompt router and others) as sent."""
    raw_body: dict[str, Any] | None = None
    """The InvokeModel response body as sent, for a model no codec knows (raw mode,
    ``body=``): the kit could not read its text, so the caller reads it here."""

    @property
    def text(self) -> str:
        """The answer's text."""
        return self.message.text

    @property
    def guardrail_intervened(self) -> bool:
        """True when a guardrail changed or blocked the input or output."""
        return self.stop_reason == "guardrail_intervened"


def assemble(cls: type[_D], values: dict[str, Any]) -> _D:
    """An instance of the frozen dataclass ``cls`` holding ``values``: equal to
    ``cls(**values)``, made without its ``__init__``.

    A frozen dataclass sets each field with a call of ``object.__setattr__``; a response
    parsed on every call pays that for each field of its result. ``values`` must hold every
    field of ``cls``, in field order (fresh containers, never shared), and ``cls`` must have
    no ``__post_init__``: there is nothing to check, only to store.
    """
    obj = _new(cls)
    _set(obj, "__dict__", values)
    return obj
