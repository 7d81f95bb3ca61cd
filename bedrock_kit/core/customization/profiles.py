"""What each base model accepts for customization, with sources.

Every figure names where it came from and whether that source was read and confirmed
(``verified``) or is a best knowledge not confirmed from any page in reach (listed in
:attr:`CustomizationProfile.unverified`). Sources were read on 2026-12-01 from stored copies
of the AWS pages below; the pages are undated.

* Data formats and which models are conversational or not:
  https://docs.aws.amazon.com/bedrock/latest/userguide/model-customization-prepare.html
  (Titan Text G1 Express / Lite / Premier, Cohere Command / Command Light and Meta Llama 3.1
  8B / 70B Instruct listed as non-conversational, prompt-completion).
* ``bedrock-conversation-2024`` record shape (``schemaVersion``, optional ``system`` list of
  text blocks, ``messages`` of ``role`` + ``content`` text blocks; first turn user, last
  assistant; reserved keywords for Nova):
  https://docs.aws.amazon.com/nova/latest/userguide/fine-tune-prepare-data-understanding.html
* Titan Text hyperparameters:
  https://docs.aws.amazon.com/bedrock/latest/userguide/cm-hp-titan-text.html
* Claude 3 hyperparameters:
  https://docs.aws.amazon.com/bedrock/latest/userguide/cm-hp-anth-claude-3.html
* Titan Text continued pre-training: 4,096 input tokens per record, from the service's own
  error message quoted in https://github.com/aws-samples/amazon-bedrock-workshop/issues/224
  ("Maximum input token count 4919 exceeds limit of 4096 for train data").
* Record count quotas ("Sum of training and validation records"):
  https://docs.aws.amazon.com/general/latest/gr/bedrock.html (not readable here: unverified).
* Distillation: records are ``bedrock-conversation-2024`` prompts (the user turn required,
  the assistant's answer optional: the teacher writes it), Anthropic and Meta students take
  one user prompt per record, Nova students multi-turn; teacher and student from the same
  provider:
  https://docs.aws.amazon.com/bedrock/latest/userguide/distillation-data-prep-option-1.html
  and https://docs.aws.amazon.com/bedrock/latest/userguide/prequisites-model-distillation.html.
  Nova Micro / Lite / Pro as students, Nova Pro / Premier as teachers:
  https://docs.aws.amazon.com/nova/latest/userguide/customization.html. The Claude and Llama
  pairs are from the preview announcement (unverified against the current model table).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal, TypeAlias

from bedrock_kit.errors import ConfigurationError

DataFormat: TypeAlias = Literal["prompt_completion", "conversation", "pretraining"]
"""``prompt_completion``: ``{"prompt", "completion"}``; ``conversation``: the
``bedrock-conversation-2024`` messages format; ``pretraining``: ``{"input"}`` text."""

Method: TypeAlias = Literal["FINE_TUNING", "CONTINUED_PRE_TRAINING", "DISTILLATION"]

CONVERSATION_SCHEMA = "bedrock-conversation-2024"

_PREPARE = "https://docs.aws.amazon.com/bedrock/latest/userguide/model-customization-prepare.html"
_NOVA_DATA = (
    "https://docs.aws.amazon.com/nova/latest/userguide/fine-tune-prepare-data-understanding.html"
)
_HP_TITAN = "https://docs.aws.amazon.com/bedrock/latest/userguide/cm-hp-titan-text.html"
_HP_CLAUDE = "https://docs.aws.amazon.com/bedrock/latest/userguide/cm-hp-anth-claude-3.html"
_HP_INDEX = "https://docs.aws.amazon.com/bedrock/latest/userguide/custom-models-hp.html"
_TITAN_CPT_TOKENS = "https://github.com/aws-samples/amazon-bedrock-workshop/issues/224"
_QUOTAS = "https://docs.aws.amazon.com/general/latest/gr/bedrock.html"
_DISTILL_DATA = (
    "https://docs.aws.amazon.com/bedrock/latest/userguide/distillation-data-prep-option-1.html"
)
_DISTILL_MODELS = (
    "https://docs.aws.amazon.com/bedrock/latest/userguide/prequisites-model-distillation.html"
)
_NOVA_CUSTOMIZATION = "https://docs.aws.amazon.com/nova/latest/userguide/customization.html"


@dataclass(frozen=True)
class Hyperparameter:
    """The documented range of one hyperparameter."""

    name: str
    """API name (``epochCount``...)."""
    kind: Literal["int", "float"]
    """Value type."""
    minimum: float
    """Smallest allowed value."""
    maximum: float
    """Largest allowed value."""
    default: float | None
    """Bedrock's default (None: must be given)."""
    verified: bool = True
    """False when the range was not confirmed from the documentation."""


