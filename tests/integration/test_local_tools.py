"""The local tooling behind `make run`: the emulator (its fidelity fixes and its saved state),
the deployment state and its one-line explanations, the function URL server (6 MB limit,
chunked bodies), the Lambda Runtime API driving AWS's runtime interface client, and the
readers behind `make logs` and `make query`."""

from __future__ import annotations

import datetime
import gzip
import http.client
import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from local.emulator import control as emulator
from local.emulator.moto_server import firehose_object_key
from local.runtime.adapter import MAX_INVOKE_PAYLOAD, build_event
from local.runtime.function_url import (
    FUNCTION_ERROR,
    ArtifactInvoker,
    FunctionUrlServer,
    InProcessInvoker,
    serve_in_thread,
)
from local.runtime.overrides import passthrough
from local.state import EMULATOR_DOWN, NO_DEPLOYMENT, LocalState, NotDeployed, emulator_client
from local.tools.logs import Filters, original_line, parse_labels, parse_since, printable, select
from tests.conftest import ROOT, SAMPLE_V1, Harness, basic

pytestmark = pytest.mark.integration

PY312 = os.environ.get("LOKI_E2E_PY312", "")
RUNTIME_DIR = Path(os.environ.get("LOKI_E2E_RUNTIME_DIR") or ROOT / "build" / "lambda-runtime-py312")


# --- emulator lifecycle and saved state ----------------------------------------------------


def wait_down(port: int) -> None:
    deadline = time.monotonic() + 5
    while emulator.is_up(port) and time.monotonic() < deadline:
        time.sleep(0.1)


def test_emulator_starts_once_reuses_a_running_one_and_stops(tmp_path: Path) -> None:
    port = emulator.free_port()
    message, kept = emulator.start(port, tmp_path)
    assert "started empty" in message and not kept
    pid = int((tmp_path / "emulator.pid").read_text().split()[0])
    try:
        assert emulator.is_up(port)
        message, kept = emulator.start(port, tmp_path)  # second start: reused, not a second server
        assert "reused" in message and kept
        assert int((tmp_path / "emulator.pid").read_text().split()[0]) == pid
    finally:
        emulator.stop(tmp_path)
    assert not (tmp_path / "emulator.pid").exists()
    wait_down(port)
    assert not emulator.is_up(port)


def test_a_restarted_emulator_keeps_secrets_objects_and_functions(tmp_path: Path) -> None:
    port = emulator.free_port()
    endpoint = f"http://127.0.0.1:{port}"
    emulator.start(port, tmp_path)
    try:
        secret = emulator_client("secretsmanager", endpoint).create_secret(Name="kept", SecretString="pw-1")["ARN"]
        s3 = emulator_client("s3", endpoint)
        s3.create_bucket(Bucket="kept-bucket")
        s3.put_object(Bucket="kept-bucket", Key="a/b.json", Body=b'{"x":1}\n')
        role = emulator_client("iam", endpoint).create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        emulator_client("lambda", endpoint).create_function(
            FunctionName="kept-fn", Runtime="python3.12", Role=role, Handler="h.handler", Code={"ZipFile": tiny_zip()}
        )
    finally:
        assert "saved" in emulator.stop(tmp_path)
    wait_down(port)
    message, kept = emulator.start(port, tmp_path)
    try:
        assert "restored" in message and kept, message
        assert emulator_client("secretsmanager", endpoint).get_secret_value(SecretId=secret)["SecretString"] == "pw-1"
        body = emulator_client("s3", endpoint).get_object(Bucket="kept-bucket", Key="a/b.json")["Body"].read()
        assert body == b'{"x":1}\n'
        config = emulator_client("lambda", endpoint).get_function_configuration(FunctionName="kept-fn")
        assert config["Handler"] == "h.handler"
    finally:
        emulator.stop(tmp_path)


