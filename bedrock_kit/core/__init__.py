"""Framework-neutral core: boto3 clients and Bedrock wire formats. Never imports a framework."""
