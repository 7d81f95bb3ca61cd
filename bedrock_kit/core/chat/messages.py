"""Framework-neutral helpers both adapters need when they convert messages and results.

Media types, document names, guarding the last turn and turning a guardrail intervention into
an error are decided once here, so the LangChain and LlamaIndex adapters stay thin and agree.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence

from bedrock_kit.core.chat.types import ConverseResult, GuardContentBlock, Message, TextBlock
from bedrock_kit.core.guardrails.assessments import GuardrailAssessment
from bedrock_kit.errors import ConfigurationError, GuardrailInterventionError

# MIME type -> Converse image format.
IMAGE_FORMATS: dict[str, str] = {
    "image/png": "png",
    "image/jpeg": "jpeg",
    "image/jpg": "jpeg",
    "image/gif": "gif",
    "image/webp": "webp",
}

# MIME type -> Converse document format.
DOCUMENT_FORMATS: dict[str, str] = {
    "application/pdf": "pdf",
    "text/csv": "csv",
    "text/plain": "txt",
    "text/html": "html",
    "text/markdown": "md",
    "application/msword": "doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.ms-excel": "xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
}

# File extension -> Converse document format, for documents given by path or URL only.
DOCUMENT_EXTENSIONS: dict[str, str] = {
    "pdf": "pdf",
    "csv": "csv",
    "txt": "txt",
    "html": "html",
    "htm": "html",
    "md": "md",
    "markdown": "md",
    "doc": "doc",
    "docx": "docx",
    "xls": "xls",
    "xlsx": "xlsx",
}

# Converse AudioFormat and VideoFormat values (botocore's bedrock-runtime service model).
AUDIO_FORMATS = frozenset(
    {"mp3", "opus", "wav", "aac", "flac", "mp4", "ogg", "mkv", "mka", "x-aac", "m4a"}
    | {"mpeg", "mpga", "pcm", "webm"}
)
VIDEO_FORMATS = frozenset({"mkv", "mov", "mp4", "webm", "flv", "mpeg", "mpg", "wmv", "three_gp"})
# MIME subtypes that name a Converse media format differently.
MEDIA_ALIASES = {"quicktime": "mov", "x-wav": "wav", "wave": "wav", "3gpp": "three_gp"}

# Characters Bedrock allows in a document name (others are rejected by the service).
_NAME_CHARS = re.compile(r"[^A-Za-z0-9\s\-()\[\]]")
_SPACES = re.compile(r"\s+")


def decode_base64(data: str | bytes, where: str) -> bytes:
    """Strictly decode base64 text (whitespace allowed), naming the input on failure.

    Raises:
        ConfigurationError: Not base64 (``binascii.Error`` would otherwise escape bare).
    """
    if isinstance(data, str):
        try:
            data = data.encode("ascii")
        except UnicodeEncodeError:
            raise ConfigurationError(f"{where}: base64 data holds non-ASCII characters") from None
    compact = re.sub(rb"\s+", b"", data)
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ConfigurationError(f"{where}: invalid base64 data ({exc})") from None


def parse_data_url(url: object, where: str) -> tuple[str, bytes]:
    """The MIME type and decoded bytes of a ``data:<type>;base64,<data>`` URL.

    Raises:
        ConfigurationError: Not a base64 data URL (Bedrock fetches no remote URLs) or invalid
            base64.
    """
    if not isinstance(url, str) or not url:
        raise ConfigurationError(f"{where}: the url is missing (got {url!r})")
    header, comma, data = url.partition(",")
    if not comma or not header.startswith("data:") or ";base64" not in header:
        raise ConfigurationError(
            f"{where} must be a base64 data URL (data:image/png;base64,...); Bedrock does not "
            "fetch remote URLs: pass bytes or an s3:// source instead"
        )
    return header[5:].split(";", 1)[0], decode_base64(data, where)


def image_format(mime_type: str | None, *, where: str = "image") -> str:
    """The Converse image format for a MIME type.

    Args:
        mime_type: ``image/png`` and the like.
        where: Names the offending input in the error message.

    Raises:
        ConfigurationError: Unknown or missing type.
    """
    found = IMAGE_FORMATS.get((mime_type or "").lower())
    if found is None:
        raise ConfigurationError(
            f"{where}: image type {mime_type!r} is not supported by Bedrock; "
            f"use one of {sorted(IMAGE_FORMATS)}"
        )
    return found


def document_format(
    mime_type: str | None, filename: str | None = None, *, where: str = "document"
) -> str:
    """The Converse document format from a MIME type, else from a file name's extension.

    Raises:
        ConfigurationError: Neither gives a format Bedrock accepts.
    """
    found = DOCUMENT_FORMATS.get((mime_type or "").lower())
    if found is None and filename and "." in filename:
        found = DOCUMENT_EXTENSIONS.get(filename.rsplit(".", 1)[-1].lower())
    if found is None:
        raise ConfigurationError(
            f"{where}: document type {mime_type or filename!r} is not supported by Bedrock; "
            f"use one of {sorted(DOCUMENT_EXTENSIONS)}"
        )
    return found


def media_format(kind: str, hint: str | None, *, where: str | None = None) -> str:
    """The Converse ``audio`` / ``video`` format of a MIME type, subtype or file name.

    Raises:
        ConfigurationError: A format Bedrock does not take for ``kind``.
    """
    formats = AUDIO_FORMATS if kind == "audio" else VIDEO_FORMATS
    subtype = (hint or "").rsplit("/", 1)[-1].rsplit(".", 1)[-1].lower()
    found = MEDIA_ALIASES.get(subtype, subtype)
    if found not in formats:
        raise ConfigurationError(
            f"{where or kind}: {kind} type {hint!r} is not supported by Bedrock; use one of "
            f"{sorted(formats)}"
        )
    return found


def document_name(name: str | None) -> str:
    """A document name Bedrock accepts: extension dropped, disallowed characters replaced.

    Bedrock allows letters, digits, single spaces, hyphens, parentheses and brackets.
    """
    stem = (name or "").strip()
    if "." in stem:
        stem = stem.rsplit(".", 1)[0]
    cleaned = _SPACES.sub(" ", _NAME_CHARS.sub("-", stem)).strip()
    return cleaned or "document"


def guard_last_turn(turns: Sequence[Message]) -> list[Message]:
    """Wrap the text of the last user turn in guardContent, so a guardrail checks only it.

    Earlier turns were checked when they were sent; re-checking the whole history on every
    call bills the same text again and can block a conversation for an old message.
    """
    result = list(turns)
    for i in range(len(result) - 1, -1, -1):
        if result[i].role == "user":
            blocks = tuple(
                GuardContentBlock(b.text) if isinstance(b, TextBlock) else b
                for b in result[i].content
            )
            result[i] = Message("user", blocks)
            break
    return result


def intervention_assessment(result: ConverseResult) -> GuardrailAssessment | None:
    """The assessment that explains an intervention: the first one that intervened.

    Falls back to the first assessment of the trace, or None when the request had no
    guardrail trace.
    """
    if result.guardrail is None:
        return None
    assessments = result.guardrail.assessments
    for assessment in assessments:
        if assessment.intervened:
            return assessment
    return assessments[0] if assessments else None


def guardrail_intervention_error(result: ConverseResult) -> GuardrailInterventionError:
    """The error to raise for a result whose stop reason is ``guardrail_intervened``."""
    reason = result.guardrail.action_reason if result.guardrail else None
    message = "a guardrail intervened" + (f": {reason}" if reason else "")
    return GuardrailInterventionError(
        message,
        assessment=intervention_assessment(result),
        output_text=result.text,
        model_id=result.model_id,
        request_id=result.request_id,
    )
