"""``ChatBedrockKit(...).with_batch_inference(...)``: ``batch``/``abatch`` as Bedrock batch jobs.

The runnable takes what the chat model takes (strings, message lists, prompt values) and
its ``batch`` returns what ``llm.batch`` would: one ``AIMessage`` per input, in input
order, with usage and stop reason in the same fields. An LCEL chain switches to batch mode
by swapping the model::

    chain = prompt | ChatBedrockKit(model=MODEL, max_tokens=256).with_batch_inference(
        s3_uri="s3://my-bucket/batches/", role_arn=ROLE, progress=True
    )
    answers = chain.batch([{"ticket": t} for t in tickets])   # 1 job per 50,000 records

Each input becomes the InvokeModel body the model would send (``api="invoke"``), at half
the on-demand price. A record that fails raises its typed
:class:`~bedrock_kit.errors.BatchRecordError` (the first one, after the job ended), or
takes its place with ``return_exceptions=True``. ``invoke`` of a single input is an online
call: no job takes one record. To submit without waiting, :meth:`BedrockBatchRunnable.submit`
returns the :class:`~bedrock_kit.core.batch.job.BedrockBatchJob`, and :meth:`messages`
turns its results into messages later (after :meth:`BedrockBatchJob.attach` in another
process).

A ``ledger`` on the chat model budgets the batch: the whole job's worst case is reserved at
the batch price before anything is uploaded (``BudgetExceededError`` when it does not fit)
and settled to the manifests' token totals when the job ends
(:mod:`bedrock_kit.core.batch.billing`). Callbacks do not see batch records; ``job.cost()``
prices a job without a ledger.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import BaseMessage
from langchain_core.runnables import Runnable, RunnableConfig

from bedrock_kit.core.batch.job import BedrockBatchJob
from bedrock_kit.core.batch.outputs import Outcome
from bedrock_kit.core.batch.runner import BatchSettings, arun_batch, body_of, run_batch
from bedrock_kit.errors import BedrockKitError
from bedrock_kit.langchain._convert import to_ai_message

__all__ = ["BedrockBatchRunnable"]


class BedrockBatchRunnable(Runnable[LanguageModelInput, BaseMessage]):
    """A chat model whose ``batch`` and ``abatch`` run as Bedrock batch inference jobs.

    Args:
        llm: The :class:`~bedrock_kit.langchain.ChatBedrockKit` whose requests the jobs send.
        settings: S3 locations, role, quotas, polling (:class:`BatchSettings`).
    """

    def __init__(self, llm: Any, settings: BatchSettings) -> None:
        self.llm = llm
        self.settings = settings
        self._invoke_llm = llm.model_copy(update={"api": "invoke"})

    @property
    def InputType(self) -> Any:  # noqa: N802 - LangChain's name
        """What the chat model takes."""
        return self.llm.InputType

    @property
    def OutputType(self) -> Any:  # noqa: N802 - LangChain's name
        """What the chat model returns."""
        return self.llm.OutputType

    # -- one input: online

    def invoke(
        self, input: LanguageModelInput, config: RunnableConfig | None = None, **kwargs: Any
    ) -> BaseMessage:
        """One input is one online call (a job needs at least the per-job minimum)."""
        return self.llm.invoke(input, config, **kwargs)  # type: ignore[no-any-return]

    async def ainvoke(
        self, input: LanguageModelInput, config: RunnableConfig | None = None, **kwargs: Any
    ) -> BaseMessage:
        """Async :meth:`invoke`."""
        return await self.llm.ainvoke(input, config, **kwargs)  # type: ignore[no-any-return]

    # -- many inputs: a job

    def requests(self, inputs: Sequence[LanguageModelInput], **kwargs: Any) -> list[dict[str, Any]]:
        """The InvokeModel request of each input, as the chat model would send it."""
        requests = []
        for item in inputs:
            messages = self.llm._convert_input(item).to_messages()
            request = self._invoke_llm.build_request(messages, **kwargs)
            body_of(request)  # a guardrail is refused now, before any upload
            requests.append(request)
        return requests

    def _clients(self) -> dict[str, Any]:
        return {"runtime": self.llm.runtime, "ledger": self.llm.ledger}

    def submit(self, inputs: Sequence[LanguageModelInput], **kwargs: Any) -> BedrockBatchJob:
        """Start the jobs for ``inputs`` and return their handle, without waiting."""
        bodies = [body_of(r) for r in self.requests(inputs, **kwargs)]
        options = self.settings.submit_kwargs(self.llm.client_settings())
        with self.llm._tagged():  # the model's ledger_tags: the hold keeps them till it settles
            return BedrockBatchJob.submit(self.llm.model_id, bodies, **options, **self._clients())

    def messages(
        self, outcomes: Sequence[Outcome], *, return_exceptions: bool = False
    ) -> list[BaseMessage | Exception]:
        """Job outcomes as ``AIMessage`` (errors raised, or kept with ``return_exceptions``)."""
        converted: list[BaseMessage | Exception] = []
        for outcome in outcomes:
            if isinstance(outcome, BedrockKitError):
                if not return_exceptions:
                    raise outcome
                converted.append(outcome)
            else:
                self.llm._check_guardrail(outcome)
                converted.append(to_ai_message(outcome))
        return converted

    def batch(
        self,
        inputs: list[LanguageModelInput],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any | None,
    ) -> list[BaseMessage]:
        """Run every input through batch jobs and wait: one message per input, in order."""
        if not inputs:
            return []
        requests = self.requests(inputs, **kwargs)
        chat = self.llm.client_settings()
        with self.llm._tagged(config if isinstance(config, Mapping) else None):
            _, outcomes = run_batch(
                self.llm.model_id, requests, self.settings, chat, **self._clients()
            )
        return self.messages(outcomes, return_exceptions=return_exceptions)  # type: ignore[return-value]

    async def abatch(
        self,
        inputs: list[LanguageModelInput],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any | None,
    ) -> list[BaseMessage]:
        """Async :meth:`batch` (native async polling)."""
        if not inputs:
            return []
        requests = self.requests(inputs, **kwargs)
        chat = self.llm.client_settings()
        with self.llm._tagged(config if isinstance(config, Mapping) else None):
            _, outcomes = await arun_batch(
                self.llm.model_id, requests, self.settings, chat, **self._clients()
            )
        return self.messages(outcomes, return_exceptions=return_exceptions)  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"BedrockBatchRunnable({self.llm.model_id!r}, s3_uri={self.settings.s3_uri!r})"
