"""`make verify` against the local stack, and what the monitoring of issue 13 left in it.

`make verify` runs as a user runs it (the Makefile target, in a subprocess) against the
session's deployment: the dev root applied with tflocal to the emulator, the zip on Python 3.12
behind the function URL server. It passes when the line lands intact, and fails, saying where,
when delivery is broken on purpose (the Firehose stream pointed at another bucket: the endpoint
still answers 200, as on AWS when delivery to S3 fails). The same push's log line carries valid
EMF from the real runtime, and the saved Athena queries run on the landed records."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.tools.query import connect
from loki_canary import handler as canary
from tests.conftest import ROOT, record_figures
from tests.e2e.conftest import PY312, Deployment, Endpoint
from tests.support import emf

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def state_dir(deployment: Deployment, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `make run` leaves in .local/ for this deployment (local/state.py reads it)."""
    directory = tmp_path_factory.mktemp("verify-state")
    (directory / "outputs.json").write_text(json.dumps(deployment.stack.outputs_json()))
    (directory / "deployment.json").write_text(json.dumps({"endpoint_url": deployment.endpoint}))
    return directory


def make_verify(state_dir: Path, url: str, **env: str) -> subprocess.CompletedProcess[str]:
    port = url.rsplit(":", 1)[1]
    return subprocess.run(
        ["make", "-s", "verify", f"LOCAL={state_dir}", f"LOCAL_PORT={port}"],
        cwd=ROOT,
        env={**_clean_env(), **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS"))}


def test_make_verify_proves_a_line_lands_intact_and_prints_the_latency(
    deployment: Deployment, stack: Endpoint, state_dir: Path
) -> None:
    result = make_verify(state_dir, stack.url)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert "pushing one marked line to " + stack.url + "/loki/api/v1/push" in lines[0]
    assert "waiting for the line in s3://" in lines[1] and "giving up after 360 s" in lines[1]
    assert "the record keeps the invariant and gives back the pushed line" in result.stdout
    latency = re.search(r"OK: end-to-end latency ([0-9.]+) s \(push answered in ([0-9]+) ms", result.stdout)
    assert latency, result.stdout
    record_figures(
        "make verify, local stack (s, ms)",
        {"end_to_end_s": float(latency.group(1)), "push_ms": int(latency.group(2)), "python312": bool(PY312)},
    )
    canary_records = [r for r in deployment.records() if r["stream"] == {"service_name": "loki-ingest-canary"}]
    assert canary_records and canary_records[-1]["format"] == "json"


def metrics_lines(log: Path) -> Iterator[dict[str, Any]]:
    for raw in log.read_text(errors="replace").splitlines():
        if raw.startswith("{"):
            with_json = json.loads(raw)
            if with_json.get("message") == "metrics":
                yield with_json


def test_the_zips_metrics_lines_carry_valid_emf_under_lambdas_json_log_format(
    deployment: Deployment, stack: Endpoint, state_dir: Path
) -> None:
    """The artifact on Python 3.12, run by awslambdaric with AWS_LAMBDA_LOG_FORMAT=JSON (what
    the module configures): its own stdout lines reach the log as JSON objects with `_aws` at the
    root, not wrapped by the runtime's logger. Successful pushes have no line of their own: an
    execution environment's first one is in a metrics line at once, later ones once a minute."""
    if not PY312:
        pytest.skip("no Python 3.12: the endpoint imports the handler in-process")
    assert make_verify(state_dir, stack.url).returncode == 0
    lines = list(metrics_lines(deployment.workdir / "function.log"))
    assert lines, "no metrics line in the function's log"
    for line in lines:
        assert emf.problems(json.dumps(line)) == []
        assert line["FunctionName"] == deployment.outputs["function_name"]
        assert line["level"] == "INFO" and line["requests"] >= 1
    assert sum(line["Pushes"] for line in lines) >= 1 and sum(line["EntriesReceived"] for line in lines) >= 1
    assert not [
        raw
        for raw in (deployment.workdir / "function.log").read_text().splitlines()
        if '"message":"request"' in raw and '"status":200' in raw
    ]


def test_make_verify_fails_and_says_where_when_delivery_is_broken(
    deployment: Deployment, stack: Endpoint, state_dir: Path
) -> None:
    """Firehose pointed at another bucket: the push is still answered 200 (delivery happens after
    Firehose accepts the records), and the line never reaches the deployment's bucket."""
    firehose, s3 = deployment.client("firehose"), deployment.client("s3")
    name, bucket = deployment.outputs["firehose_stream_name"], deployment.outputs["bucket_name"]
    elsewhere = f"{bucket}-elsewhere"
    s3.create_bucket(Bucket=elsewhere)
    original = redirect(firehose, name, f"arn:aws:s3:::{elsewhere}")
    try:
        started = time.monotonic()
        result = make_verify(state_dir, stack.url, VERIFY_TIMEOUT="4")
        took = time.monotonic() - started
    finally:
        redirect(firehose, name, original)
    assert result.returncode != 0, result.stdout
    assert f"FAILED: the line was not in s3://{bucket} after 4 s" in result.stdout
    assert "the endpoint accepted the line but it did not reach S3" in result.stdout
    assert "Firehose log group" in result.stdout and "delivery-* alarms" in result.stdout
    assert took < 60, "VERIFY_TIMEOUT bounds the wait"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=elsewhere).get("Contents", [])]
    assert keys, "the push was accepted and delivered elsewhere, so the canary's failure is the only signal"
    # Delivery restored: the next run passes again.
    assert make_verify(state_dir, stack.url).returncode == 0


