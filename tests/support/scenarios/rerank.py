"""Reranking scenarios shared by both adapters: documents, scripted replies, expectations."""

from __future__ import annotations

from bedrock_kit.testing import Reply
from bedrock_kit.testing import rerank as replies

AMAZON = "amazon.rerank-v1:0"
COHERE = "cohere.rerank-v3-5:0"
QUERY = "when is high tide"
TEXTS = [
    "Cake recipes for the weekend.",
    "High tide is at 06:12 and 18:40 today.",
    "Tides rise twice a day.",
    "When the tide is high, the beach is closed.",
]
SCORES = [0.02, 0.97, 0.41, 0.66]
BEST_FIRST = [1, 3, 2, 0]


def rerank_api_reply(top_n: int | None) -> Reply:
    """The Rerank API's answer with :data:`SCORES`."""
    return Reply.json(replies.rerank_reply(QUERY, TEXTS, top_n=top_n, scores=SCORES))


def invoke_reply(top_n: int | None) -> Reply:
    """Cohere Rerank 3.5's InvokeModel answer with :data:`SCORES`."""
    body = replies.cohere_rerank_reply(QUERY, TEXTS, top_n=top_n, scores=SCORES)
    return Reply.json(body)
