"""Batch records and plans: InvokeModel bodies, stable ids, splits by record and size quotas."""

from __future__ import annotations

import json

import pytest

from bedrock_kit.core.batch.outputs import (
    BatchManifest,
    batch_cost,
    parse_manifest,
    parse_output_file,
)
from bedrock_kit.core.batch.records import (
    BatchQuotas,
    build_records,
    file_name,
    parse_file_name,
    plan_jobs,
    record_id,
)
from bedrock_kit.core.batch.status import BatchStatus, JobStatus, parse_job
from bedrock_kit.core.chat.invoke import InvokeInput, build_invoke_request
from bedrock_kit.core.chat.types import ConverseResult, InferenceConfig, Message, TextBlock
from bedrock_kit.errors import (
    BatchRecordError,
    ConfigurationError,
    MalformedBatchRecordError,
    MalformedResponseError,
)

CLAUDE = "anthropic.claude-3-haiku-20240307-v1:0"


def ask(text: str) -> InvokeInput:
    return InvokeInput(
        [Message("user", [TextBlock(text)])], inference=InferenceConfig(max_tokens=20)
    )


def test_records_carry_the_invoke_codec_body_and_an_11_digit_id():
    (record,) = build_records(CLAUDE, [ask("hello")])
    line = json.loads(record.line)
    assert record.line.endswith(b"\n") and line["recordId"] == "00000000000" == record_id(0)
    assert line["modelInput"] == json.loads(build_invoke_request(CLAUDE, ask("hello"))["body"])
    assert line["modelInput"]["anthropic_version"] == "bedrock-2023-05-31"


def test_ids_are_stable_for_the_same_inputs_and_body_dicts_pass_through():
    first = build_records(CLAUDE, [ask("a"), {"inputText": "raw body"}])
    again = build_records(CLAUDE, [ask("a"), {"inputText": "raw body"}])
    assert [r.line for r in first] == [r.line for r in again]
    assert json.loads(first[1].line)["modelInput"] == {"inputText": "raw body"}


def test_bad_inputs_fail_before_any_upload():
    with pytest.raises(ConfigurationError, match="InvokeInput or InvokeModel body"):
        build_records(CLAUDE, ["just a string"])
    with pytest.raises(ConfigurationError, match="no InvokeModel body format"):
        build_records("acme.unknown-v1", [ask("x")])


def test_file_names_name_their_record_range():
    records = build_records(CLAUDE, [ask(str(i)) for i in range(3)])
    assert file_name(records) == "records-00000000000-00000000002.jsonl"
    assert parse_file_name("a/b/" + file_name(records)) == range(0, 3)
    assert parse_file_name("someone-elses.jsonl") is None


def test_jobs_split_at_the_record_quota_and_the_last_is_topped_up_to_the_minimum():
    records = build_records(CLAUDE, [ask(str(i)) for i in range(1_030)])
    plan = plan_jobs(records, BatchQuotas(min_records=100, max_records=500))
    assert [job.records for job in plan] == [500, 430, 100]  # 500/500/30 rebalanced
    assert [(job.first, job.last) for job in plan] == [(0, 499), (500, 929), (930, 1029)]


def test_files_split_at_the_file_size_and_jobs_at_the_job_size():
    records = build_records(CLAUDE, [ask("x" * 100) for _ in range(40)])
    size = len(records[0].line)
    quotas = BatchQuotas(min_records=5, max_file_bytes=size * 4, max_job_bytes=size * 10)
    plan = plan_jobs(records, quotas)
    assert [job.records for job in plan] == [10, 10, 10, 10]
    assert [len(f) for f in plan[0].files] == [4, 4, 2]
    assert all(sum(len(r.line) for r in f) <= size * 4 for job in plan for f in job.files)


def test_records_per_file_quota():
    records = build_records(CLAUDE, [ask(str(i)) for i in range(10)])
    plan = plan_jobs(records, BatchQuotas(min_records=1, max_records_per_file=3))
    assert [len(f) for f in plan[0].files] == [3, 3, 3, 1]


def test_below_the_minimum_or_an_impossible_split_is_refused():
    records = build_records(CLAUDE, [ask(str(i)) for i in range(99)])
    with pytest.raises(ConfigurationError, match="below the batch inference minimum of 100"):
        plan_jobs(records, BatchQuotas())
    big = build_records(CLAUDE, [ask("x" * 200)])
    with pytest.raises(ConfigurationError, match="input file quota"):
        plan_jobs(big, BatchQuotas(min_records=1, max_file_bytes=50, max_job_bytes=50))
    many = build_records(CLAUDE, [ask(str(i)) for i in range(150)])
    with pytest.raises(ConfigurationError, match="at least 100"):
        plan_jobs(many, BatchQuotas(min_records=100, max_records=120))


