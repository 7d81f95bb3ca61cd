"""Reply builders for customization jobs, custom models, provisioned throughput, deployments,
managed prompts and CountTokens: served by LocalBedrock over real HTTP and read back by the
core (botocore parses every body against its service model on the way)."""

from __future__ import annotations

import pytest

from bedrock_kit.core.customization.jobs import CustomizationJob
from bedrock_kit.core.customization.serving import CustomModelDeployment, ProvisionedThroughput
from bedrock_kit.core.prompts.management import fetch_prompt
from bedrock_kit.core.transport.clients import ClientSettings
from bedrock_kit.errors import CustomizationJobError, ProvisioningFailedError
from bedrock_kit.testing import LocalBedrock, Reply, resources


def _settings(server: LocalBedrock) -> ClientSettings:
    return ClientSettings(**server.client_kwargs(), max_retries=0)


def test_a_job_progression_is_followed_to_its_custom_model(server: LocalBedrock) -> None:
    states = resources.customization_job_progression(
        "InProgress", "InProgress", "InProgress", "Completed", training_loss=0.5
    )
    model_arn = states[-1]["outputModelArn"]
    server.script("GetModelCustomizationJob", *(Reply.json(s) for s in states))
    server.script("GetCustomModel", Reply.json(resources.custom_model(model_arn=model_arn)))
    job = CustomizationJob.attach(states[0]["jobArn"], settings=_settings(server))
    model = job.wait(poll_interval=0, sleep=lambda _: None, progress=False)
    assert model.arn == model_arn and model.base_model_id == resources.BASE_MODEL
    assert job.progress_history[0].startswith("InProgress (validation=InProgress")
    assert "training=InProgress" in job.progress_history[2]
    assert "trainingLoss=0.5" in job.progress_history[2]
    assert {s["jobArn"] for s in states} == {states[0]["jobArn"]}


def test_a_failed_job_carries_its_message(server: LocalBedrock) -> None:
    failed = resources.customization_job("Failed", failure_message="bad JSONL line 3")
    server.script("GetModelCustomizationJob", Reply.json(failed))
    job = CustomizationJob.attach(failed["jobArn"], settings=_settings(server))
    with pytest.raises(CustomizationJobError, match="bad JSONL line 3"):
        job.wait(poll_interval=0, sleep=lambda _: None)


def test_distillation_jobs_name_their_teacher() -> None:
    body = resources.customization_job(
        method="DISTILLATION", teacher_model_id="amazon.nova-pro-v1:0"
    )
    teacher = body["customizationConfig"]["distillationConfig"]["teacherModelConfig"]
    assert teacher == {"teacherModelIdentifier": "amazon.nova-pro-v1:0"}


def test_ids_are_unique_by_default() -> None:
    jobs = [resources.customization_job()["jobArn"] for _ in range(3)]
    models = [resources.custom_model()["modelArn"] for _ in range(3)]
    provisioned = [resources.create_provisioned_reply()["provisionedModelArn"] for _ in range(3)]
    deployments = [
        resources.create_deployment_reply()["customModelDeploymentArn"] for _ in range(3)
    ]
    prompts = [resources.prompt_reply(resources.text_prompt_variant("x"))["id"] for _ in range(3)]
    for ids in (jobs, models, provisioned, deployments, prompts):
        assert len(set(ids)) == 3


def test_provisioned_throughput_and_deployment_states(server: LocalBedrock) -> None:
    pt = resources.provisioned_throughput("Creating", commitment="OneMonth")
    arn = pt["provisionedModelArn"]
    server.script(
        "GetProvisionedModelThroughput",
        Reply.json(pt),
        Reply.json(resources.provisioned_throughput(provisioned_model_arn=arn, model_units=2)),
    )
    handle = ProvisionedThroughput.attach(arn, settings=_settings(server))
    assert handle.wait(poll_interval=0).status == "InService"
    failed = resources.custom_model_deployment("Failed", failure_message="quota")
    server.script("GetCustomModelDeployment", Reply.json(failed))
    deployment = CustomModelDeployment.attach(
        failed["customModelDeploymentArn"], settings=_settings(server)
    )
    with pytest.raises(ProvisioningFailedError, match="quota"):
        deployment.wait(poll_interval=0)


def test_a_managed_prompt_reads_back(server: LocalBedrock) -> None:
    body = resources.prompt_reply(
        resources.text_prompt_variant("About {{topic}}", variables=["topic"]),
        resources.chat_prompt_variant([("user", "Explain {{topic}}")], system="Be terse",
                                      variables=["topic"]),
        default="chat", version="3",
    )  # fmt: skip
    server.script("GetPrompt", Reply.json(body))
    prompt = fetch_prompt(body["id"], 3, **server.client_kwargs())
    assert prompt.variant().name == "chat"
    assert [v.name for v in prompt.variants] == ["text", "chat"]


def test_count_tokens_reply_is_refused_when_negative() -> None:
    assert resources.count_tokens_reply(12) == {"inputTokens": 12}
    with pytest.raises(ValueError, match=">= 0"):
        resources.count_tokens_reply(-1)


def test_rerank_reply_is_best_first_and_parses(server: LocalBedrock) -> None:
    import boto3

    body = resources.rerank_reply([0.2, 0.9, 0.5], documents=["a", "b", "c"])
    assert [r["index"] for r in body["results"]] == [1, 2, 0]
    server.script("Rerank", Reply.json(body))
    client = boto3.client("bedrock-agent-runtime", **server.client_kwargs())
    model = {"modelArn": "arn:aws:bedrock:us-east-1::foundation-model/amazon.rerank-v1:0"}
    answer = client.rerank(
        queries=[{"type": "TEXT", "textQuery": {"text": "q"}}],
        sources=[{"type": "INLINE", "inlineDocumentSource": {"type": "TEXT",
                  "textDocument": {"text": t}}} for t in "abc"],
        rerankingConfiguration={"type": "BEDROCK_RERANKING_MODEL",
                                "bedrockRerankingConfiguration": {"modelConfiguration": model}},
    )  # fmt: skip
    assert [r["relevanceScore"] for r in answer["results"]] == [0.9, 0.5, 0.2]
    assert answer["results"][0]["document"]["textDocument"]["text"] == "b"


def test_flow_events_stream_through_boto3(server: LocalBedrock) -> None:
    import boto3

    server.script(
        "InvokeFlow", Reply.events(resources.flow_events({"answer": 42}, input_required="more?"))
    )
    client = boto3.client("bedrock-agent-runtime", **server.client_kwargs())
    answer = client.invoke_flow(
        flowIdentifier="FLOW123456", flowAliasIdentifier="ALIAS12345",
        inputs=[{"nodeName": "FlowInputNode", "nodeOutputName": "document",
                 "content": {"document": "hi"}}],
    )  # fmt: skip
    events = list(answer["responseStream"])
    assert events[0]["flowOutputEvent"]["content"]["document"] == {"answer": 42}
    assert "flowMultiTurnInputRequestEvent" in events[1]
    assert events[-1]["flowCompletionEvent"]["completionReason"] == "INPUT_REQUIRED"
