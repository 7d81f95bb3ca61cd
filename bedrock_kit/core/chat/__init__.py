"""Chat: Converse, ConverseStream and InvokeModel, from request to typed result.

- ``types``: the wire-neutral domain types (messages, content blocks, usage, results).
- ``messages``: helpers over message lists (guarded turns, guardrail interventions).
- ``converse``: pure build/parse of Converse requests and responses.
- ``stream``: the one ConverseStream reducer (events -> deltas -> result).
- ``tools``: tool specs from functions/JSON Schema, argument coercion, action groups.
- ``invoke``: InvokeModel codecs, one module per provider.
- ``models``: what is known about model ids (provider, tool-choice support).
- ``token_estimate``: offline token estimates when CountTokens is not available.
- ``runtime``: :class:`ConverseRuntime`, the sync and native async calls and CountTokens.
- ``send``: one chat request over either API; what both adapters call.
"""
