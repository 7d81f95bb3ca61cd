"""Typed results of Retrieve and RetrieveAndGenerate(Stream), and their pure parsers.

A retrieved chunk is a :class:`RetrievalResult` whether it came from Retrieve or from a
citation of RetrieveAndGenerate, so adapters convert one type into Documents / Nodes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bedrock_kit.core.chat.converse import request_id_of

# Location ``type`` -> (member holding the location, field holding its address).
_LOCATIONS: dict[str, tuple[str, str]] = {
    "S3": ("s3Location", "uri"),
    "WEB": ("webLocation", "url"),
    "CONFLUENCE": ("confluenceLocation", "url"),
    "SALESFORCE": ("salesforceLocation", "url"),
    "SHAREPOINT": ("sharePointLocation", "url"),
    "CUSTOM": ("customDocumentLocation", "id"),
    "KENDRA": ("kendraDocumentLocation", "uri"),
    "SQL": ("sqlLocation", "query"),
    "ONEDRIVE": ("oneDriveLocation", "url"),
    "GOOGLEDRIVE": ("googleDriveLocation", "url"),
}
SOURCE_URI_METADATA_KEY = "x-amz-bedrock-kb-source-uri"
"""Metadata key under which Bedrock repeats a chunk's source address."""


@dataclass(frozen=True)
class KnowledgeBaseLocation:
    """Where a retrieved chunk came from."""

    type: str
    """Location type as sent: ``S3``, ``WEB``, ``CONFLUENCE``, ``SALESFORCE``,
    ``SHAREPOINT``, ``CUSTOM``, ``KENDRA``, ``SQL``, ``ONEDRIVE``, ``GOOGLEDRIVE``..."""
    source_uri: str | None
    """The one address of the source whatever the type: S3 URI, URL, custom document id,
    or, for SQL, the query that produced the row."""
    raw: dict[str, Any] = field(default_factory=dict)
    """The ``location`` object exactly as sent."""


@dataclass(frozen=True)
class RowColumn:
    """One column of a structured (``ROW``) result."""

    name: str
    """``columnName``."""
    value: str | None
    """``columnValue`` (Bedrock sends every value as a string)."""
    type: str | None = None
    """``BLOB``, ``BOOLEAN``, ``DOUBLE``, ``NULL``, ``LONG`` or ``STRING``."""


@dataclass(frozen=True)
class MediaSegment:
    """An audio or video segment a multimodal knowledge base returned."""

    s3_uri: str
    """Where the segment is stored."""
    text: str | None = None
    """Audio transcription or video summary."""


@dataclass(frozen=True)
class RetrievalResult:
    """One retrieved chunk (a Retrieve result or a citation's retrieved reference)."""

    text: str
    """The chunk's text (empty for non-text content without text)."""
    content_type: str | None = None
    """``TEXT``, ``IMAGE``, ``ROW``, ``AUDIO`` or ``VIDEO``; None when not sent."""
    score: float | None = None
    """Relevance score; citations carry none."""
    location: KnowledgeBaseLocation | None = None
    """Where the chunk came from."""
    metadata: dict[str, Any] = field(default_factory=dict)
    """The knowledge base's own metadata for the chunk (attributes, source uri...)."""
    row: tuple[RowColumn, ...] = ()
    """Columns of a ``ROW`` result (structured data stores)."""
    byte_content: str | None = None
    """Base64 data URI of an ``IMAGE`` result."""
    audio: MediaSegment | None = None
    """Audio segment of an ``AUDIO`` result."""
    video: MediaSegment | None = None
    """Video segment of a ``VIDEO`` result."""
    document_id: str | None = None
    """``documentId``, when sent."""

    @property
    def source_uri(self) -> str | None:
        """The source address: the location's, else the ``x-amz-bedrock-kb-source-uri``."""
        if self.location is not None and self.location.source_uri:
            return self.location.source_uri
        value = self.metadata.get(SOURCE_URI_METADATA_KEY)
        return str(value) if value is not None else None

    @property
    def page_text(self) -> str:
        """Text to show or embed: the text, else the row as JSON, else the media text."""
        if self.text:
            return self.text
        if self.row:
            return json.dumps({c.name: c.value for c in self.row}, ensure_ascii=False)
        for media in (self.audio, self.video):
            if media is not None and media.text:
                return media.text
        return ""


@dataclass(frozen=True)
class RetrieveResult:
    """Everything one (possibly paginated) retrieval returned."""

    results: tuple[RetrievalResult, ...]
    """Results in the order Bedrock sent them, after ``min_score`` and ``max_results``."""
    next_token: str | None = None
    """Token to resume from, when Bedrock had more results than were fetched."""
    pages: int = 1
    """How many Retrieve requests were made."""
    dropped_below_min_score: int = 0
    """Results Bedrock returned that ``min_score`` removed."""
    guardrail_action: str | None = None
    """``INTERVENED`` or ``NONE`` when a guardrail was configured (``INTERVENED`` if any
    page was intervened on)."""
    request_ids: tuple[str, ...] = ()
    """``x-amzn-RequestId`` of every page."""

    @property
    def guardrail_intervened(self) -> bool:
        """True when a guardrail intervened on the query or results."""
        return self.guardrail_action == "INTERVENED"


