"""What LocalBedrock answers when nothing is scripted, beyond chat: a small rule file.

``bedrock-kit local-server --rules rules.json`` (or ``LocalBedrock(rules=...)``) reads::

    {
      "guardrail": {
        "blocked_message": "Sorry, I can't help with that.",
        "denied_words": ["bitcoin", "insider tip"],
        "regexes": [{"name": "order id", "pattern": "ORD-[0-9]{6}", "action": "ANONYMIZED"}],
        "pii": {"EMAIL": "ANONYMIZED", "PHONE": "BLOCKED"}
      },
      "knowledge_base": {
        "documents": [
          {"text": "Tides rise twice a day.", "uri": "s3://docs/tides.txt",
           "metadata": {"topic": "sea"}}
        ]
      }
    }

Every key is optional. Without a file, guardrails mask e-mail addresses and block nothing
else, and knowledge bases hold no documents. With these rules:

* ApplyGuardrail blocks a text holding a denied word (whole words, any case) or matching a
  ``BLOCKED`` regex or PII type, and answers the blocked message; otherwise it masks
  ``ANONYMIZED`` matches as ``{NAME}`` (``{EMAIL}``, ``{order id}``); otherwise NONE.
  Findings come back as assessments, as Bedrock sends them.
* Retrieve ranks the documents by the share of query words they contain (documents with
  none are left out); RetrieveAndGenerate answers with the best one and cites it.
* InvokeAgent and InvokeInlineAgent echo the input text (``echo: ...``), or the tool results
  sent back after a return of control.
* InvokeModel with a Titan or Cohere embedding body answers deterministic vectors
  (:func:`~bedrock_kit.testing.builders.fake_embedding`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bedrock_kit.testing import builders
from bedrock_kit.testing import embeddings as embedding_replies
from bedrock_kit.testing import rerank as rerank_replies
from bedrock_kit.testing.replies import Reply

ACTIONS = ("BLOCKED", "ANONYMIZED")
"""What a regex or PII rule does to a match."""

PII_PATTERNS: dict[str, str] = {
    "EMAIL": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
    "PHONE": r"\+?\d[\d ()-]{7,}\d",
    "US_SOCIAL_SECURITY_NUMBER": r"\b\d{3}-\d{2}-\d{4}\b",
    "CREDIT_DEBIT_CARD_NUMBER": r"\b(?:\d[ -]?){13,16}\b",
}
"""PII types LocalBedrock detects, with the (simple) patterns it uses."""

SESSION_HEADER = "x-amzn-bedrock-knowledge-base-session-id"
_WORD = re.compile(r"\w+")


def _check_keys(where: str, given: Mapping[str, Any], allowed: set[str]) -> None:
    if not isinstance(given, Mapping):
        raise ValueError(f"{where} must be a JSON object, got {type(given).__name__}")
    unknown = sorted(set(given) - allowed)
    if unknown:
        raise ValueError(f"{where} has unknown keys {unknown}; allowed: {sorted(allowed)}")


def _check_action(where: str, action: object) -> str:
    if action not in ACTIONS:
        raise ValueError(f"{where} must be one of {ACTIONS}, got {action!r}")
    return str(action)


@dataclass(frozen=True)
class RegexRule:
    """A named pattern and what happens to its matches."""

    name: str
    """Shown in assessments and used in the mask (``{name}``)."""
    pattern: re.Pattern[str]
    """The compiled pattern."""
    action: str
    """``BLOCKED`` or ``ANONYMIZED``."""


@dataclass(frozen=True)
class GuardrailRules:
    """How LocalBedrock's default ApplyGuardrail decides."""

    denied_words: tuple[str, ...] = ()
    """Words and phrases that block (matched as whole words, case-insensitively)."""
    regexes: tuple[RegexRule, ...] = ()
    """Regex filters."""
    pii: Mapping[str, str] = field(default_factory=lambda: {"EMAIL": "ANONYMIZED"})
    """PII type -> action, for the types of :data:`PII_PATTERNS`."""
    blocked_message: str = builders.BLOCKED_MESSAGE
    """The only output of a blocked check."""

    @classmethod
    def from_mapping(cls, given: Mapping[str, Any]) -> GuardrailRules:
        """Rules from the ``guardrail`` object of a rule file.

        Raises:
            ValueError: An unknown key, PII type or action, or a pattern that does not compile.
        """
        _check_keys("guardrail", given, {"blocked_message", "denied_words", "regexes", "pii"})
        words = given.get("denied_words", [])
        if not isinstance(words, list) or not all(isinstance(w, str) and w for w in words):
            raise ValueError("guardrail.denied_words must be a list of non-empty strings")
        regexes = []
        for index, item in enumerate(given.get("regexes", [])):
            where = f"guardrail.regexes[{index}]"
            _check_keys(where, item, {"name", "pattern", "action"})
            try:
                pattern = re.compile(item["pattern"])
            except (KeyError, re.error, TypeError) as exc:
                raise ValueError(f"{where}.pattern must be a valid regex: {exc}") from exc
            name = str(item.get("name") or item["pattern"])
            regexes.append(
                RegexRule(
                    name, pattern, _check_action(f"{where}.action", item.get("action", "BLOCKED"))
                )
            )
        pii = given.get("pii", {"EMAIL": "ANONYMIZED"})
        _check_keys("guardrail.pii", pii, set(PII_PATTERNS))
        checked = {kind: _check_action(f"guardrail.pii.{kind}", a) for kind, a in pii.items()}
        message = given.get("blocked_message", builders.BLOCKED_MESSAGE)
        if not isinstance(message, str):
            raise ValueError("guardrail.blocked_message must be a string")
        return cls(tuple(words), tuple(regexes), checked, message)

    def _patterns(self) -> list[tuple[str, str, re.Pattern[str], str]]:
        """(policy, name, pattern, action) for every rule, denied words first."""
        found = [
            ("word", word, re.compile(rf"(?<!\w){re.escape(word)}(?!\w)", re.IGNORECASE), "BLOCKED")
            for word in self.denied_words
        ]
        found += [("regex", r.name, r.pattern, r.action) for r in self.regexes]
        found += [("pii", kind, re.compile(PII_PATTERNS[kind]), a) for kind, a in self.pii.items()]
        return found

    def check(self, texts: Sequence[str]) -> dict[str, Any]:
        """The ApplyGuardrail body for ``texts`` under these rules."""
        words: list[str] = []
        pii: list[tuple[str, str, str]] = []
        regexes: list[tuple[str, str, str]] = []
        masked = list(texts)
        blocked = False
        for policy, name, pattern, action in self._patterns():
            for index, text in enumerate(texts):
                for match in pattern.finditer(text):
                    blocked = blocked or action == "BLOCKED"
                    if policy == "word":
                        words.append(match.group(0))
                    elif policy == "pii":
                        pii.append((name, match.group(0), action))
                    else:
                        regexes.append((name, match.group(0), action))
                if action == "ANONYMIZED":
                    masked[index] = pattern.sub("{" + name + "}", masked[index])
        characters = sum(len(t) for t in texts)
        if blocked:
            return builders.guardrail_block(
                self.blocked_message, words=words, pii=pii, regexes=regexes, characters=characters
            )
        if pii or regexes:
            return builders.guardrail_mask(*masked, pii=pii, regexes=regexes, characters=characters)
        return builders.guardrail_pass(characters)


