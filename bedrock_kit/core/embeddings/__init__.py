"""Embeddings over InvokeModel.

- ``runtime``: embedding request bodies and responses per provider, usage, sync and async.
"""
