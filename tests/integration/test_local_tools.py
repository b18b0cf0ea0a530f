"""The local tooling behind `make run`: emulator lifecycle, deployment state, and the HTTP
server's function URL behaviour (6 MB limit, chunked bodies)."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from local import emulator
from local.adapter import MAX_INVOKE_PAYLOAD
from local.server import FunctionUrlServer, serve_in_thread
from local.state import LocalState, NotDeployed
from tests.conftest import SAMPLE_V1, Harness, basic

pytestmark = pytest.mark.integration


def test_emulator_starts_once_reuses_a_running_one_and_stops(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = emulator.free_port()
    emulator.start(port, tmp_path)
    pid = int((tmp_path / "emulator.pid").read_text().split()[0])
    try:
        assert emulator.is_up(port)
        emulator.start(port, tmp_path)  # second start: reused, not a second server
        assert "already running" in capsys.readouterr().out
        assert int((tmp_path / "emulator.pid").read_text().split()[0]) == pid
    finally:
        emulator.stop(tmp_path)
    assert not (tmp_path / "emulator.pid").exists()
    deadline = time.monotonic() + 5
    while emulator.is_up(port) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not emulator.is_up(port)


def test_local_state_reads_outputs_and_endpoint_or_says_how_to_deploy(tmp_path: Path) -> None:
    state = LocalState(tmp_path)
    with pytest.raises(NotDeployed, match="make deploy-local"):
        _ = state.outputs
    with pytest.raises(NotDeployed, match="make deploy-local"):
        _ = state.endpoint_url
    (tmp_path / "local.tfvars").write_text('aws_endpoint_url = "http://127.0.0.1:4599"\nenforce_tls = false\n')
    (tmp_path / "outputs.json").write_text(
        json.dumps(
            {
                "push_url": {"value": "https://x/loki/api/v1/push"},
                "loki_ingest": {"value": {"bucket_name": "b", "push_url": "ignored-module-value"}},
            }
        )
    )
    assert state.endpoint_url == "http://127.0.0.1:4599"
    # Module outputs are flattened; the root's own outputs win.
    assert state.outputs == {"bucket_name": "b", "push_url": "https://x/loki/api/v1/push"}


@pytest.fixture
def served(make_app: Callable[..., Harness]) -> Iterator[tuple[Harness, int]]:
    harness = make_app()
    server = FunctionUrlServer(("127.0.0.1", 0), harness.app, quiet=True)
    serve_in_thread(server)
    try:
        yield harness, int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def post(port: int, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", "/loki/api/v1/push", body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


HEADERS = {"Content-Type": "application/json", "Authorization": basic()}


def test_server_refuses_bodies_over_the_invoke_limit_without_invoking(served: tuple[Harness, int]) -> None:
    harness, port = served
    status, body = post(port, b" " * (MAX_INVOKE_PAYLOAD + 1), HEADERS)
    assert status == 413 and b"smaller than" in body
    assert harness.firehose.calls == []


def test_server_reads_chunked_bodies(served: tuple[Harness, int]) -> None:
    harness, port = served
    chunks = [SAMPLE_V1[:100], SAMPLE_V1[100:]]
    encoded = b"".join(b"%x\r\n%b\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"
    status, body = post(port, encoded, {**HEADERS, "Transfer-Encoding": "chunked"})
    assert (status, json.loads(body)) == (200, {"status": "success", "count": 3})
    assert len(harness.firehose.records()) == 3