@dataclass(frozen=True)
class TextSpan:
    """Where a cited part sits in the generated text.

    Bedrock's ``end`` is inclusive: the part is ``output[start:end + 1]``.
    """

    start: int
    """Index of the first character."""
    end: int
    """Index of the last character (inclusive, as Bedrock sends it)."""

    def slice_of(self, text: str) -> str:
        """The spanned part of ``text``."""
        return text[self.start : self.end + 1]


@dataclass(frozen=True)
class Citation:
    """A part of the generated answer and the chunks that support it."""

    text: str
    """The generated text this citation covers."""
    span: TextSpan | None
    """Where ``text`` sits in the answer."""
    references: tuple[RetrievalResult, ...]
    """The retrieved chunks cited for this part."""


@dataclass(frozen=True)
class GenerationResult:
    """What RetrieveAndGenerate (or a completed RetrieveAndGenerateStream) returned."""

    text: str
    """The generated answer."""
    citations: tuple[Citation, ...]
    """Citations, in answer order."""
    session_id: str | None
    """Pass back as ``session_id`` to continue the conversation."""
    guardrail_action: str | None = None
    """``INTERVENED`` or ``NONE`` when a guardrail was configured."""
    request_id: str | None = None
    """``x-amzn-RequestId``."""

    @property
    def guardrail_intervened(self) -> bool:
        """True when a guardrail intervened."""
        return self.guardrail_action == "INTERVENED"

    @property
    def references(self) -> tuple[RetrievalResult, ...]:
        """Every cited chunk, first citation first, duplicates kept once."""
        seen: list[RetrievalResult] = []
        for citation in self.citations:
            seen.extend(r for r in citation.references if r not in seen)
        return tuple(seen)


def parse_location(wire: Mapping[str, Any] | None) -> KnowledgeBaseLocation | None:
    """Type a ``RetrievalResultLocation``, finding its one address whatever its type."""
    if not wire:
        return None
    kind = str(wire.get("type") or "")
    member, address = _LOCATIONS.get(kind, ("", ""))
    uri = (wire.get(member) or {}).get(address) if member else None
    if uri is None:
        # A type newer than this table: take the first address-like field of any
        # ``*Location`` member rather than losing it.
        for key, value in wire.items():
            if key.endswith("Location") and isinstance(value, Mapping):
                uri = next((v for v in value.values() if isinstance(v, str)), None)
                if uri is not None:
                    break
    return KnowledgeBaseLocation(type=kind, source_uri=uri, raw=dict(wire))


def _media(wire: Mapping[str, Any] | None, text_key: str) -> MediaSegment | None:
    if not wire:
        return None
    return MediaSegment(s3_uri=str(wire.get("s3Uri") or ""), text=wire.get(text_key))


def parse_retrieval_result(wire: Mapping[str, Any]) -> RetrievalResult:
    """Type one ``KnowledgeBaseRetrievalResult`` or ``RetrievedReference``."""
    content = wire.get("content") or {}
    score = wire.get("score")
    return RetrievalResult(
        text=str(content.get("text") or ""),
        content_type=content.get("type"),
        score=float(score) if score is not None else None,
        location=parse_location(wire.get("location")),
        metadata=dict(wire.get("metadata") or {}),
        row=tuple(
            RowColumn(str(c.get("columnName") or ""), c.get("columnValue"), c.get("type"))
            for c in content.get("row") or ()
        ),
        byte_content=content.get("byteContent"),
        audio=_media(content.get("audio"), "transcription"),
        video=_media(content.get("video"), "summary"),
        document_id=wire.get("documentId"),
    )


def parse_citation(wire: Mapping[str, Any]) -> Citation:
    """Type a ``Citation`` (or a stream ``CitationEvent``, old or new layout)."""
    # Newer streams nest the citation under ``citation``; older ones put it at the top.
    if isinstance(wire.get("citation"), Mapping):
        wire = wire["citation"]
    part = (wire.get("generatedResponsePart") or {}).get("textResponsePart") or {}
    span = part.get("span")
    return Citation(
        text=str(part.get("text") or ""),
        span=(
            TextSpan(int(span.get("start") or 0), int(span.get("end") or 0))
            if isinstance(span, Mapping)
            else None
        ),
        references=tuple(parse_retrieval_result(r) for r in wire.get("retrievedReferences") or ()),
    )


def parse_retrieval_results(wire: Sequence[Mapping[str, Any]] | None) -> list[RetrievalResult]:
    """Type a ``retrievalResults`` list."""
    return [parse_retrieval_result(r) for r in wire or ()]


def parse_generation_response(response: Mapping[str, Any]) -> GenerationResult:
    """Type a RetrieveAndGenerate response."""
    return GenerationResult(
        text=str((response.get("output") or {}).get("text") or ""),
        citations=tuple(parse_citation(c) for c in response.get("citations") or ()),
        session_id=response.get("sessionId"),
        guardrail_action=response.get("guardrailAction"),
        request_id=request_id_of(response),
    )
