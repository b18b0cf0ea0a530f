"""The scheduled canary: pushes one marked line through the function URL and proves it lands in S3."""
