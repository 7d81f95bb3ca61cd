"""Reply builders for the operations besides chat: Knowledge Bases, guardrails, agents, embeddings.

Each returns the body (or the event list) Bedrock sends, shaped like the real recordings and
botocore's service models, ready for :meth:`Reply.json <bedrock_kit.testing.Reply.json>` or
:meth:`Reply.events <bedrock_kit.testing.Reply.events>`. Ids Bedrock makes up (session ids,
return-of-control invocation ids) are unique per call unless given, so two replies never
collide by accident.

Example:
    >>> from bedrock_kit.testing import Reply, builders
    >>> body = builders.retrieve_reply("Tides rise twice a day.", "The Moon pulls the sea.")
    >>> [r["score"] for r in body["retrievalResults"]]
    [0.9, 0.8]
    >>> builders.guardrail_block(words=["bitcoin"])["action"]
    'GUARDRAIL_INTERVENED'
"""

from __future__ import annotations

import hashlib
import math
import struct
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bedrock_kit.testing.scripts import estimate_tokens

SOURCE_URI_KEY = "x-amz-bedrock-kb-source-uri"
"""Metadata key Bedrock puts the source document's URI under."""

BLOCKED_MESSAGE = "Sorry, the model cannot answer this question."
"""The blocked message of a guardrail created with the console's defaults."""

TEXT_UNIT_CHARACTERS = 1000

# Location type -> (member of the location union, its address field), as Bedrock sends them.
_LOCATIONS = {
    "S3": ("s3Location", "uri"),
    "WEB": ("webLocation", "url"),
    "CONFLUENCE": ("confluenceLocation", "url"),
    "SHAREPOINT": ("sharePointLocation", "url"),
    "SALESFORCE": ("salesforceLocation", "url"),
}


def new_id(prefix: str = "") -> str:
    """A fresh id (``prefix`` plus a UUID4), for ids Bedrock would make up."""
    return f"{prefix}{uuid.uuid4()}"


# -- Knowledge Bases: Retrieve


def location(uri: str, kind: str = "S3") -> dict[str, Any]:
    """A retrieval ``location`` of type ``kind`` (S3, WEB, CONFLUENCE, SHAREPOINT, SALESFORCE).

    Raises:
        ValueError: ``kind`` is not one of those types.
    """
    if kind not in _LOCATIONS:
        raise ValueError(f"location kind must be one of {sorted(_LOCATIONS)}, got {kind!r}")
    member, key = _LOCATIONS[kind]
    return {"type": kind, member: {key: uri}}