@dataclass(frozen=True)
class Document:
    """A document of LocalBedrock's default knowledge base."""

    text: str
    """The chunk's text."""
    uri: str
    """Its source URI."""
    metadata: Mapping[str, Any] = field(default_factory=dict)
    """Source metadata (filters are not applied to it)."""


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)}


@dataclass(frozen=True)
class LocalRules:
    """Everything a rule file sets; the defaults serve a fresh LocalBedrock."""

    guardrail: GuardrailRules = field(default_factory=GuardrailRules)
    """ApplyGuardrail rules."""
    documents: tuple[Document, ...] = ()
    """The default knowledge base's documents (every knowledge base id serves them)."""

    @classmethod
    def from_mapping(cls, given: Mapping[str, Any]) -> LocalRules:
        """Rules from a parsed rule file.

        Raises:
            ValueError: Anything not in the documented shape, named by its key.
        """
        _check_keys("rules", given, {"guardrail", "knowledge_base"})
        guardrail = GuardrailRules.from_mapping(given.get("guardrail", {}))
        kb = given.get("knowledge_base", {})
        _check_keys("knowledge_base", kb, {"documents"})
        documents = []
        for index, item in enumerate(kb.get("documents", [])):
            where = f"knowledge_base.documents[{index}]"
            _check_keys(where, item, {"text", "uri", "metadata"})
            if not isinstance(item.get("text"), str):
                raise ValueError(f"{where}.text must be a string")
            uri = str(item.get("uri") or f"s3://local-bedrock/doc-{index}.txt")
            documents.append(Document(item["text"], uri, dict(item.get("metadata") or {})))
        return cls(guardrail, tuple(documents))

    @classmethod
    def from_file(cls, path: str | Path) -> LocalRules:
        """Rules from a JSON rule file.

        Raises:
            ValueError: The file is not JSON or not in the documented shape.
        """
        try:
            given = json.loads(Path(path).read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"rule file {path} is not valid JSON: {exc}") from exc
        return cls.from_mapping(given)

    def search(self, query: str, limit: int = 5) -> list[dict[str, Any]]:
        """Retrieval results for ``query``: documents ranked by the share of query words."""
        wanted = _words(query)
        scored = []
        for doc in self.documents:
            shared = len(wanted & _words(doc.text))
            if shared:
                scored.append((round(shared / len(wanted), 4), doc))
        scored.sort(key=lambda pair: -pair[0])
        return [
            builders.retrieval_result(doc.text, uri=doc.uri, score=score, metadata=doc.metadata)
            for score, doc in scored[:limit]
        ]


