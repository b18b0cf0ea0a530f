"""A JSON request body -> a document: UTF-8 first, then the parser, every failure a 400
(DecodeError, with the caller's `reason` for the log) that says where. Shared by the Loki JSON
dialects and OTLP JSON."""

from __future__ import annotations

import json
from typing import Any

from loki_ingest.errors import DecodeError
from loki_ingest.wire import Bytes


def parse(body: Bytes, decoder: json.JSONDecoder, what: str, *, reason: str) -> tuple[Any, bool]:
    """(document, whether a string in it may hold a lone surrogate). Only a \\uD800-\\uDFFF
    escape can put one there; the caller then puts its strings in the model's text form."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        hint = "; it looks gzip-compressed: send Content-Encoding: gzip" if body[:2] == b"\x1f\x8b" else ""
        raise DecodeError(f"{what} is not valid UTF-8 (byte {exc.start}){hint}", reason=reason) from None
    try:
        doc = decoder.decode(text)
    except json.JSONDecodeError as exc:
        raise DecodeError(f"invalid {what}: {exc.msg} at line {exc.lineno} column {exc.colno}", reason=reason) from None
    except (ValueError, RecursionError) as exc:
        raise DecodeError(f"invalid {what}: {exc}", reason=reason) from None
    return doc, "\\ud" in text or "\\uD" in text


def has_lone_surrogate(value: Any) -> bool:
    """Whether a decoded JSON value holds a lone surrogate (from a \\uD800-style escape), which
    no UTF-8 text can carry."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False