def test_a_killed_emulator_is_said_to_have_lost_what_came_after_its_last_clean_stop(tmp_path: Path) -> None:
    """The state is saved on a clean stop only: after a SIGKILL, a restart must not look
    complete (pushes answered 200 after the last save are gone)."""
    port = emulator.free_port()
    emulator.start(port, tmp_path)
    emulator.stop(tmp_path)  # a clean stop: saved
    wait_down(port)
    message, _ = emulator.start(port, tmp_path)
    assert "restored" in message and "WARNING" not in message, message
    pid = int((tmp_path / "emulator.pid").read_text().split()[0])
    os.killpg(pid, signal.SIGKILL)
    wait_down(port)
    message, _ = emulator.start(port, tmp_path)
    try:
        assert "WARNING: the previous emulator was killed without saving" in message, message
        assert "restored" in message  # the last clean stop's state is still there
    finally:
        emulator.stop(tmp_path)
    wait_down(port)
    message, _ = emulator.start(port, tmp_path)  # after a clean stop again: no warning
    try:
        assert "WARNING" not in message, message
    finally:
        emulator.stop(tmp_path)


def test_a_stale_pid_file_signals_nothing(tmp_path: Path) -> None:
    (tmp_path / "emulator.pid").write_text(f"{os.getpid()} 1\n")  # this test process: not an emulator
    assert emulator.stop(tmp_path) == "not running (its pid file was stale)"
    assert not (tmp_path / "emulator.pid").exists()


@pytest.mark.parametrize(
    ("module", "stopped"),
    [
        ("local.emulator.moto_server", True),
        ("local.moto_server", True),  # started by a checkout from before local/ had sub-packages
        ("local.emulator.control", False),  # any other process keeps running
    ],
)
def test_stop_signals_only_a_process_running_the_emulator_module(tmp_path: Path, module: str, stopped: bool) -> None:
    # A stand-in whose command line names the module, in its own session as spawn() starts it.
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", module], start_new_session=True)
    try:
        deadline = time.monotonic() + 5  # until the child has exec'd into that command line
        while module.encode() not in Path(f"/proc/{process.pid}/cmdline").read_bytes():
            assert time.monotonic() < deadline, "the stand-in did not start"
            time.sleep(0.01)
        (tmp_path / "emulator.pid").write_text(f"{process.pid} 1\n")
        message = emulator.stop(tmp_path)
        if stopped:
            assert message == f"stopped (pid {process.pid})", message
            assert process.poll() is not None  # gone (stop() reaps its own child)
        else:
            assert message == "not running (its pid file was stale)", message
            assert process.poll() is None
        assert not (tmp_path / "emulator.pid").exists()
    finally:
        process.kill()
        process.wait()


def test_an_unloadable_saved_state_is_set_aside_and_said_plainly(tmp_path: Path) -> None:
    (tmp_path / emulator.STATE_FILE).write_bytes(b"not a pickle")
    port = emulator.free_port()
    message, kept = emulator.start(port, tmp_path)
    try:
        assert not kept
        assert "could not be loaded" in message and "new password" in message
        assert (tmp_path / "emulator-state.unloadable").exists()
    finally:
        emulator.stop(tmp_path)


def tiny_zip(source: str = "def handler(event, context):\n    return {'statusCode': 200, 'body': 'ok'}\n") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("h.py", source)
    return buffer.getvalue()


# --- emulator fidelity fixes ---------------------------------------------------------------

TLS_ONLY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": ["arn:aws:s3:::tls-only", "arn:aws:s3:::tls-only/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ],
}


