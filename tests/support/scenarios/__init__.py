"""Scenarios written once for both adapters: scripted server replies, expected values, tables.

The LangChain and LlamaIndex tests (and the reliability fault matrices) ask LocalBedrock the
same questions through two frameworks. What Bedrock answers, and what each answer must turn
into, lives here, one module per core feature package (``chat``, ``faults``, ``agents``,
``knowledge_bases``, ``prompts``, ``embeddings``, ``guardrails``, ``budget``); the test
files keep only what is framework-specific: building the adapter and calling it.
"""

from __future__ import annotations

from typing import Any

from bedrock_kit.testing import LocalBedrock

REGION = "us-east-1"


def client_args(server: LocalBedrock) -> dict[str, Any]:
    """Client arguments every AWS-facing class takes, pointed at ``server``, no retries."""
    return {"region_name": REGION, "endpoint_url": server.endpoint_url, "max_retries": 0}