def retrieval_result(
    text: str,
    *,
    uri: str | None = None,
    score: float = 0.5,
    kind: str = "S3",
    metadata: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One member of ``retrievalResults`` (also a citation's retrieved reference).

    Args:
        text: The chunk's text.
        uri: Where the chunk comes from; a made-up ``s3://local-bedrock/...`` URI when None.
        score: Relevance score.
        kind: Location type.
        metadata: Source metadata besides the source URI, which is always included.
    """
    uri = uri or f"s3://local-bedrock/{new_id('doc-')}.txt"
    return {
        "content": {"text": text, "type": "TEXT"},
        "location": location(uri, kind),
        "metadata": {SOURCE_URI_KEY: uri, **(metadata or {})},
        "score": score,
    }


def _result(item: str | Mapping[str, Any], index: int) -> dict[str, Any]:
    if isinstance(item, str):
        return retrieval_result(item, score=round(max(0.9 - index / 10, 0.01), 2))
    return dict(item)


def retrieve_reply(
    *results: str | Mapping[str, Any],
    next_token: str | None = None,
    guardrail_action: str | None = None,
) -> dict[str, Any]:
    """A Retrieve response body.

    Args:
        *results: Chunk texts (scored 0.9, 0.8, ... in order) or :func:`retrieval_result`
            dicts, best first.
        next_token: The page's ``nextToken`` (more pages follow).
        guardrail_action: ``INTERVENED`` or ``NONE`` when a guardrail checked the query.
    """
    body: dict[str, Any] = {
        "retrievalResults": [_result(item, index) for index, item in enumerate(results)]
    }
    if next_token is not None:
        body["nextToken"] = next_token
    if guardrail_action is not None:
        body["guardrailAction"] = guardrail_action
    return body


# -- Knowledge Bases: RetrieveAndGenerate


def citation(text: str, *references: str | Mapping[str, Any], start: int = 0) -> dict[str, Any]:
    """A citation: the generated ``text`` (starting at ``start``) rests on ``references``.

    Args:
        text: The cited part of the generated answer.
        *references: Passage texts or :func:`retrieval_result` dicts (their ``score`` is
            dropped: citations carry none).
        start: Where ``text`` starts in the answer; Bedrock's spans include their end.
    """
    refs = []
    for index, item in enumerate(references):
        ref = _result(item, index)
        ref.pop("score", None)
        refs.append(ref)
    return {
        "generatedResponsePart": {
            "textResponsePart": {
                "text": text,
                "span": {"start": start, "end": start + max(len(text) - 1, 0)},
            }
        },
        "retrievedReferences": refs,
    }


def retrieve_and_generate_reply(
    text: str,
    *,
    citations: Iterable[Mapping[str, Any]] = (),
    session_id: str | None = None,
    guardrail_action: str | None = None,
) -> dict[str, Any]:
    """A RetrieveAndGenerate response body.

    Args:
        text: The generated answer.
        citations: :func:`citation` dicts.
        session_id: The session; a new one when None.
        guardrail_action: ``INTERVENED`` or ``NONE`` when a guardrail checked the answer.
    """
    body: dict[str, Any] = {
        "output": {"text": text},
        "sessionId": session_id or new_id(),
        "citations": [dict(c) for c in citations],
    }
    if guardrail_action is not None:
        body["guardrailAction"] = guardrail_action
    return body


def retrieve_and_generate_stream_events(
    text: str,
    *,
    citations: Iterable[Mapping[str, Any]] = (),
    chunk_chars: int = 16,
    guardrail_action: str | None = None,
) -> list[dict[str, Any]]:
    """RetrieveAndGenerateStream events: the answer in pieces, then citations, then guardrail.

    The session id travels in a response header, not in the events; script it with
    ``Reply.events(..., headers={"x-amzn-bedrock-knowledge-base-session-id": ...})``.
    """
    if chunk_chars < 1:
        raise ValueError(f"chunk_chars must be >= 1, got {chunk_chars}")
    pieces = [text[i : i + chunk_chars] for i in range(0, len(text), chunk_chars)] or [""]
    events: list[dict[str, Any]] = [{"output": {"text": piece}} for piece in pieces]
    events.extend({"citation": {"citation": dict(c)}} for c in citations)
    if guardrail_action is not None:
        events.append({"guardrail": {"action": guardrail_action}})
    return events


# -- Guardrails: ApplyGuardrail


def guardrail_assessment(
    *,
    topics: Iterable[str] = (),
    words: Iterable[str] = (),
    filters: Iterable[str] = (),
    pii: Iterable[tuple[str, str, str]] = (),
    regexes: Iterable[tuple[str, str, str]] = (),
) -> dict[str, Any]:
    """One ApplyGuardrail assessment with the findings given (every finding ``detected``).

    Args:
        topics: Denied topics that matched (action BLOCKED).
        words: Custom words that matched (action BLOCKED).
        filters: Content filter types that fired with HIGH confidence (action BLOCKED), e.g.
            ``PROMPT_ATTACK``, ``VIOLENCE``.
        pii: ``(type, match, action)`` triples, e.g. ``("EMAIL", "a@b.com", "ANONYMIZED")``.
        regexes: ``(name, match, action)`` triples of regex filters.
    """
    found: dict[str, Any] = {}
    topic_list = [
        {"name": name, "type": "DENY", "action": "BLOCKED", "detected": True} for name in topics
    ]
    if topic_list:
        found["topicPolicy"] = {"topics": topic_list}
    filter_list = [
        {"type": kind, "confidence": "HIGH", "filterStrength": "HIGH", "action": "BLOCKED",
         "detected": True}
        for kind in filters
    ]  # fmt: skip
    if filter_list:
        found["contentPolicy"] = {"filters": filter_list}
    word_list = [{"match": word, "action": "BLOCKED", "detected": True} for word in words]
    if word_list:
        found["wordPolicy"] = {"customWords": word_list}
    sensitive: dict[str, Any] = {}
    pii_list = [
        {"type": kind, "match": match, "action": action, "detected": True}
        for kind, match, action in pii
    ]
    if pii_list:
        sensitive["piiEntities"] = pii_list
    regex_list = [
        {"name": name, "match": match, "action": action, "detected": True}
        for name, match, action in regexes
    ]
    if regex_list:
        sensitive["regexes"] = regex_list
    if sensitive:
        found["sensitiveInformationPolicy"] = sensitive
    return found


def _guardrail_usage(characters: int) -> dict[str, int]:
    units = math.ceil(characters / TEXT_UNIT_CHARACTERS) if characters > 0 else 0
    return {
        "topicPolicyUnits": units,
        "contentPolicyUnits": units,
        "wordPolicyUnits": units,
        "sensitiveInformationPolicyUnits": units,
        "sensitiveInformationPolicyFreeUnits": 0,
        "contextualGroundingPolicyUnits": 0,
    }


def _guardrail_body(
    action: str,
    outputs: Sequence[str],
    assessment: Mapping[str, Any],
    characters: int,
    reason: str | None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "action": action,
        "outputs": [{"text": text} for text in outputs],
        "assessments": [dict(assessment)] if assessment else [],
        "usage": _guardrail_usage(characters),
        "guardrailCoverage": {"textCharacters": {"guarded": characters, "total": characters}},
    }
    if reason is not None:
        body["actionReason"] = reason
    return body


def guardrail_pass(characters: int = 100) -> dict[str, Any]:
    """An ApplyGuardrail answer with action NONE: nothing found, no outputs.

    Args:
        characters: Characters checked (they decide the usage's text units).
    """
    return _guardrail_body("NONE", (), {}, characters, "No action.")


def guardrail_mask(
    *masked: str,
    pii: Iterable[tuple[str, str, str]] = (),
    regexes: Iterable[tuple[str, str, str]] = (),
    characters: int | None = None,
) -> dict[str, Any]:
    """An ApplyGuardrail answer that masked sensitive information.

    Args:
        *masked: The masked texts, one per text sent (``"mail {EMAIL}"``).
        pii: ``(type, match, action)`` findings; one EMAIL finding when neither this nor
            ``regexes`` is given.
        regexes: ``(name, match, action)`` findings.
        characters: Characters checked; the length of the masked texts when None.
    """
    pii, regexes = list(pii), list(regexes)
    if not pii and not regexes:
        pii = [("EMAIL", "user@example.com", "ANONYMIZED")]
    assessment = guardrail_assessment(pii=pii, regexes=regexes)
    checked = sum(len(t) for t in masked) if characters is None else characters
    return _guardrail_body("GUARDRAIL_INTERVENED", masked, assessment, checked, "Guardrail masked.")


def guardrail_block(
    message: str = BLOCKED_MESSAGE,
    *,
    topics: Iterable[str] = (),
    words: Iterable[str] = (),
    filters: Iterable[str] = (),
    pii: Iterable[tuple[str, str, str]] = (),
    regexes: Iterable[tuple[str, str, str]] = (),
    characters: int = 100,
) -> dict[str, Any]:
    """An ApplyGuardrail answer that blocked the content.

    Args:
        message: The guardrail's blocked message (the only output).
        topics: Denied topics that matched; ``Investing`` when no finding is given at all.
        words: Custom words that matched.
        filters: Content filter types that fired.
        pii: ``(type, match, "BLOCKED")`` findings.
        regexes: ``(name, match, "BLOCKED")`` findings.
        characters: Characters checked.
    """
    topics, words, filters = list(topics), list(words), list(filters)
    pii, regexes = list(pii), list(regexes)
    if not (topics or words or filters or pii or regexes):
        topics = ["Investing"]
    assessment = guardrail_assessment(
        topics=topics, words=words, filters=filters, pii=pii, regexes=regexes
    )
    return _guardrail_body(
        "GUARDRAIL_INTERVENED", [message], assessment, characters, "Guardrail blocked."
    )


# -- Agents: InvokeAgent


def agent_chunk(text: str, *, citations: Iterable[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """A ``chunk`` event of answer text (sent base64-encoded), with optional citations."""
    chunk: dict[str, Any] = {"bytes": text.encode("utf-8")}
    cited = [dict(c) for c in citations]
    if cited:
        chunk["attribution"] = {"citations": cited}
    return {"chunk": chunk}


def agent_trace(
    step: Mapping[str, Any], *, agent_id: str = "LOCALAGENT", session_id: str | None = None
) -> dict[str, Any]:
    """A ``trace`` event wrapping one trace step, e.g. ``{"orchestrationTrace": {...}}``."""
    return {
        "trace": {
            "agentId": agent_id,
            "agentAliasId": "TSTALIASID",
            "sessionId": session_id or new_id(),
            "trace": dict(step),
        }
    }


def rationale_trace(text: str, **kwargs: Any) -> dict[str, Any]:
    """A ``trace`` event of the orchestration step's rationale (``agent_trace`` arguments)."""
    return agent_trace({"orchestrationTrace": {"rationale": {"text": text}}}, **kwargs)


def function_call(
    function: str, action_group: str = "local_tools", **parameters: Any
) -> dict[str, Any]:
    """One ``functionInvocationInput`` of a return of control.

    Parameters are sent as Bedrock sends them: ``{"name", "type", "value"}`` with the value
    as a string and the type guessed from the Python value (string, integer, number, boolean).
    """

    def typed(value: Any) -> tuple[str, str]:
        if isinstance(value, bool):
            return "boolean", "true" if value else "false"
        if isinstance(value, int):
            return "integer", str(value)
        if isinstance(value, float):
            return "number", repr(value)
        return "string", str(value)

    params = []
    for name, value in parameters.items():
        kind, text = typed(value)
        params.append({"name": name, "type": kind, "value": text})
    return {
        "functionInvocationInput": {
            "actionGroup": action_group,
            "function": function,
            "parameters": params,
        }
    }


def return_control_event(
    *calls: Mapping[str, Any], invocation_id: str | None = None
) -> dict[str, Any]:
    """A ``returnControl`` event asking the caller to run ``calls`` (:func:`function_call`)."""
    if not calls:
        raise ValueError("a return of control needs at least one call")
    return {
        "returnControl": {
            "invocationId": invocation_id or new_id(),
            "invocationInputs": [dict(c) for c in calls],
        }
    }


def agent_events(
    text: str | None = None,
    *,
    traces: Iterable[Mapping[str, Any]] = (),
    calls: Sequence[Mapping[str, Any]] = (),
    chunk_chars: int | None = None,
    citations: Iterable[Mapping[str, Any]] = (),
    invocation_id: str | None = None,
) -> list[dict[str, Any]]:
    """InvokeAgent events: traces first, then the answer chunks or a return of control.

    Args:
        text: The agent's answer (omitted when it returns control instead).
        traces: ``trace`` events (:func:`agent_trace`, :func:`rationale_trace`).
        calls: :func:`function_call` dicts; when given, the stream ends with a
            ``returnControl`` event asking for them.
        chunk_chars: Split the answer into chunks of this many characters (one chunk if None).
        citations: Citations attached to the last chunk.
        invocation_id: The return of control's id; a new one when None.
    """
    events = [dict(t) for t in traces]
    if text is not None:
        if chunk_chars is not None and chunk_chars < 1:
            raise ValueError(f"chunk_chars must be >= 1, got {chunk_chars}")
        size = chunk_chars or max(len(text), 1)
        pieces = [text[i : i + size] for i in range(0, len(text), size)] or [""]
        cited = list(citations)
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1
            events.append(agent_chunk(piece, citations=cited if last else ()))
    if calls:
        events.append(return_control_event(*calls, invocation_id=invocation_id))
    return events


# -- Embeddings: InvokeModel


def fake_embedding(text: str, dimensions: int = 1024) -> list[float]:
    """A deterministic unit vector for ``text``: equal texts, equal vectors.

    Not semantic: it only lets vector stores and similarity code run offline.
    """
    if dimensions < 1:
        raise ValueError(f"dimensions must be >= 1, got {dimensions}")
    values: list[float] = []
    counter = 0
    while len(values) < dimensions:
        digest = hashlib.sha256(f"{counter}:{text}".encode()).digest()
        values.extend(v / 2**31 - 1.0 for v in struct.unpack("<8I", digest))
        counter += 1
    values = values[:dimensions]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [round(v / norm, 6) for v in values]


def titan_embedding_reply(
    text_or_vector: str | Sequence[float], *, dimensions: int = 1024, tokens: int | None = None
) -> dict[str, Any]:
    """Titan Text Embeddings v2's body for one text: ``embedding`` and ``inputTextTokenCount``.

    Args:
        text_or_vector: The text (embedded with :func:`fake_embedding`) or the vector itself.
        dimensions: Vector size for a text.
        tokens: Input tokens; estimated from the text when None.
    """
    if isinstance(text_or_vector, str):
        vector = fake_embedding(text_or_vector, dimensions)
        counted = max(1, estimate_tokens(text_or_vector)) if tokens is None else tokens
    else:
        vector = [float(v) for v in text_or_vector]
        counted = len(vector) if tokens is None else tokens
    return {"embedding": vector, "inputTextTokenCount": counted}


def cohere_embedding_reply(texts: Sequence[str], *, dimensions: int = 1024) -> dict[str, Any]:
    """Cohere Embed's body for ``texts``: one :func:`fake_embedding` vector per text.

    Cohere reports input tokens in the ``X-Amzn-Bedrock-Input-Token-Count`` header; see
    :func:`embedding_token_header`.
    """
    return {
        "id": new_id(),
        "response_type": "embeddings_floats",
        "texts": list(texts),
        "embeddings": [fake_embedding(text, dimensions) for text in texts],
    }


def embedding_token_header(texts: Sequence[str]) -> dict[str, str]:
    """The input-token header Bedrock adds to InvokeModel answers, estimated from ``texts``."""
    tokens = sum(max(1, estimate_tokens(text)) for text in texts)
    return {"X-Amzn-Bedrock-Input-Token-Count": str(tokens)}
