"""Agents: Bedrock Agents (InvokeAgent, inline agents) and local tools.

- ``requests``: pure request builders for InvokeAgent / InvokeInlineAgent.
- ``tools``: local tools, return of control and the action-group Lambda handler.
- ``traces``: typed agent traces (steps, usage, guardrail assessments).
- ``runtime``: the sync and native async agent loop over the event stream.
"""
