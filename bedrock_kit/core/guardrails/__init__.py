"""Guardrails: ApplyGuardrail, assessments, configuration and the streaming guard.

- ``assessments``: :class:`GuardrailAssessment` / :class:`GuardrailTrace`, parsed alike from
  ApplyGuardrail, Converse traces and InvokeModel traces.
- ``apply``: :class:`GuardrailClient` over ApplyGuardrail (sync and async).
- ``texts``: checking batches of texts (inputs, outputs, documents) with one client.
- ``stream_guard``: the window guard that releases streamed text only after a check passed.
- ``config``: building and creating guardrail configurations (CreateGuardrail).
"""
