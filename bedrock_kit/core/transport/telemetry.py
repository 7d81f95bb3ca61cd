"""OpenTelemetry GenAI client spans for lean-transport calls (a no-op without opentelemetry)."""

from __future__ import annotations

from typing import Any


def start(core: Any, operation: str, params: Any) -> Any:
    """A started span for one call, or None when tracing is off."""
    return None


def finish(span: Any, parsed: Any, *, streaming: bool) -> Any:
    """End ``span`` with what the response says (streams: when they end); returns ``parsed``."""
    return parsed


def fail(span: Any, exc: BaseException) -> None:
    """End ``span`` with the error."""
    return None
