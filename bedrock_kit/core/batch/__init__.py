"""Batch inference: many chat inputs as Bedrock model invocation jobs (JSONL in S3).

- ``records``: the JSONL records (each input in its model's InvokeModel body format, a
  stable ``recordId``), the documented per-job quotas, and the split into jobs and files.
- ``outputs``: parsing ``.jsonl.out`` lines and ``manifest.json.out`` into results in input
  order, typed per-record errors, token totals and the batch-rate cost.
- ``job``: :class:`BedrockBatchJob`, the handle: submit, attach, status, wait (sync and
  async, with a progress bar), stop, results, manifest, cost.
- ``billing``: a batch on a Ledger (``ledger=``): the whole batch's worst case reserved at
  the batch price before anything is sent, settled to the manifests' totals at the end.
"""
