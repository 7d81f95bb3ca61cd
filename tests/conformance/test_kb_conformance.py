"""Conformance: real Bedrock Knowledge Bases responses (Arize-ai/openinference recordings)
replayed byte for byte through LocalBedrock into the public API, checked against the JSON.

The recordings live in ../shared/conformance (third-party data, never copied here); the
module is skipped when they are absent.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bedrock_kit.core.knowledge_bases.runtime import KnowledgeBaseRuntime
from bedrock_kit.core.transport.clients import ClientSettings
from bedrock_kit.testing import LocalBedrock, Reply

yaml = pytest.importorskip("yaml")

pytestmark = pytest.mark.conformance

ROOT = Path(__file__).resolve().parents[2]
CASSETTES = next(
    (
        base / "conformance" / "cassettes" / "Arize-ai__openinference"
        for base in (ROOT.parent / "shared", Path("/work/shared"))
        if (base / "conformance" / "cassettes" / "Arize-ai__openinference").is_dir()
    ),
    None,
)
if CASSETTES is None:
    pytest.skip("../shared/conformance recordings are absent", allow_module_level=True)


def recorded(name: str) -> tuple[dict, dict, Reply]:
    """(request body, response body, Reply that sends the exact recorded bytes)."""
    interaction = yaml.safe_load((CASSETTES / name).read_text())["interactions"][0]
    raw = interaction["response"]["body"]["string"]
    raw_bytes = raw.encode() if isinstance(raw, str) else raw
    headers = {k: v[0] for k, v in (interaction["response"]["headers"] or {}).items()}
    reply = Reply.raw(interaction["response"]["status"]["code"], headers, raw_bytes)
    return json.loads(interaction["request"]["body"]), json.loads(raw_bytes), reply


@pytest.fixture
def runtime(server: LocalBedrock) -> KnowledgeBaseRuntime:
    return KnowledgeBaseRuntime(
        ClientSettings(region_name="ap-south-1", endpoint_url=server.endpoint_url, max_retries=0)
    )


def check_reference(parsed, wire: dict) -> None:
    assert parsed.text == wire["content"]["text"]
    assert parsed.content_type == wire["content"]["type"]
    assert parsed.metadata == wire["metadata"]
    assert parsed.location is not None
    assert parsed.location.type == wire["location"]["type"] == "CUSTOM"
    assert parsed.location.source_uri == wire["location"]["customDocumentLocation"]["id"]
    assert parsed.source_uri == wire["metadata"]["x-amz-bedrock-kb-source-uri"]


def test_retrieve_recording(server, runtime) -> None:
    request, response, reply = recorded("test_retrieve.yaml")
    server.script("Retrieve", reply)
    kb_id = "SSGLURQ9A5"
    result = runtime.retrieve(kb_id, request["retrievalQuery"]["text"])
    wire = response["retrievalResults"]
    assert len(result.results) == len(wire) == 5
    for parsed, sent in zip(result.results, wire, strict=True):
        check_reference(parsed, sent)
        assert parsed.score == sent["score"]
    scores = [r.score for r in result.results]
    assert scores == sorted(scores, reverse=True)
    assert result.next_token is None and result.pages == 1
    # Our request is byte-for-byte what real Bedrock received from boto3.
    (sent_request,) = server.requests_for("Retrieve")
    assert sent_request.body == request
    assert sent_request.path == f"/knowledgebases/{kb_id}/retrieve"


async def test_retrieve_recording_async_min_score(server, runtime) -> None:
    _, response, reply = recorded("test_retrieve.yaml")
    server.script("Retrieve", reply)
    try:
        result = await runtime.aretrieve("SSGLURQ9A5", "What is task Decomposition?", min_score=0.3)
    finally:
        await runtime.pool.aclose()
    kept = [r["score"] for r in response["retrievalResults"] if r["score"] >= 0.3]
    assert [r.score for r in result.results] == kept == pytest.approx([0.6244, 0.3701], abs=1e-4)
    assert result.dropped_below_min_score == 3


def test_retrieve_and_generate_recording(server, runtime) -> None:
    request, response, reply = recorded("test_retrieve_and_generate_with_knowledge_base.yaml")
    server.script("RetrieveAndGenerate", reply)
    config = request["retrieveAndGenerateConfiguration"]["knowledgeBaseConfiguration"]
    result = runtime.retrieve_and_generate(
        request["input"]["text"],
        model=config["modelArn"],
        knowledge_base_id=config["knowledgeBaseId"],
    )
    assert result.text == response["output"]["text"]
    assert result.session_id == response["sessionId"]
    assert len(result.citations) == len(response["citations"]) == 2
    for parsed, sent in zip(result.citations, response["citations"], strict=True):
        part = sent["generatedResponsePart"]["textResponsePart"]
        assert parsed.text == part["text"]
        assert (parsed.span.start, parsed.span.end) == (part["span"]["start"], part["span"]["end"])
        # Bedrock's span end is inclusive: the cited text is output[start:end + 1].
        assert parsed.span.slice_of(result.text) == part["text"]
        assert len(parsed.references) == len(sent["retrievedReferences"]) == 1
        for ref, sent_ref in zip(parsed.references, sent["retrievedReferences"], strict=True):
            check_reference(ref, sent_ref)
            assert ref.score is None
    # Both citations cite the same chunk; the result lists it once.
    assert len(result.references) == 1
    (sent_request,) = server.requests_for("RetrieveAndGenerate")
    sent_kb = sent_request.body["retrieveAndGenerateConfiguration"]["knowledgeBaseConfiguration"]
    assert sent_request.body["input"] == request["input"]
    assert sent_kb["knowledgeBaseId"] == config["knowledgeBaseId"]
    # The recording sent a bare model id; with a region known we send its ARN.
    assert sent_kb["modelArn"] == (
        f"arn:aws:bedrock:ap-south-1::foundation-model/{config['modelArn']}"
    )


def test_recorded_retrieve_through_the_langchain_retriever(server) -> None:
    pytest.importorskip("langchain_core")
    from bedrock_kit.langchain.knowledge_bases import BedrockKnowledgeBaseRetriever

    _, response, reply = recorded("test_retrieve.yaml")
    server.script("Retrieve", reply)
    retriever = BedrockKnowledgeBaseRetriever(
        knowledge_base_id="SSGLURQ9A5", region_name="ap-south-1", endpoint_url=server.endpoint_url
    )
    docs = retriever.invoke("What is task Decomposition?")
    wire = response["retrievalResults"]
    assert [d.page_content for d in docs] == [r["content"]["text"] for r in wire]
    assert [d.metadata["score"] for d in docs] == [r["score"] for r in wire]
    assert {d.metadata["source_uri"] for d in docs} == {"2222"}


def test_recorded_generation_through_the_llama_index_engine(server) -> None:
    pytest.importorskip("llama_index.core")
    from bedrock_kit.llama_index.knowledge_bases import BedrockRetrieveAndGenerateQueryEngine

    _, response, reply = recorded("test_retrieve_and_generate_with_knowledge_base.yaml")
    server.script("RetrieveAndGenerate", reply)
    engine = BedrockRetrieveAndGenerateQueryEngine(
        knowledge_base_id="SSGLURQ9A5",
        model="anthropic.claude-3-haiku-20240307-v1:0",
        region_name="ap-south-1",
        endpoint_url=server.endpoint_url,
    )
    answer = engine.query("What is Task Decomposition?")
    assert answer.response == response["output"]["text"]
    assert len(answer.source_nodes) == 2  # one per (citation, reference)
    assert [n.node.metadata["cited_text"] for n in answer.source_nodes] == [
        c["generatedResponsePart"]["textResponsePart"]["text"] for c in response["citations"]
    ]
    assert answer.metadata["session_id"] == response["sessionId"]
