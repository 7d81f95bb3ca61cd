"""LlamaIndex components for Bedrock Guardrails: a guard, a guarded query engine, a node
postprocessor that masks retrieved nodes, and stream guards for LlamaIndex streams.

Thin by design and parallel to :mod:`bedrock_kit.langchain.guardrails`: texts are pulled out
of LlamaIndex objects, checked by :mod:`bedrock_kit.core`, and put back.

Example:
    .. code-block:: python

        guard = BedrockGuardrail(guardrail_id="gr-123", guardrail_version="1")
        engine = GuardedQueryEngine(index.as_query_engine(streaming=True), guard)
        for text in engine.query("...").response_gen:
            print(text, end="")  # every piece was checked before it arrived
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator
from typing import Any, Literal

from llama_index.core.base.base_query_engine import BaseQueryEngine
from llama_index.core.base.response.schema import (
    AsyncStreamingResponse,
    Response,
    StreamingResponse,
)
from llama_index.core.bridge.pydantic import ConfigDict, Field, PrivateAttr
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import NodeWithScore, QueryBundle

from bedrock_kit._strict_arguments import StrictArguments
from bedrock_kit.core.guardrails.apply import TEXT_UNIT_CHARACTERS, GroundingResult, GuardrailClient
from bedrock_kit.core.guardrails.stream_guard import StreamGuard, StreamGuardStats
from bedrock_kit.core.guardrails.texts import GuardedTexts, aguard_texts, guard_texts
from bedrock_kit.core.transport.arguments import strict_keywords
from bedrock_kit.errors import ConfigurationError
from bedrock_kit.llama_index._client import BedrockClientArgs
from bedrock_kit.llama_index._guard_stream import ResponsePieces, apieces, pieces
from bedrock_kit.llama_index._tags import LedgerTags

__all__ = [
    "BedrockGuardrail",
    "BedrockGuardrailNodePostprocessor",
    "GuardedQueryEngine",
]

_log = logging.getLogger(__name__)


class BedrockGuardrail(BedrockClientArgs, LedgerTags):
    """One Bedrock guardrail version, ready to check LlamaIndex queries, answers and streams.

    Takes the same client arguments as the bedrock-kit LLM. ``on_block`` decides what a
    blocked text becomes: an error (default) or the guardrail's blocked message (or
    ``replacement``).
    """

    model_config = ConfigDict(populate_by_name=True, arbitrary_types_allowed=True)

    guardrail_id: str = Field(alias="guardrail_identifier", description="Guardrail id or ARN.")
    guardrail_version: str = Field(default="DRAFT", description="DRAFT or a version number.")
    on_block: Literal["raise", "message"] = Field(
        default="raise", description="Raise GuardrailInterventionError or return a message."
    )
    replacement: str | None = Field(
        default=None, description="Text used for blocked content (default: guardrail's own)."
    )
    window_size: int = Field(
        default=TEXT_UNIT_CHARACTERS, description="Characters per stream check (one text unit)."
    )
    overlap: int = Field(default=50, description="Characters re-checked across stream windows.")
    fail_open: bool = Field(
        default=False,
        description=(
            "Release a stream window unchecked when its check fails (explicit opt-in: logged "
            "as a warning, counted in stream_stats.unchecked_characters). Off: the error is "
            "raised and nothing past the last passed window is released."
        ),
    )
    first_window_size: int | None = Field(
        default=None, description="Smaller first stream window: first text arrives sooner."
    )
    check_tool_calls: bool = Field(
        default=True,
        description=(
            "Check tool-call names and arguments of LLM streams as text, released only after "
            "their window passed; False passes them on at the end, unchecked (counted)."
        ),
    )
    check_reasoning: bool = Field(
        default=False,
        description="Check and release thinking text of LLM streams (else it is withheld).",
    )
    on_result: Callable[[GuardedTexts], None] | None = Field(
        default=None,
        exclude=True,
        description=(
            "Called with every check of a whole text (check, queries, answers): the "
            "GuardedTexts, whose not_checked is 'empty' when the text was empty or whitespace "
            "only and so was not sent."
        ),
    )

    ledger: Any = Field(
        default=None,
        exclude=True,
        description="A bedrock_kit Ledger: every ApplyGuardrail call is reserved from its "
        "text length (BudgetExceededError when it could cross a limit) and settled to the "
        "text units billed, per policy.",
    )
    guardrail_policies: list[str] | None = Field(
        default=None,
        description="Policies the guardrail has configured (content, topic, word, "
        "sensitive_information, contextual_grounding, automated_reasoning), so reservations "
        "hold only those; every priced text policy when None.",
    )

    _core: GuardrailClient = PrivateAttr()
    _stream: StreamGuard = PrivateAttr()

    def __init__(self, **data: Any) -> None:
        """Validate every argument now, before any request.

        Raises:
            ConfigurationError: For an unknown argument, a bad version, window or client.
        """
        if isinstance(data.get("guardrail_version"), int):
            data["guardrail_version"] = str(data["guardrail_version"])
        super().__init__(**data)
        self._core = GuardrailClient(
            self.guardrail_id,
            self.guardrail_version,
            settings=self.client_settings(),
            client=self.client,
            async_client=self.async_client,
            ledger=self.ledger,
            policies=self.guardrail_policies,
        )
        self._stream = StreamGuard(
            self._core,
            window_size=self.window_size,
            overlap=self.overlap,
            on_block=self.on_block,
            replacement=self.replacement,
            fail_open=self.fail_open,
            first_window_size=self.first_window_size,
        )

    @property
    def core(self) -> GuardrailClient:
        """The core guardrail client; its boto3 clients are built once and reused."""
        return self._core

    @property
    def stream_stats(self) -> StreamGuardStats:
        """Calls, text units and characters over every stream this guard checked."""
        return self._stream.stats

    # -- whole texts

    def _released(self, checked: GuardedTexts) -> tuple[str, bool]:
        """The text to use and whether it is a blocked message."""
        if self.on_result is not None:
            self.on_result(checked)
        if checked.blocked:
            if self.on_block == "raise":
                checked.raise_if_blocked()
            return self.replacement or checked.blocked_message, True
        return checked.texts[0], False

    def check(self, text: str, source: Literal["INPUT", "OUTPUT"] = "INPUT") -> str:
        """``text``, masked where the guardrail anonymized it; raises or replaces if blocked.

        Empty or whitespace-only text is returned unchanged without a request
        (``on_result`` sees ``not_checked == "empty"``).
        """
        with self._tagged():
            return self._released(guard_texts(self._core, [text], source=source))[0]

    async def acheck(self, text: str, source: Literal["INPUT", "OUTPUT"] = "INPUT") -> str:
        """Async :meth:`check` (aiobotocore, no threads)."""
        with self._tagged():
            checked = await aguard_texts(self._core, [text], source=source)
        return self._released(checked)[0]

    def _check_query(self, text: str) -> tuple[str, bool]:
        with self._tagged():
            return self._released(guard_texts(self._core, [text], source="INPUT"))

    async def _acheck_query(self, text: str) -> tuple[str, bool]:
        with self._tagged():
            checked = await aguard_texts(self._core, [text], source="INPUT")
        return self._released(checked)

    def check_grounding(
        self, answer: str, sources: list[str] | list[NodeWithScore], query: str | None = None
    ) -> GroundingResult:
        """Score ``answer`` against retrieved ``sources`` (texts or nodes) and the query."""
        with self._tagged():
            return self._core.check_grounding(answer, _source_texts(sources), query)

    async def acheck_grounding(
        self, answer: str, sources: list[str] | list[NodeWithScore], query: str | None = None
    ) -> GroundingResult:
        """Async :meth:`check_grounding`."""
        with self._tagged():
            return await self._core.acheck_grounding(answer, _source_texts(sources), query)

    # -- streams

    def guard_stream(self, texts: Iterator[str]) -> Generator[str, None, None]:
        """Guard a text generator (e.g. ``StreamingResponse.response_gen``)."""
        return self._carry(lambda: self._stream.guard(texts))

    def aguard_stream(self, texts: AsyncIterator[str]) -> AsyncGenerator[str, None]:
        """Guard an async text generator (e.g. ``AsyncStreamingResponse.async_response_gen``)."""
        return self._acarry(lambda: self._stream.aguard(texts))

    def _pieces(self) -> ResponsePieces:
        return ResponsePieces(
            check_tool_calls=self.check_tool_calls, check_reasoning=self.check_reasoning
        )

    def guard_llm_stream(self, responses: Iterator[Any]) -> Iterator[Any]:
        """Guard ``stream_complete`` / ``stream_chat`` output: deltas and tool calls only
        after a check; a last response carries the upstream's usage and metadata.

        Raises:
            GuardrailInterventionError: When a window is blocked (``on_block="raise"``).
            BedrockKitError: When a check fails (typed; nothing unchecked was released).
        """
        state, stats = self._pieces(), StreamGuardStats()
        guard = self._stream
        make = lambda: guard.guard_pieces(pieces(state, responses), stats=stats)  # noqa: E731
        for released in self._carry(make):
            yield state.response_of(released)
        if (last := state.finish(self._stream, stats)) is not None:
            yield last

    async def aguard_llm_stream(self, responses: AsyncIterator[Any]) -> AsyncIterator[Any]:
        """Async :meth:`guard_llm_stream`."""
        state, stats = self._pieces(), StreamGuardStats()
        guard = self._stream
        amake = lambda: guard.aguard_pieces(apieces(state, responses), stats=stats)  # noqa: E731
        async for released in self._acarry(amake):
            yield state.response_of(released)
        if (last := state.finish(self._stream, stats)) is not None:
            yield last

    # -- query engine responses

    def guard_response(self, response: Any) -> Any:
        """Guard a query engine's answer: plain, streaming or async streaming."""
        if isinstance(response, StreamingResponse):
            gen = response.response_gen
            if gen is None:  # already drained: the text is in response_txt
                return _with_text(response, self.check(response.response_txt or "", "OUTPUT"))
            return StreamingResponse(
                response_gen=self.guard_stream(gen),
                source_nodes=response.source_nodes,
                metadata=response.metadata,
            )
        if isinstance(response, AsyncStreamingResponse):
            return AsyncStreamingResponse(
                response_gen=self.aguard_stream(response.async_response_gen()),
                source_nodes=response.source_nodes,
                metadata=response.metadata,
            )
        if isinstance(response, Response):
            return _with_text(response, self.check(response.response or "", "OUTPUT"))
        raise ConfigurationError(f"cannot guard a {type(response).__name__} response")

    async def aguard_response(self, response: Any) -> Any:
        """Async :meth:`guard_response`."""
        if isinstance(response, Response):
            return _with_text(response, await self.acheck(response.response or "", "OUTPUT"))
        return self.guard_response(response)


