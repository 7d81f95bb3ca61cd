"""Custom data sources: IngestKnowledgeBaseDocuments in batches of ten, each document's status
polled until indexed or failed, deletes, lists; sync and async, on LocalControlPlane."""

from __future__ import annotations

from typing import Any

import pytest

from bedrock_kit.core.knowledge_bases.documents import (
    SourceDocument,
    build_custom_document,
    document_id,
)
from bedrock_kit.core.knowledge_bases.ingestion import KnowledgeBaseIngestion
from bedrock_kit.errors import ConfigurationError, DocumentIngestionError, ThrottlingError
from bedrock_kit.testing import LocalBedrock, LocalControlPlane, Reply


def custom_kb(plane: LocalControlPlane, plane_args: dict[str, Any]) -> KnowledgeBaseIngestion:
    kb_id = plane.add_knowledge_base()
    return KnowledgeBaseIngestion(kb_id, plane.add_data_source(kb_id), **plane_args)


def docs(n: int) -> list[SourceDocument]:
    return [SourceDocument(f"fact number {i}", {"n": i, "kind": "fact"}) for i in range(n)]


def test_documents_are_batched_and_polled_until_indexed(
    plane: LocalControlPlane, plane_args: dict[str, Any], plane_server: LocalBedrock
) -> None:
    kb = custom_kb(plane, plane_args)
    plane.document_steps = 2
    report = kb.add_documents(docs(23), poll_interval=0)
    ingests = plane_server.requests_for("IngestKnowledgeBaseDocuments")
    assert [len(r.body["documents"]) for r in ingests] == [10, 10, 3]
    assert {s.status for s in report.documents} == {"INDEXED"}
    assert [s.identifier for s in report.documents] == list(report.document_ids)
    # STARTING, then two IN_PROGRESS reads, then INDEXED: three GetKnowledgeBaseDocuments
    # rounds of three batches each.
    gets = plane_server.requests_for("GetKnowledgeBaseDocuments")
    assert len(gets) == 9 and max(len(r.body["documentIdentifiers"]) for r in gets) == 10
    first = report.document_ids[0]
    assert plane.document_text(kb.knowledge_base_id, kb.data_source_id, first) == "fact number 0"
    metadata = plane.document_metadata(kb.knowledge_base_id, kb.data_source_id, first)
    assert metadata == {
        "type": "IN_LINE_ATTRIBUTE",
        "inlineAttributes": [
            {"key": "n", "value": {"type": "NUMBER", "numberValue": 0.0}},
            {"key": "kind", "value": {"type": "STRING", "stringValue": "fact"}},
        ],
    }
    listed = kb.list_documents()
    assert sorted(s.identifier for s in listed) == sorted(report.document_ids)


def test_failed_documents_are_named(plane: LocalControlPlane, plane_args: dict[str, Any]) -> None:
    kb = custom_kb(plane, plane_args)
    batch = docs(3)
    bad = document_id(batch[1])
    plane.fail_documents[bad] = "Unsupported content"
    with pytest.raises(DocumentIngestionError, match="1 of 3 document") as caught:
        kb.add_documents(batch, poll_interval=0)
    assert caught.value.failed == ((bad, "FAILED", "Unsupported content"),)
    assert len(caught.value.indexed) == 2 and bad not in caught.value.indexed
    report = kb.add_documents(batch, poll_interval=0, allow_failed_documents=True)
    assert [s.status for s in report.documents].count("FAILED") == 1


def test_s3_references_and_delete(
    plane: LocalControlPlane, plane_args: dict[str, Any], plane_server: LocalBedrock
) -> None:
    kb = custom_kb(plane, plane_args)
    ref = SourceDocument(s3_uri="s3://my-bucket/docs/a.pdf", id="doc-a")
    report = kb.add_documents([ref], poll_interval=0)
    sent = plane_server.requests_for("IngestKnowledgeBaseDocuments")[0].body["documents"][0]
    assert sent["content"]["custom"] == {
        "customDocumentIdentifier": {"id": "doc-a"},
        "sourceType": "S3_LOCATION",
        "s3Location": {"uri": "s3://my-bucket/docs/a.pdf"},
    }
    assert report.documents[0].status == "INDEXED"
    deleted = kb.delete_documents(["doc-a"], poll_interval=0)
    assert [s.status for s in deleted.documents] == ["NOT_FOUND"]
    assert kb.list_documents() == []


def test_rerun_with_same_content_reuses_ids(
    plane: LocalControlPlane, plane_args: dict[str, Any]
) -> None:
    kb = custom_kb(plane, plane_args)
    first = kb.add_documents(docs(2), poll_interval=0)
    second = kb.add_documents(docs(2), poll_interval=0)
    assert first.document_ids == second.document_ids
    assert len(kb.list_documents()) == 2


def test_throttling_is_typed(
    plane: LocalControlPlane, plane_args: dict[str, Any], plane_server: LocalBedrock
) -> None:
    kb = custom_kb(plane, plane_args)
    plane_server.script(
        "IngestKnowledgeBaseDocuments",
        *[Reply.error(429, "ThrottlingException", "slow down")] * 3,
    )
    with pytest.raises(ThrottlingError, match=kb.knowledge_base_id):
        kb.add_documents(docs(1), poll_interval=0)


def test_limits_are_checked_before_sending() -> None:
    with pytest.raises(ConfigurationError, match="exactly one of text or s3_uri"):
        SourceDocument()
    with pytest.raises(ConfigurationError, match="not an s3://bucket/key URI"):
        SourceDocument(s3_uri="https://example.com/a.pdf")
    with pytest.raises(ConfigurationError, match="lists hold 1 to 10 strings"):
        build_custom_document(SourceDocument("x", {"tags": [str(i) for i in range(11)]}), "x")
    with pytest.raises(ConfigurationError, match="at most 50"):
        build_custom_document(SourceDocument("x", {f"k{i}": i for i in range(51)}), "x")
    with pytest.raises(ConfigurationError, match="no 'source' \\(id_key\\)"):
        document_id(SourceDocument("x"), "source")
    with pytest.raises(ConfigurationError, match="data_source_id must be a 10-character"):
        KnowledgeBaseIngestion("KB12345678", "bad", region_name="us-east-1")


async def test_async_custom_flow(plane: LocalControlPlane, plane_args: dict[str, Any]) -> None:
    kb = custom_kb(plane, plane_args)
    report = await kb.aadd_documents(docs(12), poll_interval=0)
    assert len(report.documents) == 12 and {s.status for s in report.documents} == {"INDEXED"}
    statuses = await kb.aget_documents(list(report.document_ids[:3]))
    assert [s.status for s in statuses] == ["INDEXED"] * 3
    deleted = await kb.adelete_documents(list(report.document_ids), poll_interval=0)
    assert {s.status for s in deleted.documents} == {"NOT_FOUND"}
    assert await kb.alist_documents() == []
    await kb.aclose()


def test_close_releases_the_control_plane_clients(
    plane: LocalControlPlane, plane_args: dict[str, Any]
) -> None:
    from bedrock_kit.core.transport.lifecycle import owned_pools

    kb = custom_kb(plane, plane_args)
    pools = owned_pools(kb)
    assert {p.service for p in pools} == {"bedrock-agent", "s3"}
