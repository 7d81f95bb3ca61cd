"""Root conftest: load bedrock-kit's pytest plugin (cassettes, LocalBedrock, fake credentials)."""

pytest_plugins = ["bedrock_kit.testing.pytest_plugin"]