@pytest.mark.parametrize(
    ("policy", "readable"),
    [
        (TLS_ONLY, True),  # the emulator stands in for AWS's TLS endpoints
        ({**TLS_ONLY, "Statement": [{**TLS_ONLY["Statement"][0], "Condition": {}}]}, False),  # unconditional deny
    ],
    ids=["deny-without-tls-lets-requests-through", "unconditional-deny-still-denies"],
)
def test_bucket_policies_see_requests_as_tls(moto_endpoint: str, policy: dict[str, Any], readable: bool) -> None:
    s3 = emulator_client("s3", moto_endpoint)
    s3.create_bucket(Bucket="tls-only")
    s3.put_object(Bucket="tls-only", Key="k", Body=b"v")
    s3.put_bucket_policy(Bucket="tls-only", Policy=json.dumps(policy))
    try:
        assert s3.get_object(Bucket="tls-only", Key="k")["Body"].read() == b"v"
        got = True
    except s3.exceptions.ClientError:
        got = False
    finally:
        s3.delete_bucket_policy(Bucket="tls-only")
        s3.delete_object(Bucket="tls-only", Key="k")
        s3.delete_bucket(Bucket="tls-only")
    assert got is readable


WHEN = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    ("destination", "key_prefix", "suffix"),
    [
        (
            {
                "Prefix": "logs/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/",
                "CompressionFormat": "GZIP",
                "FileExtension": ".json.gz",
            },
            "logs/year=2026/month=01/day=02/hour=03/",
            ".json.gz",
        ),
        ({"Prefix": "plain/"}, "plain/2026/01/02/03/", ""),  # no expression: Firehose's default time prefix
        ({"Prefix": "x/!{timestamp:'y='yyyy}/", "CompressionFormat": "GZIP"}, "x/y=2026/", ".gz"),
    ],
    ids=["expressions-and-extension", "default-time-prefix", "quoted-literal"],
)
def test_firehose_object_keys_follow_aws(destination: dict[str, str], key_prefix: str, suffix: str) -> None:
    key = firehose_object_key("stream", "1", destination, WHEN)
    assert key.startswith(key_prefix + "stream-1-2026-01-02-03-04-05-")
    assert key.endswith(suffix)


def test_firehose_delivers_gzip_under_the_evaluated_prefix(moto_endpoint: str) -> None:
    s3 = emulator_client("s3", moto_endpoint)
    s3.create_bucket(Bucket="fh-target")
    role = emulator_client("iam", moto_endpoint).create_role(RoleName="fh-gz", AssumeRolePolicyDocument="{}")
    firehose = emulator_client("firehose", moto_endpoint)
    firehose.create_delivery_stream(
        DeliveryStreamName="fh-gz",
        ExtendedS3DestinationConfiguration={
            "RoleARN": role["Role"]["Arn"],
            "BucketARN": "arn:aws:s3:::fh-target",
            "Prefix": "logs/year=!{timestamp:yyyy}/",
            "ErrorOutputPrefix": "errors/!{firehose:error-output-type}/",
            "CompressionFormat": "GZIP",
            "FileExtension": ".json.gz",
        },
    )
    firehose.put_record_batch(DeliveryStreamName="fh-gz", Records=[{"Data": b"a\n"}, {"Data": b"b\n"}])
    (obj,) = s3.list_objects_v2(Bucket="fh-target")["Contents"]
    assert obj["Key"].startswith(f"logs/year={datetime.datetime.now(datetime.UTC).year}/fh-gz-")
    assert obj["Key"].endswith(".json.gz")
    assert gzip.decompress(s3.get_object(Bucket="fh-target", Key=obj["Key"])["Body"].read()) == b"a\nb\n"


# --- deployment state: one line and what to run --------------------------------------------


def test_local_state_without_a_deployment_says_to_run_make_run(tmp_path: Path) -> None:
    state = LocalState(tmp_path)
    for read in (lambda: state.outputs, lambda: state.endpoint_url, state.require_emulator):
        with pytest.raises(NotDeployed) as raised:
            read()
        assert str(raised.value) == NO_DEPLOYMENT and "`make run`" in NO_DEPLOYMENT


