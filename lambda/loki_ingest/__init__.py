"""Loki push endpoint for AWS Lambda function URLs, delivering to Amazon Data Firehose."""

__version__ = "0.1.0"
