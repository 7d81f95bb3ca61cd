"""Documents RetrieveAndGenerate reads instead of a knowledge base (``EXTERNAL_SOURCES``).

:class:`ExternalSource` is an S3 document or bytes; it is checked against botocore's service
model when built (``ExternalSource``, ``ByteContentDoc``, ``S3ObjectDoc``), and
:func:`coerce_sources` accepts the forms the adapters take (an ``s3://`` URI, a dict of the
fields, the wire dict) and Bedrock's limit of one source per request.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from bedrock_kit.core.transport.validation import check_text
from bedrock_kit.errors import ConfigurationError

__all__ = ["ExternalSource", "SourceLike", "Sources", "coerce_source", "coerce_sources"]

_S3_URI = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.{1,1024}$", re.S)
_CONTENT_TYPE = re.compile(r"^[a-z]{1,20}/.{1,20}$", re.S)
_MAX_BYTE_CONTENT = 10_485_760  # ByteContentBlob max: 10 MiB
_MAX_IDENTIFIER = 1024
_MAX_SOURCES = 1  # ExternalSources: botocore's model allows exactly one source per request


@dataclass(frozen=True)
class ExternalSource:
    """A document RetrieveAndGenerate reads instead of a knowledge base (``EXTERNAL_SOURCES``).

    Give either ``s3_uri`` or ``data`` with ``content_type`` and ``identifier``. Everything is
    checked against botocore's service model when constructed, so a bad source fails before
    any request.

    Example:
        >>> ExternalSource(s3_uri="s3://my-bucket/handbook.pdf").to_wire()["sourceType"]
        'S3'
    """

    s3_uri: str | None = None
    """``s3://bucket/key`` URI of the document."""
    data: bytes | None = None
    """Document bytes (1 byte to 10 MiB), when not in S3."""
    content_type: str | None = None
    """MIME type of ``data`` (``application/pdf``, ``text/plain``...)."""
    identifier: str | None = None
    """Name of ``data`` (1-1024 characters), shown in citations."""

    def __post_init__(self) -> None:
        if (self.s3_uri is None) == (self.data is None):
            raise ConfigurationError("ExternalSource needs exactly one of s3_uri or data")
        if self.s3_uri is not None:
            if not isinstance(self.s3_uri, str) or not _S3_URI.match(self.s3_uri):
                raise ConfigurationError(
                    "ExternalSource s3_uri must be an s3://bucket/key URI, "
                    f"got {self.s3_uri!r:.120}"
                )
            if self.content_type is not None or self.identifier is not None:
                raise ConfigurationError(
                    "ExternalSource content_type and identifier apply to data, not s3_uri"
                )
            return
        if not isinstance(self.data, bytes | bytearray) or not self.data:
            raise ConfigurationError(
                f"ExternalSource data must be non-empty bytes, got {type(self.data).__name__}"
            )
        if len(self.data) > _MAX_BYTE_CONTENT:
            raise ConfigurationError(
                f"ExternalSource data is {len(self.data)} bytes; Bedrock takes at most "
                f"{_MAX_BYTE_CONTENT} (10 MiB): put larger documents in S3"
            )
        if not isinstance(self.content_type, str) or not _CONTENT_TYPE.match(self.content_type):
            raise ConfigurationError(
                "ExternalSource with data needs content_type, a MIME type like "
                f"'application/pdf', got {self.content_type!r:.60}"
            )
        identifier = self.identifier
        if not isinstance(identifier, str) or not 1 <= len(identifier) <= _MAX_IDENTIFIER:
            raise ConfigurationError(
                "ExternalSource with data needs identifier, a name of 1-1024 characters, "
                f"got {identifier!r:.60}"
            )
        check_text(identifier, "ExternalSource identifier")

    def to_wire(self) -> dict[str, Any]:
        """The ``ExternalSource`` wire dict (``sourceType`` S3 or BYTE_CONTENT)."""
        if self.s3_uri is not None:
            return {"sourceType": "S3", "s3Location": {"uri": self.s3_uri}}
        return {
            "sourceType": "BYTE_CONTENT",
            "byteContent": {
                "contentType": self.content_type,
                "data": bytes(self.data or b""),
                "identifier": self.identifier,
            },
        }

    def __repr__(self) -> str:
        if self.s3_uri is not None:
            return f"ExternalSource(s3_uri={self.s3_uri!r})"
        size = len(self.data or b"")
        return (
            f"ExternalSource(identifier={self.identifier!r}, content_type={self.content_type!r}, "
            f"data=<{size} bytes>)"
        )