def _with_text(response: Any, text: str) -> Response:
    return Response(response=text, source_nodes=response.source_nodes, metadata=response.metadata)


def _source_texts(sources: list[str] | list[NodeWithScore]) -> list[str]:
    return [s if isinstance(s, str) else s.node.get_content() for s in sources]


class GuardedQueryEngine(BaseQueryEngine):
    """A query engine whose queries and answers pass through a Bedrock guardrail.

    The query is checked as INPUT before retrieval (a masked query is what the inner engine
    sees); the answer is checked as OUTPUT, window by window when the engine streams.

    Args:
        query_engine: The engine to wrap.
        guardrail: The guard to apply.
        check_query: Check the query (INPUT).
        check_answer: Check the answer (OUTPUT).
    """

    @strict_keywords
    def __init__(
        self,
        query_engine: BaseQueryEngine,
        guardrail: BedrockGuardrail,
        *,
        check_query: bool = True,
        check_answer: bool = True,
    ) -> None:
        if not isinstance(guardrail, BedrockGuardrail):
            raise ConfigurationError("guardrail must be a BedrockGuardrail")
        super().__init__(callback_manager=query_engine.callback_manager)
        self._engine = query_engine
        self._guardrail = guardrail
        self._check_query = check_query
        self._check_answer = check_answer

    def _get_prompt_modules(self) -> dict[str, Any]:
        return {"query_engine": self._engine}

    def _bundle(self, query: QueryBundle, text: str) -> QueryBundle:
        if text == query.query_str:
            return query
        # The embedding was computed from the unmasked text: drop it so it is recomputed.
        return QueryBundle(query_str=text, custom_embedding_strs=None, embedding=None)

    def _query(self, query_bundle: QueryBundle) -> Any:
        if self._check_query:
            text, blocked = self._guardrail._check_query(query_bundle.query_str)
            if blocked:  # on_block="message": the blocked query never reaches the engine
                return Response(response=text)
            query_bundle = self._bundle(query_bundle, text)
        response = self._engine.query(query_bundle)
        return self._guardrail.guard_response(response) if self._check_answer else response

    async def _aquery(self, query_bundle: QueryBundle) -> Any:
        if self._check_query:
            text, blocked = await self._guardrail._acheck_query(query_bundle.query_str)
            if blocked:
                return Response(response=text)
            query_bundle = self._bundle(query_bundle, text)
        response = await self._engine.aquery(query_bundle)
        if not self._check_answer:
            return response
        return await self._guardrail.aguard_response(response)


