"""Trace parsing on literal events shaped like the recorded InvokeAgent streams."""

from __future__ import annotations

from bedrock_kit.core.agents.traces import (
    ActionGroupInvocationStep,
    ActionGroupObservationStep,
    FailureStep,
    FinalResponseStep,
    GuardrailStep,
    KnowledgeBaseLookupStep,
    KnowledgeBaseResultStep,
    ModelInvocationStep,
    ModelOutputStep,
    OtherStep,
    PostProcessingStep,
    PreProcessingStep,
    RationaleStep,
    RepromptStep,
    parse_citations,
    parse_trace_event,
)


def _part(trace: dict) -> dict:
    return {
        "agentAliasId": "ZT7YYHO8TO",
        "agentId": "TFMZVIWXR7",
        "agentVersion": "1",
        "callerChain": [{"agentAliasArn": "arn:aws:bedrock:us-east-1:1:agent-alias/A/B"}],
        "eventTime": "2025-04-03T03:13:02.113718577Z",
        "sessionId": "s-1",
        "trace": trace,
    }


def test_orchestration_model_input():
    (step,) = parse_trace_event(
        _part(
            {
                "orchestrationTrace": {
                    "modelInvocationInput": {
                        "foundationModel": "anthropic.claude-3-5-sonnet-20240620-v1:0",
                        "inferenceConfiguration": {
                            "__type": "com.amazon.bedrock.agent.common.types#Inference",
                            "maximumLength": 2048,
                            "stopSequences": ["</invoke>", "</answer>", "</error>"],
                            "temperature": 0.0,
                            "topK": 250,
                            "topP": 1.0,
                        },
                        "text": '{"system":"You are a helpful agent."}',
                        "traceId": "e92c-0",
                        "type": "ORCHESTRATION",
                    }
                }
            }
        )
    )
    assert isinstance(step, ModelInvocationStep)
    assert step.phase == "orchestration"
    assert step.prompt_type == "ORCHESTRATION"
    assert step.trace_id == "e92c-0"
    assert step.agent_id == "TFMZVIWXR7"
    assert step.foundation_model == "anthropic.claude-3-5-sonnet-20240620-v1:0"
    assert step.inference_configuration["topK"] == 250
    assert "__type" not in step.inference_configuration
    assert step.text.startswith('{"system"')


def test_model_output_usage_and_rationale():
    output, rationale = parse_trace_event(
        _part(
            {
                "orchestrationTrace": {
                    "modelInvocationOutput": {
                        "metadata": {
                            "clientRequestId": "8a04",
                            "endTime": "2025-05-30T17:28:15.540658456Z",
                            "startTime": "2025-05-30T17:28:09.288150443Z",
                            "totalTimeMs": 6252,
                            "usage": {"inputTokens": 862, "outputTokens": 161},
                        },
                        "rawResponse": {"content": '{"stop_sequence":null}'},
                        "traceId": "t-0",
                    },
                    "rationale": {"text": "I need the weather.", "traceId": "t-0"},
                }
            }
        )
    )
    assert isinstance(output, ModelOutputStep)
    assert output.metadata.input_tokens == 862 and output.metadata.output_tokens == 161
    assert output.metadata.total_time_ms == 6252
    assert output.metadata.usage is not None and output.metadata.usage.total_tokens == 1023
    assert output.raw_response == '{"stop_sequence":null}'
    assert isinstance(rationale, RationaleStep) and rationale.text == "I need the weather."


def test_action_group_invocation_and_observation():
    (call,) = parse_trace_event(
        _part(
            {
                "orchestrationTrace": {
                    "invocationInput": {
                        "actionGroupInvocationInput": {
                            "actionGroupName": "location_suggestion",
                            "executionType": "LAMBDA",
                            "function": "find_season",
                            "parameters": [
                                {"name": "country", "type": "string", "value": "Costa Rica"},
                                {"name": "city", "type": "string", "value": "Manuel Antonio"},
                            ],
                        },
                        "invocationType": "ACTION_GROUP",
                        "traceId": "t-2",
                    }
                }
            }
        )
    )
    assert isinstance(call, ActionGroupInvocationStep)
    assert call.action_group == "location_suggestion"
    assert call.function == "find_season"
    assert call.parameters == {"country": "Costa Rica", "city": "Manuel Antonio"}
    assert call.execution_type == "LAMBDA"
    (seen,) = parse_trace_event(
        _part(
            {
                "orchestrationTrace": {
                    "observation": {
                        "actionGroupInvocationOutput": {
                            "metadata": {"totalTimeMs": 14},
                            "text": "The function find_season was called successfully!",
                        },
                        "traceId": "t-2",
                        "type": "ACTION_GROUP",
                    }
                }
            }
        )
    )
    assert isinstance(seen, ActionGroupObservationStep)
    assert seen.text.startswith("The function find_season")
    assert seen.metadata.total_time_ms == 14


def test_final_response_and_reprompt():
    (final,) = parse_trace_event(
        _part(
            {
                "orchestrationTrace": {
                    "observation": {
                        "finalResponse": {
                            "metadata": {"operationTotalTimeMs": 22224},
                            "text": "Go to Costa Rica.",
                        },
                        "traceId": "t-3",
                        "type": "FINISH",
                    }
                }
            }
        )
    )
    assert isinstance(final, FinalResponseStep) and final.text == "Go to Costa Rica."
    assert final.metadata.total_time_ms == 22224
    (reprompt,) = parse_trace_event(
        _part(
            {
                "orchestrationTrace": {
                    "observation": {
                        "repromptResponse": {"source": "PARSER", "text": "bad format"},
                        "type": "REPROMPT",
                    }
                }
            }
        )
    )
    assert isinstance(reprompt, RepromptStep) and reprompt.source == "PARSER"


