"""Guardrail scenarios: ApplyGuardrail replies (pass, block, mask, grounding) and what was sent."""

from __future__ import annotations

from bedrock_kit.testing import LocalBedrock, Reply

GID = "gr7abc123"
BLOCKED = "Sorry, the model cannot answer this question."
"""The guardrail's blocked message."""


def none() -> Reply:
    """Action NONE: the text passes unchanged."""
    return Reply.json(
        {"action": "NONE", "outputs": [], "assessments": [], "usage": {"topicPolicyUnits": 1}}
    )


def blocked() -> Reply:
    """Blocked by a denied topic (Investing) and a prompt-attack filter; outputs BLOCKED."""
    return Reply.json(
        {
            "action": "GUARDRAIL_INTERVENED",
            "actionReason": "Guardrail blocked.",
            "outputs": [{"text": BLOCKED}],
            "assessments": [{
                "topicPolicy": {"topics": [
                    {"name": "Investing", "type": "DENY", "action": "BLOCKED"}]},
                "contentPolicy": {"filters": [
                    {"type": "PROMPT_ATTACK", "confidence": "HIGH", "action": "BLOCKED"}]},
            }],
        }
    )  # fmt: skip


def masked(*texts: str) -> Reply:
    """An e-mail address anonymised: ``texts`` are the masked outputs, one per text sent."""
    return Reply.json(
        {
            "action": "GUARDRAIL_INTERVENED",
            "outputs": [{"text": t} for t in texts],
            "assessments": [{"sensitiveInformationPolicy": {"piiEntities": [
                {"match": "a@b.com", "type": "EMAIL", "action": "ANONYMIZED"}]}}],
        }
    )  # fmt: skip


def grounding(score: float, threshold: float = 0.7) -> Reply:
    """A contextual grounding check: blocked when ``score`` is under ``threshold``."""
    grounded = score >= threshold
    return Reply.json(
        {
            "action": "NONE" if grounded else "GUARDRAIL_INTERVENED",
            "outputs": [],
            "assessments": [{"contextualGroundingPolicy": {"filters": [
                {"type": "GROUNDING", "threshold": threshold, "score": score,
                 "action": "NONE" if grounded else "BLOCKED"},
                {"type": "RELEVANCE", "threshold": 0.5, "score": 0.9, "action": "NONE"}]}}],
        }
    )  # fmt: skip


def sent_texts(server: LocalBedrock, index: int = -1) -> list[str]:
    """The texts ApplyGuardrail request ``index`` checked, in order."""
    request = server.requests_for("ApplyGuardrail")[index]
    return [block["text"]["text"] for block in request.body["content"]]
