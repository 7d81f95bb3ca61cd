"""S3 data sources: documents and sidecars uploaded to a real S3 API (moto), an ingestion job
followed on LocalControlPlane through STARTING -> IN_PROGRESS -> COMPLETE, sync and async."""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest

from bedrock_kit.core.knowledge_bases.data_sources import fixed_size_chunking, s3_data_source
from bedrock_kit.core.knowledge_bases.documents import SourceDocument, document_id
from bedrock_kit.core.knowledge_bases.ingestion import KnowledgeBaseIngestion
from bedrock_kit.errors import (
    ConfigurationError,
    IngestionJobError,
    ModelTimeoutError,
    ResourceNotFoundError,
)
from bedrock_kit.testing import LocalBedrock, LocalControlPlane, Reply

DOCS = [
    SourceDocument("Refunds take five business days.", {"team": "billing", "year": 2026}),
    SourceDocument("Passwords reset from the login page.", {"team": "support", "tags": ["a", "b"]}),
]


def kb_of(
    plane: LocalControlPlane, plane_bucket: str, plane_args: dict[str, Any]
) -> KnowledgeBaseIngestion:
    kb_id = plane.add_knowledge_base("docs")
    ds_id = plane.add_data_source(kb_id, bucket=plane_bucket, prefix="kb/")
    return KnowledgeBaseIngestion(kb_id, ds_id, **plane_args)


def test_add_documents_uploads_sidecars_and_runs_a_job(
    plane: LocalControlPlane,
    plane_bucket: str,
    plane_s3: Any,
    plane_args: dict[str, Any],
    plane_server: LocalBedrock,
) -> None:
    kb = kb_of(plane, plane_bucket, plane_args)
    report = kb.add_documents(DOCS, poll_interval=0)
    keys = sorted(o["Key"] for o in plane_s3.list_objects_v2(Bucket=plane_bucket)["Contents"])
    ids = [document_id(d) for d in DOCS]
    assert report.document_ids == tuple(ids)
    assert keys == sorted([f"kb/{i}.txt" for i in ids] + [f"kb/{i}.txt.metadata.json" for i in ids])
    sidecar = json.loads(
        plane_s3.get_object(Bucket=plane_bucket, Key=f"kb/{ids[0]}.txt.metadata.json")[
            "Body"
        ].read()
    )
    assert sidecar == {"metadataAttributes": {"team": "billing", "year": 2026}}
    text = plane_s3.get_object(Bucket=plane_bucket, Key=f"kb/{ids[1]}.txt")["Body"].read().decode()
    assert text == DOCS[1].text
    assert report.uploaded == 2 and report.unchanged == 0
    assert report.job is not None and report.job.status == "COMPLETE"
    stats = report.job.statistics
    assert (stats.scanned, stats.metadata_scanned, stats.new_indexed, stats.failed) == (2, 2, 2, 0)
    assert [r.operation for r in plane_server.requests] == [
        "GetDataSource",
        "StartIngestionJob",
        "GetIngestionJob",
        "GetIngestionJob",
    ]
    assert kb.progress_history[0].startswith("STARTING")
    assert kb.progress_history[-1].startswith("COMPLETE scanned=2 indexed=2")


def test_rerun_is_idempotent_and_changes_are_counted(
    plane: LocalControlPlane, plane_bucket: str, plane_args: dict[str, Any]
) -> None:
    kb = kb_of(plane, plane_bucket, plane_args)
    kb.add_documents(DOCS, poll_interval=0)
    again = kb.add_documents(DOCS, poll_interval=0)
    assert (again.uploaded, again.unchanged) == (0, 2)
    assert again.job is not None
    assert again.job.statistics.new_indexed == 0 and again.job.statistics.scanned == 2
    changed = [DOCS[0], SourceDocument(DOCS[1].text, {"team": "support", "tags": ["c"]})]
    third = kb.add_documents(changed, poll_interval=0)
    assert (third.uploaded, third.unchanged) == (1, 1)
    assert third.job is not None and third.job.statistics.metadata_modified == 1
    deleted = kb.delete_documents([third.document_ids[0]], poll_interval=0)
    assert deleted.job is not None and deleted.job.statistics.deleted == 1
    assert deleted.job.statistics.scanned == 1


def test_id_key_gives_stable_ids(
    plane: LocalControlPlane, plane_bucket: str, plane_s3: Any, plane_args: dict[str, Any]
) -> None:
    kb = kb_of(plane, plane_bucket, plane_args)
    kb.id_key = "source"
    docs = [SourceDocument("v1 text", {"source": "faq/refunds.md"})]
    first = kb.add_documents(docs, poll_interval=0)
    second = kb.add_documents(
        [SourceDocument("v2 text", {"source": "faq/refunds.md"})], poll_interval=0
    )
    assert first.document_ids == second.document_ids == ("faq/refunds.md",)
    assert second.job is not None and second.job.statistics.modified_indexed == 1
    body = plane_s3.get_object(Bucket=plane_bucket, Key="kb/faq_refunds.md.txt")["Body"].read()
    assert body == b"v2 text"


def test_failed_documents_raise_with_their_reasons(
    plane: LocalControlPlane, plane_bucket: str, plane_args: dict[str, Any]
) -> None:
    kb = kb_of(plane, plane_bucket, plane_args)
    bad = document_id(DOCS[1])
    plane.fail_documents[bad] = "The file is empty or unreadable"
    with pytest.raises(IngestionJobError, match="1 document\\(s\\) failed") as caught:
        kb.add_documents(DOCS, poll_interval=0)
    error = caught.value
    assert error.status == "COMPLETE" and error.statistics["numberOfDocumentsFailed"] == 1
    assert len(error.failure_reasons) == 1 and bad in error.failure_reasons[0]
    assert error.knowledge_base_id == kb.knowledge_base_id and kb.knowledge_base_id in str(error)
    report = kb.add_documents(DOCS, poll_interval=0, allow_failed_documents=True)
    assert report.job is not None and report.job.statistics.failed == 1


