"""Reply builders for reranking: the Rerank API and Cohere Rerank's InvokeModel body.

Scores are deterministic and lexical (the share of query words a document contains, with a
small tie-breaker per document), so tests can rely on the order without a model. Ids Bedrock
makes up (Cohere's response ``id``) are unique per reply unless given.

Example:
    >>> from bedrock_kit.testing import rerank
    >>> body = rerank.rerank_reply("tide times", ["Tide times today.", "Cake recipes."])
    >>> [r["index"] for r in body["results"]]
    [0, 1]
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from bedrock_kit.testing.builders import new_id
from bedrock_kit.testing.replies import Reply

_WORD = re.compile(r"\w+")


def relevance(query: str, document: str | Mapping[str, Any]) -> float:
    """A deterministic score in (0, 1): query words found in the document, plus a tie-breaker."""
    text = document if isinstance(document, str) else json.dumps(document, sort_keys=True)
    wanted = {w.lower() for w in _WORD.findall(query)}
    found = {w.lower() for w in _WORD.findall(text)}
    share = len(wanted & found) / len(wanted) if wanted else 0.0
    tie = int.from_bytes(hashlib.sha256(text.encode()).digest()[:2], "big") / 65536 / 1000
    return round(min(0.999, 0.001 + 0.99 * share + tie), 6)


def _ranked(
    query: str,
    documents: Sequence[str | Mapping[str, Any]],
    top_n: int | None,
    scores: Sequence[float] | None,
) -> list[tuple[int, float]]:
    if scores is not None and len(scores) != len(documents):
        raise ValueError(f"{len(scores)} scores for {len(documents)} documents")
    given = scores if scores is not None else [relevance(query, d) for d in documents]
    ranked = sorted(enumerate(given), key=lambda pair: -pair[1])
    return ranked[:top_n] if top_n is not None else ranked


def rerank_reply(
    query: str,
    documents: Sequence[str | Mapping[str, Any]],
    *,
    top_n: int | None = None,
    scores: Sequence[float] | None = None,
) -> dict[str, Any]:
    """A Rerank API response body: ``results[]`` with ``index`` and ``relevanceScore``.

    Args:
        query: The query text.
        documents: The documents sent (text or JSON objects).
        top_n: Results to keep, best first; all when None.
        scores: Scores per document, in input order; :func:`relevance` when None.
    """
    return {
        "results": [
            {"index": index, "relevanceScore": score}
            for index, score in _ranked(query, documents, top_n, scores)
        ]
    }


def cohere_rerank_reply(
    query: str,
    documents: Sequence[str | Mapping[str, Any]],
    *,
    top_n: int | None = None,
    scores: Sequence[float] | None = None,
    response_id: str | None = None,
) -> dict[str, Any]:
    """Cohere Rerank 3.5's InvokeModel body: ``id``, ``results[]`` (``index``,
    ``relevance_score``) and ``meta`` with the billed search units.
    """
    return {
        "id": response_id or new_id(),
        "results": [
            {"index": index, "relevance_score": score}
            for index, score in _ranked(query, documents, top_n, scores)
        ],
        "meta": {
            "api_version": {"version": "2"},
            "billed_units": {"search_units": max(1, math.ceil(len(documents) / 100))},
        },
    }


def _document(source: Any) -> str | Mapping[str, Any]:
    inline = (source or {}).get("inlineDocumentSource") or {}
    if inline.get("type") == "JSON":
        return dict(inline.get("jsonDocument") or {})
    return str((inline.get("textDocument") or {}).get("text", ""))


def answer_rerank(body: Mapping[str, Any]) -> Reply:
    """LocalBedrock's unscripted answer to a Rerank request: documents scored by
    :func:`relevance`, ``numberOfResults`` kept."""
    queries = body.get("queries") or [{}]
    query = str(((queries[0] or {}).get("textQuery") or {}).get("text", ""))
    documents = [_document(s) for s in body.get("sources") or []]
    config = (body.get("rerankingConfiguration") or {}).get("bedrockRerankingConfiguration")
    top_n = (config or {}).get("numberOfResults")
    if not query or not documents:
        return Reply.error(400, "ValidationException", "queries and sources must not be empty")
    return Reply.json(rerank_reply(query, documents, top_n=top_n))


def is_rerank_body(body: Mapping[str, Any]) -> bool:
    """True for a Cohere Rerank InvokeModel body (``query`` and ``documents``)."""
    return isinstance(body.get("query"), str) and isinstance(body.get("documents"), list)


def answer_invoke_rerank(body: Mapping[str, Any]) -> Reply:
    """LocalBedrock's unscripted answer to Cohere Rerank's InvokeModel body."""
    if body.get("api_version") != 2:
        return Reply.error(400, "ValidationException", "api_version must be 2 for rerank")
    documents = list(body["documents"])
    return Reply.json(cohere_rerank_reply(body["query"], documents, top_n=body.get("top_n")))
