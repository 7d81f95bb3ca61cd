"""Test tooling: LocalBedrock, a Bedrock-compatible local server, and its reply builders."""

from bedrock_kit.testing.replies import Reply, build_frames
from bedrock_kit.testing.server import LocalBedrock, ReceivedRequest

__all__ = ["LocalBedrock", "ReceivedRequest", "Reply", "build_frames"]
