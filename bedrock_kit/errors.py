"""One exception hierarchy for everything bedrock-kit raises.

botocore errors are translated once, at the boundary (:func:`translate_errors`), into these
types; adapters never see a raw ``ClientError``. Every error carries what a user needs to act
on it: the model or resource id, the region, the HTTP status, the AWS error code and the
request id, where known. Messages are scrubbed of credentials (:mod:`bedrock_kit._secrets`)
before they are raised, and so are the args of the exception being handled (the botocore
error kept as ``__cause__``, which tracebacks print too).
"""

from __future__ import annotations

import re
import sys
from typing import Any

from bedrock_kit._secrets import redact, scrub_exception
from bedrock_kit._stream_errors import stream_errors, timed_out_below

__all__ = [
    "AccessDeniedError",
    "AgentPreparationError",
    "AgentStepLimitError",
    "BadGatewayError",
    "BatchJobError",
    "BatchRecordError",
    "BedrockConnectionError",
    "BedrockKitError",
    "BedrockValidationError",
    "BudgetExceededError",
    "ConfigurationError",
    "ConflictError",
    "ContextWindowExceededError",
    "CustomizationJobError",
    "DeadlineExceededError",
    "DependencyFailedError",
    "DocumentIngestionError",
    "FlowExecutionError",
    "GuardrailInterventionError",
    "IncompleteStreamError",
    "IngestionJobError",
    "InternalServerError",
    "MalformedBatchRecordError",
    "MalformedResponseError",
    "ModelError",
    "ModelNotReadyError",
    "ModelStreamError",
    "ModelTimeoutError",
    "ProvisioningFailedError",
    "ResourceNotFoundError",
    "ServiceQuotaExceededError",
    "ServiceUnavailableError",
    "ThrottlingError",
    "TrainingDataError",
    "UnknownArgumentError",
    "UnsupportedTemplateError",
    "translate_errors",
]


class BedrockKitError(Exception):
    """Base class of every error bedrock-kit raises.

    Attributes:
        message: Human-readable description (Bedrock's own message where there is one).
        model_id: Model, guardrail, knowledge base or agent the call addressed, if known.
        resource: What kind of thing ``model_id`` names (``model``, ``guardrail``,
            ``knowledge_base``, ``agent``, ``prompt``); messages label the id with it.
        region: AWS region of the client, if known.
        status_code: HTTP status of the failed response, if there was one.
        error_code: AWS error code (``ThrottlingException``...), if there was one.
        request_id: ``x-amzn-RequestId`` of the failed call, for AWS support cases.
        retry_attempts: How many retries botocore made before giving up, if known.
    """

    def __init__(
        self,
        message: str,
        *,
        model_id: str | None = None,
        region: str | None = None,
        status_code: int | None = None,
        error_code: str | None = None,
        request_id: str | None = None,
        retry_attempts: int | None = None,
        resource: str = "model",
    ) -> None:
        message = redact(message)
        scrub_exception(sys.exc_info()[1])  # what is being handled becomes __cause__/__context__
        super().__init__(message)
        self.message = message
        self.model_id = model_id
        self.resource = resource
        self.region = region
        self.status_code = status_code
        self.error_code = error_code
        self.request_id = request_id
        self.retry_attempts = retry_attempts

    def __str__(self) -> str:
        context = [
            f"{name}={value}"
            for name, value in (
                (self.resource, self.model_id),
                ("region", self.region),
                ("status", self.status_code),
                ("code", self.error_code),
                ("request_id", self.request_id),
            )
            if value is not None
        ]
        return f"{self.message} ({', '.join(context)})" if context else self.message


class ConfigurationError(BedrockKitError, ValueError):
    """A constructor argument or call argument is invalid; raised before any request."""


