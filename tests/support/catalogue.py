"""Every public AWS-facing class of the core and both adapters, with one real call each.

Shared by the lifecycle, pickling and secret-scrubbing suites: each :class:`Case` builds its
object from client arguments, scripts what LocalBedrock (or, for the ``bedrock`` control
plane LocalBedrock does not serve, the hostile server) answers to one call, and makes that
call sync and async.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bedrock_kit.testing import LocalBedrock, Reply
from bedrock_kit.testing.scripts import invoke_agent_events
from tests.support.hostile import HostileServer, json_reply

MODEL = "amazon.nova-micro-v1:0"
EMBED = "amazon.titan-embed-text-v2:0"
KB = "KB12345678"
GUARDRAIL = "gr12345678"
PROMPT_ARN = "arn:aws:bedrock:us-east-1:123456789012:prompt/PRMT123456"

NONE = {"action": "NONE", "outputs": [], "assessments": [], "usage": {"topicPolicyUnits": 1}}
GROUNDED = {
    "action": "NONE",
    "outputs": [],
    "assessments": [
        {
            "contextualGroundingPolicy": {
                "filters": [
                    {"type": "GROUNDING", "threshold": 0.5, "score": 0.9, "action": "NONE"},
                    {"type": "RELEVANCE", "threshold": 0.5, "score": 0.9, "action": "NONE"},
                ]
            }
        }
    ],
    "usage": {"contextualGroundingPolicyUnits": 1},
}
RETRIEVED = {
    "retrievalResults": [
        {
            "content": {"text": "chunk", "type": "TEXT"},
            "location": {"type": "S3", "s3Location": {"uri": "s3://kb/a.md"}},
            "metadata": {"x-amz-bedrock-kb-source-uri": "s3://kb/a.md"},
            "score": 0.9,
        }
    ]
}
GENERATED = {"output": {"text": "generated"}, "sessionId": "s-1", "citations": []}
EMBEDDED = {"embedding": [0.1, 0.2, 0.3], "inputTextTokenCount": 1}
PROMPT = {
    "id": "PRMT123456",
    "arn": PROMPT_ARN,
    "version": "DRAFT",
    "name": "p",
    "defaultVariant": "v",
    "variants": [
        {
            "name": "v",
            "templateType": "TEXT",
            "templateConfiguration": {"text": {"text": "Hi {{x}}", "inputVariables": []}},
            "modelId": MODEL,
        }
    ],
}
CONVERSE_REQUEST = {"modelId": MODEL, "messages": [{"role": "user", "content": [{"text": "hi"}]}]}


def script_local(server: Any, operation: str, body: Any) -> None:
    """Answer ``operation`` with ``body`` for as many calls as a case makes."""
    server.set_default(operation, Reply.json(body))


@dataclass(frozen=True)
class Case:
    """One public class and one real call of it."""

    name: str
    """``<package>.<Class>``: ``core``, ``langchain`` or ``llama_index``."""
    build: Callable[[dict[str, Any]], Any]
    """Client arguments -> the object (and whatever it wraps, built with the same args)."""
    call: Callable[[Any], Any]
    """One sync call."""
    acall: Callable[[Any], Awaitable[Any]]
    """One async call."""
    script: Callable[[Any], None]
    """Queues the replies of a call on the server."""
    owns_clients: bool = True
    """False for wrappers whose clients belong to an object the user passed in."""
    hostile: bool = False
    """Served by the hostile server (the ``bedrock`` control plane) instead of LocalBedrock."""
    core_settings: bool = False
    """Built from a ``ClientSettings`` (core classes) rather than keyword arguments."""

    def __str__(self) -> str:
        return self.name


async def _agen(items: list[str]) -> AsyncIterator[str]:
    for item in items:
        yield item


def _nothing(server: Any) -> None:
    return None


def _guardrail_none(server: Any) -> None:
    script_local(server, "ApplyGuardrail", NONE)


def _settings(args: dict[str, Any]) -> Any:
    from bedrock_kit.core.transport.clients import client_settings_from

    return client_settings_from(**args)


def _core_cases() -> list[Case]:
    from bedrock_kit import ConverseRuntime
    from bedrock_kit.core.agents.requests import build_invoke_agent_request
    from bedrock_kit.core.agents.runtime import AgentRuntime
    from bedrock_kit.core.embeddings.runtime import EmbeddingOptions, EmbeddingsRuntime
    from bedrock_kit.core.guardrails.apply import GuardrailClient
    from bedrock_kit.core.guardrails.config import GuardrailAdmin
    from bedrock_kit.core.guardrails.stream_guard import StreamGuard
    from bedrock_kit.core.knowledge_bases.runtime import KnowledgeBaseRuntime
    from bedrock_kit.core.prompts.management import PromptManagement

    agent_request = build_invoke_agent_request("AGENT1", "ALIAS1", "q")

    def guardrail(args: dict[str, Any]) -> GuardrailClient:
        return GuardrailClient(GUARDRAIL, "1", settings=_settings(args))

    return [
        Case(
            "core.ConverseRuntime",
            lambda a: ConverseRuntime(_settings(a)),
            lambda o: o.converse(CONVERSE_REQUEST),
            lambda o: o.aconverse(CONVERSE_REQUEST),
            _nothing,
            core_settings=True,
        ),
        Case(
            "core.GuardrailClient",
            guardrail,
            lambda o: o.apply("hi"),
            lambda o: o.aapply("hi"),
            _guardrail_none,
            core_settings=True,
        ),
        Case(
            "core.StreamGuard",
            lambda a: StreamGuard(guardrail(a)),
            lambda o: "".join(o.guard(["hello ", "world"])),
            lambda o: _join(o.aguard(_agen(["hello ", "world"]))),
            _guardrail_none,
            owns_clients=False,
            core_settings=True,
        ),
        Case(
            "core.GuardrailAdmin",
            lambda a: GuardrailAdmin(_settings(a)),
            lambda o: o.create_version(GUARDRAIL),
            lambda o: o.acreate_version(GUARDRAIL),
            lambda s: s.always(json_reply({"guardrailId": GUARDRAIL, "version": "1"})),
            hostile=True,
            core_settings=True,
        ),
        Case(
            "core.KnowledgeBaseRuntime",
            lambda a: KnowledgeBaseRuntime(_settings(a)),
            lambda o: o.retrieve(KB, "q"),
            lambda o: o.aretrieve(KB, "q"),
            lambda s: script_local(s, "Retrieve", RETRIEVED),
            core_settings=True,
        ),
        Case(
            "core.AgentRuntime",
            lambda a: AgentRuntime(_settings(a)),
            lambda o: o.invoke(agent_request),
            lambda o: o.ainvoke(agent_request),
            lambda s: s.set_default("InvokeAgent", Reply.events(invoke_agent_events("done"))),
            core_settings=True,
        ),
        Case(
            "core.EmbeddingsRuntime",
            lambda a: EmbeddingsRuntime(_settings(a), EmbeddingOptions(EMBED)),
            lambda o: o.embed(["q"], "search_query"),
            lambda o: o.aembed(["q"], "search_query"),
            lambda s: script_local(s, "InvokeModel", EMBEDDED),
            core_settings=True,
        ),
        Case(
            "core.PromptManagement",
            lambda a: PromptManagement(_settings(a)),
            lambda o: o.get_prompt(PROMPT_ARN),
            lambda o: o.aget_prompt(PROMPT_ARN),
            lambda s: script_local(s, "GetPrompt", PROMPT),
            core_settings=True,
        ),
    ]


async def _join(chunks: AsyncIterator[str]) -> str:
    return "".join([c async for c in chunks])


def _langchain_cases() -> list[Case]:
    from bedrock_kit import langchain as lc

    def agent(a: dict[str, Any]) -> Any:
        return lc.BedrockAgentRunnable(agent_id="AGENT1", agent_alias_id="ALIAS1", **a)

    def agent_events(server: Any) -> None:
        server.set_default("InvokeAgent", Reply.events(invoke_agent_events("done")))

    grounding_input = {"answer": "a", "context": "source", "question": "q"}
    return [
        Case(
            "langchain.ChatBedrockKit",
            lambda a: lc.ChatBedrockKit(model=MODEL, **a),
            lambda o: o.invoke("hi"),
            lambda o: o.ainvoke("hi"),
            _nothing,
        ),
        Case(
            "langchain.BedrockGuardrail",
            lambda a: lc.BedrockGuardrail(guardrail_identifier=GUARDRAIL, **a),
            lambda o: o.invoke("hi"),
            lambda o: o.ainvoke("hi"),
            _guardrail_none,
        ),
        Case(
            "langchain.BedrockStreamGuard",
            lambda a: lc.BedrockStreamGuard(guardrail_identifier=GUARDRAIL, **a),
            lambda o: list(o.guard_stream(iter(["hello ", "world"]))),
            lambda o: _list(o.aguard_stream(_agen(["hello ", "world"]))),
            _guardrail_none,
        ),
        Case(
            "langchain.BedrockGroundingCheck",
            lambda a: lc.BedrockGroundingCheck(guardrail_identifier=GUARDRAIL, **a),
            lambda o: o.invoke(grounding_input),
            lambda o: o.ainvoke(grounding_input),
            lambda s: script_local(s, "ApplyGuardrail", GROUNDED),
        ),
        Case(
            "langchain.BedrockKnowledgeBaseRetriever",
            lambda a: lc.BedrockKnowledgeBaseRetriever(knowledge_base_id=KB, **a),
            lambda o: o.invoke("q"),
            lambda o: o.ainvoke("q"),
            lambda s: script_local(s, "Retrieve", RETRIEVED),
        ),
        Case(
            "langchain.BedrockRetrieveAndGenerate",
            lambda a: lc.BedrockRetrieveAndGenerate(knowledge_base_id=KB, model_id=MODEL, **a),
            lambda o: o.invoke("q"),
            lambda o: o.ainvoke("q"),
            lambda s: script_local(s, "RetrieveAndGenerate", GENERATED),
        ),
        Case(
            "langchain.BedrockAgentRunnable",
            agent,
            lambda o: o.invoke("q"),
            lambda o: o.ainvoke("q"),
            agent_events,
        ),
        Case(
            "langchain.BedrockAgentTool",
            lambda a: lc.BedrockAgentTool(agent=agent(a)),
            lambda o: o.invoke({"query": "q"}),
            lambda o: o.ainvoke({"query": "q"}),
            agent_events,
            owns_clients=False,
        ),
        Case(
            "langchain.BedrockKitEmbeddings",
            lambda a: lc.BedrockKitEmbeddings(model=EMBED, **a),
            lambda o: o.embed_query("q"),
            lambda o: o.aembed_query("q"),
            lambda s: script_local(s, "InvokeModel", EMBEDDED),
        ),
    ]


async def _list(chunks: AsyncIterator[Any]) -> list[Any]:
    return [c async for c in chunks]


def _llama_index_cases() -> list[Case]:
    from llama_index.core.schema import NodeWithScore, TextNode

    from bedrock_kit import llama_index as li

    def guardrail(a: dict[str, Any]) -> Any:
        return li.BedrockGuardrail(guardrail_id=GUARDRAIL, **a)

    def engine(a: dict[str, Any]) -> Any:
        return li.BedrockRetrieveAndGenerateQueryEngine(knowledge_base_id=KB, model=MODEL, **a)

    def guarded_script(server: Any) -> None:
        _guardrail_none(server)
        script_local(server, "RetrieveAndGenerate", GENERATED)

    def nodes() -> list[Any]:
        return [NodeWithScore(node=TextNode(text="a node"), score=1.0)]

    return [
        Case(
            "llama_index.BedrockKitLLM",
            lambda a: li.BedrockKitLLM(model=MODEL, **a),
            lambda o: o.complete("hi"),
            lambda o: o.acomplete("hi"),
            _nothing,
        ),
        Case(
            "llama_index.BedrockGuardrail",
            guardrail,
            lambda o: o.check("hi"),
            lambda o: o.acheck("hi"),
            _guardrail_none,
        ),
        Case(
            "llama_index.GuardedQueryEngine",
            lambda a: li.GuardedQueryEngine(engine(a), guardrail(a)),
            lambda o: o.query("q"),
            lambda o: o.aquery("q"),
            guarded_script,
            owns_clients=False,
        ),
        Case(
            "llama_index.BedrockGuardrailNodePostprocessor",
            lambda a: li.BedrockGuardrailNodePostprocessor(guardrail=guardrail(a)),
            lambda o: o.postprocess_nodes(nodes()),
            lambda o: o.apostprocess_nodes(nodes()),
            _guardrail_none,
            owns_clients=False,
        ),
        Case(
            "llama_index.BedrockKnowledgeBaseRetriever",
            lambda a: li.BedrockKnowledgeBaseRetriever(KB, **a),
            lambda o: o.retrieve("q"),
            lambda o: o.aretrieve("q"),
            lambda s: script_local(s, "Retrieve", RETRIEVED),
        ),
        Case(
            "llama_index.BedrockRetrieveAndGenerateQueryEngine",
            engine,
            lambda o: o.query("q"),
            lambda o: o.aquery("q"),
            lambda s: script_local(s, "RetrieveAndGenerate", GENERATED),
        ),
        Case(
            "llama_index.BedrockAgentQueryEngine",
            lambda a: li.BedrockAgentQueryEngine("AGENT1", "ALIAS1", **a),
            lambda o: o.query("q"),
            lambda o: o.aquery("q"),
            lambda s: s.set_default("InvokeAgent", Reply.events(invoke_agent_events("done"))),
        ),
        Case(
            "llama_index.BedrockKitEmbedding",
            lambda a: li.BedrockKitEmbedding(model=EMBED, **a),
            lambda o: o.get_query_embedding("q"),
            lambda o: o.aget_query_embedding("q"),
            lambda s: script_local(s, "InvokeModel", EMBEDDED),
        ),
    ]


def _flow_cases() -> list[Case]:
    """Prompt Flows (issue 21): LocalBedrock echoes InvokeFlow when nothing is scripted."""
    from bedrock_kit import langchain as lc
    from bedrock_kit import llama_index as li
    from bedrock_kit.core.flows.requests import build_invoke_flow_request
    from bedrock_kit.core.flows.runtime import FlowRuntime

    request = build_invoke_flow_request("FLOW123456", "ALIAS12345", "q")
    return [
        Case(
            "core.FlowRuntime",
            lambda a: FlowRuntime(_settings(a)),
            lambda o: o.invoke(request),
            lambda o: o.ainvoke(request),
            _nothing,
            core_settings=True,
        ),
        Case(
            "langchain.BedrockFlowRunnable",
            lambda a: lc.BedrockFlowRunnable(flow_id="FLOW123456", flow_alias_id="ALIAS12345", **a),
            lambda o: o.invoke("q"),
            lambda o: o.ainvoke("q"),
            _nothing,
        ),
        Case(
            "llama_index.BedrockFlow",
            lambda a: li.BedrockFlow("FLOW123456", "ALIAS12345", **a),
            lambda o: o.invoke("q"),
            lambda o: o.ainvoke("q"),
            _nothing,
        ),
    ]


@contextmanager
def serve(case: Case) -> Iterator[tuple[Any, dict[str, Any]]]:
    """A running server scripted for ``case``, and client arguments that reach it."""
    server: Any = HostileServer() if case.hostile else LocalBedrock()
    with server:
        url = server.url if case.hostile else server.endpoint_url
        case.script(server)
        yield server, {"region_name": "us-east-1", "endpoint_url": url, "max_retries": 0}


def _rerank_cases() -> list[Case]:
    # Reranking in the core and both adapters (LocalBedrock answers Rerank unscripted).
    from langchain_core.documents import Document
    from llama_index.core.schema import NodeWithScore, TextNode

    from bedrock_kit import langchain as lc
    from bedrock_kit import llama_index as li
    from bedrock_kit.core.rerank.runtime import RerankOptions, RerankRuntime

    rerank = "amazon.rerank-v1:0"
    docs = [Document(page_content="tides"), Document(page_content="cakes")]

    def nodes() -> list[Any]:
        return [NodeWithScore(node=TextNode(text=t), score=0.5) for t in ("tides", "cakes")]

    return [
        Case(
            "core.RerankRuntime",
            lambda a: RerankRuntime(_settings(a), RerankOptions(rerank)),
            lambda o: o.rerank("tides", ["tides", "cakes"]),
            lambda o: o.arerank("tides", ["tides", "cakes"]),
            _nothing,
            core_settings=True,
        ),
        Case(
            "langchain.BedrockRerank",
            lambda a: lc.BedrockRerank(model=rerank, **a),
            lambda o: o.compress_documents(docs, "tides"),
            lambda o: o.acompress_documents(docs, "tides"),
            _nothing,
        ),
        Case(
            "llama_index.BedrockRerank",
            lambda a: li.BedrockRerank(model=rerank, **a),
            lambda o: o.postprocess_nodes(nodes(), query_str="tides"),
            lambda o: o.apostprocess_nodes(nodes(), query_str="tides"),
            _nothing,
        ),
    ]


def all_cases() -> list[Case]:
    """Every case: core, LangChain, LlamaIndex."""
    return [
        *_core_cases(),
        *_langchain_cases(),
        *_llama_index_cases(),
        *_flow_cases(),
        *_rerank_cases(),
    ]


CASES = all_cases()
"""Built once at import (the adapters are imported here, not per test)."""
