"""loki_ingest/auth"""
