"""SQL over the local bucket with DuckDB, on a view shaped like the Athena table.

    python -m local.tools.query --state-dir .local --sql "SELECT count(*) FROM records"
    make query SQL="SELECT stream['service_name'] AS service, count(*) FROM records GROUP BY 1"

DuckDB reads the NDJSON objects straight from the emulator's S3 (its httpfs extension,
installed from PyPI as duckdb-extension-httpfs) with the year=/month=/day=/hour= partitions
Firehose writes. The view `<glue database>.records` (also reachable as plain `records`) has
the Glue table's columns, both built from the record declaration
(lambda/loki_ingest/records/schema.py), plus the year, month, day and hour partitions; and
json_extract_scalar is defined as in Athena, so the module README's Athena queries run here
unchanged.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from local.state import REGION, LocalState, NotDeployed
from loki_ingest.records.schema import FIELDS

DEFAULT_SQL = "SELECT ts, stream, record FROM records ORDER BY timestamp_ns DESC LIMIT 20"

PARTITIONS = ("year", "month", "day", "hour")


def view_columns() -> list[str]:
    """The view's SELECT list: each declared field as its Glue column (a JSON object as text,
    as Athena's string column gives it), then the partitions as integers."""
    columns = []
    for field in FIELDS:
        value = f'"{field.name}"'
        if field.json_type == "object":
            value = f"CAST({value} AS VARCHAR)"
        columns.append(f"{value} AS {field.column_name}")
    return columns + [f"CAST({name} AS INTEGER) AS {name}" for name in PARTITIONS]


def httpfs_extension() -> Path:
    import duckdb
    import duckdb_extension_httpfs

    path = Path(duckdb_extension_httpfs.__file__).parent / "extensions" / f"v{duckdb.__version__}"
    return path / "httpfs.duckdb_extension"


def connect(endpoint_url: str, outputs: Mapping[str, Any]) -> Any:
    """A DuckDB connection with the Athena-shaped view over the deployment's bucket."""
    import duckdb

    con = duckdb.connect()
    # Loaded from the PyPI package: DuckDB would otherwise download it at first use.
    con.execute(f"LOAD '{httpfs_extension()}'")
    host = endpoint_url.split("://", 1)[-1].rstrip("/")
    con.execute(
        "CREATE SECRET emulator (TYPE s3, KEY_ID 'test', SECRET 'test', "
        f"REGION '{REGION}', ENDPOINT '{host}', URL_STYLE 'path', USE_SSL false)"
    )
    database = outputs.get("glue_database_name") or "logs"
    prefix = str(outputs.get("s3_prefix", "logs/")).split("year=", 1)[0]
    columns = "{" + ", ".join(f"'{field.name}': '{field.duckdb_type}'" for field in FIELDS) + "}"
    source = (
        f"read_json('s3://{outputs['bucket_name']}/{prefix}**', format = 'newline_delimited', "
        f"columns = {columns}, hive_partitioning = true, hive_types_autocast = false, union_by_name = true)"
    )
    con.execute(f'CREATE SCHEMA "{database}"')
    con.execute(f'CREATE VIEW "{database}".records AS SELECT {", ".join(view_columns())} FROM {source}')
    con.execute(f'CREATE VIEW records AS SELECT * FROM "{database}".records')
    # Athena's (Presto's) name for extracting a JSON scalar as text.
    con.execute("CREATE MACRO json_extract_scalar(doc, path) AS json_extract_string(doc, path)")
    return con


def has_objects(state: LocalState, bucket: str) -> bool:
    answer = state.client("s3").list_objects_v2(Bucket=bucket, MaxKeys=1)
    return bool(answer.get("KeyCount"))


def run(con: Any, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    cursor = con.execute(sql)
    columns = [c[0] for c in cursor.description or []]
    return columns, cursor.fetchall()


def format_table(columns: list[str], rows: list[tuple[Any, ...]], width: int = 60) -> str:
    def cell(value: Any) -> str:
        text = "NULL" if value is None else str(value)
        return text if len(text) <= width else text[: width - 1] + "…"

    cells = [[cell(v) for v in row] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def failure(exc: Exception, database: str) -> str:
    """One line for a failed query; a query copied from AWS names that deployment's database."""
    message = str(exc).splitlines()[0]
    if re.search(r'schema "[^"]*" does not exist', message):
        message += f" (here the table is {database}.records, or just records)"
    return f"query failed: {message}"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state-dir", type=Path, default=Path(".local"))
    parser.add_argument("--sql", default=os.environ.get("LOKI_SQL") or DEFAULT_SQL)
    args = parser.parse_args(argv)
    state = LocalState(args.state_dir)
    try:
        outputs = state.outputs
        state.require_emulator()
        if not has_objects(state, outputs["bucket_name"]):
            sys.exit(f"no records in s3://{outputs['bucket_name']} yet: push one (see the README) and query again")
        con = connect(state.endpoint_url, outputs)
        columns, rows = run(con, args.sql)
    except NotDeployed as exc:
        sys.exit(str(exc))
    except Exception as exc:
        if type(exc).__module__.startswith("duckdb") or type(exc).__name__.endswith("Exception"):
            sys.exit(failure(exc, outputs.get("glue_database_name") or "logs"))
        raise
    print(format_table(columns, rows))
    print(f"({len(rows)} row{'s' if len(rows) != 1 else ''})", file=sys.stderr)


if __name__ == "__main__":
    main()