class UnknownArgumentError(ConfigurationError, TypeError):
    """A keyword argument no bedrock-kit class or call takes (a misspelling, usually).

    Attributes:
        argument: The argument as given.
        suggestion: The closest valid argument, if one is close.
    """

    def __init__(
        self, message: str, *, argument: str, suggestion: str | None = None, **context: Any
    ) -> None:
        super().__init__(message, **context)
        self.argument = argument
        self.suggestion = suggestion


class BedrockValidationError(BedrockKitError, ValueError):
    """Bedrock rejected the request as invalid (``ValidationException``, HTTP 400)."""


class ContextWindowExceededError(BedrockValidationError):
    """The input does not fit the model's context window."""


class AccessDeniedError(BedrockKitError):
    """Credentials are missing, expired or lack permission (HTTP 403)."""


class ResourceNotFoundError(BedrockKitError):
    """The model, guardrail, knowledge base or agent does not exist (HTTP 404)."""


class ThrottlingError(BedrockKitError):
    """Too many requests or tokens; botocore's retries were exhausted (HTTP 429)."""


class ServiceQuotaExceededError(BedrockKitError):
    """An account quota was exceeded (HTTP 400/429 ``ServiceQuotaExceededException``)."""


class ModelTimeoutError(BedrockKitError):
    """The model took too long to answer, or the client read timed out (HTTP 408)."""


class DeadlineExceededError(ModelTimeoutError):
    """The call's overall ``deadline`` passed (retries and slow streams included).

    Attributes:
        deadline: The deadline in seconds the call was given.
    """

    def __init__(self, message: str, *, deadline: float, **context: Any) -> None:
        super().__init__(message, **context)
        self.deadline = deadline


class ModelNotReadyError(BedrockKitError):
    """The model is not ready to serve (HTTP 429 ``ModelNotReadyException``)."""


class ModelError(BedrockKitError):
    """The model failed while processing the request (HTTP 424 ``ModelErrorException``)."""


class ModelStreamError(BedrockKitError):
    """The model failed in the middle of a stream (``modelStreamErrorException``)."""


class InternalServerError(BedrockKitError):
    """Bedrock failed internally (HTTP 500)."""


class ServiceUnavailableError(BedrockKitError):
    """Bedrock, or a proxy in front of it, is unavailable (HTTP 502, 503, 504)."""


class BadGatewayError(ServiceUnavailableError):
    """A gateway in front of an agent's or flow's dependency failed (HTTP 502
    ``BadGatewayException``)."""


class ConflictError(BedrockKitError):
    """The request conflicts with the resource's current state: a concurrent change, a name
    already taken, a resource still in use (``ConflictException``,
    ``ResourceInUseException``)."""


class DependencyFailedError(BedrockKitError):
    """A resource an agent or flow depends on (a Lambda function, a knowledge base, a model
    it calls) failed (HTTP 424 ``DependencyFailedException``)."""


class BedrockConnectionError(BedrockKitError):
    """The connection to the endpoint failed or broke before a response was complete."""


class IncompleteStreamError(BedrockKitError):
    """A stream ended before ``messageStop`` and ``metadata``: the answer is partial.

    Attributes:
        partial_text: The text received before the stream broke, for diagnostics only.
    """

    def __init__(self, message: str, *, partial_text: str = "", **context: Any) -> None:
        super().__init__(message, **context)
        self.partial_text = partial_text


class MalformedResponseError(BedrockKitError):
    """Bedrock (or the model) sent something that cannot be parsed.

    Attributes:
        raw: The unparseable text, kept so nothing is lost.
    """

    def __init__(self, message: str, *, raw: str = "", **context: Any) -> None:
        super().__init__(message, **context)
        self.raw = redact(raw)


class GuardrailInterventionError(BedrockKitError):
    """A guardrail intervened and the caller asked for interventions to raise.

    Attributes:
        assessment: The typed guardrail assessment that explains the intervention
            (a ``GuardrailAssessment``; typed loosely so this module imports nothing).
        output_text: What Bedrock returned in place of the blocked content.
    """

    def __init__(
        self,
        message: str,
        *,
        assessment: Any = None,
        output_text: str = "",
        **context: Any,
    ) -> None:
        super().__init__(message, **context)
        self.assessment = assessment
        self.output_text = output_text


