"""Rate-limit scenarios: a schedule store that records what it was asked, and a throttle."""

from __future__ import annotations

from dataclasses import dataclass, field

from bedrock_kit.core.budget.rate_limit import MemoryRates, Quota, Tuning
from bedrock_kit.testing import Reply

MODEL = "amazon.nova-micro-v1:0"


@dataclass
class RecordingRates(MemoryRates):
    """The in-process schedules, keeping every reservation and correction in order."""

    reserved: list[tuple[str, int]] = field(default_factory=list)
    corrected: list[tuple[str, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()

    def reserve(
        self, key: str, quota: Quota, tokens: int, tuning: Tuning, max_wait: float
    ) -> tuple[bool, float, float]:
        slot = super().reserve(key, quota, tokens, tuning, max_wait)
        if slot[0]:
            self.reserved.append((key, tokens))
        return slot

    def correct(self, key: str, quota: Quota, tokens: int, tuning: Tuning) -> None:
        self.corrected.append((key, tokens))
        super().correct(key, quota, tokens, tuning)


def throttled() -> Reply:
    """Bedrock's answer when the account's quota is used up."""
    return Reply.error(429, "ThrottlingException", "Too many tokens, please wait.")
