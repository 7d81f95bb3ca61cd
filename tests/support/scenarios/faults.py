"""The chat fault matrix: one table of faults and expected errors for every chat adapter.

A mode is the name of the adapter method a case calls (``invoke``, ``astream``, ``chat``,
``astream_chat``...); a mode with ``stream`` in its name goes to ConverseStream.
"""

from __future__ import annotations

from typing import Any

from bedrock_kit import errors
from bedrock_kit.testing import Reply
from bedrock_kit.testing.scripts import converse_reply, converse_stream_events

MODEL = "amazon.nova-micro-v1:0"
ANSWER = "a complete answer in several small pieces"
CHUNK_CHARS = 6


def is_streaming(mode: str) -> bool:
    """Whether ``mode`` (an adapter method name) streams."""
    return "stream" in mode


def operation(mode: str) -> str:
    """The Bedrock operation a call in ``mode`` sends."""
    return "ConverseStream" if is_streaming(mode) else "Converse"


def answer_events() -> list[dict[str, Any]]:
    """ConverseStream events of :data:`ANSWER`, in pieces of :data:`CHUNK_CHARS`."""
    return converse_stream_events(ANSWER, chunk_chars=CHUNK_CHARS)


def ok(mode: str, delay: float = 0.0) -> Reply:
    """The complete answer, as the operation of ``mode`` sends it."""
    if is_streaming(mode):
        return Reply.events(answer_events(), delay=delay)
    return Reply.json(converse_reply(ANSWER), delay=delay)


def throttled() -> Reply:
    """A 429 ThrottlingException, the error botocore retries."""
    return Reply.error(429, "ThrottlingException", "slow down")


FRAMES = len(answer_events())
"""Frames of the streamed answer: truncation cuts after each of them."""
CORRUPT_FRAMES = [0, 3, FRAMES - 1]
"""Frames whose CRC is broken: the first, one inside, the last."""
EXCEPTION_POSITIONS = [0, 2, FRAMES - 1]
"""Where an in-stream exception event replaces the stream's rest."""

HTTP_ERRORS: list[tuple[int, str, type[errors.BedrockKitError]]] = [
    (429, "ThrottlingException", errors.ThrottlingError),
    (500, "InternalServerException", errors.InternalServerError),
    (503, "ServiceUnavailableException", errors.ServiceUnavailableError),
    (408, "ModelTimeoutException", errors.ModelTimeoutError),
    (424, "ModelErrorException", errors.ModelError),
    (429, "ModelNotReadyException", errors.ModelNotReadyError),
    (400, "ValidationException", errors.BedrockValidationError),
    (403, "AccessDeniedException", errors.AccessDeniedError),
]
"""(status, error code, the typed error it must become)."""
HTTP_ERROR_IDS = [code for _, code, _ in HTTP_ERRORS]

STREAM_EXCEPTIONS: list[tuple[str, type[errors.BedrockKitError]]] = [
    ("throttlingException", errors.ThrottlingError),
    ("modelStreamErrorException", errors.ModelStreamError),
    ("validationException", errors.BedrockValidationError),
    ("internalServerException", errors.InternalServerError),
    ("serviceUnavailableException", errors.ServiceUnavailableError),
]
"""(in-stream exception event, the typed error it must become)."""
STREAM_EXCEPTION_IDS = [event for event, _ in STREAM_EXCEPTIONS]

BAD_TOOL_STREAM: list[dict[str, Any]] = [
    {"messageStart": {"role": "assistant"}},
    {
        "contentBlockStart": {
            "contentBlockIndex": 0,
            "start": {"toolUse": {"toolUseId": "t", "name": "f"}},
        }
    },
    {
        "contentBlockDelta": {
            "contentBlockIndex": 0,
            "delta": {"toolUse": {"input": '{"city": "Os'}},
        }
    },
    {"contentBlockStop": {"contentBlockIndex": 0}},
    {"messageStop": {"stopReason": "tool_use"}},
    {
        "metadata": {
            "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2},
            "metrics": {"latencyMs": 1},
        }
    },
]
"""A tool call whose streamed JSON arguments stop half way (``BAD_TOOL_JSON``)."""
BAD_TOOL_JSON = '{"city": "Os'
