"""A DuckDB database file with every lakehouse table as a view, for any DuckDB client.

The views read the current snapshot through DuckDB's `delta` extension (`delta_scan`), so a
client that opens the file always sees what the Delta log says now. The file is rebuilt
when tables are published (written beside, then renamed over: readers never see half a file).
With the tables on an object store the file holds no credentials: a client creates its own S3
secret first (docs/OPERATIONS.md, "The lakehouse on an object store").
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from pinlake import objectstore
from pinlake.settings import Settings
from serving.catalog import existing_tables


def database_path(settings: Settings) -> Path:
    """Where the DuckDB file lives: `<data_root>/serving/pinlake.duckdb`."""
    return settings.data_root / "serving" / "pinlake.duckdb"


def _connect_with_delta(path: str, settings: Settings) -> duckdb.DuckDBPyConnection:
    import duckdb_ext

    con = duckdb.connect(path)
    duckdb_ext.init(con)  # the delta and httpfs extensions ship in PyPI packages: no download
    con.execute("LOAD delta")
    if settings.on_s3:
        con.execute("LOAD httpfs")
        con.execute(objectstore.duckdb_secret(settings))  # this connection's only: not stored in the file
    return con


def refresh_database(settings: Settings) -> Path:
    """Write the DuckDB file with one view per existing lakehouse table; returns its path."""
    target = database_path(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_suffix(".duckdb.tmp")
    staging.unlink(missing_ok=True)
    con = _connect_with_delta(str(staging), settings)
    try:
        for name, path in existing_tables(settings.lakehouse).items():
            layer, table = name.split(".")
            con.execute(f'CREATE SCHEMA IF NOT EXISTS "{layer}"')
            location = path.replace("'", "''")
            con.execute(f"CREATE OR REPLACE VIEW \"{layer}\".\"{table}\" AS "
                        f"SELECT * FROM delta_scan('{location}')")
    finally:
        con.close()
    os.replace(staging, target)
    return target
