"""The shared progress helper: tqdm when installed and asked for, quiet otherwise."""

from __future__ import annotations

import builtins
import io
import logging
import sys
from typing import Any

import pytest

from bedrock_kit.core import progress as progress_module
from bedrock_kit.core.embeddings.runtime import EmbeddingOptions, EmbeddingsRuntime
from bedrock_kit.core.progress import Progress, check_progress, progress_bar, track, wants_bar
from bedrock_kit.core.transport.clients import ClientSettings
from bedrock_kit.errors import ConfigurationError
from bedrock_kit.testing import LocalBedrock, Reply
from bedrock_kit.testing.builders import titan_embedding_reply


def _no_tqdm(monkeypatch: pytest.MonkeyPatch) -> None:
    real = builtins.__import__

    def refuse(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("tqdm"):
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", refuse)


def test_true_draws_a_bar_and_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    monkeypatch.setattr(sys, "stderr", out)
    with progress_bar(3, "job", progress=True) as bar:
        bar.update()
        bar.update(2)
        bar.set_status("Completed")
    assert bar.enabled and bar.done == 3 and bar.status == "Completed"
    assert "job" in out.getvalue() and "3/3" in out.getvalue()


def test_none_is_quiet_off_a_terminal_and_false_always(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # not a terminal
    assert list(track(range(4), desc="x")) == [0, 1, 2, 3]
    assert not wants_bar(None) and not wants_bar(False)
    assert sys.stderr.getvalue() == ""


def test_without_tqdm_true_is_quiet_and_says_so_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _no_tqdm(monkeypatch)
    monkeypatch.setattr(progress_module, "_hinted", [])
    with caplog.at_level(logging.WARNING, logger="bedrock_kit.core.progress"):
        first, second = Progress(2, progress=True), Progress(2, progress=True)
    first.update(2)
    assert not first.enabled and first.done == 2 and not second.enabled
    hints = [r.getMessage() for r in caplog.records]
    assert len(hints) == 1 and "bedrock-bridge[progress]" in hints[0]


def test_bad_progress_values_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="progress"):
        check_progress("yes")
    with pytest.raises(ConfigurationError, match="progress"):
        Progress(1, progress=1)  # type: ignore[arg-type]


def test_embedding_many_texts_counts_every_text(
    server: LocalBedrock, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = io.StringIO()
    monkeypatch.setattr(sys, "stderr", out)
    server.set_default("InvokeModel", Reply.json(titan_embedding_reply("t", dimensions=256)))
    runtime = EmbeddingsRuntime(
        ClientSettings(**server.client_kwargs()),
        EmbeddingOptions("amazon.titan-embed-text-v2:0", 256),
        progress=True,
    )
    result = runtime.embed(["a", "b", "c"])
    assert len(result.vectors) == 3 and len(server.requests_for("InvokeModel")) == 3
    assert "3/3" in out.getvalue() and "embedding amazon.titan-embed-text-v2:0" in out.getvalue()
    before = out.getvalue()
    runtime.embed(["one"])  # one request: no bar
    assert out.getvalue() == before
