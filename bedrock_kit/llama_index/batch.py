"""``BedrockKitLLM(...).with_batch_inference(...)``: lists of prompts or chat histories as
Bedrock batch inference jobs.

The LlamaIndex mirror of :mod:`bedrock_kit.langchain.batch`: ``batch_chat`` takes chat
histories and returns what ``llm.chat`` returns for each (a ``ChatResponse``, usage in
``raw["usage"]``), ``batch_complete`` takes prompts and returns ``CompletionResponse``
objects, in input order, at half the on-demand price::

    batch = BedrockKitLLM(model=MODEL, max_tokens=256).with_batch_inference(
        s3_uri="s3://my-bucket/batches/", role_arn=ROLE, progress=True
    )
    summaries = batch.batch_complete([f"Summarise: {doc.text}" for doc in documents])

A record that fails raises its typed :class:`~bedrock_kit.errors.BatchRecordError` (the
first one, after the job ended), or takes its place with ``return_exceptions=True``.
``chat``/``complete`` of a single input are online calls. :meth:`BedrockBatchLLM.submit_chat`
and :meth:`BedrockBatchLLM.submit_complete` return the job without waiting;
:meth:`BedrockBatchLLM.chat_responses` reads its results later. A ``ledger`` on the LLM
budgets the batch: its worst case is reserved at the batch price before any upload and
settled to the manifests' token totals when the job ends
(:mod:`bedrock_kit.core.batch.billing`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from llama_index.core.base.llms.generic_utils import chat_response_to_completion_response
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    CompletionResponse,
    MessageRole,
)

from bedrock_kit.core.batch.job import BedrockBatchJob
from bedrock_kit.core.batch.outputs import Outcome
from bedrock_kit.core.batch.runner import BatchSettings, arun_batch, body_of, run_batch
from bedrock_kit.core.budget.tags import tags_applied
from bedrock_kit.errors import BedrockKitError
from bedrock_kit.llama_index._convert import to_chat_response
from bedrock_kit.llama_index._tags import CALL_KEYWORD, call_tags

__all__ = ["BedrockBatchLLM"]

History = Sequence[ChatMessage]


def _prompt(text: str) -> list[ChatMessage]:
    return [ChatMessage(role=MessageRole.USER, content=text)]


class BedrockBatchLLM:
    """A BedrockKitLLM whose batches run as Bedrock batch inference jobs.

    Args:
        llm: The :class:`~bedrock_kit.llama_index.BedrockKitLLM` whose requests the jobs send.
        settings: S3 locations, role, quotas, polling (:class:`BatchSettings`).
    """

    def __init__(self, llm: Any, settings: BatchSettings) -> None:
        self.llm = llm
        self.settings = settings
        self._invoke_llm = llm.model_copy(update={"api": "invoke"})

    # -- one input: online

    def chat(self, messages: History, **kwargs: Any) -> ChatResponse:
        """One history is one online call (a job needs at least the per-job minimum)."""
        return self.llm.chat(messages, **kwargs)  # type: ignore[no-any-return]

    def complete(self, prompt: str, **kwargs: Any) -> CompletionResponse:
        """One prompt is one online call."""
        return self.llm.complete(prompt, **kwargs)  # type: ignore[no-any-return]

    # -- many inputs: a job

    def requests(self, histories: Sequence[History], **kwargs: Any) -> list[dict[str, Any]]:
        """The InvokeModel request of each history, as the LLM would send it."""
        requests = []
        for history in histories:
            request = self._invoke_llm.build_request(list(history), **kwargs)
            body_of(request)  # a guardrail is refused now, before any upload
            requests.append(request)
        return requests

    def _submit(self, histories: Sequence[History], kwargs: dict[str, Any]) -> BedrockBatchJob:
        tags = call_tags(self.llm.ledger_tags, kwargs.pop(CALL_KEYWORD, None))
        bodies = [body_of(r) for r in self.requests(histories, **kwargs)]
        options = self.settings.submit_kwargs(self.llm.client_settings())
        with tags_applied(self.llm.ledger, tags):  # the hold keeps them till it settles
            return BedrockBatchJob.submit(
                self.llm.model, bodies, runtime=self.llm.runtime, ledger=self.llm.ledger, **options
            )

    def submit_chat(self, histories: Sequence[History], **kwargs: Any) -> BedrockBatchJob:
        """Start the jobs for ``histories`` and return their handle, without waiting."""
        return self._submit(histories, kwargs)

    def submit_complete(self, prompts: Sequence[str], **kwargs: Any) -> BedrockBatchJob:
        """Start the jobs for ``prompts`` and return their handle, without waiting."""
        return self._submit([_prompt(p) for p in prompts], kwargs)

    def chat_responses(
        self, outcomes: Sequence[Outcome], *, return_exceptions: bool = False
    ) -> list[ChatResponse | Exception]:
        """Job outcomes as ``ChatResponse`` (errors raised, or kept with
        ``return_exceptions``)."""
        converted: list[ChatResponse | Exception] = []
        for outcome in outcomes:
            if isinstance(outcome, BedrockKitError):
                if not return_exceptions:
                    raise outcome
                converted.append(outcome)
            else:
                converted.append(to_chat_response(self.llm._checked(outcome)))
        return converted

    def completion_responses(
        self, outcomes: Sequence[Outcome], *, return_exceptions: bool = False
    ) -> list[CompletionResponse | Exception]:
        """Job outcomes as ``CompletionResponse``."""
        return [
            r if isinstance(r, Exception) else chat_response_to_completion_response(r)
            for r in self.chat_responses(outcomes, return_exceptions=return_exceptions)
        ]

    def _run(self, histories: Sequence[History], kwargs: dict[str, Any]) -> list[Outcome]:
        if not histories:
            return []
        tags = call_tags(self.llm.ledger_tags, kwargs.pop(CALL_KEYWORD, None))
        requests = self.requests(histories, **kwargs)
        chat = self.llm.client_settings()
        with tags_applied(self.llm.ledger, tags):
            _, outcomes = run_batch(
                self.llm.model,
                requests,
                self.settings,
                chat,
                runtime=self.llm.runtime,
                ledger=self.llm.ledger,
            )
        return outcomes

    async def _arun(self, histories: Sequence[History], kwargs: dict[str, Any]) -> list[Outcome]:
        if not histories:
            return []
        tags = call_tags(self.llm.ledger_tags, kwargs.pop(CALL_KEYWORD, None))
        requests = self.requests(histories, **kwargs)
        chat = self.llm.client_settings()
        with tags_applied(self.llm.ledger, tags):
            _, outcomes = await arun_batch(
                self.llm.model,
                requests,
                self.settings,
                chat,
                runtime=self.llm.runtime,
                ledger=self.llm.ledger,
            )
        return outcomes

    def batch_chat(
        self, histories: Sequence[History], *, return_exceptions: bool = False, **kwargs: Any
    ) -> list[ChatResponse | Exception]:
        """Every history through batch jobs, waited for: one response each, in order."""
        return self.chat_responses(
            self._run(histories, kwargs), return_exceptions=return_exceptions
        )

    async def abatch_chat(
        self, histories: Sequence[History], *, return_exceptions: bool = False, **kwargs: Any
    ) -> list[ChatResponse | Exception]:
        """Async :meth:`batch_chat` (native async polling)."""
        outcomes = await self._arun(histories, kwargs)
        return self.chat_responses(outcomes, return_exceptions=return_exceptions)

    def batch_complete(
        self, prompts: Sequence[str], *, return_exceptions: bool = False, **kwargs: Any
    ) -> list[CompletionResponse | Exception]:
        """Every prompt through batch jobs, waited for: one completion each, in order."""
        outcomes = self._run([_prompt(p) for p in prompts], kwargs)
        return self.completion_responses(outcomes, return_exceptions=return_exceptions)

    async def abatch_complete(
        self, prompts: Sequence[str], *, return_exceptions: bool = False, **kwargs: Any
    ) -> list[CompletionResponse | Exception]:
        """Async :meth:`batch_complete`."""
        outcomes = await self._arun([_prompt(p) for p in prompts], kwargs)
        return self.completion_responses(outcomes, return_exceptions=return_exceptions)

    def __repr__(self) -> str:
        return f"BedrockBatchLLM({self.llm.model!r}, s3_uri={self.settings.s3_uri!r})"