def redirect(firehose: Any, name: str, bucket_arn: str) -> str:
    """Point the stream's S3 destination at bucket_arn; returns the previous bucket ARN."""
    described = firehose.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]
    destination = described["Destinations"][0]
    previous = str(destination["ExtendedS3DestinationDescription"]["BucketARN"])
    firehose.update_destination(
        DeliveryStreamName=name,
        CurrentDeliveryStreamVersionId=described["VersionId"],
        DestinationId=destination["DestinationId"],
        ExtendedS3DestinationUpdate={"BucketARN": bucket_arn},
    )
    return previous


def test_make_verify_says_what_to_run_when_nothing_listens(state_dir: Path, stack: Endpoint) -> None:
    result = make_verify(state_dir, "http://127.0.0.1:9")
    assert result.returncode != 0
    assert "nothing listens on http://127.0.0.1:9: start the endpoint with `make run`" in result.stderr


# --- what the module created in the emulator --------------------------------------------------


def test_the_saved_athena_queries_run_on_the_landed_records(
    deployment: Deployment, stack: Endpoint, state_dir: Path
) -> None:
    """The module's Athena named queries, read back from the emulator, run with DuckDB on the
    Athena-shaped view of the bucket (make query) and find the canary's event."""
    assert make_verify(state_dir, stack.url).returncode == 0
    canary = [r for r in deployment.records() if r["stream"].get("service_name") == "loki-ingest-canary"][-1]
    athena = deployment.client("athena")
    workgroup = deployment.outputs["athena_workgroup"]
    queries = {}
    for query_id in athena.list_named_queries(WorkGroup=workgroup)["NamedQueryIds"]:
        query = athena.get_named_query(NamedQueryId=query_id)["NamedQuery"]
        queries[query["Name"].split("/", 1)[1]] = query
    assert sorted(queries) == ["deduplicated-events", "events-by-event-id", "recent-events"]
    assert {q["Database"] for q in queries.values()} == {deployment.outputs["glue_database_name"]}
    when = time.gmtime(int(canary["timestamp_ns"]) // 10**9)
    con = connect(deployment.endpoint, deployment.outputs)
    day = [when.tm_year, when.tm_mon, when.tm_mday]
    for name, params in [("recent-events", day), ("deduplicated-events", day)]:
        rows = con.execute(queries[name]["QueryString"], params).fetchall()
        assert canary["id"] in [row[-1] for row in rows], name
    # events-by-event-id looks up the event_id field of JSON lines: the canary's line has none,
    # so query a pushed Stytch-like event of its own.
    rows = con.execute(queries["events-by-event-id"]["QueryString"], [*day[:2], "no-such-event"]).fetchall()
    assert rows == []


def test_the_alarms_dashboard_and_saved_queries_exist_in_the_emulator(deployment: Deployment) -> None:
    name = deployment.outputs["function_name"]
    alarms = deployment.client("cloudwatch").describe_alarms(AlarmNamePrefix=f"{name}-")["MetricAlarms"]
    assert sorted(a["AlarmName"] for a in alarms) == sorted(deployment.outputs["alarm_names"])
    # 9 metric alarms (EMFValidationErrors and EMFParsingErrors among them) + 2 rate alarms.
    assert len(alarms) == 11
    assert {f"{name}-metrics-broken", f"{name}-metrics-unparsable"} <= {a["AlarmName"] for a in alarms}
    dashboard = deployment.client("cloudwatch").get_dashboard(DashboardName=deployment.outputs["dashboard_name"])
    body = json.loads(dashboard["DashboardBody"])
    text = json.dumps(body)
    assert name in text and deployment.outputs["firehose_stream_name"] in text
    logs = deployment.client("logs").describe_query_definitions(queryDefinitionNamePrefix=f"{name}/")
    assert sorted(q["name"] for q in logs["queryDefinitions"]) == sorted(
        deployment.outputs["saved_queries"]["logs_insights"]
    )
    assert all(q["logGroupNames"] == [deployment.outputs["lambda_log_group_name"]] for q in logs["queryDefinitions"])


def test_the_scheduled_canarys_entry_point_passes_against_the_stack(
    deployment: Deployment, stack: Endpoint, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """loki_canary.handler.handler, as the module's scheduled function runs it (canary.tf sets
    these variables), with boto3 pointed at the emulator as the session does."""
    outputs = deployment.outputs
    environment = {
        "CANARY_PUSH_URL": f"{stack.url}/loki/api/v1/push",
        "CANARY_SECRET_ARN": outputs["secret_arn"],
        "CANARY_BUCKET": outputs["bucket_name"],
        "CANARY_S3_PREFIX": outputs["s3_prefix"],
        "CANARY_BUFFER_INTERVAL_SECONDS": str(outputs["firehose_buffering_interval_seconds"]),
        "CANARY_FUNCTION_NAME": outputs["function_name"],
    }
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    capsys.readouterr()
    answer = canary.handler({}, None)
    assert answer["ok"], answer
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert emf.problems(json.dumps(line)) == []
    assert (line["CanarySuccess"], line["FunctionName"]) == (1, outputs["function_name"])