@dataclass(frozen=True)
class CustomizationProfile:
    """What one base model accepts for one customization method."""

    name: str
    """Human name (``Claude 3 Haiku fine-tuning``)."""
    model_prefixes: tuple[str, ...]
    """Base model ids this profile matches (prefix match, after dropping a geography)."""
    method: Method
    """``FINE_TUNING``, ``CONTINUED_PRE_TRAINING`` or ``DISTILLATION``."""
    format: DataFormat
    """The JSONL record format."""
    min_records: int | None = None
    """Fewest training records; None: not documented, not checked."""
    max_records: int | None = None
    """Most training records."""
    max_validation_records: int | None = None
    """Most validation records (0: the model takes no validation set)."""
    max_tokens_per_record: int | None = None
    """Most tokens in one record (prompt plus completion, or every turn)."""
    max_record_bytes: int | None = None
    """Largest UTF-8 line of the JSONL file."""
    max_file_bytes: int | None = None
    """Largest training file."""
    multi_turn: bool = True
    """Conversation records may hold more than one user/assistant exchange."""
    reserved_keywords: tuple[str, ...] = ()
    """Strings a prompt must not contain (the job fails on them)."""
    hyperparameters: tuple[Hyperparameter, ...] = ()
    """Documented hyperparameter ranges."""
    sources: tuple[str, ...] = ()
    """Where the figures come from."""
    unverified: tuple[str, ...] = ()
    """Names of the fields above no source in reach confirmed."""
    notes: str = ""
    """Anything else a user should know."""
    teachers: tuple[str, ...] = ()
    """Distillation: the teacher model ids this student accepts (prefix match)."""
    prompts_only: bool = False
    """Conversation records may end with the user's turn (distillation: the teacher writes
    the answers, a given assistant turn is a golden example)."""

    def hyperparameter(self, name: str) -> Hyperparameter | None:
        """The range of ``name``, if documented."""
        return next((h for h in self.hyperparameters if h.name == name), None)

    def with_limits(self, **limits: int | None) -> CustomizationProfile:
        """Copy with other limits (an account with raised quotas, a newer documented figure)."""
        return replace(self, **limits)  # type: ignore[arg-type]


_TITAN_HP = (
    Hyperparameter("epochCount", "int", 1, 10, 5),
    Hyperparameter("batchSize", "int", 1, 64, 1),
    Hyperparameter("learningRate", "float", 0.0, 1.0, 1e-5),
    Hyperparameter("learningRateWarmupSteps", "int", 0, 250, 5),
)
_TITAN_PREMIER_HP = (
    Hyperparameter("epochCount", "int", 1, 5, 2),
    Hyperparameter("batchSize", "int", 1, 1, 1),
    Hyperparameter("learningRate", "float", 1e-7, 1e-5, 1e-6),
    Hyperparameter("learningRateWarmupSteps", "int", 0, 20, 5),
)
_CLAUDE_HP = (
    Hyperparameter("epochCount", "int", 1, 10, 2),
    Hyperparameter("batchSize", "int", 4, 256, 32),
    Hyperparameter("learningRateMultiplier", "float", 0.1, 2.0, 1.0),
    Hyperparameter("earlyStoppingThreshold", "float", 0.0, 0.1, 0.001),
    Hyperparameter("earlyStoppingPatience", "int", 1, 10, 2),
)
_NOVA_HP = (
    Hyperparameter("epochCount", "int", 1, 5, 2, verified=False),
    Hyperparameter("learningRate", "float", 1e-6, 1e-4, 1e-5, verified=False),
    Hyperparameter("learningRateWarmupSteps", "int", 0, 100, 10, verified=False),
)
_LLAMA_HP = (
    Hyperparameter("epochCount", "int", 1, 10, 5, verified=False),
    Hyperparameter("batchSize", "int", 1, 1, 1, verified=False),
    Hyperparameter("learningRate", "float", 5e-6, 0.1, 1e-4, verified=False),
)
_COHERE_HP = (
    Hyperparameter("epochCount", "int", 1, 100, 1, verified=False),
    Hyperparameter("batchSize", "int", 8, 32, 8, verified=False),
    Hyperparameter("learningRate", "float", 5e-6, 0.1, 1e-5, verified=False),
    Hyperparameter("earlyStoppingThreshold", "float", 0.0, 0.1, 0.01, verified=False),
    Hyperparameter("earlyStoppingPatience", "int", 1, 10, 6, verified=False),
    Hyperparameter("evalPercentage", "float", 5, 50, 20, verified=False),
)
_COUNTS = ("min_records", "max_records", "max_validation_records")
_NOVA_RESERVED = ("User:", "Bot:", "Assistant:", "System:", "<image>", "<video>", "[EOS]")