@pytest.mark.parametrize(
    "kwargs", [{"min_records": 0}, {"min_records": 10, "max_records": 5}, {"max_file_bytes": 0}]
)
def test_bad_quotas_are_refused(kwargs):
    with pytest.raises(ConfigurationError):
        BatchQuotas(**kwargs)


# -- outputs


def _line(rid: str, **rest) -> str:
    return json.dumps({"recordId": rid, "modelInput": {}, **rest})


ANSWER = {
    "content": [{"type": "text", "text": "hi"}],
    "stop_reason": "end_turn",
    "usage": {"input_tokens": 7, "output_tokens": 2},
}


def test_output_lines_become_results_or_typed_errors():
    raw = "\n".join(
        [
            _line("00000000000", modelOutput=ANSWER),
            _line("00000000001", error={"errorCode": 400, "errorMessage": "bad request"}),
            _line("00000000002", modelOutput={"unexpected": True}),
            '{"recordId": "00000000003", "modelOutput": {"cont',
            "\x00garbage",
        ]
    ).encode()
    outcomes, orphans = parse_output_file(raw, model_id=CLAUDE, job_arn="arn:job")
    ok = outcomes["00000000000"]
    assert isinstance(ok, ConverseResult) and ok.text == "hi" and ok.usage.input_tokens == 7
    failed = outcomes["00000000001"]
    assert isinstance(failed, BatchRecordError) and not isinstance(failed, MalformedResponseError)
    assert (failed.status_code, failed.record_id, failed.job_arn) == (400, "00000000001", "arn:job")
    assert "bad request" in str(failed)
    shape = outcomes["00000000002"]
    assert isinstance(shape, MalformedBatchRecordError) and "response shape" in str(shape)
    cut = outcomes["00000000003"]
    assert isinstance(cut, MalformedBatchRecordError) and cut.raw.startswith('{"recordId"')
    assert orphans == ["\x00garbage"]


def test_manifest_parses_counts_and_refuses_other_shapes():
    raw = json.dumps(
        {
            "totalRecordCount": 3,
            "processedRecordCount": 3,
            "successRecordCount": 2,
            "errorRecordCount": 1,
            "inputTokenCount": 30,
            "outputTokenCount": 9,
        }
    ).encode()
    manifest = parse_manifest(raw)
    assert manifest == BatchManifest(3, 3, 2, 1, 30, 9)
    assert (manifest + manifest).input_tokens == 60
    for bad in (b"[1]", b"{not json", b'{"totalRecordCount": -1}', b'{"inputTokenCount": "9"}'):
        with pytest.raises(MalformedResponseError):
            parse_manifest(bad)


def test_batch_cost_is_half_the_on_demand_price():
    cost = batch_cost(CLAUDE, BatchManifest(input_tokens=1_000_000, output_tokens=1_000_000))
    assert cost.on_demand == 2 * cost.batch and cost.saved == cost.batch > 0


# -- states


def _job(state: str, **extra) -> dict:
    return {"jobArn": f"arn:aws:bedrock:us-east-1:1:model-invocation-job/{state.lower()[:12]}",
            "status": state, "modelId": CLAUDE, **extra}  # fmt: skip


@pytest.mark.parametrize(
    "states, combined, done",
    [
        (["Submitted", "InProgress"], "Submitted", False),
        (["Validating", "Scheduled"], "Validating", False),
        (["InProgress", "Completed"], "InProgress", False),
        (["Stopping", "Completed"], "Stopping", False),
        (["Completed", "Completed"], "Completed", True),
        (["Completed", "Failed"], "PartiallyCompleted", True),
        (["PartiallyCompleted"], "PartiallyCompleted", True),
        (["Stopped"], "Stopped", True),
        (["Expired", "Expired"], "Expired", True),
        (["Failed"], "Failed", True),
    ],
)
def test_every_documented_state_combines(states, combined, done):
    status = BatchStatus(tuple(parse_job(_job(s)) for s in states))
    assert (status.state, status.done) == (combined, done)


def test_an_undocumented_state_is_a_typed_error_not_a_guess():
    with pytest.raises(MalformedResponseError, match="Paused"):
        parse_job(_job("Paused"))
    with pytest.raises(MalformedResponseError, match="jobArn"):
        parse_job({"status": "Completed"})


def test_job_status_reads_counts_and_locations():
    job = parse_job(
        _job(
            "InProgress",
            totalRecordCount=200,
            processedRecordCount=50,
            inputDataConfig={"s3InputDataConfig": {"s3Uri": "s3://b/in/"}},
            outputDataConfig={"s3OutputDataConfig": {"s3Uri": "s3://b/out/"}},
        )
    )
    assert isinstance(job, JobStatus)
    assert (job.total_records, job.processed_records, job.input_uri, job.output_uri) == (
        200, 50, "s3://b/in/", "s3://b/out/"
    )  # fmt: skip
    assert job.job_id == "inprogress"
