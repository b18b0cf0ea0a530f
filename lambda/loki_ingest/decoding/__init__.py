"""loki_ingest/decoding"""
