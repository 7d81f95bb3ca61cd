"""A refused LangChain call prints its BudgetExceededError once, readably (sync and async)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import asyncio, sys
from bedrock_kit.langchain import ChatBedrockKit, token_budget
from bedrock_kit.testing import LocalBedrock

with LocalBedrock() as server:
    llm = ChatBedrockKit(model="anthropic.claude-3-5-haiku-20241022-v1:0", max_tokens=512,
                         **server.client_kwargs())
    with token_budget(max_cost="0.0001"):
        if sys.argv[1] == "async":
            asyncio.run(llm.ainvoke("hello " * 100))
        else:
            llm.invoke("hello " * 100)
"""


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_refusal_is_printed_once_in_dollars(mode: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert done.returncode == 1
    stderr = done.stderr
    assert "Error in TokenBudgetCallbackHandler" not in stderr
    mentions = [line for line in stderr.splitlines() if "BudgetExceededError:" in line]
    assert len(mentions) == 1, stderr
    assert "max_cost=$0.0001 would be exceeded; this call needs up to $0.00" in mentions[0]
    assert "E-" not in mentions[0]


def test_other_callback_errors_are_still_logged() -> None:
    import logging

    from bedrock_kit.langchain import budget

    record = logging.LogRecord(
        "langchain_core.callbacks.manager", logging.WARNING, __file__, 1,
        "Error in %s.%s callback: %s",
        ("TokenBudgetCallbackHandler", "on_llm_end", "KeyError('x')"), None,
    )  # fmt: skip
    refusal = logging.LogRecord(
        "langchain_core.callbacks.manager", logging.WARNING, __file__, 1,
        "Error in %s.%s callback: %s",
        ("TokenBudgetCallbackHandler", "on_chat_model_start", "BudgetExceededError('b')"), None,
    )  # fmt: skip
    check = budget._RaisedBudgetRefusal()
    assert check.filter(record) and not check.filter(refusal)