class AgentStepLimitError(BedrockKitError):
    """A Bedrock Agent kept returning control past ``max_steps`` tool rounds.

    Attributes:
        partial: What the agent produced before the limit (an ``AgentResult``: chunks, steps,
            tool outcomes).
    """

    def __init__(self, message: str, *, partial: Any, **context: Any) -> None:
        super().__init__(message, **context)
        self.partial = partial


class BudgetExceededError(BedrockKitError):
    """A call was refused before it was sent because it could cross a budget limit."""


class TrainingDataError(ConfigurationError):
    """Training data failed validation before any upload; nothing was sent.

    Attributes:
        problems: Every bad record, as ``(line number, reason)``; line 0 is the whole file
            (record counts, file size).
    """

    def __init__(self, message: str, *, problems: list[tuple[int, str]], **context: Any) -> None:
        super().__init__(message, **context)
        self.problems = problems


class CustomizationJobError(BedrockKitError):
    """A model customization job ended ``Failed`` or ``Stopped``.

    Attributes:
        job_arn: The job's ARN.
        status: ``Failed`` or ``Stopped``.
        failure_message: Bedrock's ``failureMessage`` (empty when it sent none).
    """

    def __init__(
        self,
        message: str,
        *,
        job_arn: str,
        status: str,
        failure_message: str = "",
        **context: Any,
    ) -> None:
        super().__init__(message, **context)
        self.job_arn = job_arn
        self.status = status
        self.failure_message = failure_message


class ProvisioningFailedError(BedrockKitError):
    """Provisioned throughput or a custom model deployment went ``Failed``.

    Attributes:
        resource_arn: The provisioned model or deployment ARN.
        status: The status Bedrock reported (``Failed``).
        failure_message: Bedrock's ``failureMessage`` (empty when it sent none).
    """

    def __init__(
        self,
        message: str,
        *,
        resource_arn: str,
        status: str,
        failure_message: str = "",
        **context: Any,
    ) -> None:
        super().__init__(message, **context)
        self.resource_arn = resource_arn
        self.status = status
        self.failure_message = failure_message


class BatchJobError(BedrockKitError):
    """A batch inference job cannot be submitted, or ended without output for its records.

    Attributes:
        job_arn: The job, when it exists.
        state: Its last state (``Failed``, ``Stopped``, ``Expired``...), when known.
    """

    def __init__(
        self, message: str, *, job_arn: str | None = None, state: str | None = None, **context: Any
    ) -> None:
        super().__init__(message, **context)
        self.job_arn = job_arn
        self.state = state


class BatchRecordError(BedrockKitError):
    """One record of a batch inference job has no answer: Bedrock's ``error`` for it, or
    no output line at all (the job failed, stopped or expired first).

    Attributes:
        record_id: The record's ``recordId``.
        job_arn: The job that ran it.
    """

    def __init__(
        self, message: str, *, record_id: str, job_arn: str | None = None, **context: Any
    ) -> None:
        super().__init__(message, **context)
        self.record_id = record_id
        self.job_arn = job_arn


class MalformedBatchRecordError(BatchRecordError, MalformedResponseError):
    """A batch output line, or its ``modelOutput``, is not the documented shape."""

    def __init__(
        self,
        message: str,
        *,
        record_id: str,
        raw: str = "",
        job_arn: str | None = None,
        **context: Any,
    ) -> None:
        BatchRecordError.__init__(self, message, record_id=record_id, job_arn=job_arn, **context)
        self.raw = raw


