"""Documents for Knowledge Base ingestion: stable ids, metadata in Bedrock's two formats.

Pure functions: a :class:`SourceDocument` (what the adapters make of a LangChain Document or
a LlamaIndex node) gets a stable id (from a given key, else from its content), its metadata
checked against what Bedrock can filter on, and is written either as an S3 object plus its
``<key>.metadata.json`` sidecar, or as an IngestKnowledgeBaseDocuments entry.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from bedrock_kit.errors import ConfigurationError, MalformedResponseError

__all__ = [
    "BATCH_SIZE",
    "DocumentStatus",
    "SourceDocument",
    "batches",
    "build_custom_document",
    "custom_identifier",
    "document_id",
    "inline_attributes",
    "metadata_sidecar",
    "object_key",
    "parse_document_statuses",
    "source_document",
]

BATCH_SIZE = 10
"""Documents per IngestKnowledgeBaseDocuments / DeleteKnowledgeBaseDocuments /
GetKnowledgeBaseDocuments call (the API's maximum)."""
_MAX_TEXT = 5_242_880  # characters of one inline document (TextContentDoc.data)
_MAX_ATTRIBUTES = 50
_MAX_KEY = 200
_MAX_STRING = 2048
_MAX_LIST = 10
_MAX_SIDECAR_BYTES = 10 * 1024  # Bedrock ignores larger metadata files
_MAX_ID = 2048
_S3_URI = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+$")
_KEY_SAFE = re.compile(r"[^0-9A-Za-z._-]+")

T = TypeVar("T")


@dataclass(frozen=True)
class SourceDocument:
    """One document to ingest: inline text or an object already in S3."""

    text: str | None = None
    """The document's text (None when ``s3_uri`` is given)."""
    metadata: Mapping[str, Any] = field(default_factory=dict)
    """Filterable attributes: strings, numbers, booleans or lists of strings."""
    id: str | None = None
    """A stable id; None derives one (see :func:`document_id`)."""
    s3_uri: str | None = None
    """``s3://bucket/key`` of a document already in S3 (custom data sources)."""

    def __post_init__(self) -> None:
        if (self.text is None) == (self.s3_uri is None):
            raise ConfigurationError("a document needs exactly one of text or s3_uri")
        if self.s3_uri is not None and not _S3_URI.match(self.s3_uri):
            raise ConfigurationError(f"s3_uri {self.s3_uri!r} is not an s3://bucket/key URI")


def source_document(
    text: str,
    metadata: Mapping[str, Any] | None = None,
    *,
    id: str | None = None,
    metadata_keys: Sequence[str] | None = None,
) -> SourceDocument:
    """A :class:`SourceDocument` from a framework document's text and metadata.

    Args:
        text: The document's text.
        metadata: Its metadata.
        id: An explicit id.
        metadata_keys: Keep only these metadata keys (a key that is missing is skipped);
            None keeps all of them, and values Bedrock cannot filter on are refused.
    """
    kept = dict(metadata or {})
    if metadata_keys is not None:
        kept = {k: kept[k] for k in metadata_keys if k in kept}
    return SourceDocument(text=text, metadata=kept, id=id)


def document_id(document: SourceDocument, id_key: str | None = None) -> str:
    """The document's stable id: ``document.id``, else ``metadata[id_key]``, else a hash.

    The hash (SHA-256 of the text or the S3 URI, 32 hex digits) makes re-runs idempotent:
    the same content lands on the same id, so it replaces itself instead of duplicating.

    Raises:
        ConfigurationError: ``id_key`` is given and missing from the metadata, or the id is
            longer than Bedrock's 2048 characters.
    """
    if document.id is not None:
        found = document.id
    elif id_key is not None:
        if id_key not in document.metadata or document.metadata[id_key] in (None, ""):
            raise ConfigurationError(f"document metadata has no {id_key!r} (id_key) value")
        found = str(document.metadata[id_key])
    else:
        content = document.text if document.text is not None else str(document.s3_uri)
        found = hashlib.sha256(content.encode("utf-8")).hexdigest()[:32]
    if not found or len(found) > _MAX_ID:
        raise ConfigurationError(f"document id must be 1 to {_MAX_ID} characters, got {found!r}")
    return found


def object_key(prefix: str, identifier: str, extension: str = ".txt") -> str:
    """The S3 key of a document: ``{prefix}{safe id}{extension}``."""
    safe = (
        _KEY_SAFE.sub("_", identifier).strip("_")
        or hashlib.sha256(identifier.encode()).hexdigest()[:32]
    )
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return f"{prefix}{safe}{extension}"


def _attribute(key: str, value: Any) -> Any:
    if not isinstance(key, str) or not 1 <= len(key) <= _MAX_KEY:
        raise ConfigurationError(f"metadata key {key!r} must be 1 to {_MAX_KEY} characters")
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        if not 1 <= len(value) <= _MAX_STRING:
            raise ConfigurationError(
                f"metadata {key!r}: strings must be 1 to {_MAX_STRING} characters"
            )
        return value
    if isinstance(value, list | tuple) and all(isinstance(v, str) and v for v in value):
        if not 1 <= len(value) <= _MAX_LIST:
            raise ConfigurationError(f"metadata {key!r}: lists hold 1 to {_MAX_LIST} strings")
        return list(value)
    raise ConfigurationError(
        f"metadata {key!r} is {type(value).__name__}: Knowledge Bases filter on strings, "
        "numbers, booleans and lists of strings only (drop it with metadata_keys=, or convert it)"
    )


def _checked(metadata: Mapping[str, Any]) -> dict[str, Any]:
    if len(metadata) > _MAX_ATTRIBUTES:
        raise ConfigurationError(
            f"{len(metadata)} metadata attributes; Bedrock takes at most {_MAX_ATTRIBUTES}"
        )
    return {key: _attribute(key, value) for key, value in metadata.items()}


def metadata_sidecar(metadata: Mapping[str, Any]) -> bytes:
    """The ``<key>.metadata.json`` body: ``{"metadataAttributes": {...}}``.

    Raises:
        ConfigurationError: A value Bedrock cannot filter on, or a file over 10 KB.
    """
    body = json.dumps({"metadataAttributes": _checked(metadata)}, ensure_ascii=False).encode()
    if len(body) > _MAX_SIDECAR_BYTES:
        raise ConfigurationError(
            f"metadata file of {len(body)} bytes; Bedrock reads at most {_MAX_SIDECAR_BYTES}"
        )
    return body


def inline_attributes(metadata: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``metadata.inlineAttributes`` of a custom document: typed ``{key, value}`` entries.

    Raises:
        ConfigurationError: A value Bedrock cannot filter on.
    """
    out = []
    for key, value in _checked(metadata).items():
        if isinstance(value, bool):
            typed: dict[str, Any] = {"type": "BOOLEAN", "booleanValue": value}
        elif isinstance(value, int | float):
            typed = {"type": "NUMBER", "numberValue": float(value)}
        elif isinstance(value, str):
            typed = {"type": "STRING", "stringValue": value}
        else:
            typed = {"type": "STRING_LIST", "stringListValue": value}
        out.append({"key": key, "value": typed})
    return out


def custom_identifier(identifier: str) -> dict[str, Any]:
    """A ``documentIdentifiers`` entry of a custom data source."""
    return {"dataSourceType": "CUSTOM", "custom": {"id": identifier}}


def build_custom_document(document: SourceDocument, identifier: str) -> dict[str, Any]:
    """One ``documents[]`` entry of IngestKnowledgeBaseDocuments for a custom data source.

    Raises:
        ConfigurationError: Text over 5 MiB characters, or metadata Bedrock cannot take.
    """
    custom: dict[str, Any] = {"customDocumentIdentifier": {"id": identifier}}
    if document.text is not None:
        if not 1 <= len(document.text) <= _MAX_TEXT:
            raise ConfigurationError(
                f"document {identifier!r}: inline text must be 1 to {_MAX_TEXT} characters"
            )
        custom["sourceType"] = "IN_LINE"
        custom["inlineContent"] = {"type": "TEXT", "textContent": {"data": document.text}}
    else:
        custom["sourceType"] = "S3_LOCATION"
        custom["s3Location"] = {"uri": document.s3_uri}
    entry: dict[str, Any] = {"content": {"dataSourceType": "CUSTOM", "custom": custom}}
    if document.metadata:
        entry["metadata"] = {
            "type": "IN_LINE_ATTRIBUTE",
            "inlineAttributes": inline_attributes(document.metadata),
        }
    return entry


def batches(items: Sequence[T], size: int = BATCH_SIZE) -> Iterator[list[T]]:
    """``items`` in lists of at most ``size``."""
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


@dataclass(frozen=True)
class DocumentStatus:
    """One document's state in a Knowledge Base (``documentDetails[]`` member)."""

    identifier: str
    """Custom document id, or the S3 URI."""
    status: str
    """``INDEXED``, ``FAILED``, ``PENDING``, ``IN_PROGRESS``, ``NOT_FOUND``..."""
    reason: str = ""
    """Bedrock's ``statusReason`` (why it failed)."""
    updated_at: datetime | None = None
    """``updatedAt``."""


def parse_document_statuses(response: Mapping[str, Any]) -> list[DocumentStatus]:
    """Typed ``documentDetails`` of an Ingest/Delete/Get/ListKnowledgeBaseDocuments response.

    Raises:
        MalformedResponseError: A detail without its identifier or status.
    """
    found = []
    for index, detail in enumerate(response.get("documentDetails") or ()):
        try:
            ident = detail["identifier"]
            if ident.get("dataSourceType") == "S3":
                name = str(ident["s3"]["uri"])
            else:
                name = str(ident["custom"]["id"])
            updated = detail.get("updatedAt")
            found.append(
                DocumentStatus(
                    identifier=name,
                    status=str(detail["status"]),
                    reason=str(detail.get("statusReason") or ""),
                    updated_at=updated if isinstance(updated, datetime) else None,
                )
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise MalformedResponseError(
                f"documentDetails[{index}] lacks its identifier or status ({exc!r})"
            ) from exc
    return found
