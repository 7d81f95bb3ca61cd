"""Recorded AWS answers replayed to a chat model, for tests that compare what it builds.

Each interaction of a recording gets its own model (BedrockKitLLM unless another class is
given, such as ChatBedrockKit, which takes the same arguments), for its model and region,
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


def replayed_llms(
    recording: Any, operation: str, call: Callable[[Any], object], model_class: Any = None
) -> Iterator[Any]:
    """A model for every successful ``operation`` answer of ``recording`` (the server serves
    it next); for an error answer, ``call(model)`` is checked to raise instead."""
    if model_class is None:
        from bedrock_kit.llama_index import BedrockKitLLM

        model_class = BedrockKitLLM

    with replay_server(recording) as server:
        for interaction in recording.interactions:
            if interaction.operation != operation:
                continue
            llm = model_class(
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
