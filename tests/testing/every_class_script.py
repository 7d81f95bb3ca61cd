"""Run by test_local_out_of_the_box.py in a process with no AWS set-up: every bedrock-kit
class on ``LocalBedrock.client_kwargs()``; prints what each answered as one JSON line."""

from __future__ import annotations

import json
from typing import Any

from llama_index.core.llms import ChatMessage

import bedrock_kit.langchain as lc
import bedrock_kit.llama_index as li
from bedrock_kit import ClientSettings, ConverseRuntime
from bedrock_kit.core.guardrails.apply import GuardrailClient
from bedrock_kit.testing import LocalBedrock

M = "anthropic.claude-3-5-haiku-20241022-v1:0"
KB = "KB12345678"
TITAN = "amazon.titan-embed-text-v2:0"
HI = {"modelId": M, "messages": [{"role": "user", "content": [{"text": "hi"}]}]}


def main() -> None:
    with LocalBedrock() as server:
        kw = server.client_kwargs()
        guard = {"guardrail_id": "g", "guardrail_version": "1", **kw}
        agent = {"agent_id": "A1", "agent_alias_id": "B1", **kw}
        out: dict[str, Any] = {
            "lc.chat": lc.ChatBedrockKit(model=M, **kw).invoke("hi").content,
            "li.chat": li.BedrockKitLLM(model=M, **kw)
            .chat([ChatMessage(role="user", content="hi")])
            .message.content,
            "core.chat": ConverseRuntime(ClientSettings(**kw)).converse(HI).message.content[0].text,
            "lc.guard": lc.BedrockGuardrail(**guard).invoke("a@b.io"),
            "li.guard": li.BedrockGuardrail(**guard).check("a@b.io"),
            "core.guard": GuardrailClient("g", "1", settings=ClientSettings(**kw))
            .apply("x")
            .action,
            "lc.kb": lc.BedrockKnowledgeBaseRetriever(knowledge_base_id=KB, **kw).invoke("q"),
            "li.kb": li.BedrockKnowledgeBaseRetriever(knowledge_base_id=KB, **kw).retrieve("q"),
            "lc.rag": lc.BedrockRetrieveAndGenerate(knowledge_base_id=KB, model=M, **kw).invoke(
                "q"
            )["answer"],
            "li.rag": str(
                li.BedrockRetrieveAndGenerateQueryEngine(knowledge_base_id=KB, model=M, **kw).query(
                    "q"
                )
            ),
            "lc.agent": lc.BedrockAgentRunnable(**agent).invoke("yo").content,
            "li.agent": str(li.BedrockAgentQueryEngine(**agent).query("yo")),
            "lc.embed": len(lc.BedrockKitEmbeddings(model=TITAN, **kw).embed_query("x")),
            "li.embed": len(li.BedrockKitEmbedding(model=TITAN, **kw).get_text_embedding("x")),
        }
        lc.BedrockStreamGuard(**guard)
        lc.BedrockGroundingCheck(**guard)
        print(json.dumps(out, default=str))


if __name__ == "__main__":
    main()
