"""loki_ingest/ingest"""
