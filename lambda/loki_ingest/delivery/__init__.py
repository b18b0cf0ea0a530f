"""loki_ingest/delivery"""
