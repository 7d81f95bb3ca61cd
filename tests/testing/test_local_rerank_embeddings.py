"""LocalBedrock's unscripted answers to Rerank and to the newer embedding bodies (raw boto3)."""

from __future__ import annotations

import base64
import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from bedrock_kit.testing import LocalBedrock
from bedrock_kit.testing.embeddings import typed
from tests.support.scenarios.embedding_models import CAT, DOG, data_uri

ARN = "arn:aws:bedrock:us-east-1::foundation-model/amazon.rerank-v1:0"


def client(server: LocalBedrock, service: str) -> Any:
    return boto3.client(service, **server.client_kwargs())


def invoke(server: LocalBedrock, model: str, body: dict[str, Any]) -> tuple[dict[str, Any], dict]:
    response = client(server, "bedrock-runtime").invoke_model(modelId=model, body=json.dumps(body))
    return json.loads(response["body"].read()), response["ResponseMetadata"]["HTTPHeaders"]


def test_rerank_is_served_with_number_of_results(server: LocalBedrock) -> None:
    answer = client(server, "bedrock-agent-runtime").rerank(
        queries=[{"type": "TEXT", "textQuery": {"text": "tide tables"}}],
        sources=[
            {
                "type": "INLINE",
                "inlineDocumentSource": {"type": "TEXT", "textDocument": {"text": t}},
            }
            for t in ("cakes", "tide tables for May", "tables")
        ]
        + [
            {
                "type": "INLINE",
                "inlineDocumentSource": {"type": "JSON", "jsonDocument": {"title": "tide"}},
            }
        ],
        rerankingConfiguration={
            "type": "BEDROCK_RERANKING_MODEL",
            "bedrockRerankingConfiguration": {
                "modelConfiguration": {"modelArn": ARN},
                "numberOfResults": 3,
            },
        },
    )
    indexes = [r["index"] for r in answer["results"]]
    assert indexes[0] == 1 and len(indexes) == 3
    scores = [r["relevanceScore"] for r in answer["results"]]
    assert scores == sorted(scores, reverse=True)


def test_invoke_rerank_body_gets_unique_ids_and_checks_api_version(server: LocalBedrock) -> None:
    body = {"query": "tide", "documents": ["cakes", "tide"], "api_version": 2, "top_n": 1}
    first, _ = invoke(server, "cohere.rerank-v3-5:0", body)
    second, _ = invoke(server, "cohere.rerank-v3-5:0", body)
    assert first["results"] == [
        {"index": 1, "relevance_score": first["results"][0]["relevance_score"]}
    ]
    assert first["id"] != second["id"]
    with pytest.raises(ClientError, match="api_version must be 2"):
        invoke(server, "cohere.rerank-v3-5:0", {**body, "api_version": 1})


def test_titan_multimodal_image_text_and_size(server: LocalBedrock) -> None:
    image = base64.b64encode(CAT).decode()
    alone, headers = invoke(
        server,
        "amazon.titan-embed-image-v1",
        {"inputImage": image, "embeddingConfig": {"outputEmbeddingLength": 256}},
    )
    both, _ = invoke(
        server, "amazon.titan-embed-image-v1", {"inputImage": image, "inputText": "cat"}
    )
    assert len(alone["embedding"]) == 256 and len(both["embedding"]) == 1024
    assert alone["inputTextTokenCount"] == 0 and both["inputTextTokenCount"] >= 1
    assert headers["x-amzn-bedrock-input-token-count"] == "0"


def test_cohere_images_inputs_and_types(server: LocalBedrock) -> None:
    images, _ = invoke(
        server,
        "cohere.embed-v4:0",
        {"input_type": "search_document", "images": [data_uri(CAT), data_uri(DOG)]},
    )
    assert len(images["embeddings"]) == 2 and len(images["embeddings"][0]) == 1536
    typed_answer, _ = invoke(
        server,
        "cohere.embed-english-v3",
        {"texts": ["a"], "input_type": "search_query", "embedding_types": ["int8", "binary"]},
    )
    assert typed_answer["response_type"] == "embeddings_by_type"
    assert set(typed_answer["embeddings"]) == {"int8", "binary"}
    assert len(typed_answer["embeddings"]["binary"][0]) == 1024 // 8


def test_typed_vectors_stay_in_range() -> None:
    vector = [-1.0, -0.2, 0.0, 0.7, 1.0]
    assert typed(vector, "int8") == [-127, -25, 0, 89, 127]
    assert all(0 <= v <= 255 for v in typed(vector, "uint8"))
    assert typed([1.0] * 8, "ubinary") == [255] and typed([1.0] * 8, "binary") == [-1]