class IngestionJobError(BedrockKitError):
    """A Knowledge Base ingestion job ended ``FAILED`` or ``STOPPED``, or left documents out.

    Attributes:
        job_id: The ingestion job id.
        knowledge_base_id: The Knowledge Base.
        data_source_id: The data source.
        status: The job's last status (``FAILED``, ``STOPPED`` or ``COMPLETE``).
        failure_reasons: Bedrock's ``failureReasons``, one line per failure (they name the
            documents that failed).
        statistics: The job's statistics as Bedrock sent them (``numberOfDocumentsFailed``...).
    """

    def __init__(
        self,
        message: str,
        *,
        job_id: str,
        knowledge_base_id: str,
        data_source_id: str,
        status: str,
        failure_reasons: tuple[str, ...] = (),
        statistics: dict[str, int] | None = None,
        **context: Any,
    ) -> None:
        context.setdefault("model_id", knowledge_base_id)
        context.setdefault("resource", "knowledge_base")
        super().__init__(message, **context)
        self.job_id = job_id
        self.knowledge_base_id = knowledge_base_id
        self.data_source_id = data_source_id
        self.status = status
        self.failure_reasons = tuple(failure_reasons)
        self.statistics = dict(statistics or {})


class DocumentIngestionError(BedrockKitError):
    """Documents sent to a custom data source ended ``FAILED`` (or another non-indexed state).

    Attributes:
        knowledge_base_id: The Knowledge Base.
        data_source_id: The data source.
        failed: ``(document id or S3 URI, status, statusReason)`` of every document that did
            not end indexed.
        indexed: Identifiers of the documents that were indexed.
    """

    def __init__(
        self,
        message: str,
        *,
        knowledge_base_id: str,
        data_source_id: str,
        failed: tuple[tuple[str, str, str], ...],
        indexed: tuple[str, ...] = (),
        **context: Any,
    ) -> None:
        context.setdefault("model_id", knowledge_base_id)
        context.setdefault("resource", "knowledge_base")
        super().__init__(message, **context)
        self.knowledge_base_id = knowledge_base_id
        self.data_source_id = data_source_id
        self.failed = tuple(failed)
        self.indexed = tuple(indexed)


class AgentPreparationError(BedrockKitError):
    """PrepareAgent left the agent ``FAILED`` (or it never reached ``PREPARED``).

    Attributes:
        agent_id: The agent.
        status: The last ``agentStatus`` seen.
        failure_reasons: Bedrock's ``failureReasons``.
        recommended_actions: Bedrock's ``recommendedActions``.
    """

    def __init__(
        self,
        message: str,
        *,
        agent_id: str,
        status: str,
        failure_reasons: tuple[str, ...] = (),
        recommended_actions: tuple[str, ...] = (),
        **context: Any,
    ) -> None:
        context.setdefault("model_id", agent_id)
        context.setdefault("resource", "agent")
        super().__init__(message, **context)
        self.agent_id = agent_id
        self.status = status
        self.failure_reasons = tuple(failure_reasons)
        self.recommended_actions = tuple(recommended_actions)


class FlowExecutionError(BedrockKitError):
    """A Prompt Flow failed: a failure event in its stream (``dependencyFailedException``,
    ``badGatewayException``, ``conflictException``) or a ``completionReason`` that is
    neither ``SUCCESS`` nor ``INPUT_REQUIRED``.

    Attributes:
        partial: What the flow produced before it failed (a ``FlowResult``: outputs, traces).
        completion_reason: The flow's ``completionReason``, when it sent one.
        execution_id: The flow execution id, when Bedrock sent one.
    """

    def __init__(
        self,
        message: str,
        *,
        partial: Any = None,
        completion_reason: str | None = None,
        execution_id: str | None = None,
        **context: Any,
    ) -> None:
        super().__init__(message, **context)
        self.partial = partial
        self.completion_reason = completion_reason
        self.execution_id = execution_id


class UnsupportedTemplateError(ConfigurationError):
    """A framework prompt template cannot be published to Prompt Management as it is
    (partial variables, a message type or template format Bedrock prompts cannot hold,
    literal text Bedrock would read as a variable); nothing was sent.

    Attributes:
        problems: Every reason, naming the message or variable concerned.
    """

    def __init__(self, message: str, *, problems: list[str], **context: Any) -> None:
        super().__init__(message, **context)
        self.problems = problems


