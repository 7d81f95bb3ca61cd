"""InvokeFlow requests: inputs by node name, execution ids, options, refused by name."""

from __future__ import annotations

import pytest

from bedrock_kit.core.flows.requests import FlowInput, build_invoke_flow_request, flow_inputs
from bedrock_kit.errors import ConfigurationError

FLOW = "FLOW123456"


def test_plain_input_goes_to_the_flow_input_node() -> None:
    request = build_invoke_flow_request(FLOW, "TSTALIASID", {"topic": "tides"})
    assert request["inputs"] == [
        {
            "nodeName": "FlowInputNode",
            "nodeOutputName": "document",
            "content": {"document": {"topic": "tides"}},
        }
    ]
    assert request["enableTrace"] is True
    assert "executionId" not in request


def test_input_by_node_name_and_resume_options() -> None:
    answer = FlowInput(
        "3 songs", node_name="AgentsNode_1", node_output_name=None, node_input_name="agentInputText"
    )
    request = build_invoke_flow_request(
        f"arn:aws:bedrock:us-east-1:123456789012:flow/{FLOW}",
        "ALIAS12345",
        answer,
        execution_id="exec-1",
        enable_trace=False,
        latency="optimized",
    )
    assert request["inputs"] == [
        {
            "nodeName": "AgentsNode_1",
            "nodeInputName": "agentInputText",
            "content": {"document": "3 songs"},
        }
    ]
    assert request["executionId"] == "exec-1"
    assert request["modelPerformanceConfiguration"] == {
        "performanceConfig": {"latency": "optimized"}
    }


@pytest.mark.parametrize(
    ("args", "kwargs", "named"),
    [
        (("short", "TSTALIASID", "x"), {}, "flow_id"),
        ((FLOW, "bad alias!", "x"), {}, "flow_alias_id"),
        ((FLOW, "TSTALIASID", "x"), {"execution_id": "a b"}, "execution_id"),
        ((FLOW, "TSTALIASID", "x"), {"latency": "fast"}, "latency"),
        ((FLOW, "TSTALIASID", FlowInput("x", node_name="1bad")), {}, "node_name"),
        ((FLOW, "TSTALIASID", FlowInput("x", node_output_name="a__b")), {}, "node_output_name"),
        ((FLOW, "TSTALIASID", {"n": float("nan")}), {}, "content.n"),
        ((FLOW, "TSTALIASID", {"when": object()}), {}, "content.when"),
        ((FLOW, "TSTALIASID", {1: "x"}), {}, "key 1"),
    ],
)
def test_bad_requests_are_refused_by_name(args: tuple, kwargs: dict, named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        build_invoke_flow_request(*args, **kwargs)


def test_exactly_one_flow_input_per_call() -> None:
    with pytest.raises(ConfigurationError, match="exactly one FlowInput"):
        flow_inputs([FlowInput("a"), FlowInput("b", node_name="Other")])
    assert flow_inputs([FlowInput("a")]) == [FlowInput("a")]
    # A list of plain values is one array document, not several inputs.
    assert flow_inputs(["a", "b"]) == [FlowInput(["a", "b"])]