def test_local_state_reads_outputs_and_says_when_the_emulator_is_down(tmp_path: Path) -> None:
    state = LocalState(tmp_path)
    port = emulator.free_port()  # nothing listens there
    (tmp_path / "deployment.json").write_text(json.dumps({"endpoint_url": f"http://127.0.0.1:{port}"}))
    (tmp_path / "outputs.json").write_text(
        json.dumps(
            {
                "push_url": {"value": "https://x/loki/api/v1/push"},
                "loki_ingest": {"value": {"bucket_name": "b", "push_url": "ignored-module-value"}},
            }
        )
    )
    assert state.endpoint_url == f"http://127.0.0.1:{port}"
    # Module outputs are flattened; the root's own outputs win.
    assert state.outputs == {"bucket_name": "b", "push_url": "https://x/loki/api/v1/push"}
    with pytest.raises(NotDeployed, match="emulator is not running") as raised:
        state.require_emulator()
    assert str(raised.value) == EMULATOR_DOWN and "\n" not in EMULATOR_DOWN


@pytest.mark.parametrize(
    ("tool", "argv"),
    [
        ("local.tools.logs", []),
        ("local.tools.query", []),
        ("local.tools.info", ["--password"]),
    ],
)
def test_local_tools_explain_a_missing_deployment_in_one_line(
    tool: str, argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    monkeypatch.setattr("sys.argv", [tool, "--state-dir", str(tmp_path), *argv])
    module = importlib.import_module(tool)
    with pytest.raises(SystemExit) as raised:
        module.main()
    assert raised.value.code == NO_DEPLOYMENT


def test_a_query_naming_another_deployments_database_says_which_one_is_here() -> None:
    import duckdb

    from local.tools.query import failure

    con = duckdb.connect()
    con.execute('CREATE SCHEMA "loki_ingest_local_logs"')
    with pytest.raises(duckdb.CatalogException) as raised:
        con.execute("SELECT * FROM loki_ingest_prod_logs.records")
    explained = failure(raised.value, "loki_ingest_local_logs")
    assert 'schema "loki_ingest_prod_logs" does not exist' in explained
    assert explained.endswith("(here the table is loki_ingest_local_logs.records, or just records)")
    with pytest.raises(duckdb.ParserException) as other:
        con.execute("SELEC 1")
    assert "here the table" not in failure(other.value, "loki_ingest_local_logs")


# --- handler settings from the shell -------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"SUCCESS_STATUS_CODE": "204", "HOME": "/root"}, {"SUCCESS_STATUS_CODE": "204"}),
        ({"MAX_LINE_BYTES": "10", "PATH": "/bin", "AWS_REGION": "x"}, {"MAX_LINE_BYTES": "10"}),
        ({"LOG_LEVEL": "DEBUG", "TRACING_ENABLED": "true"}, {"LOG_LEVEL": "DEBUG", "TRACING_ENABLED": "true"}),
        ({}, {}),
    ],
)
def test_only_handler_settings_pass_through_from_the_shell(environ: dict[str, str], expected: dict[str, str]) -> None:
    assert passthrough(environ) == expected


# --- the function URL server ---------------------------------------------------------------


@pytest.fixture
def served(make_app: Callable[..., Harness]) -> Iterator[tuple[Harness, int]]:
    harness = make_app()
    server = FunctionUrlServer(("127.0.0.1", 0), InProcessInvoker(harness.app), quiet=True)
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


# --- the zip through awslambdaric and the local Runtime API ----------------------------------

HANDLERS = {
    "ok": "def handler(event, context):\n"
    "    left = context.get_remaining_time_in_millis() > 0\n"
    "    return {'statusCode': 201, 'body': event['rawPath'] + ' ' + str(left)}\n",
    "raises": "def handler(event, context):\n    raise ValueError('boom')\n",
    "sleeps": "import time\ndef handler(event, context):\n    time.sleep(30)\n",
    "import-error": "import not_a_module\ndef handler(event, context):\n    return {}\n",
    "env": "import os, sys\ndef handler(event, context):\n"
    "    return {'statusCode': 200, 'body': ' '.join([os.environ['SETTING'], os.environ['AWS_LAMBDA_FUNCTION_NAME'],"
    " sys.version.split()[0][:4], str(sys.path[0] == os.environ['LAMBDA_TASK_ROOT'])])}\n",
}


