"""Prompt Management: prompts stored in Bedrock, fetched as typed templates.

- ``management``: GetPrompt, typed prompt variants and their inference configuration.
"""