def test_knowledge_base_lookup_and_result():
    (lookup,) = parse_trace_event(
        _part(
            {
                "orchestrationTrace": {
                    "invocationInput": {
                        "invocationType": "KNOWLEDGE_BASE",
                        "knowledgeBaseLookupInput": {"knowledgeBaseId": "KB1", "text": "tides"},
                    }
                }
            }
        )
    )
    assert isinstance(lookup, KnowledgeBaseLookupStep)
    assert (lookup.knowledge_base_id, lookup.query) == ("KB1", "tides")
    (found,) = parse_trace_event(
        _part(
            {
                "orchestrationTrace": {
                    "observation": {
                        "knowledgeBaseLookupOutput": {
                            "retrievedReferences": [
                                {
                                    "content": {"text": "Tides rise."},
                                    "location": {
                                        "type": "S3",
                                        "s3Location": {"uri": "s3://b/tides.pdf"},
                                    },
                                    "metadata": {"page": 3},
                                }
                            ]
                        },
                        "type": "KNOWLEDGE_BASE",
                    }
                }
            }
        )
    )
    assert isinstance(found, KnowledgeBaseResultStep)
    (ref,) = found.references
    assert (ref.text, ref.location_type, ref.uri) == ("Tides rise.", "S3", "s3://b/tides.pdf")
    assert ref.metadata == {"page": 3}


def test_guardrail_trace_reuses_guardrail_assessments():
    (step,) = parse_trace_event(
        _part(
            {
                "guardrailTrace": {
                    "action": "INTERVENED",
                    "inputAssessments": [
                        {
                            "contentPolicy": {
                                "filters": [
                                    {
                                        "action": "BLOCKED",
                                        "confidence": "MEDIUM",
                                        "type": "PROMPT_ATTACK",
                                    }
                                ]
                            }
                        }
                    ],
                    "metadata": {"totalTimeMs": 274},
                    "traceId": "b797-guardrail-pre-0",
                }
            }
        )
    )
    assert isinstance(step, GuardrailStep)
    assert step.phase == "guardrail" and step.intervened
    (assessment,) = step.input_assessments
    (finding,) = assessment.content_filters
    assert (finding.type, finding.confidence, finding.action) == (
        "PROMPT_ATTACK",
        "MEDIUM",
        "BLOCKED",
    )
    assert assessment.blocked
    (quiet,) = parse_trace_event(
        _part({"guardrailTrace": {"action": "NONE", "outputAssessments": [{}]}})
    )
    assert isinstance(quiet, GuardrailStep) and not quiet.intervened
    assert len(quiet.output_assessments) == 1 and not quiet.output_assessments[0].findings


def test_pre_and_post_processing_and_failure():
    (pre,) = parse_trace_event(
        _part(
            {
                "preProcessingTrace": {
                    "modelInvocationOutput": {
                        "parsedResponse": {"isValid": True, "rationale": "A fine question."},
                        "rawResponse": {"content": "<category>E</category>"},
                        "metadata": {"usage": {"inputTokens": 10, "outputTokens": 5}},
                    }
                }
            }
        )
    )
    assert isinstance(pre, PreProcessingStep)
    assert pre.is_valid is True and pre.rationale == "A fine question."
    assert pre.phase == "preProcessing" and pre.metadata.input_tokens == 10
    (post,) = parse_trace_event(
        _part(
            {
                "postProcessingTrace": {
                    "modelInvocationOutput": {"parsedResponse": {"text": "Polished."}}
                }
            }
        )
    )
    assert isinstance(post, PostProcessingStep) and post.text == "Polished."
    (failed,) = parse_trace_event(
        _part(
            {"failureTrace": {"failureCode": 424, "failureReason": "Lambda failed", "traceId": "f"}}
        )
    )
    assert isinstance(failed, FailureStep)
    assert (failed.code, failed.reason) == (424, "Lambda failed")


def test_unknown_members_are_kept_not_dropped():
    (code,) = parse_trace_event(
        _part(
            {
                "orchestrationTrace": {
                    "invocationInput": {
                        "codeInterpreterInvocationInput": {"code": "print(1)"},
                        "invocationType": "ACTION_GROUP_CODE_INTERPRETER",
                    }
                }
            }
        )
    )
    assert isinstance(code, OtherStep) and code.kind == "codeInterpreterInvocationInput"
    (custom,) = parse_trace_event(
        _part({"customOrchestrationTrace": {"event": {"text": "hi"}, "traceId": "c"}})
    )
    assert isinstance(custom, OtherStep) and custom.data["event"] == {"text": "hi"}
    (routing,) = parse_trace_event(_part({"routingClassifierTrace": {"somethingNew": {"x": 1}}}))
    assert isinstance(routing, OtherStep) and routing.kind == "somethingNew"


def test_citations():
    (citation,) = parse_citations(
        {
            "citations": [
                {
                    "generatedResponsePart": {
                        "textResponsePart": {"span": {"start": 0, "end": 11}, "text": "Tides rise."}
                    },
                    "retrievedReferences": [
                        {
                            "content": {"text": "source"},
                            "location": {"type": "WEB", "webLocation": {"url": "https://x.org"}},
                        }
                    ],
                }
            ]
        }
    )
    assert (citation.text, citation.start, citation.end) == ("Tides rise.", 0, 11)
    assert citation.references[0].uri == "https://x.org"
    assert parse_citations(None) == ()