PROFILES: tuple[CustomizationProfile, ...] = (
    CustomizationProfile(
        "Titan Text G1 Express / Lite fine-tuning",
        ("amazon.titan-text-express-v1", "amazon.titan-text-lite-v1"),
        "FINE_TUNING",
        "prompt_completion",
        max_records=10_000,
        max_validation_records=1_000,
        max_tokens_per_record=4_096,
        hyperparameters=_TITAN_HP,
        sources=(_PREPARE, _HP_TITAN, _QUOTAS),
        unverified=(*_COUNTS, "max_tokens_per_record"),
    ),
    CustomizationProfile(
        "Titan Text G1 Express / Lite continued pre-training",
        ("amazon.titan-text-express-v1", "amazon.titan-text-lite-v1"),
        "CONTINUED_PRE_TRAINING",
        "pretraining",
        max_records=100_000,
        max_validation_records=1_000,
        max_tokens_per_record=4_096,
        hyperparameters=_TITAN_HP,
        sources=(_PREPARE, _HP_TITAN, _TITAN_CPT_TOKENS, _QUOTAS),
        unverified=_COUNTS,
        notes="4,096 input tokens per record is the service's own error message.",
    ),
    CustomizationProfile(
        "Titan Text Premier fine-tuning",
        ("amazon.titan-text-premier-v1",),
        "FINE_TUNING",
        "prompt_completion",
        max_records=20_000,
        max_validation_records=1_000,
        max_tokens_per_record=4_096,
        hyperparameters=_TITAN_PREMIER_HP,
        sources=(_PREPARE, _HP_TITAN, _QUOTAS),
        unverified=(*_COUNTS, "max_tokens_per_record"),
    ),
    CustomizationProfile(
        "Claude 3 Haiku fine-tuning",
        ("anthropic.claude-3-haiku-20240307-v1",),
        "FINE_TUNING",
        "conversation",
        min_records=32,
        max_records=10_000,
        max_validation_records=1_000,
        max_tokens_per_record=32_000,
        hyperparameters=_CLAUDE_HP,
        sources=(_PREPARE, _HP_CLAUDE, _QUOTAS),
        unverified=(*_COUNTS, "max_tokens_per_record"),
        notes="Claude 3 Haiku reaches end of life on Bedrock on 2026-09-10 "
        "(/work/shared/facts lifecycle.bedrock_eol_dates).",
    ),
    CustomizationProfile(
        "Amazon Nova Micro / Lite / Pro fine-tuning",
        ("amazon.nova-micro-v1", "amazon.nova-lite-v1", "amazon.nova-pro-v1"),
        "FINE_TUNING",
        "conversation",
        min_records=8,
        max_records=20_000,
        max_validation_records=1_000,
        max_tokens_per_record=32_000,
        reserved_keywords=_NOVA_RESERVED,
        hyperparameters=_NOVA_HP,
        sources=(_NOVA_DATA, _HP_INDEX, _QUOTAS),
        unverified=(*_COUNTS, "max_tokens_per_record", "hyperparameters"),
        notes="AWS recommends at least 100 samples per task (Nova data preparation page).",
    ),
    CustomizationProfile(
        "Meta Llama 3.1 8B / 70B Instruct fine-tuning",
        ("meta.llama3-1-8b-instruct-v1", "meta.llama3-1-70b-instruct-v1"),
        "FINE_TUNING",
        "prompt_completion",
        max_records=10_000,
        max_validation_records=1_000,
        max_tokens_per_record=16_000,
        hyperparameters=_LLAMA_HP,
        sources=(_PREPARE, _QUOTAS),
        unverified=(*_COUNTS, "max_tokens_per_record", "hyperparameters"),
    ),
    CustomizationProfile(
        "Meta Llama 3.2 / 3.3 fine-tuning (conversational)",
        (
            "meta.llama3-2-1b-instruct-v1",
            "meta.llama3-2-3b-instruct-v1",
            "meta.llama3-2-11b-instruct-v1",
            "meta.llama3-2-90b-instruct-v1",
            "meta.llama3-3-70b-instruct-v1",
        ),
        "FINE_TUNING",
        "conversation",
        max_records=10_000,
        max_validation_records=1_000,
        max_tokens_per_record=16_000,
        hyperparameters=_LLAMA_HP,
        sources=(_PREPARE, _QUOTAS),
        unverified=("format", *_COUNTS, "max_tokens_per_record", "hyperparameters"),
    ),
    CustomizationProfile(
        "Cohere Command / Command Light fine-tuning",
        ("cohere.command-text-v14", "cohere.command-light-text-v14"),
        "FINE_TUNING",
        "prompt_completion",
        max_records=10_000,
        max_validation_records=1_000,
        max_tokens_per_record=4_096,
        hyperparameters=_COHERE_HP,
        sources=(_PREPARE, _QUOTAS),
        unverified=(*_COUNTS, "max_tokens_per_record", "hyperparameters"),
    ),
    CustomizationProfile(
        "Amazon Nova Micro / Lite / Pro distillation (student)",
        ("amazon.nova-micro-v1", "amazon.nova-lite-v1", "amazon.nova-pro-v1"),
        "DISTILLATION",
        "conversation",
        max_tokens_per_record=32_000,
        reserved_keywords=_NOVA_RESERVED,
        teachers=("amazon.nova-premier-v1", "amazon.nova-pro-v1"),
        prompts_only=True,
        sources=(_DISTILL_DATA, _DISTILL_MODELS, _NOVA_CUSTOMIZATION),
        unverified=("max_tokens_per_record",),
    ),
    CustomizationProfile(
        "Claude 3 Haiku distillation (student)",
        ("anthropic.claude-3-haiku-20240307-v1",),
        "DISTILLATION",
        "conversation",
        max_tokens_per_record=32_000,
        multi_turn=False,
        teachers=(
            "anthropic.claude-3-5-sonnet-20240620-v1",
            "anthropic.claude-3-5-sonnet-20241022-v2",
        ),
        prompts_only=True,
        sources=(_DISTILL_DATA, _DISTILL_MODELS),
        unverified=("teachers", "max_tokens_per_record"),
    ),
    CustomizationProfile(
        "Meta Llama 3.1 / 3.2 distillation (student)",
        (
            "meta.llama3-1-8b-instruct-v1",
            "meta.llama3-1-70b-instruct-v1",
            "meta.llama3-2-1b-instruct-v1",
            "meta.llama3-2-3b-instruct-v1",
        ),
        "DISTILLATION",
        "conversation",
        max_tokens_per_record=16_000,
        multi_turn=False,
        teachers=("meta.llama3-1-405b-instruct-v1", "meta.llama3-1-70b-instruct-v1"),
        prompts_only=True,
        sources=(_DISTILL_DATA, _DISTILL_MODELS),
        unverified=("model_prefixes", "teachers", "max_tokens_per_record"),
    ),
)

