"""HTTP request <-> Lambda function URL event (payload format 2.0), the way AWS builds it.

Used by the local server (`make run`) and by tests, so both exercise the handler with the
same events a deployed function URL would deliver:

* header names are lower-cased and repeated headers are comma-joined;
* the body is base64-encoded unless it is text (text/*, JSON, XML, form data) sent without
  a Content-Encoding; binary bodies such as Loki's snappy protobuf are always base64;
* an invoke payload above 6 MB is refused with 413 before the function runs, as AWS does.
"""

from __future__ import annotations

import base64
import datetime
import json
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

MAX_INVOKE_PAYLOAD = 6 * 1024 * 1024  # Lambda BUFFERED invoke limit (request and response)

_TEXT_TYPES = ("application/json", "application/xml", "application/javascript", "application/x-www-form-urlencoded")


def is_text(content_type: str | None, content_encoding: str | None, body: bytes) -> bool:
    if content_encoding:
        return False
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if not (media.startswith("text/") or media in _TEXT_TYPES or media.endswith("+json")):
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def build_event(
    method: str,
    path: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    *,
    query: str = "",
    source_ip: str = "127.0.0.1",
    domain: str = "localhost",
) -> dict[str, Any]:
    joined: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        joined[key] = f"{joined[key]},{value}" if key in joined else value
    cookies = [c.strip() for c in joined.pop("cookie", "").split(";") if c.strip()]
    text = is_text(joined.get("content-type"), joined.get("content-encoding"), body)
    now = time.time()
    query_params: dict[str, str] = {}
    for part in filter(None, query.split("&")):
        key, _, value = part.partition("=")
        query_params[key] = f"{query_params[key]},{value}" if key in query_params else value
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": joined,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": domain.split(".", 1)[0],
            "domainName": domain,
            "domainPrefix": domain.split(".", 1)[0],
            "http": {
                "method": method.upper(),
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": joined.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": datetime.datetime.fromtimestamp(now, datetime.UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": not text,
    }
    if cookies:
        event["cookies"] = cookies
    if query_params:
        event["queryStringParameters"] = query_params
    if body:
        event["body"] = body.decode("utf-8") if text else base64.b64encode(body).decode("ascii")
    return event


def event_size(event: Mapping[str, Any]) -> int:
    return len(json.dumps(event, separators=(",", ":")))


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def to_http(result: Any) -> HttpResponse:
    """Map the handler's return value to HTTP the way function URLs do."""
    if not isinstance(result, Mapping) or "statusCode" not in result:
        # Valid JSON without statusCode: AWS answers 200 application/json with it as body.
        return HttpResponse(200, [("content-type", "application/json")], json.dumps(result).encode())
    headers = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
    headers += [("set-cookie", str(c)) for c in result.get("cookies") or []]
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode("utf-8")
    return HttpResponse(int(result["statusCode"]), headers, body)
