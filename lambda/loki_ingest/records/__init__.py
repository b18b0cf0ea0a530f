"""loki_ingest/records"""
