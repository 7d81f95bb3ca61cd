"""Rerank: order documents by relevance to a query with a Bedrock reranker model.

- ``wire``: the model table, request builders for the Rerank API (``bedrock-agent-runtime``)
  and for the InvokeModel form of Cohere Rerank, and their typed responses.
- ``runtime``: the sync and native async calls, pagination, and budget ledger charging.
"""