# AWS error code (also the in-stream exception event name, first letter lowered) -> type.
_ERROR_CODES: dict[str, type[BedrockKitError]] = {
    "ValidationException": BedrockValidationError,
    "AccessDeniedException": AccessDeniedError,
    "UnrecognizedClientException": AccessDeniedError,
    "ExpiredTokenException": AccessDeniedError,
    "InvalidSignatureException": AccessDeniedError,
    "UnauthorizedException": AccessDeniedError,
    "ResourceNotFoundException": ResourceNotFoundError,
    "ThrottlingException": ThrottlingError,
    "TooManyRequestsException": ThrottlingError,
    "ServiceQuotaExceededException": ServiceQuotaExceededError,
    "ModelTimeoutException": ModelTimeoutError,
    "ModelNotReadyException": ModelNotReadyError,
    "ModelErrorException": ModelError,
    "ModelStreamErrorException": ModelStreamError,
    "InternalServerException": InternalServerError,
    "InternalFailureException": InternalServerError,
    "ServiceUnavailableException": ServiceUnavailableError,
    "ServiceUnavailable": ServiceUnavailableError,
    "BadGatewayException": BadGatewayError,
    "ConflictException": ConflictError,
    "ResourceInUseException": ConflictError,
    "DependencyFailedException": DependencyFailedError,
    "TooManyTagsException": BedrockValidationError,
}

# Used when the recorder or a proxy stripped the error code: status decides.
_STATUS_CODES: dict[int, type[BedrockKitError]] = {
    400: BedrockValidationError,
    401: AccessDeniedError,
    403: AccessDeniedError,
    404: ResourceNotFoundError,
    408: ModelTimeoutError,
    409: ConflictError,
    424: ModelError,
    429: ThrottlingError,
    500: InternalServerError,
    502: ServiceUnavailableError,  # bad gateway: a proxy or load balancer in between
    503: ServiceUnavailableError,
    504: ServiceUnavailableError,  # gateway timeout
}

# Phrases Bedrock and the providers use when the prompt is too long for the model.
_CONTEXT_WINDOW = re.compile(
    r"too long|too many (input )?tokens|context (window|length)|maximum context|"
    r"input length|exceeds? the maximum|prompt is too long",
    re.IGNORECASE,
)


def _normalise_code(code: str) -> str:
    # x-amzn-ErrorType may carry a ':http://internal.amazon.com/...' suffix; in-stream
    # exception events are named in lowerCamelCase (throttlingException).
    code = code.split(":", 1)[0].strip()
    return code[:1].upper() + code[1:]


def error_from_client_error(
    exc: Exception,
    *,
    model_id: str | None = None,
    region: str | None = None,
    resource: str = "model",
) -> BedrockKitError:
    """Translate a botocore ``ClientError`` (or ``EventStreamError``) into our type."""
    scrub_exception(exc)  # kept as __cause__: its message may echo a key id or a token
    response: dict[str, Any] = getattr(exc, "response", None) or {}
    error = response.get("Error") or {}
    meta = response.get("ResponseMetadata") or {}
    code = _normalise_code(str(error.get("Code") or ""))
    status = meta.get("HTTPStatusCode")
    message = str(error.get("Message") or error.get("message") or exc)
    cls = _ERROR_CODES.get(code) or _STATUS_CODES.get(int(status or 0)) or BedrockKitError
    if issubclass(cls, BedrockValidationError) and _CONTEXT_WINDOW.search(message):
        cls = ContextWindowExceededError
    return cls(
        message,
        model_id=model_id,
        region=region,
        status_code=int(status) if status else None,
        error_code=code or None,
        request_id=meta.get("RequestId") or (meta.get("HTTPHeaders") or {}).get("x-amzn-requestid"),
        retry_attempts=meta.get("RetryAttempts"),
        resource=resource,
    )