_GEOGRAPHY_PREFIXES = ("us.", "eu.", "apac.", "jp.", "au.", "ca.", "us-gov.", "global.")


def base_model_id(model_id: str) -> str:
    """``model_id`` without an ARN prefix or inference-profile geography."""
    if model_id.startswith("arn:") and "/" in model_id:
        model_id = model_id.rsplit("/", 1)[1]
    for prefix in _GEOGRAPHY_PREFIXES:
        if model_id.startswith(prefix):
            return model_id[len(prefix) :]
    return model_id


def find_profile(
    model_id: str,
    method: Method = "FINE_TUNING",
    *,
    profiles: tuple[CustomizationProfile, ...] = PROFILES,
) -> CustomizationProfile:
    """The profile of ``model_id`` for ``method``.

    Raises:
        ConfigurationError: No profile covers the model and method; the message lists those
            that do.
    """
    base = base_model_id(model_id)
    for profile in profiles:
        if profile.method == method and any(base.startswith(p) for p in profile.model_prefixes):
            return profile
    known = sorted(
        {p for profile in profiles if profile.method == method for p in profile.model_prefixes}
    )
    raise ConfigurationError(
        f"no {method} profile for base model {model_id!r}; covered: {known}. Pass a "
        "CustomizationProfile of your own for other models"
    )


