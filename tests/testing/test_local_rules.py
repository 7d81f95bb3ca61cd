"""LocalBedrock's unscripted answers from a rule file: guardrails, knowledge bases, agents,
embeddings (real HTTP, read back through the public classes)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bedrock_kit.core.guardrails.apply import GuardrailClient
from bedrock_kit.core.transport.clients import ClientSettings
from bedrock_kit.errors import GuardrailInterventionError
from bedrock_kit.langchain import (
    BedrockAgentRunnable,
    BedrockGuardrail,
    BedrockKitEmbeddings,
    BedrockKnowledgeBaseRetriever,
    BedrockRetrieveAndGenerate,
)
from bedrock_kit.testing import LocalBedrock, builders
from bedrock_kit.testing.rules import LocalRules

RULES = {
    "guardrail": {
        "blocked_message": "Not here.",
        "denied_words": ["bitcoin", "insider tip"],
        "regexes": [{"name": "order", "pattern": "ORD-[0-9]{4}", "action": "ANONYMIZED"}],
        "pii": {"EMAIL": "ANONYMIZED", "US_SOCIAL_SECURITY_NUMBER": "BLOCKED"},
    },
    "knowledge_base": {
        "documents": [
            {"text": "Tides rise twice a day.", "uri": "s3://docs/tides.txt",
             "metadata": {"topic": "sea"}},
            {"text": "The Moon pulls the sea and the tides.", "uri": "s3://docs/moon.txt"},
            {"text": "Bread needs flour.", "uri": "s3://docs/bread.txt"},
        ]
    },
}  # fmt: skip


@pytest.fixture
def ruled(tmp_path: Path) -> Iterator[LocalBedrock]:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(RULES))
    with LocalBedrock(rules=path) as server:
        yield server


def _guard(server: LocalBedrock) -> GuardrailClient:
    return GuardrailClient("gr-local", "1", settings=ClientSettings(**server.client_kwargs()))


def test_default_rules_mask_email_and_pass_the_rest(server: LocalBedrock) -> None:
    guard = _guard(server)
    masked = guard.apply("write to ada@example.com today")
    assert masked.anonymized and masked.output_text == "write to {EMAIL} today"
    assert [(p.type, p.match) for a in masked.assessments for p in a.pii_entities] == [
        ("EMAIL", "ada@example.com")
    ]
    clean = guard.apply("hello there")
    assert clean.action == "NONE" and not clean.assessments
    assert clean.total_characters == len("hello there")


def test_denied_words_block_as_whole_words_in_any_case(ruled: LocalBedrock) -> None:
    guard = _guard(ruled)
    blocked = guard.apply("Any Insider Tip on BITCOIN?")
    assert blocked.blocked and blocked.output_text == "Not here."
    assert [w.match for a in blocked.assessments for w in a.words] == [
        "BITCOIN",
        "Insider Tip",
    ]  # rule order
    assert guard.apply("bitcoins are not a word here").action == "NONE"


def test_regexes_mask_and_blocked_pii_blocks(ruled: LocalBedrock) -> None:
    guard = _guard(ruled)
    masked = guard.apply("order ORD-1234 for a@b.io")
    assert masked.output_text == "order {order} for {EMAIL}"
    assert [r.name for a in masked.assessments for r in a.regexes] == ["order"]
    assert guard.apply("ssn 123-45-6789").blocked


def test_the_langchain_guardrail_runs_on_the_rules(ruled: LocalBedrock) -> None:
    guard = BedrockGuardrail(
        guardrail_id="gr-local", guardrail_version="1", **ruled.client_kwargs()
    )
    assert guard.invoke("mail a@b.io") == "mail {EMAIL}"
    with pytest.raises(GuardrailInterventionError) as caught:
        guard.invoke("a bitcoin tip")
    assert "guardrail=gr-local" in str(caught.value)


def test_retrieve_ranks_documents_by_shared_words(ruled: LocalBedrock) -> None:
    retriever = BedrockKnowledgeBaseRetriever(
        knowledge_base_id="KB12345678", **ruled.client_kwargs()
    )
    docs = retriever.invoke("when do tides rise")
    assert [d.page_content for d in docs] == [
        "Tides rise twice a day.",
        "The Moon pulls the sea and the tides.",
    ]
    assert (
        docs[0].metadata["score"] == 0.5 and docs[0].metadata["source_metadata"]["topic"] == "sea"
    )
    assert retriever.invoke("quantum chromodynamics") == []


def test_retrieve_and_generate_cites_the_best_document(ruled: LocalBedrock) -> None:
    rag = BedrockRetrieveAndGenerate(
        knowledge_base_id="KB12345678", model="anthropic.claude-3-haiku-20240307-v1:0",
        **ruled.client_kwargs(),
    )  # fmt: skip
    out = rag.invoke("How often do tides rise?")
    assert out["answer"] == "Tides rise twice a day."
    assert [d.metadata["location"]["s3Location"]["uri"] for d in out["citations"]] == [
        "s3://docs/tides.txt"
    ]
    again = rag.invoke({"input": "and bread?", "session_id": out["session_id"]})
    assert again["session_id"] == out["session_id"]
    streamed = list(rag.stream("tides twice"))
    assert "".join(c.get("answer", "") for c in streamed) == "Tides rise twice a day."


def test_agents_echo_and_embeddings_are_deterministic(server: LocalBedrock) -> None:
    agent = BedrockAgentRunnable(
        agent_id="LOCALAGENT", agent_alias_id="TSTALIASID", **server.client_kwargs()
    )
    assert agent.invoke("ping").content == "echo: ping"
    titan = BedrockKitEmbeddings(model="amazon.titan-embed-text-v2:0", **server.client_kwargs())
    assert titan.embed_query("hi") == builders.fake_embedding("hi", 1024)
    cohere = BedrockKitEmbeddings(model="cohere.embed-english-v3", **server.client_kwargs())
    first, second = cohere.embed_documents(["a", "b"])
    assert first == builders.fake_embedding("a") and first != second


@pytest.mark.parametrize(
    ("rules", "named"),
    [
        ({"guardrails": {}}, "unknown keys ['guardrails']"),
        ({"guardrail": {"pii": {"EMAIL": "MASK"}}}, "guardrail.pii.EMAIL"),
        ({"guardrail": {"pii": {"PASSPORT": "BLOCKED"}}}, "guardrail.pii has unknown keys"),
        ({"guardrail": {"regexes": [{"pattern": "("}]}}, "guardrail.regexes[0].pattern"),
        ({"guardrail": {"denied_words": "bitcoin"}}, "guardrail.denied_words"),
        ({"knowledge_base": {"documents": [{"uri": "s3://x"}]}}, "documents[0].text"),
    ],
)
def test_bad_rules_are_refused_by_name(rules: dict[str, object], named: str) -> None:
    with pytest.raises(ValueError, match=named.replace("[", r"\[").replace("]", r"\]")):
        LocalRules.from_mapping(rules)


def test_a_rule_file_that_is_not_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text("{nope")
    with pytest.raises(ValueError, match="not valid JSON"):
        LocalBedrock(rules=path)
