"""Guardrails: ApplyGuardrail, assessments, configuration and the streaming guard.

- ``assessments``: :class:`GuardrailAssessment` / :class:`GuardrailTrace`, parsed alike from
  ApplyGuardrail, Converse traces and InvokeModel traces.
- ``apply``: :class:`GuardrailClient` over ApplyGuardrail (sync and async).
- ``texts``: checking batches of texts (inputs, outputs, documents) with one client.
- ``stream_guard``: the window guard that releases streamed text only after a check passed.
- ``config``: building and creating guardrail configurations (CreateGuardrail).
- ``_wire``: typed reads of wire members; what is not the documented type is malformed.

Everything fails closed: an answer that is not a documented ApplyGuardrail response (no known
``action``, members of the wrong type, a body that is not JSON) is a MalformedResponseError,
and the stream guard releases nothing past the last window whose check passed.
"""