def check_teacher(profile: CustomizationProfile, teacher_model_id: str | None) -> str | None:
    """The teacher of a distillation job, checked against the student's profile.

    Raises:
        ConfigurationError: A distillation without a teacher, a teacher the student does not
            take (the message lists those it does), or a teacher for another method.
    """
    if profile.method != "DISTILLATION":
        if teacher_model_id is not None:
            raise ConfigurationError(
                f"teacher_model_id is for DISTILLATION jobs, not {profile.method}"
            )
        return None
    if not teacher_model_id or not isinstance(teacher_model_id, str):
        raise ConfigurationError(
            f"{profile.name} needs teacher_model_id (one of {list(profile.teachers)})"
        )
    base = base_model_id(teacher_model_id)
    if profile.teachers and not any(base.startswith(t) for t in profile.teachers):
        raise ConfigurationError(
            f"{teacher_model_id!r} is not a teacher {profile.name} takes; teachers: "
            f"{list(profile.teachers)}. Pass a CustomizationProfile of your own for others"
        )
    return teacher_model_id


def check_hyperparameters(
    profile: CustomizationProfile,
    hyperparameters: Mapping[str, object],
    *,
    allow_unverified: bool = True,
) -> dict[str, str]:
    """Hyperparameters checked against the profile's ranges, as the API's string map.

    Args:
        profile: The base model's profile.
        hyperparameters: Name -> value (numbers or numeric strings).
        allow_unverified: Check ranges that were not confirmed too (True), naming them as
            unverified in the error; False refuses to release any unverified range's value.

    Raises:
        ConfigurationError: An unknown name, a value of the wrong type, or one out of range;
            every problem is listed.
    """
    problems: list[str] = []
    wire: dict[str, str] = {}
    for name, raw in hyperparameters.items():
        spec = profile.hyperparameter(name)
        if spec is None:
            known = [h.name for h in profile.hyperparameters]
            problems.append(f"{name}: not a hyperparameter of {profile.name} (known: {known})")
            continue
        tag = "" if spec.verified else " (range unverified)"
        if not spec.verified and not allow_unverified:
            problems.append(f"{name}: its range is unverified for {profile.name}")
            continue
        try:
            value = float(str(raw))
        except ValueError:
            problems.append(f"{name}: {raw!r} is not a number")
            continue
        if isinstance(raw, bool) or (spec.kind == "int" and value != int(value)):
            problems.append(f"{name}: {raw!r} is not an integer")
            continue
        if not spec.minimum <= value <= spec.maximum:
            problems.append(f"{name}: {raw!r} is outside [{spec.minimum:g}, {spec.maximum:g}]{tag}")
            continue
        wire[name] = str(int(value)) if spec.kind == "int" else repr(value)
    if problems:
        raise ConfigurationError(
            f"hyperparameters refused for {profile.name}: " + "; ".join(problems)
        )
    return wire


__all__ = [
    "CONVERSATION_SCHEMA",
    "PROFILES",
    "CustomizationProfile",
    "DataFormat",
    "Hyperparameter",
    "Method",
    "base_model_id",
    "check_hyperparameters",
    "check_teacher",
    "find_profile",
]
