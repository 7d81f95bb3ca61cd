"""Prompt Management: prompts stored in Bedrock, fetched as typed templates, and published
from framework templates.

- ``management``: GetPrompt, typed prompt variants and their inference configuration.
- ``publish``: framework templates to Bedrock's ``{{var}}`` syntax, created or updated
  and versioned (CreatePrompt / UpdatePrompt / CreatePromptVersion).
"""
