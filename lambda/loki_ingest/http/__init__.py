"""loki_ingest/http"""
