"""BedrockKnowledgeBaseIndex and BedrockKnowledgeBaseWriter: LlamaIndex nodes and documents
into S3 and custom data sources (moto + LocalControlPlane); sync and async; failures typed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from llama_index.core.ingestion import IngestionPipeline
from llama_index.core.schema import Document, TextNode

from bedrock_kit.errors import DocumentIngestionError, IngestionJobError
from bedrock_kit.llama_index import (
    BedrockKnowledgeBaseIndex,
    BedrockKnowledgeBaseRetriever,
    BedrockKnowledgeBaseWriter,
)
from bedrock_kit.testing import LocalBedrock, LocalControlPlane


def args(plane_server: LocalBedrock, plane_moto_url: str) -> dict[str, Any]:
    return {**plane_server.client_kwargs(), "s3_endpoint_url": plane_moto_url, "max_retries": 1}


def s3_index(
    plane: LocalControlPlane, plane_bucket: str, client: dict[str, Any], **options: Any
) -> BedrockKnowledgeBaseIndex:
    kb_id = plane.add_knowledge_base()
    ds_id = plane.add_data_source(kb_id, bucket=plane_bucket, prefix="li/")
    return BedrockKnowledgeBaseIndex(kb_id, ds_id, poll_interval=0, **options, **client)


NODES = [
    TextNode(text="Refunds take five business days.", metadata={"file_name": "refunds.md"}),
    TextNode(text="Reset passwords from the login page.", metadata={"file_name": "login.md"}),
]


def test_insert_nodes_into_s3(
    plane: LocalControlPlane,
    plane_bucket: str,
    plane_s3: Any,
    plane_server: LocalBedrock,
    plane_moto_url: str,
) -> None:
    index = s3_index(plane, plane_bucket, args(plane_server, plane_moto_url), id_key="file_name")
    ids = index.insert_nodes(NODES)
    assert ids == ["refunds.md", "login.md"]
    body = plane_s3.get_object(Bucket=plane_bucket, Key="li/refunds.md.txt")["Body"].read()
    assert body.decode() == NODES[0].text  # the text alone, not LlamaIndex's metadata header
    sidecar = plane_s3.get_object(Bucket=plane_bucket, Key="li/login.md.txt.metadata.json")
    assert json.loads(sidecar["Body"].read())["metadataAttributes"] == {"file_name": "login.md"}
    assert index.last_report is not None and index.last_report.job is not None
    assert index.last_report.job.statistics.new_indexed == 2
    index.delete_ref_doc("login.md")
    assert index.last_report.job is not None and index.last_report.job.statistics.deleted == 1
    assert isinstance(index.as_retriever(number_of_results=2), BedrockKnowledgeBaseRetriever)


def test_content_ids_make_reruns_idempotent(
    plane: LocalControlPlane, plane_bucket: str, plane_server: LocalBedrock, plane_moto_url: str
) -> None:
    index = s3_index(plane, plane_bucket, args(plane_server, plane_moto_url))
    # Fresh nodes with fresh random node ids, same content: same document ids.
    first = index.insert_nodes([TextNode(text="same text")])
    second = index.insert_nodes([TextNode(text="same text")])
    assert first == second
    assert index.last_report is not None and index.last_report.unchanged == 1
    index.use_node_ids = True
    node = TextNode(text="same text", id_="node-1")
    assert index.insert_nodes([node]) == ["node-1"]


def test_job_failure_is_typed(
    plane: LocalControlPlane, plane_bucket: str, plane_server: LocalBedrock, plane_moto_url: str
) -> None:
    index = s3_index(plane, plane_bucket, args(plane_server, plane_moto_url))
    plane.fail_next_job = ["Access denied to the bucket"]
    with pytest.raises(IngestionJobError, match="Access denied to the bucket"):
        index.insert(Document(text="a document"))


def test_pipeline_writer_into_a_custom_data_source(
    plane: LocalControlPlane, plane_server: LocalBedrock, plane_moto_url: str
) -> None:
    kb_id = plane.add_knowledge_base()
    ds_id = plane.add_data_source(kb_id)
    index = BedrockKnowledgeBaseIndex(
        kb_id, ds_id, poll_interval=0, id_key="file_name", **args(plane_server, plane_moto_url)
    )
    pipeline = IngestionPipeline(transformations=[BedrockKnowledgeBaseWriter(index)])
    docs = [Document(text=f"fact {i}", metadata={"file_name": f"f{i}.md"}) for i in range(12)]
    nodes = pipeline.run(documents=docs)
    assert [n.metadata["bedrock_document_id"] for n in nodes] == [f"f{i}.md" for i in range(12)]
    assert [
        len(r.body["documents"]) for r in plane_server.requests_for("IngestKnowledgeBaseDocuments")
    ] == [10, 2]
    assert plane.document_text(kb_id, ds_id, "f11.md") == "fact 11"
    plane.fail_documents["bad.md"] = "Parsing failed"
    with pytest.raises(DocumentIngestionError, match=r"bad\.md FAILED: Parsing failed"):
        index.insert(Document(text="bad", metadata={"file_name": "bad.md"}))


async def test_async_index_and_pipeline(
    plane: LocalControlPlane, plane_bucket: str, plane_server: LocalBedrock, plane_moto_url: str
) -> None:
    index = s3_index(plane, plane_bucket, args(plane_server, plane_moto_url), id_key="file_name")
    assert await index.ainsert_nodes(NODES) == ["refunds.md", "login.md"]
    pipeline = IngestionPipeline(transformations=[BedrockKnowledgeBaseWriter(index)])
    nodes = await pipeline.arun(
        documents=[Document(text="Shipping is free.", metadata={"file_name": "ship.md"})]
    )
    assert nodes[0].metadata["bedrock_document_id"] == "ship.md"
    assert index.last_report is not None and index.last_report.job is not None
    assert index.last_report.job.statistics.scanned == 3
    await index.adelete_nodes(["refunds.md", "login.md", "ship.md"])
    assert index.last_report.job is not None and index.last_report.job.statistics.deleted == 3
    await index.aclose()