def test_failed_job_raises(
    plane: LocalControlPlane, plane_bucket: str, plane_args: dict[str, Any]
) -> None:
    kb = kb_of(plane, plane_bucket, plane_args)
    plane.fail_next_job = ["The knowledge base's vector store is unreachable"]
    with pytest.raises(
        IngestionJobError, match="failed: The knowledge base's vector store"
    ) as caught:
        kb.add_documents(DOCS, poll_interval=0)
    assert caught.value.status == "FAILED"


def test_timeout_and_manual_jobs(
    plane: LocalControlPlane, plane_bucket: str, plane_args: dict[str, Any]
) -> None:
    kb = kb_of(plane, plane_bucket, plane_args)
    plane.job_steps = 50
    with pytest.raises(ModelTimeoutError, match="still IN_PROGRESS"):
        kb.add_documents(DOCS, poll_interval=0.01, timeout=0.05)
    plane.job_steps = 1
    job = kb.start_ingestion_job("manual sync")
    assert job.last.status == "STARTING"
    final = job.wait(poll_interval=0)
    assert final.status == "COMPLETE" and final.statistics.scanned == 2


def test_bad_input_is_refused_before_any_request(
    plane: LocalControlPlane,
    plane_bucket: str,
    plane_args: dict[str, Any],
    plane_server: LocalBedrock,
) -> None:
    kb = kb_of(plane, plane_bucket, plane_args)
    kb.data_source()
    before = len(plane_server.requests)
    with pytest.raises(ConfigurationError, match="metadata 'nested' is dict"):
        kb.add_documents([SourceDocument("x", {"nested": {"a": 1}})])
    with pytest.raises(ConfigurationError, match="repeat the id"):
        kb.add_documents([SourceDocument("same"), SourceDocument("same")])
    kb.prefix = "elsewhere/"
    with pytest.raises(ConfigurationError, match="outside data source"):
        kb.add_documents(DOCS)
    assert len(plane_server.requests) == before


def test_errors_of_the_service_are_typed(
    plane: LocalControlPlane,
    plane_bucket: str,
    plane_args: dict[str, Any],
    plane_server: LocalBedrock,
) -> None:
    kb = kb_of(plane, plane_bucket, plane_args)
    plane_server.script(
        "StartIngestionJob", Reply.error(404, "ResourceNotFoundException", "no such data source")
    )
    with pytest.raises(ResourceNotFoundError, match=kb.knowledge_base_id):
        kb.add_documents(DOCS, poll_interval=0)


def test_create_data_source_checks_then_creates(
    plane: LocalControlPlane,
    plane_bucket: str,
    plane_args: dict[str, Any],
    plane_server: LocalBedrock,
) -> None:
    kb_id = plane.add_knowledge_base()
    with pytest.raises(ConfigurationError, match="overlap_percentage must be 1 to 99"):
        fixed_size_chunking(300, 0)
    made = KnowledgeBaseIngestion.create_data_source(
        knowledge_base_id=kb_id,
        name="docs",
        configuration=s3_data_source(plane_bucket, prefix="kb/"),
        chunking=fixed_size_chunking(512, 10),
        **plane_args,
    )
    source = made.data_source()
    assert (source.type, source.bucket, source.prefix) == ("S3", plane_bucket, "kb/")
    assert source.chunking == fixed_size_chunking(512, 10)
    (create,) = plane_server.requests_for("CreateDataSource")
    assert create.body["vectorIngestionConfiguration"]["chunkingConfiguration"][
        "fixedSizeChunkingConfiguration"
    ] == {"maxTokens": 512, "overlapPercentage": 10}
    assert not plane_server.requests_for("GetDataSource")  # the create response is the source


async def test_async_add_and_delete(
    plane: LocalControlPlane, plane_bucket: str, plane_args: dict[str, Any]
) -> None:
    kb = kb_of(plane, plane_bucket, plane_args)
    report = await kb.aadd_documents(DOCS, poll_interval=0)
    assert report.job is not None and report.job.statistics.new_indexed == 2
    job = await kb.astart_ingestion_job()
    final = await job.await_(poll_interval=0)
    assert final.statistics.new_indexed == 0 and final.statistics.scanned == 2
    deleted = await kb.adelete_documents(list(report.document_ids), poll_interval=0)
    assert deleted.job is not None and deleted.job.statistics.deleted == 2
    await kb.aclose()


def test_progress_bar_and_its_fallback(
    plane: LocalControlPlane,
    plane_bucket: str,
    plane_args: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kb = kb_of(plane, plane_bucket, plane_args)
    kb.add_documents(DOCS, poll_interval=0, progress=True)
    shown = capsys.readouterr().err
    assert "ingestion LOCAL" in shown and "COMPLETE scanned=2 indexed=2" in shown
    # Without tqdm the same status lines go to stderr.
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    kb.add_documents([SourceDocument("a third one")], poll_interval=0, progress=True)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("ingestion LOCAL") and ": STARTING" in lines[0]
    assert lines[-1].endswith("failed=0") and "COMPLETE scanned=3 indexed=1" in lines[-1]
