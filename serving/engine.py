"""Read-only, confined DuckDB queries over the lakehouse's Delta tables.

The Delta log is read by the `deltalake` package (current snapshot, or an earlier version or
timestamp for time travel), which hands DuckDB Arrow datasets. DuckDB itself gets no file
system access at all (`enable_external_access=false`, configuration locked), so a query can
read only the lakehouse tables it names, cannot write files, and cannot change its settings;
and only SELECT statements are accepted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

import duckdb
import pyarrow as pa
from deltalake import DeltaTable

from lakehouse.tables import LAYERS
from serving.catalog import ALL_TABLES, existing_tables

ALLOWED_STATEMENTS = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}
LOCKED_CONFIG = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "lock_configuration": True,
}


class QueryRejected(ValueError):
    """The query is not allowed (not read-only, or names an unknown table)."""


@dataclass(frozen=True)
class Snapshot:
    """Which snapshot of each table to read: current unless a version or timestamp is given."""

    versions: dict[str, int] = field(default_factory=dict)
    timestamps: dict[str, datetime | str] = field(default_factory=dict)
    all_as_of: datetime | str | None = None

    def load(self, name: str, path: str) -> DeltaTable:
        """The Delta table at the snapshot asked for."""
        table = DeltaTable(path)
        if name in self.versions:
            version = self.versions[name]
            if not 0 <= version <= table.version():
                raise QueryRejected(f"{name} has versions 0 to {table.version()}; there is no version {version}")
            table.load_as_version(version)
        elif name in self.timestamps or self.all_as_of is not None:
            table.load_as_version(version_as_of(name, table, self.timestamps.get(name, self.all_as_of)))
        return table


def _utc(moment: datetime | str) -> datetime:
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
        except ValueError as exc:
            raise QueryRejected(f"not an RFC 3339 time: {moment!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def version_as_of(name: str, table: DeltaTable, moment: datetime | str) -> int:
    """The latest version of `table` committed at or before `moment`."""
    when = _utc(moment)
    commits = [(c["version"], datetime.fromtimestamp(c["timestamp"] / 1000, timezone.utc))
               for c in table.history()]
    eligible = [version for version, at in commits if at <= when]
    if not eligible:
        first = min(at for _, at in commits)
        raise QueryRejected(f"{name} did not exist at {when.isoformat()}; its first version is from {first.isoformat()}")
    return max(eligible)


def check_read_only(sql: str) -> None:
    """Raise QueryRejected unless every statement is a SELECT (or EXPLAIN)."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryRejected(f"cannot parse the query: {exc}") from exc
    if not statements:
        raise QueryRejected("the query is empty")
    for statement in statements:
        if statement.type not in ALLOWED_STATEMENTS:
            raise QueryRejected(
                f"only read-only SELECT queries are allowed here; got a {statement.type.name} statement"
            )


def referenced_tables(sql: str) -> set[str]:
    """The qualified table names a query refers to."""
    return {name.lower() for name in duckdb.get_table_names(sql, qualified=True)}


class Lakehouse:
    """Runs read-only SQL over the lakehouse tables under their contract names."""

    def __init__(self, root: str, snapshot: Snapshot | None = None):
        self.root = root
        self.snapshot = snapshot or Snapshot()

    def tables(self) -> dict[str, str]:
        """The contract tables that exist, name -> path."""
        return existing_tables(self.root)

    def _connection(self, names: set[str]) -> duckdb.DuckDBPyConnection:
        available = self.tables()
        con = duckdb.connect(":memory:", config=LOCKED_CONFIG)
        for name in sorted(names & set(available)):
            layer, table = name.split(".")
            relation = f"__{layer}__{table}"
            con.register(relation, self.snapshot.load(name, available[name]).to_pyarrow_dataset())
            con.execute(f'CREATE SCHEMA IF NOT EXISTS "{layer}"')
            con.execute(f'CREATE VIEW "{layer}"."{table}" AS SELECT * FROM "{relation}"')
        return con

    def query(self, sql: str) -> pa.Table:
        """The result of a read-only query, as an Arrow table."""
        check_read_only(sql)
        names = referenced_tables(sql)
        available = self.tables()
        missing = sorted(n for n in names if n.split(".")[0] in LAYERS and n not in available)
        if missing:
            known = ", ".join(n for n in ALL_TABLES if n in available) or "none yet"
            raise QueryRejected(f"not in the lakehouse (yet): {', '.join(missing)}. Tables available: {known}")
        con = self._connection(names)
        try:
            return con.execute(sql).fetch_arrow_table()
        except duckdb.CatalogException as exc:
            known = ", ".join(n for n in ALL_TABLES if n in available) or "none yet"
            raise QueryRejected(f"{exc}. Tables available: {known}") from exc
        except duckdb.PermissionException as exc:
            raise QueryRejected(f"not allowed: queries read only the lakehouse tables ({exc})") from exc
        finally:
            con.close()
