"""Every SQL example the repository shows a user runs against the local DuckDB view, which has
the Glue table's columns (records/schema.py declares both): the READMEs' and docs' ```sql blocks,
the `make query SQL=...` and `--query-string` commands, and the module's Athena named queries as
the deployment created them. A query naming a column the table lacks (`SELECT "timestamp"`)
fails here, as it would on Athena with COLUMN_NOT_FOUND."""

from __future__ import annotations

import json
import re
import time
import uuid
from pathlib import Path

import pytest

from local.tools.query import connect, run
from tests.conftest import ROOT
from tests.e2e.conftest import Deployment, Endpoint
from tests.e2e.test_local_stack import http, wait_for

pytestmark = pytest.mark.e2e

DOCUMENTS = sorted(
    [
        ROOT / "README.md",
        ROOT / "modules" / "loki-ingest" / "README.md",
        *(ROOT / "docs").glob("*.md"),
        *(ROOT / "examples").glob("*/README.md"),
    ]
)
_FENCED = re.compile(r"```sql\n(.*?)```", re.DOTALL)
_COMMANDS = re.compile(r"""(?:SQL=|--query-string )"((?:[^"\\]|\\.)+)\"""")
#: An Athena database of some deployment (`<name>_logs`), quoted or not, before `.records`.
_DATABASE = re.compile(r'"?\b[a-z0-9_]+_logs"?\."?records"?')
#: Values for the named queries' execution parameters, by the names their descriptions give.
PARAMETERS = {"year": "2026", "month": "1", "day": "15"}


def statements(text: str) -> list[str]:
    found = []
    for block in _FENCED.findall(text):
        lines = [line for line in block.splitlines() if not line.strip().startswith("--")]
        found += [part.strip() for part in "\n".join(lines).split(";") if part.strip()]
    commands = [command.replace('\\"', '"') for command in _COMMANDS.findall(text)]
    # A placeholder (SQL="...") is not a query.
    return found + [sql for sql in commands if re.match(r"\s*(SELECT|WITH|DESCRIBE)\b", sql, re.IGNORECASE)]


def documented_queries() -> list[tuple[str, str]]:
    return [
        (f"{path.relative_to(ROOT)}: {sql[:50]}", sql) for path in DOCUMENTS for sql in statements(path.read_text())
    ]


def with_parameters(query: str, description: str) -> str:
    names = re.search(r"Parameters: ([a-z_, ]+)\.", description)
    for name in names.group(1).split(", ") if names else []:
        query = query.replace("?", PARAMETERS.get(name, "'x'"), 1)
    return query


def local_sql(sql: str, database: str) -> str:
    return _DATABASE.sub(f'"{database}".records', sql)


def test_the_documents_show_sql_to_check() -> None:
    assert len(documented_queries()) >= 6
    assert any("json_extract_scalar" in sql for _, sql in documented_queries())


def test_a_column_the_table_lacks_is_refused_by_the_view(deployment: Deployment, stack: Endpoint) -> None:
    """What this file relies on: the view refuses an unknown column, as Athena does."""
    landed_one(deployment, stack)
    con = connect(deployment.endpoint, deployment.outputs)
    with pytest.raises(Exception, match="timestamp"):
        run(con, 'SELECT "timestamp" FROM records LIMIT 1')


def test_every_documented_and_saved_query_runs_on_the_view(deployment: Deployment, stack: Endpoint) -> None:
    landed_one(deployment, stack)
    database = deployment.outputs["glue_database_name"]
    queries = [(name, local_sql(sql, database)) for name, sql in documented_queries()]
    athena = deployment.client("athena")
    ids = athena.list_named_queries(WorkGroup=deployment.outputs["athena_workgroup"])["NamedQueryIds"]
    for query_id in ids:
        named = athena.get_named_query(NamedQueryId=query_id)["NamedQuery"]
        queries.append(
            (
                f"named query {named['Name']}",
                local_sql(with_parameters(named["QueryString"], named["Description"]), database),
            )
        )
    assert len(ids) >= 3, "the dev deployment saves the module's Athena queries"
    con = connect(deployment.endpoint, deployment.outputs)
    failures = []
    for name, sql in queries:
        try:
            run(con, sql)
        except Exception as exc:
            failures.append(f"{name}: {str(exc).splitlines()[0]}")
    assert not failures, "\n".join(failures)


def landed_one(deployment: Deployment, stack: Endpoint) -> None:
    """One Stytch-like event in the bucket, so the view has objects to read."""
    run_id = uuid.uuid4().hex[:12]
    line = json.dumps({"event_id": run_id, "action": "SessionsAuthenticate", "status": "error", "request_id": "r"})
    body = json.dumps(
        {"streams": [{"stream": {"service_name": "checkout", "run": run_id}, "values": [[str(time.time_ns()), line]]}]}
    )
    status, _, _ = http(
        "POST",
        f"{stack.url}/loki/api/v1/push",
        body.encode(),
        {"Content-Type": "application/json"},
        deployment.credentials(),
    )
    assert status == 200
    wait_for(deployment, lambda r: r["stream"].get("run") == run_id, 1)


def test_statements_are_found_in_fenced_blocks_and_commands(tmp_path: Path) -> None:
    text = '```sql\n-- a comment\nSELECT 1;\nSELECT 2\n```\nmake query SQL="SELECT \\"x\\" FROM records"\nSQL="..."\n'
    assert statements(text) == ["SELECT 1", "SELECT 2", 'SELECT "x" FROM records']
    assert local_sql("FROM loki_ingest_prod_logs.records", "dev_logs") == 'FROM "dev_logs".records'
    assert with_parameters("WHERE year = ? AND day = ? AND id = ?", "Parameters: year, day, event_id.") == (
        "WHERE year = 2026 AND day = 15 AND id = 'x'"
    )