class _Translation:
    """:func:`translate_errors`' context manager (a class: entered on every call)."""

    def __init__(self, context: dict[str, Any]) -> None:
        self.context = context

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is not None:
            translated = _translated(exc, self.context)
            if translated is not None:
                raise translated from exc


def translate_errors(
    *, model_id: str | None = None, region: str | None = None, resource: str = "model"
) -> _Translation:
    """Translate botocore and connection errors raised inside the block.

    Works in sync and async code alike (a plain ``with`` around awaits), so there is one
    translation for every path. Whatever botocore raises leaves as a bedrock-kit type, with
    the original as ``__cause__``. ``resource`` says what ``model_id`` names (``guardrail``,
    ``knowledge_base``...), so messages read ``guardrail=gr-1``, not ``model=gr-1``.
    """
    return _Translation({"model_id": model_id, "region": region, "resource": resource})


def _translated(exc: BaseException, context: dict[str, Any]) -> BaseException | None:
    """The bedrock-kit error for ``exc``; None to let it go as it is."""
    from botocore import exceptions as bx
    from botocore.parsers import ResponseParserError

    if isinstance(exc, BedrockKitError):
        # Raised below us without the call's context (botocore's before-parse body check).
        exc.model_id = exc.model_id or context["model_id"]
        exc.region = exc.region or context["region"]
        return None
    timed_out, stream_broken, connection_broken = stream_errors()
    if isinstance(exc, bx.ClientError):
        return error_from_client_error(exc, **context)
    if isinstance(exc, bx.ReadTimeoutError | bx.ConnectTimeoutError):
        return ModelTimeoutError(f"timed out talking to Bedrock: {exc}", **context)
    if isinstance(exc, bx.IncompleteReadError):
        return IncompleteStreamError(f"response body ended early: {exc}", **context)
    if isinstance(exc, bx.EndpointConnectionError | bx.ConnectionClosedError | bx.HTTPClientError):
        if timed_out_below(exc, timed_out):  # ResponseStreamingError(error=ReadTimeoutError)
            return ModelTimeoutError(f"timed out reading from Bedrock: {exc}", **context)
        return BedrockConnectionError(f"connection to Bedrock failed: {exc}", **context)
    if isinstance(exc, bx.NoCredentialsError):
        return AccessDeniedError(f"no AWS credentials found: {exc}", **context)
    if isinstance(exc, bx.NoRegionError):
        return ConfigurationError(
            "no AWS region: pass region_name or set AWS_DEFAULT_REGION", **context
        )
    if isinstance(exc, bx.ProfileNotFound | bx.InvalidRegionError | bx.PartialCredentialsError):
        return ConfigurationError(f"invalid AWS configuration: {exc}", **context)
    if isinstance(exc, bx.ParamValidationError):
        return BedrockValidationError(f"invalid request parameters: {exc}", **context)
    if isinstance(exc, (*timed_out, *stream_broken, *connection_broken)):
        if timed_out_below(exc, timed_out):
            return ModelTimeoutError(f"timed out reading from Bedrock: {exc!r}", **context)
        if isinstance(exc, stream_broken):
            return IncompleteStreamError(f"response stream broke: {exc!r}", **context)
        return BedrockConnectionError(f"connection to Bedrock failed: {exc!r}", **context)
    if isinstance(exc, ResponseParserError):  # e.g. a union with no member or two members set
        return MalformedResponseError(f"response is malformed: {exc}", **context)
    if isinstance(exc, RecursionError):
        # botocore's JSON decoder on a body or event payload nested thousands of levels deep
        return MalformedResponseError(
            "response is malformed: JSON nested too deep to parse", **context
        )
    if isinstance(exc, bx.BotoCoreError):
        return BedrockKitError(f"botocore failed: {exc}", **context)
    return None
