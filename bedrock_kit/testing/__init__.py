"""Test tooling for code that talks to Amazon Bedrock without AWS.

:class:`LocalBedrock` is a Bedrock-compatible HTTP server on 127.0.0.1 that real boto3 and
aiobotocore clients use unchanged through ``endpoint_url``; :class:`Reply` scripts what it
answers, faults included; :mod:`bedrock_kit.testing.scripts` builds response shapes.

Example:
    >>> from bedrock_kit.testing import LocalBedrock, Reply
    >>> with LocalBedrock() as server:  # doctest: +SKIP
    ...     server.script("Converse", Reply.error(429, "ThrottlingException", "slow down"))
    ...     client = boto3.client("bedrock-runtime", **server.client_kwargs())
"""

from bedrock_kit.testing.batch_jobs import JobScript, LocalBatchJobs
from bedrock_kit.testing.billing import BilledUsage
from bedrock_kit.testing.control_plane import LocalControlPlane
from bedrock_kit.testing.model import ScriptedModel
from bedrock_kit.testing.replies import Reply, build_frames
from bedrock_kit.testing.scripts import (
    build_usage,
    converse_reply,
    converse_stream_events,
    invoke_agent_events,
    tool_use,
)
from bedrock_kit.testing.server import LocalBedrock, ReceivedRequest, ReplySource

__all__ = [
    "BilledUsage",
    "JobScript",
    "LocalBatchJobs",
    "LocalBedrock",
    "LocalControlPlane",
    "ReceivedRequest",
    "Reply",
    "ReplySource",
    "ScriptedModel",
    "build_frames",
    "build_usage",
    "converse_reply",
    "converse_stream_events",
    "invoke_agent_events",
    "tool_use",
]