class BedrockGuardrailNodePostprocessor(StrictArguments, BaseNodePostprocessor):
    """Masks PII (and enforces the other policies) in retrieved nodes before they are used.

    All nodes are checked in one ApplyGuardrail call. A blocked node raises
    GuardrailInterventionError (``on_block="raise"``) or is removed with a warning logged
    (``on_block="drop"``).
    """

    guardrail: BedrockGuardrail = Field(description="The guard to apply.")
    source: Literal["INPUT", "OUTPUT"] = Field(
        default="OUTPUT", description="INPUT or OUTPUT: which side's policy actions apply."
    )
    on_block: Literal["raise", "drop"] = Field(
        default="raise", description="Raise on a blocked node, or drop it (logged)."
    )

    @classmethod
    def class_name(cls) -> str:
        """LlamaIndex registry name."""
        return "BedrockGuardrailNodePostprocessor"

    def _report(self, checked: GuardedTexts) -> None:
        if self.guardrail.on_result is not None:
            self.guardrail.on_result(checked)

    def _texts(self, nodes: list[NodeWithScore]) -> list[str]:
        return [n.node.get_content() for n in nodes]

    def _apply(
        self, nodes: list[NodeWithScore], checked: list[GuardedTexts]
    ) -> list[NodeWithScore]:
        out = []
        for node, result in zip(nodes, checked, strict=True):
            if result.blocked:
                if self.on_block == "raise":
                    result.raise_if_blocked()
                _log.warning("guardrail blocked retrieved node %s; dropped", node.node.node_id)
                continue
            if result.texts[0] != result.originals[0]:
                copy = node.node.model_copy(deep=True)
                copy.set_content(result.texts[0])
                node = NodeWithScore(node=copy, score=node.score)
            out.append(node)
        return out

    def _postprocess_nodes(
        self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None
    ) -> list[NodeWithScore]:
        core = self.guardrail.core
        texts = self._texts(nodes)
        with self.guardrail._tagged():
            checked = guard_texts(core, texts, source=self.source)
        self._report(checked)
        if checked.blocked and self.on_block == "drop":
            # One call cannot say which node was blocked: check each to drop only those.
            with self.guardrail._tagged():
                per_node = [guard_texts(core, [t], source=self.source) for t in texts]
        else:
            per_node = [_single(checked, i) for i in range(len(texts))]
        return self._apply(nodes, per_node)

    async def _apostprocess_nodes(
        self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None
    ) -> list[NodeWithScore]:
        core = self.guardrail.core
        texts = self._texts(nodes)
        with self.guardrail._tagged():
            checked = await aguard_texts(core, texts, source=self.source)
        self._report(checked)
        if checked.blocked and self.on_block == "drop":
            with self.guardrail._tagged():
                per_node = [await aguard_texts(core, [t], source=self.source) for t in texts]
        else:
            per_node = [_single(checked, i) for i in range(len(texts))]
        return self._apply(nodes, per_node)


def _single(checked: GuardedTexts, index: int) -> GuardedTexts:
    """The part of a packed check that concerns one text (blocked applies to all)."""
    return GuardedTexts((checked.originals[index],), (checked.texts[index],), checked.results)