def runner_for(tmp_path: Path, handler: str, timeout_s: float = 3.0) -> Any:
    if not PY312 or not (RUNTIME_DIR / "awslambdaric").exists():
        pytest.skip("no Python 3.12 with awslambdaric (make lambda-runtime)")
    from local.runtime.artifact import ArtifactRunner
    from local.runtime.function_env import FunctionConfig

    package = tmp_path / "fn.zip"
    package.write_bytes(tiny_zip(HANDLERS[handler]))
    config = FunctionConfig(
        name="fn",
        arn="arn:aws:lambda:us-east-1:123456789012:function:fn",
        handler="h.handler",
        runtime="python3.12",
        timeout_s=timeout_s,
        memory_mb=128,
        architecture="x86_64",
        variables={"SETTING": "deployed"},
    )
    return ArtifactRunner(
        package,
        config,
        python=PY312,
        runtime_dir=RUNTIME_DIR,
        aws={},
        overrides={"SETTING": "overridden"},
        max_environments=2,
        log_path=tmp_path / "function.log",
    )


@pytest.mark.parametrize(
    ("handler", "status", "body"),
    [
        ("ok", 201, b"/hello True"),
        ("env", 200, b"overridden fn 3.12 True"),
        ("raises", 502, FUNCTION_ERROR.body),
        ("import-error", 502, FUNCTION_ERROR.body),
    ],
)
def test_the_runtime_client_answers_through_the_runtime_api(
    tmp_path: Path, handler: str, status: int, body: bytes
) -> None:
    invoker = ArtifactInvoker(runner_for(tmp_path, handler), log=lambda line: None)
    try:
        response, _ = invoker(build_event("GET", "/hello", [], b""))
    finally:
        invoker.close()
    assert (response.status, response.body) == (status, body)


def test_an_invocation_past_the_timeout_kills_its_environment(tmp_path: Path) -> None:
    runner = runner_for(tmp_path, "sleeps", timeout_s=1.0)
    try:
        result = runner.invoke(build_event("GET", "/", [], b""))
        assert result.error == {"errorType": "Sandbox.Timedout", "errorMessage": "Task timed out after 1.00 seconds"}
        assert not any(env.alive for env in runner._all)
    finally:
        runner.close()


def test_a_broken_package_fails_its_warm_up_with_the_init_error(tmp_path: Path) -> None:
    from local.runtime.artifact import InitFailed

    runner = runner_for(tmp_path, "import-error")
    try:
        with pytest.raises(InitFailed, match="not_a_module"):
            runner.warm_up()
    finally:
        runner.close()


def test_next_carries_every_header_lambda_sends() -> None:
    from local.runtime.runtime_api import Invocation, RuntimeApi

    api = RuntimeApi().start()
    try:
        invocation = api.submit(Invocation(b'{"k":1}', 3.0, "arn:aws:lambda:us-east-1:1:function:f"))
        connection = http.client.HTTPConnection(*api.address.split(":"), timeout=10)
        connection.request("GET", "/2018-06-01/runtime/invocation/next")
        answer = connection.getresponse()
        headers = {name.lower(): value for name, value in answer.getheaders()}
        assert (answer.status, answer.read()) == (200, b'{"k":1}')
        assert headers["lambda-runtime-aws-request-id"] == invocation.request_id
        assert headers["lambda-runtime-deadline-ms"] == str(invocation.deadline_ms)
        assert headers["lambda-runtime-invoked-function-arn"] == "arn:aws:lambda:us-east-1:1:function:f"
        assert headers["lambda-runtime-trace-id"].startswith("Root=1-")
        assert headers["lambda-runtime-client-context"] == headers["lambda-runtime-cognito-identity"] == ""
        path = f"/2018-06-01/runtime/invocation/{invocation.request_id}/response"
        for body, status in ((b'"ok"', 202), (b'"again"', 400)):  # answered once only
            connection.request("POST", path, body=body)
            reply = connection.getresponse()
            reply.read()
            assert reply.status == status
        assert invocation.done.is_set() and invocation.result == b'"ok"'
    finally:
        api.stop()


