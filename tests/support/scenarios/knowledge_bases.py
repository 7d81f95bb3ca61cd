"""Knowledge Bases scenarios: Retrieve pages, citations, RetrieveAndGenerate answers and streams."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

KB = "KB12345678"
SESSION_HEADER = "x-amzn-bedrock-knowledge-base-session-id"
"""The response header RetrieveAndGenerateStream names its session in."""

# Location type -> (member of the location union, its address field), as Bedrock sends them.
_LOCATION_MEMBERS = {
    "S3": ("s3Location", "uri"),
    "WEB": ("webLocation", "url"),
    "CONFLUENCE": ("confluenceLocation", "url"),
    "SHAREPOINT": ("sharePointLocation", "url"),
}


def location(kind: str, address: str) -> dict[str, Any]:
    """A retrieval result ``location`` of type ``kind`` (S3, WEB, CONFLUENCE, SHAREPOINT)."""
    member, key = _LOCATION_MEMBERS[kind]
    return {"type": kind, member: {key: address}}


@dataclass(frozen=True)
class Source:
    """Where the chunks of a :func:`retrieval_page` come from."""

    kind: str
    """Location type."""
    base: str
    """Chunk ``i`` lives at ``base + str(i)``."""
    metadata: dict[str, Any] = field(default_factory=dict)
    """Source metadata every chunk carries besides its source URI."""


CONFLUENCE = Source("CONFLUENCE", "https://c/", {"team": "ops"})
SHAREPOINT = Source("SHAREPOINT", "https://sp/", {"dept": "hr"})


def retrieval_page(
    n: int, start: int = 0, token: str | None = None, source: Source = CONFLUENCE
) -> dict[str, Any]:
    """One Retrieve response: chunks ``start .. start+n-1`` scored 0.9, 0.8, ... down.

    Chunk ``i`` reads ``"chunk i"`` and scores ``0.9 - i/10``; ``token`` is the page's
    ``nextToken``.
    """
    body: dict[str, Any] = {
        "retrievalResults": [
            {
                "content": {"text": f"chunk {i}", "type": "TEXT"},
                "location": location(source.kind, f"{source.base}{i}"),
                "metadata": {"x-amz-bedrock-kb-source-uri": f"{source.base}{i}", **source.metadata},
                "score": round(0.9 - i / 10, 2),
            }
            for i in range(start, start + n)
        ]
    }
    if token:
        body["nextToken"] = token
    return body


def citation(cited: str, passage: str, kind: str, uri: str) -> dict[str, Any]:
    """A citation: the whole generated text ``cited`` rests on ``passage`` found at ``uri``."""
    return {
        "generatedResponsePart": {
            # Bedrock's spans include their end.
            "textResponsePart": {"text": cited, "span": {"start": 0, "end": len(cited) - 1}}
        },
        "retrievedReferences": [
            {
                "content": {"text": passage, "type": "TEXT"},
                "location": location(kind, uri),
                "metadata": {"x-amz-bedrock-kb-source-uri": uri},
            }
        ],
    }


def rag_answer(text: str, session_id: str, *citations: dict[str, Any]) -> dict[str, Any]:
    """A RetrieveAndGenerate response."""
    return {"output": {"text": text}, "sessionId": session_id, "citations": list(citations)}


def rag_stream(
    parts: list[str], cited: dict[str, Any], guardrail_action: str
) -> list[dict[str, Any]]:
    """RetrieveAndGenerateStream events: the text ``parts``, one citation, the guardrail action."""
    return [
        *({"output": {"text": part}} for part in parts),
        {"citation": {"citation": cited}},
        {"guardrail": {"action": guardrail_action}},
    ]