SourceLike: TypeAlias = "ExternalSource | str | Mapping[str, Any]"
"""A source as :func:`coerce_source` takes it."""
Sources: TypeAlias = "SourceLike | Sequence[SourceLike]"
"""The ``sources`` argument: one source or a list of them."""


def coerce_source(value: object, argument: str = "sources") -> ExternalSource:
    """An :class:`ExternalSource` from itself, an ``s3://`` URI string, a dict of its fields
    (``s3_uri`` / ``data``, ``content_type``, ``identifier``) or its wire form
    (``{"sourceType": "S3", "s3Location": {"uri": ...}}``, as langchain-aws users write it).

    Raises:
        ConfigurationError: Anything else, or a source Bedrock would reject.
    """
    if isinstance(value, ExternalSource):
        return value
    if isinstance(value, str):
        return ExternalSource(s3_uri=value)
    if isinstance(value, Mapping) and "sourceType" in value:
        return _from_wire(value, argument)
    if isinstance(value, Mapping):
        known = {"s3_uri", "data", "content_type", "identifier"}
        unknown = sorted(str(k) for k in value if k not in known)
        if unknown:
            raise ConfigurationError(
                f"{argument}: unknown source keys {unknown}; use {sorted(known)}"
            )
        return ExternalSource(**{str(k): v for k, v in value.items()})
    raise ConfigurationError(
        f"{argument} items must be ExternalSource, an s3:// URI or a dict, "
        f"got {type(value).__name__}"
    )


def _from_wire(value: Mapping[str, Any], argument: str) -> ExternalSource:
    """An ExternalSource from its wire form (``sourceType`` S3 or BYTE_CONTENT)."""
    kind = value.get("sourceType")
    if kind == "S3" and isinstance(value.get("s3Location"), Mapping):
        return ExternalSource(s3_uri=value["s3Location"].get("uri"))
    content = value.get("byteContent")
    if kind == "BYTE_CONTENT" and isinstance(content, Mapping):
        return ExternalSource(
            data=content.get("data"),
            content_type=content.get("contentType"),
            identifier=content.get("identifier"),
        )
    raise ConfigurationError(
        f"{argument}: a wire source needs sourceType S3 with s3Location or BYTE_CONTENT "
        f"with byteContent, got {sorted(value)}"
    )


def coerce_sources(value: object, argument: str = "sources") -> tuple[ExternalSource, ...]:
    """A checked tuple of sources (one source or a list of them; Bedrock takes one).

    Raises:
        ConfigurationError: Not a source, an empty list, or more sources than Bedrock takes.
    """
    items = [value] if isinstance(value, ExternalSource | str | Mapping) else value
    if not isinstance(items, Sequence) or isinstance(items, bytes | bytearray):
        raise ConfigurationError(
            f"{argument} must be an ExternalSource or a list of them, got {type(value).__name__}"
        )
    sources = tuple(coerce_source(item, argument) for item in items)
    if not sources:
        raise ConfigurationError(f"{argument} is empty: give one ExternalSource")
    if len(sources) > _MAX_SOURCES:
        raise ConfigurationError(
            f"{argument} has {len(sources)} sources; RetrieveAndGenerate takes "
            f"{_MAX_SOURCES} per request (botocore's ExternalSources): ask once per document"
        )
    return sources
