"""BedrockKnowledgeBase: LangChain documents into S3 and custom data sources (moto +
LocalControlPlane), ``delete``, ``as_retriever``; sync and async; failed documents typed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.documents import Document

from bedrock_kit.core.knowledge_bases.data_sources import (
    custom_data_source,
    semantic_chunking,
)
from bedrock_kit.errors import (
    ConfigurationError,
    DocumentIngestionError,
    IngestionJobError,
    UnknownArgumentError,
)
from bedrock_kit.langchain import BedrockKnowledgeBase, BedrockKnowledgeBaseRetriever
from bedrock_kit.testing import LocalBedrock, LocalControlPlane

DOCS = [
    Document("Refunds take five business days.", metadata={"source": "faq/refunds.md"}),
    Document("Reset passwords from the login page.", metadata={"source": "faq/login.md"}),
]


def kb_args(plane_server: LocalBedrock, plane_moto_url: str) -> dict[str, Any]:
    return {**plane_server.client_kwargs(), "s3_endpoint_url": plane_moto_url, "max_retries": 1}


def s3_kb(
    plane: LocalControlPlane, plane_bucket: str, args: dict[str, Any], **options: Any
) -> BedrockKnowledgeBase:
    kb_id = plane.add_knowledge_base()
    ds_id = plane.add_data_source(kb_id, bucket=plane_bucket, prefix="docs/")
    return BedrockKnowledgeBase(kb_id, ds_id, poll_interval=0, **options, **args)


def test_add_documents_to_an_s3_data_source(
    plane: LocalControlPlane,
    plane_bucket: str,
    plane_s3: Any,
    plane_server: LocalBedrock,
    plane_moto_url: str,
) -> None:
    kb = s3_kb(plane, plane_bucket, kb_args(plane_server, plane_moto_url), id_key="source")
    ids = kb.add_documents(DOCS)
    assert ids == ["faq/refunds.md", "faq/login.md"]
    sidecar = plane_s3.get_object(Bucket=plane_bucket, Key="docs/faq_refunds.md.txt.metadata.json")
    assert json.loads(sidecar["Body"].read()) == {
        "metadataAttributes": {"source": "faq/refunds.md"}
    }
    report = kb.last_report
    assert report is not None and report.job is not None
    assert report.job.statistics.new_indexed == 2
    # The same load again: nothing uploaded, nothing re-indexed.
    assert kb.add_documents(DOCS) == ids
    assert kb.last_report is not None and kb.last_report.unchanged == 2
    assert kb.delete(["faq/login.md"]) is True
    assert kb.last_report.job is not None and kb.last_report.job.statistics.deleted == 1


def test_failed_documents_in_the_job_raise(
    plane: LocalControlPlane, plane_bucket: str, plane_server: LocalBedrock, plane_moto_url: str
) -> None:
    kb = s3_kb(plane, plane_bucket, kb_args(plane_server, plane_moto_url), id_key="source")
    plane.fail_documents["faq_login.md"] = "Unsupported encoding"
    with pytest.raises(IngestionJobError, match="Unsupported encoding") as caught:
        kb.add_documents(DOCS)
    assert caught.value.statistics["numberOfNewDocumentsIndexed"] == 1


def test_metadata_keys_and_refused_metadata(
    plane: LocalControlPlane, plane_bucket: str, plane_server: LocalBedrock, plane_moto_url: str
) -> None:
    kb = s3_kb(plane, plane_bucket, kb_args(plane_server, plane_moto_url))
    loaded = [Document("x", metadata={"source": "a.md", "coordinates": {"page": 1}})]
    with pytest.raises(ConfigurationError, match="'coordinates' is dict"):
        kb.add_documents(loaded)
    assert not plane_server.requests_for("StartIngestionJob")
    kb.metadata_keys = ["source"]
    assert len(kb.add_documents(loaded)) == 1
    with pytest.raises(ConfigurationError, match="2 ids for 1 documents"):
        kb.add_documents(loaded, ids=["a", "b"])
    with pytest.raises(ConfigurationError, match="give the ids"):
        kb.delete()


def test_custom_data_source_create_and_add_texts(
    plane: LocalControlPlane, plane_server: LocalBedrock, plane_moto_url: str
) -> None:
    kb_id = plane.add_knowledge_base()
    kb = BedrockKnowledgeBase.create_data_source(
        kb_id,
        "direct",
        custom_data_source(),
        chunking=semantic_chunking(),
        poll_interval=0,
        **kb_args(plane_server, plane_moto_url),
    )
    assert kb.data_source().type == "CUSTOM"
    ids = kb.add_texts(["first fact", "second fact"], [{"n": 1}, {"n": 2}], ids=["f1", "f2"])
    assert ids == ["f1", "f2"]
    assert plane.document_text(kb_id, kb.data_source_id, "f2") == "second fact"
    plane.fail_documents["f3"] = "Document too large"
    with pytest.raises(DocumentIngestionError, match="f3 FAILED: Document too large"):
        kb.add_texts(["third"], ids=["f3"])
    assert kb.delete(["f1", "f2", "f3"])
    assert not plane_server.requests_for("GetDataSource")  # created, so already known


def test_as_retriever_is_the_existing_retriever(
    plane: LocalControlPlane, plane_bucket: str, plane_server: LocalBedrock, plane_moto_url: str
) -> None:
    kb = s3_kb(plane, plane_bucket, kb_args(plane_server, plane_moto_url))
    retriever = kb.as_retriever(number_of_results=3)
    assert isinstance(retriever, BedrockKnowledgeBaseRetriever)
    retriever.invoke("refunds")
    (call,) = plane_server.requests_for("Retrieve")
    assert call.path_params["knowledgeBaseId"] == kb.knowledge_base_id
    assert call.body["retrievalConfiguration"]["vectorSearchConfiguration"]["numberOfResults"] == 3


def test_unknown_arguments_are_refused() -> None:
    with pytest.raises(UnknownArgumentError, match="s3_endpoint"):
        BedrockKnowledgeBase("KB12345678", "DS12345678", s3_endpoint="http://x")


async def test_async_add_and_delete(
    plane: LocalControlPlane, plane_bucket: str, plane_server: LocalBedrock, plane_moto_url: str
) -> None:
    kb = s3_kb(plane, plane_bucket, kb_args(plane_server, plane_moto_url), id_key="source")
    ids = await kb.aadd_documents(DOCS)
    assert kb.last_report is not None and kb.last_report.job is not None
    assert kb.last_report.job.statistics.new_indexed == 2
    assert await kb.aadd_texts(["more"], [{"source": "faq/more.md"}]) == ["faq/more.md"]
    assert await kb.adelete(ids)
    assert kb.last_report.job is not None and kb.last_report.job.statistics.deleted == 2
    await kb.aclose()
