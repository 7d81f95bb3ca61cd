"""A traced stream is transparent: attributes set on it reach the stream it wraps."""

from __future__ import annotations

from typing import Any

from bedrock_kit.core.transport import telemetry


class _Stream:
    def __init__(self) -> None:
        self._parser: Any = "botocore's parser"

    def __iter__(self) -> Any:
        return iter(())


def test_setting_an_attribute_on_a_traced_stream_sets_it_on_the_wrapped_stream() -> None:
    inner = _Stream()
    traced = telemetry._TracedStream(inner, span=None)
    traced._parser = "wrapped parser"
    assert inner._parser == "wrapped parser"
    assert traced._parser == "wrapped parser"
    traced._open = False  # its own state stays its own (no span to end here)
    assert not hasattr(inner, "_open")
