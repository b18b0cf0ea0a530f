"""loki_ingest/observability"""