# --- make logs: records as the lines that were pushed ---------------------------------------


def stored_line(line: str) -> bytes:
    """A record as the handler stores it (one entry through records.build)."""
    from loki_ingest.ingest.model import Rejections, exact_text
    from loki_ingest.ingest.validate import ValidStream
    from loki_ingest.records.render import build

    stream = ValidStream((("app", "x"),), '{app="x"}', [(1, exact_text(line), ())])
    (stored,) = build([stream], Rejections(), 1_024_000).lines
    return stored


@pytest.mark.parametrize(
    ("stored", "line"),
    [
        (stored_line("plain text é"), "plain text é".encode()),
        (stored_line('{"event_id":"e", "n":1}'), b'{"event_id":"e", "n":1}'),
        (stored_line('{"a":\r\n 1}'), b'{"a":\r\n 1}'),
        (stored_line('{"message":"x"}\n'), b'{"message":"x"}\n'),
        (b"not a record\n", b"not a record"),
    ],
    ids=["text", "json-object-spliced-exactly", "json-with-crlf", "json-with-suffix", "not-a-record"],
)
def test_original_line_gives_back_what_was_pushed(stored: bytes, line: bytes) -> None:
    assert original_line(stored) == line


@pytest.mark.parametrize(
    ("raw", "shown"),
    [(b"caf\xc3\xa9", "café"), (b"bad \xff byte", "bad \\xff byte"), (b"bell\x07", "bell\\x07"), (b"a\tb", "a\tb")],
)
def test_printable_shows_bytes_a_terminal_would_hide(raw: bytes, shown: str) -> None:
    assert printable(raw) == shown


@pytest.mark.parametrize(
    ("since", "expected_ns"),
    [
        ("10m", int((1_000_000 - 600) * 1e9)),
        ("2h", int((1_000_000 - 7200) * 1e9)),
        ("1970-01-12T13:46:40Z", int(1_000_000 * 1e9)),
    ],
)
def test_since_accepts_durations_and_times(since: str, expected_ns: int) -> None:
    assert parse_since(since, now=1_000_000.0) == expected_ns


@pytest.mark.parametrize("bad", ["yesterday", "10 minutes"])
def test_a_bad_since_is_explained(bad: str) -> None:
    with pytest.raises(NotDeployed, match="duration like 10m"):
        parse_since(bad)


def test_filters_keep_matching_labels_text_and_time() -> None:
    def stored(labels: dict[str, str], line: str, ns: int) -> tuple[str, bytes]:
        doc = {"stream": labels, "record": {"message": line}, "timestamp_ns": str(ns), "format": "text"}
        return ("k", json.dumps(doc).encode())

    lines = [
        stored({"env": "local", "app": "a"}, "hello world", 5),
        stored({"env": "prod"}, "hello prod", 6),
        stored({"env": "local"}, "old hello", 1),
        stored({"env": "local"}, "bye", 7),
    ]
    kept = select(lines, Filters(parse_labels(["env=local"]), grep="HELLO", since_ns=2))
    assert [original_line(stored) for stored, _, _ in kept] == [b"hello world"]
    assert parse_labels(["env=local,app=a", "x=y"]) == {"env": "local", "app": "a", "x": "y"}
    with pytest.raises(NotDeployed, match="name=value"):
        parse_labels(["novalue"])
