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
from bedrock_kit.core.transport.wire import WireReader

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


_RETRIEVE = WireReader("Retrieve result")
_GUARDRAIL_ACTIONS = ("INTERVENED", "NONE")


def parse_location(
    wire: Mapping[str, Any] | None, reader: WireReader = _RETRIEVE, where: str = "location"
) -> KnowledgeBaseLocation | None:
    """Type a ``RetrievalResultLocation``, finding its one address whatever its type."""
    if wire is None:
        return None
    r = reader
    wire = r.obj(wire, where)
    kind = r.text(wire.get("type"), f"{where}.type")
    member, address = _LOCATIONS.get(kind, ("", ""))
    uri = None
    if member:
        location = r.opt_obj(wire.get(member), f"{where}.{member}")
        uri = r.opt_text(location.get(address), f"{where}.{member}.{address}")
    if uri is None:
        # A type newer than this table: take the first address-like field of any
        # ``*Location`` member rather than losing it.
        for key, value in wire.items():
            if key.endswith("Location") and isinstance(value, Mapping):
                uri = next((v for v in value.values() if isinstance(v, str)), None)
                if uri is not None:
                    break
    return KnowledgeBaseLocation(type=kind, source_uri=uri, raw=dict(wire))


def _media(r: WireReader, wire: Any, text_key: str, where: str) -> MediaSegment | None:
    if wire is None:
        return None
    wire = r.obj(wire, where)
    return MediaSegment(
        s3_uri=r.text(wire.get("s3Uri"), f"{where}.s3Uri"),
        text=r.opt_text(wire.get(text_key), f"{where}.{text_key}"),
    )


def _column(r: WireReader, wire: Any, where: str) -> RowColumn:
    wire = r.obj(wire, where)
    return RowColumn(
        r.opt_text(wire.get("columnName"), f"{where}.columnName") or "",
        r.opt_text(wire.get("columnValue"), f"{where}.columnValue"),
        r.opt_text(wire.get("type"), f"{where}.type"),
    )


def parse_retrieval_result(
    wire: Mapping[str, Any], reader: WireReader = _RETRIEVE, where: str = "result"
) -> RetrievalResult:
    """Type one ``KnowledgeBaseRetrievalResult`` or ``RetrievedReference``.

    Raises:
        MalformedResponseError: The result is not the documented shape.
    """
    r = reader
    with r.guard(wire):
        wire = r.obj(wire, where)
        content = r.opt_obj(wire.get("content"), f"{where}.content")
        rows = r.opt_items(content.get("row"), f"{where}.content.row")
        return RetrievalResult(
            text=r.opt_text(content.get("text"), f"{where}.content.text") or "",
            content_type=r.opt_text(content.get("type"), f"{where}.content.type"),
            score=r.opt_number(wire.get("score"), f"{where}.score"),
            location=parse_location(wire.get("location"), r, f"{where}.location"),
            metadata=dict(
                r.document(r.opt_obj(wire.get("metadata"), f"{where}.metadata"), "metadata")
            ),
            row=tuple(_column(r, c, f"{where}.content.row[{i}]") for i, c in enumerate(rows)),
            byte_content=r.opt_text(content.get("byteContent"), f"{where}.content.byteContent"),
            audio=_media(r, content.get("audio"), "transcription", f"{where}.content.audio"),
            video=_media(r, content.get("video"), "summary", f"{where}.content.video"),
            document_id=r.opt_text(wire.get("documentId"), f"{where}.documentId"),
        )


def parse_citation(
    wire: Mapping[str, Any], reader: WireReader = _RETRIEVE, where: str = "citation"
) -> Citation:
    """Type a ``Citation`` (or a stream ``CitationEvent``, old or new layout)."""
    r = reader
    with r.guard(wire):
        wire = r.obj(wire, where)
        # Newer streams nest the citation under ``citation``; older ones put it at the top.
        if wire.get("citation") is not None:
            where = f"{where}.citation"
            wire = r.obj(wire["citation"], where)
        generated = r.opt_obj(wire.get("generatedResponsePart"), f"{where}.generatedResponsePart")
        part = r.opt_obj(generated.get("textResponsePart"), f"{where}.textResponsePart")
        span = r.opt_obj(part.get("span"), f"{where}.textResponsePart.span") or None
        references = r.opt_items(wire.get("retrievedReferences"), f"{where}.retrievedReferences")
        return Citation(
            text=r.opt_text(part.get("text"), f"{where}.textResponsePart.text") or "",
            span=(
                TextSpan(
                    r.count(span.get("start"), f"{where}.span.start"),
                    r.count(span.get("end"), f"{where}.span.end"),
                )
                if span is not None
                else None
            ),
            references=tuple(
                parse_retrieval_result(ref, r, f"{where}.retrievedReferences[{i}]")
                for i, ref in enumerate(references)
            ),
        )


def parse_retrieval_results(
    wire: Sequence[Mapping[str, Any]] | None, reader: WireReader = _RETRIEVE
) -> list[RetrievalResult]:
    """Type a ``retrievalResults`` list (required: a response without one is malformed)."""
    results = reader.items(wire, "retrievalResults")
    return [
        parse_retrieval_result(
            reader.obj(item, f"retrievalResults[{i}]"), reader, f"retrievalResults[{i}]"
        )
        for i, item in enumerate(results)
    ]


def parse_guardrail_action(reader: WireReader, value: Any, where: str) -> str | None:
    """``guardrailAction``: None when absent, else ``INTERVENED`` or ``NONE``; anything else
    is malformed (an unknown action is never read as "passed")."""
    return None if value is None else reader.one_of(value, _GUARDRAIL_ACTIONS, where)


def parse_generation_response(response: Mapping[str, Any]) -> GenerationResult:
    """Type a RetrieveAndGenerate response.

    Raises:
        MalformedResponseError: No ``output.text`` or ``sessionId``, or a member of the
            wrong shape.
    """
    r = WireReader("RetrieveAndGenerate response", request_id=request_id_of(response))
    with r.guard(response):
        body = r.obj(response, "the response")
        citations = r.opt_items(body.get("citations"), "citations")
        return GenerationResult(
            text=r.text(r.obj(body.get("output"), "output").get("text"), "output.text"),
            citations=tuple(
                parse_citation(c, r, f"citations[{i}]") for i, c in enumerate(citations)
            ),
            session_id=r.text(body.get("sessionId"), "sessionId", empty=False),
            guardrail_action=parse_guardrail_action(
                r, body.get("guardrailAction"), "guardrailAction"
            ),
            request_id=r.request_id,
        )
