"""Model customization: training data, customization jobs, and serving the result.

``profiles``: what each base model accepts for fine-tuning and continued pre-training (data
format, record counts, tokens per record, hyperparameter ranges), each figure with its
source and whether it was confirmed. ``data``: builders that turn neutral core messages,
(prompt, completion) pairs and texts into the JSONL records a base model needs, the
validator that lists every bad record before anything is uploaded, and the train/validation
split. ``jobs``: :class:`CustomizationJob` (upload to S3, CreateModelCustomizationJob,
wait with progress, stop, attach). ``serving``: provisioned throughput and custom model
deployment handles. ``costs``: customization and provisioned-throughput cost, and the
on-demand versus provisioned break-even.
"""
