"""Distillation jobs (teacher and student, prompts-only records) and CountTokens in the
training-data validator, against LocalBedrock (control plane, CountTokens) and moto S3."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bedrock_kit.core.chat.runtime import ConverseRuntime
from bedrock_kit.core.customization.counting import RecordTokenCounter
from bedrock_kit.core.customization.data import validate_records
from bedrock_kit.core.customization.jobs import CustomizationJob, build_create_request
from bedrock_kit.core.customization.profiles import check_teacher, find_profile
from bedrock_kit.errors import ConfigurationError, TrainingDataError
from bedrock_kit.testing import Reply, resources

from .conftest import BUCKET, ROLE

NOVA_LITE = "amazon.nova-lite-v1:0:300k"
NOVA_PREMIER = "us.amazon.nova-premier-v1:0"
SONNET = "anthropic.claude-3-5-sonnet-20241022-v2:0"


def prompt(text: str, answer: str | None = None) -> dict[str, Any]:
    messages: list[dict[str, Any]] = [{"role": "user", "content": [{"text": text}]}]
    if answer is not None:
        messages.append({"role": "assistant", "content": [{"text": answer}]})
    return {"schemaVersion": "bedrock-conversation-2024", "messages": messages}


def test_distillation_profile_takes_prompts_and_names_teachers():
    profile = find_profile(NOVA_LITE, "DISTILLATION")
    report = validate_records(
        [prompt(f"ticket {i}?") for i in range(3)] + [prompt("q", "a")], profile
    )
    assert report.records == 4
    assert check_teacher(profile, NOVA_PREMIER) == NOVA_PREMIER
    with pytest.raises(ConfigurationError, match="teachers"):
        check_teacher(profile, SONNET)  # another provider
    with pytest.raises(ConfigurationError, match="needs teacher_model_id"):
        check_teacher(profile, None)
    with pytest.raises(ConfigurationError, match="DISTILLATION"):
        check_teacher(find_profile(NOVA_LITE), NOVA_PREMIER)


def test_single_turn_students_refuse_a_second_prompt():
    haiku = find_profile("anthropic.claude-3-haiku-20240307-v1:0", "DISTILLATION")
    two = {
        **prompt("a", "b"),
        "messages": [*prompt("a", "b")["messages"], *prompt("c")["messages"]],
    }
    with pytest.raises(TrainingDataError, match="one user/assistant exchange"):
        validate_records([two], haiku)


def test_distillation_request_carries_the_teacher():
    request = build_create_request(
        base_model_id=NOVA_LITE, role_arn=ROLE, job_name="d1", custom_model_name="m",
        training_uri="s3://b/t.jsonl", output_uri="s3://b/o/", method="DISTILLATION",
        hyperparameters={}, teacher_model_id=NOVA_PREMIER, max_response_length=1000,
    )  # fmt: skip
    assert request["customizationConfig"] == {
        "distillationConfig": {
            "teacherModelConfig": {
                "teacherModelIdentifier": NOVA_PREMIER,
                "maxResponseLengthForInference": 1000,
            }
        }
    }
    assert "hyperParameters" not in request
    with pytest.raises(ConfigurationError, match="max_response_length"):
        build_create_request(
            base_model_id=NOVA_LITE, role_arn=ROLE, job_name="d1", custom_model_name="m",
            training_uri="s3://b/t.jsonl", output_uri="s3://b/o/", method="DISTILLATION",
            hyperparameters={}, teacher_model_id=NOVA_PREMIER, max_response_length=0,
        )  # fmt: skip


def test_distillation_job_uploads_prompts_and_creates_the_job(local, local_settings, s3):
    local.script("CreateModelCustomizationJob", Reply.json(resources.create_job_reply()))
    CustomizationJob.start(
        base_model_id=NOVA_LITE, training_data=[prompt(f"route: {i}") for i in range(5)],
        s3_prefix=f"s3://{BUCKET}/d", role_arn=ROLE, job_name="distil-1",
        custom_model_name="router", method="DISTILLATION", teacher_model_id=NOVA_PREMIER,
        settings=local_settings, s3_client=s3,
    )  # fmt: skip
    (create,) = local.requests_for("CreateModelCustomizationJob")
    assert create.body["customizationType"] == "DISTILLATION"
    teacher = create.body["customizationConfig"]["distillationConfig"]["teacherModelConfig"]
    assert teacher == {"teacherModelIdentifier": NOVA_PREMIER}
    uploaded = s3.get_object(Bucket=BUCKET, Key="d/distil-1/train.jsonl")["Body"].read()
    assert [json.loads(line)["messages"][0]["role"] for line in uploaded.splitlines()] == [
        "user"
    ] * 5


def test_a_distillation_without_teacher_uploads_nothing(local, local_settings, s3):
    with pytest.raises(ConfigurationError, match="teacher_model_id"):
        CustomizationJob.start(
            base_model_id=NOVA_LITE, training_data=[prompt("x")], s3_prefix=f"s3://{BUCKET}/d",
            role_arn=ROLE, job_name="distil-2", custom_model_name="r", method="DISTILLATION",
            settings=local_settings, s3_client=s3,
        )  # fmt: skip
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET)
    assert local.requests == []


# -- CountTokens in the validator


def test_count_tokens_counts_each_text_and_says_so(local, local_settings):
    profile = find_profile("anthropic.claude-3-haiku-20240307-v1:0").with_limits(min_records=1)
    local.script(
        "CountTokens", *(Reply.json(resources.count_tokens_reply(n)) for n in (7, 9, 11, 13))
    )
    counter = RecordTokenCounter(SONNET, ConverseRuntime(local_settings))
    report = validate_records([prompt("hello", "there"), prompt("good", "bye")], profile,
                              count_tokens=counter)  # fmt: skip
    assert report.total_tokens == 7 + 9 + 11 + 13 and not report.estimated
    assert len(local.requests_for("CountTokens")) == 4 and counter.sources["count_tokens"] == 4
    sent = local.requests_for("CountTokens")[0].body["input"]["converse"]["messages"]
    assert sent == [{"role": "user", "content": [{"text": "hello"}]}]


def test_a_counted_record_over_the_limit_is_refused_as_counted(local, local_settings):
    profile = find_profile("anthropic.claude-3-haiku-20240307-v1:0").with_limits(
        min_records=1, max_tokens_per_record=100
    )
    local.script("CountTokens", Reply.json(resources.count_tokens_reply(90)),
                 Reply.json(resources.count_tokens_reply(20)))  # fmt: skip
    counter = RecordTokenCounter(SONNET, ConverseRuntime(local_settings))
    with pytest.raises(TrainingDataError, match="110 tokens counted, above the 100"):
        validate_records([prompt("long", "answer")], profile, count_tokens=counter)


def test_models_without_count_tokens_are_estimated_and_said_so(local, local_settings, s3):
    counter = RecordTokenCounter.from_settings("amazon.titan-text-express-v1:0:8k", local_settings)
    profile = find_profile("amazon.titan-text-express-v1:0:8k")
    report = validate_records(
        [{"prompt": "a b c", "completion": "d"}], profile, count_tokens=counter
    )
    assert report.estimated and not counter.uses_count_tokens
    assert local.requests_for("CountTokens") == []
    with pytest.raises(TrainingDataError, match="estimated"):
        CustomizationJob.start(
            base_model_id="amazon.titan-text-express-v1:0:8k",
            training_data=[{"prompt": "word " * 5000, "completion": "x"}],
            s3_prefix=f"s3://{BUCKET}/t", role_arn=ROLE, job_name="t1", custom_model_name="m",
            count_tokens=True, settings=local_settings, s3_client=s3,
        )  # fmt: skip
    assert local.requests == [] and "Contents" not in s3.list_objects_v2(Bucket=BUCKET)


def test_count_tokens_argument_is_checked(local_settings):
    with pytest.raises(ConfigurationError, match="count_tokens"):
        CustomizationJob.start(
            base_model_id=NOVA_LITE, training_data=[prompt("x")], s3_prefix=f"s3://{BUCKET}/d",
            role_arn=ROLE, job_name="j", custom_model_name="m", count_tokens="yes",  # type: ignore[arg-type]
            settings=local_settings,
        )  # fmt: skip
