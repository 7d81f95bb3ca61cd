"""Root conftest: bedrock-kit's pytest plugin (cassettes, LocalBedrock, fake credentials) and
the shared test support (the hostile server, the short end-of-run summary, a throwaway
redis-server, moto's S3 server)."""

pytest_plugins = [
    "bedrock_kit.testing.pytest_plugin",
    "tests.support.fixtures",
    "tests.support.control_plane",
    "tests.support.summary",
    "tests.support.redis_server",
    "tests.support.s3_server",
]
