"""RetrieveAndGenerate over ``EXTERNAL_SOURCES``: scripted replies shared by both adapters."""

from __future__ import annotations

from typing import Any

from bedrock_kit.testing import Reply, builders

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
MODEL_ARN = f"arn:aws:bedrock:us-east-1::foundation-model/{MODEL}"
S3_DOC = "s3://handbook-bucket/policies/keys.pdf"
SESSION = "a5b2c7d4-0000-4000-8000-external0001"
SESSION_HEADER = "x-amzn-bedrock-knowledge-base-session-id"
ANSWER = "Rotate keys every month."
PASSAGE = "Keys are rotated monthly by the security team."
BYTES = b"Keys are rotated monthly by the security team."


def cited() -> dict[str, Any]:
    """A citation whose reference is the S3 document (as external sources cite it)."""
    reference = builders.retrieval_result(PASSAGE, uri=S3_DOC)
    return builders.citation(ANSWER, reference)


def answer_reply() -> Reply:
    """RetrieveAndGenerate's answer: text, one citation, the session id."""
    body = builders.retrieve_and_generate_reply(ANSWER, citations=[cited()], session_id=SESSION)
    return Reply.json(body)


def stream_reply() -> Reply:
    """RetrieveAndGenerateStream's answer: text pieces, the citation, the guardrail verdict."""
    events = builders.retrieve_and_generate_stream_events(
        ANSWER, citations=[cited()], chunk_chars=8, guardrail_action="NONE"
    )
    return Reply.events(events, headers={SESSION_HEADER: SESSION})


def s3_configuration(generation: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``retrieveAndGenerateConfiguration`` sent for the S3 document."""
    external: dict[str, Any] = {
        "modelArn": MODEL_ARN,
        "sources": [{"sourceType": "S3", "s3Location": {"uri": S3_DOC}}],
    }
    if generation:
        external["generationConfiguration"] = generation
    return {"type": "EXTERNAL_SOURCES", "externalSourcesConfiguration": external}


GENERATION_WIRE = {
    "promptTemplate": {"textPromptTemplate": "Answer from $search_results$: $query$"},
    "inferenceConfig": {"textInferenceConfig": {"maxTokens": 200, "temperature": 0.1}},
    "guardrailConfiguration": {"guardrailId": "gr-123", "guardrailVersion": "1"},
    "performanceConfig": {"latency": "optimized"},
    "additionalModelRequestFields": {"top_k": 50},
}
"""The generation configuration the adapters' typed arguments below must send."""