# -- default replies, one per operation (registered in _defaults)


def _texts(body: Mapping[str, Any]) -> list[str]:
    found = []
    for block in body.get("content") or ():
        text = (block or {}).get("text") if isinstance(block, Mapping) else None
        if not isinstance(text, Mapping) or not isinstance(text.get("text"), str):
            continue
        if not set(text.get("qualifiers") or ()) & {"grounding_source", "query"}:
            found.append(text["text"])
    return found


def apply_guardrail(body: Mapping[str, Any], rules: LocalRules, params: Mapping[str, str]) -> Reply:
    """ApplyGuardrail under the guardrail rules, naming the guardrail as Bedrock does."""
    found = rules.guardrail.check(_texts(body))
    details = {
        "guardrailId": params.get("guardrailIdentifier", ""),
        "guardrailVersion": params.get("guardrailVersion", ""),
    }
    for assessment in found["assessments"]:
        assessment["appliedGuardrailDetails"] = details
    return Reply.json(found)


def _number_of_results(body: Mapping[str, Any]) -> int:
    config = (body.get("retrievalConfiguration") or {}).get("vectorSearchConfiguration") or {}
    wanted = config.get("numberOfResults")
    return wanted if isinstance(wanted, int) and wanted > 0 else 5


def retrieve(body: Mapping[str, Any], rules: LocalRules, params: Mapping[str, str]) -> Reply:
    """Retrieve over the rule file's documents."""
    query = str((body.get("retrievalQuery") or {}).get("text") or "")
    return Reply.json(builders.retrieve_reply(*rules.search(query, _number_of_results(body))))


def _generation(body: Mapping[str, Any], rules: LocalRules) -> tuple[str, list[dict[str, Any]]]:
    query = str((body.get("input") or {}).get("text") or "")
    found = rules.search(query, 1)
    if not found:
        return f"echo: {query}", []
    answer = found[0]["content"]["text"]
    return answer, [builders.citation(answer, found[0])]


def retrieve_and_generate(
    body: Mapping[str, Any], rules: LocalRules, params: Mapping[str, str]
) -> Reply:
    """RetrieveAndGenerate: the best document as the answer, cited; an echo without one."""
    text, citations = _generation(body, rules)
    session = body.get("sessionId")
    return Reply.json(
        builders.retrieve_and_generate_reply(text, citations=citations, session_id=session)
    )


def retrieve_and_generate_stream(
    body: Mapping[str, Any], rules: LocalRules, params: Mapping[str, str]
) -> Reply:
    """RetrieveAndGenerateStream: the same answer, streamed; the session id in a header."""
    text, citations = _generation(body, rules)
    session = str(body.get("sessionId") or builders.new_id())
    events = builders.retrieve_and_generate_stream_events(text, citations=citations)
    return Reply.events(events, headers={SESSION_HEADER: session})


def _tool_results(body: Mapping[str, Any]) -> list[str]:
    state = body.get("sessionState") or body.get("inlineSessionState") or {}
    found = []
    for item in state.get("returnControlInvocationResults") or ():
        result = (item or {}).get("functionResult") or (item or {}).get("apiResult") or {}
        for content in (result.get("responseBody") or {}).values():
            if isinstance(content, Mapping) and "body" in content:
                found.append(str(content["body"]))
    return found


def invoke_agent(body: Mapping[str, Any], rules: LocalRules, params: Mapping[str, str]) -> Reply:
    """InvokeAgent / InvokeInlineAgent: echo the input, or the tool results sent back."""
    del rules, params
    results = _tool_results(body)
    text = (
        f"tool results: {'; '.join(results)}" if results else f"echo: {body.get('inputText', '')}"
    )
    return Reply.events(builders.agent_events(text))


def invoke_model(
    body: Mapping[str, Any], rules: LocalRules, params: Mapping[str, str]
) -> Reply | None:
    """InvokeModel with an embedding body (Titan ``inputText``, Cohere ``texts``) or a Cohere
    Rerank body (``query`` and ``documents``); else None."""
    del rules
    if rerank_replies.is_rerank_body(body):
        return rerank_replies.answer_invoke_rerank(body)
    extended = embedding_replies.answer_embedding(params.get("modelId", ""), body)
    if extended is not None:
        return extended
    if isinstance(body.get("inputText"), str) and "textGenerationConfig" not in body:
        dimensions = body.get("dimensions")
        size = dimensions if isinstance(dimensions, int) and dimensions > 0 else 1024
        return Reply.json(builders.titan_embedding_reply(body["inputText"], dimensions=size))
    texts = body.get("texts")
    if isinstance(texts, list) and all(isinstance(t, str) for t in texts):
        reply = builders.cohere_embedding_reply(texts)
        return Reply.json(reply, headers=builders.embedding_token_header(texts))
    return None
