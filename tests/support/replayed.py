"""Recorded AWS answers replayed to a BedrockKitLLM, for tests that compare what it builds.

Each interaction of a recording gets its own LLM, for the recording's model and region,
against one replay server; answers are served in recorded order, so an error answer is
read too (and must raise a :class:`~bedrock_kit.errors.BedrockKitError`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bedrock_kit.errors import BedrockKitError
from bedrock_kit.testing.conformance import conformance_dir, load_recordings, replay_server


def recordings_with(operation: str) -> list[Any]:
    """pytest params: the shared recordings holding a successful ``operation`` answer."""
    if conformance_dir() is None:
        return [pytest.param(None, marks=pytest.mark.skip(reason="../shared/conformance absent"))]
    return [
        pytest.param(r, id=r.id)
        for r in load_recordings()
        if any(i.operation == operation and i.status == 200 for i in r.interactions)
    ]


def replayed_llms(recording: Any, operation: str, call: Callable[[Any], object]) -> Iterator[Any]:
    """An LLM for every successful ``operation`` answer of ``recording`` (the server serves
    it next); for an error answer, ``call(llm)`` is checked to raise instead."""
    from bedrock_kit.llama_index import BedrockKitLLM

    with replay_server(recording) as server:
        for interaction in recording.interactions:
            if interaction.operation != operation:
                continue
            llm = BedrockKitLLM(
                model=interaction.model_id or "amazon.nova-micro-v1:0",
                endpoint_url=server.endpoint_url,
                region_name=interaction.region or "us-east-1",
                max_retries=0,
            )
            if interaction.status != 200:
                with pytest.raises(BedrockKitError):
                    call(llm)
                continue
            yield llm
