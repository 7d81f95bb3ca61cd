"""LocalControlPlane answers Retrieve over what its ingestion jobs and custom documents
indexed: S3 objects with their sidecar metadata, inline custom documents, deletions."""

from __future__ import annotations

from typing import Any

from langchain_core.documents import Document

from bedrock_kit.langchain import BedrockKnowledgeBase, BedrockKnowledgeBaseRetriever
from bedrock_kit.testing import LocalBedrock, LocalControlPlane


def _args(plane_server: LocalBedrock, plane_moto_url: str) -> dict[str, Any]:
    return {**plane_server.client_kwargs(), "s3_endpoint_url": plane_moto_url, "max_retries": 1}


def test_retrieve_searches_what_an_s3_ingestion_job_indexed(
    plane: LocalControlPlane, plane_bucket: str, plane_server: LocalBedrock, plane_moto_url: str
) -> None:
    kb_id = plane.add_knowledge_base()
    ds_id = plane.add_data_source(kb_id, bucket=plane_bucket, prefix="docs/")
    kb = BedrockKnowledgeBase(
        kb_id, ds_id, poll_interval=0, id_key="source", **_args(plane_server, plane_moto_url)
    )
    retriever = kb.as_retriever(number_of_results=2)
    assert retriever.invoke("refunds") == []  # nothing indexed yet
    kb.add_documents(
        [
            Document("Refunds take five business days.", metadata={"source": "refunds.md"}),
            Document("Reset passwords from the login page.", metadata={"source": "login.md"}),
        ]
    )
    (found,) = retriever.invoke("how long do refunds take")
    assert found.page_content == "Refunds take five business days."
    assert found.metadata["source_uri"] == f"s3://{plane_bucket}/docs/refunds.md.txt"
    assert found.metadata["source_metadata"]["source"] == "refunds.md"
    kb.delete(["refunds.md"])
    assert retriever.invoke("how long do refunds take") == []


def test_retrieve_searches_indexed_custom_documents_only(
    plane: LocalControlPlane, plane_server: LocalBedrock, plane_moto_url: str
) -> None:
    kb_id = plane.add_knowledge_base()
    ds_id = plane.add_data_source(kb_id)
    plane.fail_documents["bad"] = "Document too large"
    kb = BedrockKnowledgeBase(kb_id, ds_id, poll_interval=0, **_args(plane_server, plane_moto_url))
    kb.add_texts(["Tides rise twice a day."], [{"topic": "sea"}], ids=["tides"])
    kb.add_documents(
        [Document("Tides in a failed document.")], ids=["bad"], allow_failed_documents=True
    )
    (found,) = kb.as_retriever().invoke("tides")
    assert found.page_content == "Tides rise twice a day."
    assert found.metadata["source_metadata"]["topic"] == "sea"


def test_other_knowledge_bases_keep_the_rule_file_answer() -> None:
    rules = {"knowledge_base": {"documents": [{"text": "Rule file tides."}]}}
    with LocalBedrock(rules=rules) as server:
        LocalControlPlane(server)
        retriever = BedrockKnowledgeBaseRetriever(
            knowledge_base_id="KB12345678", **server.client_kwargs()
        )
        assert [d.page_content for d in retriever.invoke("tides")] == ["Rule file tides."]
