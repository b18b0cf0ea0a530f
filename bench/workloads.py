"""Deterministic Stytch-like workloads for benchmarks and tests.

Event shape follows Stytch's event log docs (https://stytch.com/docs/workspace-management/event-logs):
every event has event_id, project_id, action,
status, request_id; success/error events add http_status_code, project_name and hashes.
Sizes vary between about 300 B and 2 KB.
"""

from __future__ import annotations

import gzip
import json
import random
from collections.abc import Iterator

ACTIONS = (
    "SessionsAuthenticate",
    "MultiTenantSessionsAuthenticate",
    "OAuthGoogleOneTapStart",
    "GetUser",
    "SessionsJwks",
    "SearchUsersExternal",
    "EmailDelivery",
    "PasswordsAuthenticate",
    "MagicLinksCreate",
    "MagicLinksEmailLoginOrCreate",
    "CreatePublicToken",
)
USER_AGENTS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
    "stytch-go/16.2.0",
    "stytch-node/12.4.1",
)
BASE_NS = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z


def _hex(rng: random.Random, n: int) -> str:
    return f"{rng.getrandbits(4 * n):0{n}x}"


def stytch_event(rng: random.Random, index: int) -> dict[str, object]:
    """One event: mostly flat fields, sometimes one nested object, 300 B - 2 KB."""
    status = rng.choice(("start", "success", "success", "error"))
    event: dict[str, object] = {
        "event_id": f"event-live-{_hex(rng, 8)}-{_hex(rng, 4)}-{_hex(rng, 4)}-{_hex(rng, 12)}",
        "project_id": "project-live-7d3bc1a2-91f0-4e6c-a0a4-58b4b2d5a1c3",
        "action": rng.choice(ACTIONS),
        "status": status,
        "request_id": f"request-id-live-{_hex(rng, 8)}-{_hex(rng, 4)}-{_hex(rng, 12)}",
        "timestamp": f"2026-01-01T00:{index // 60 % 60:02d}:{index % 60:02d}.{rng.randrange(10**6):06d}Z",
    }
    if status != "start":
        event["project_name"] = "Acme Production"
        event["http_status_code"] = 200 if status == "success" else rng.choice((400, 401, 404, 429))
        event["user_id"] = f"user-live-{_hex(rng, 8)}-{_hex(rng, 4)}-{_hex(rng, 12)}"
        event["session_jwt_hash"] = _hex(rng, 64)
        event["user_agent"] = rng.choice(USER_AGENTS)
        event["ip_address"] = f"203.0.{rng.randrange(256)}.{rng.randrange(256)}"
    if status == "error":
        event["error_type"] = rng.choice(("session_not_found", "invalid_token", "rate_limit_exceeded"))
        event["error_message"] = "The request could not be completed. " * rng.randrange(1, 6)
    if rng.random() < 0.3:
        event["dfppa"] = {
            "verdict": rng.choice(("ALLOW", "CHALLENGE", "BLOCK")),
            "reasons": rng.sample(("KNOWN_DEVICE", "NEW_IP", "VPN", "HEADLESS_BROWSER"), rng.randrange(0, 3)),
            "visitor_id": f"visitor-{_hex(rng, 16)}",
        }
    # Free-text context gives the 300 B - 2 KB spread without changing the shape.
    event["details"] = " ".join(
        rng.choice(("login", "via", "email", "magic", "link", "for", "tenant", "ok"))
        for _ in range(rng.randrange(0, 160))
    )
    return event


def stytch_lines(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [json.dumps(stytch_event(rng, i), separators=(",", ":")) for i in range(count)]


def text_lines(count: int, seed: int = 7) -> list[str]:
    """Plain-text log lines (not JSON) of similar size."""
    rng = random.Random(seed)
    words = ("auth", "session", "user", "token", "ok", "failed", "retry", "upstream", "latency", "ms")
    return [
        f'level=info ts={i} msg="{" ".join(rng.choice(words) for _ in range(rng.randrange(30, 200)))}"'
        for i in range(count)
    ]


def lines_for_bytes(target_bytes: int, seed: int = 7, kind: str = "json") -> list[str]:
    """Enough lines for a v1 JSON push body of about target_bytes."""
    make = stytch_lines if kind == "json" else text_lines
    lines: list[str] = []
    size = 0
    batch = 0
    while size < target_bytes:
        more = make(500, seed + batch)
        batch += 1
        for line in more:
            # Each line is JSON-escaped inside the body, plus ~30 bytes for ts and brackets.
            size += len(json.dumps(line)) + 30
            lines.append(line)
            if size >= target_bytes:
                break
    return lines


def v1_body(lines: list[str], labels: dict[str, str] | None = None, start_ns: int = BASE_NS) -> bytes:
    values = [[str(start_ns + i * 1_000_000), line] for i, line in enumerate(lines)]
    doc = {"streams": [{"stream": labels or {"service_name": "stytch", "env": "bench"}, "values": values}]}
    return json.dumps(doc, separators=(",", ":")).encode()


def gzip_body(body: bytes) -> bytes:
    return gzip.compress(body, compresslevel=6, mtime=0)


def iter_sizes() -> Iterator[tuple[str, int]]:
    yield "10 entries", 10
    yield "1,000 entries", 1000
