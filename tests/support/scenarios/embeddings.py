"""Embeddings scenarios: the models and their InvokeModel replies."""

from __future__ import annotations

from bedrock_kit.testing import Reply

TITAN = "amazon.titan-embed-text-v2:0"
COHERE = "cohere.embed-english-v3"
COHERE_MULTILINGUAL = "cohere.embed-multilingual-v3"


def titan_reply(vector: list[float], tokens: int) -> Reply:
    """Titan's answer for one text: its vector and input token count."""
    return Reply.json({"embedding": vector, "inputTextTokenCount": tokens})


def cohere_reply(count: int, tokens: int) -> Reply:
    """Cohere's answer for ``count`` texts: vector ``i`` is ``[float(i)]``; tokens in a header."""
    body = {"embeddings": [[float(i)] for i in range(count)], "response_type": "embeddings_floats"}
    return Reply.json(body, headers={"X-Amzn-Bedrock-Input-Token-Count": str(tokens)})
