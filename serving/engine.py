"""Read-only, confined DuckDB queries over the lakehouse's Delta tables.

The Delta log is read by the `deltalake` package (current snapshot, or an earlier version or
timestamp for time travel), which hands DuckDB Arrow datasets. DuckDB itself gets no file
system access at all (`enable_external_access=false`, configuration locked), so a query can
read only the lakehouse tables it names, cannot write files, and cannot change its settings;
and only SELECT statements are accepted.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from functools import lru_cache
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from lakehouse import tables
from lakehouse.spec import LAYERS
from serving.catalog import existing_tables

if TYPE_CHECKING:
    from deltalake import DeltaTable

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

    def travels(self, name: str) -> bool:
        """True when `name` is read at an earlier version or time, not the current one."""
        return name in self.versions or name in self.timestamps or self.all_as_of is not None

    def load(self, name: str, root: str) -> DeltaTable:
        """The Delta table's log at the snapshot asked for."""
        table = tables.delta_log(name, root)
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


_PARSER = duckdb.connect(":memory:", config={"enable_external_access": False})
_PARSER_LOCK = threading.Lock()


def _base_tables(node, found: set[str]) -> set[str]:
    if isinstance(node, dict):
        if node.get("type") == "BASE_TABLE" and node.get("schema_name"):
            found.add(f"{node['schema_name']}.{node['table_name']}".lower())
        for value in node.values():
            _base_tables(value, found)
    elif isinstance(node, list):
        for value in node:
            _base_tables(value, found)
    return found


@lru_cache(maxsize=1024)
def parse(sql: str) -> frozenset[str]:
    """The schema-qualified tables a read-only query names; QueryRejected for anything else.

    Pure parsing (DuckDB's parse tree as JSON), no binding; cached, since the API and
    dashboards repeat the same queries.
    """
    with _PARSER_LOCK:
        tree = json.loads(_PARSER.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])
    if tree.get("error"):
        with _PARSER_LOCK:
            try:
                statements = _PARSER.extract_statements(sql)
            except duckdb.Error as exc:
                raise QueryRejected(f"cannot parse the query: {exc}") from exc
        for statement in statements:
            if statement.type != duckdb.StatementType.SELECT:
                raise QueryRejected(
                    f"only read-only SELECT queries are allowed here; got a {statement.type.name} statement")
        raise QueryRejected(f"cannot parse the query: {tree.get('error_message')}")
    if not tree.get("statements"):
        raise QueryRejected("the query is empty")
    return frozenset(_base_tables(tree, set()))


@dataclass
class _Loaded:
    version: int
    relation: object  # an Arrow table to load into DuckDB, or a lazy Arrow dataset for large tables
    native: bool  # True: held as a DuckDB table; False: a view over the lazy dataset


class Lakehouse:
    """Runs read-only SQL over the lakehouse tables under their contract names.

    One instance keeps one locked-down DuckDB connection and a cache of table snapshots keyed
    by Delta version. Before each query it checks, per table named, whether the next commit
    file exists (one `stat`); only then is the Delta log read again, so a query never sees
    files that a newer commit has replaced, and unchanged tables cost nothing to re-read.
    Snapshots of tables up to `materialize_bytes` on disk are loaded into DuckDB tables (so
    repeated queries run at DuckDB's native speed); larger tables stay lazy Arrow datasets.
    """

    def __init__(self, root: str, snapshot: Snapshot | None = None,
                 materialize_bytes: int = 64 * 1024 * 1024):
        self.root = root
        self.snapshot = snapshot or Snapshot()
        self.materialize_bytes = materialize_bytes
        self._lock = threading.Lock()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._loaded: dict[str, _Loaded] = {}

    def tables(self, names: Iterable[str] | None = None) -> dict[str, str]:
        """The contract tables that exist (of `names`, or all), name -> path."""
        if names is not None and all(name in self._loaded for name in names):
            return {name: tables.table_path(name, self.root) for name in names}  # loaded once: they exist
        return existing_tables(self.root, names)

    def _current(self, name: str) -> _Loaded:
        cached = self._loaded.get(name)
        if cached and not self.snapshot.travels(name) and not tables.has_commit(name, self.root, cached.version + 1):
            return cached
        table = self.snapshot.load(name, self.root)
        dataset = table.to_pyarrow_dataset()
        on_disk = pc.sum(pa.table(table.get_add_actions(flatten=True)).column("size_bytes")).as_py() or 0
        native = on_disk <= self.materialize_bytes
        return _Loaded(table.version(), dataset.to_table() if native else dataset, native)

    def _connection(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            con = duckdb.connect(":memory:", config=LOCKED_CONFIG)
            # The default in-memory database keeps loaded rows uncompressed (all of a small load,
            # part of a large one), which made scans up to twice as slow as on native tables; an
            # attached in-memory database with COMPRESS compresses them at each checkpoint.
            con.execute("ATTACH ':memory:' AS lakehouse (COMPRESS)")
            con.execute("USE lakehouse")
            self._con = con
        return self._con

    def _bind(self, con: duckdb.DuckDBPyConnection, names: set[str], available: dict[str, str]) -> None:
        changed = False
        for name in sorted(names & set(available)):
            loaded = self._current(name)
            previous = self._loaded.get(name)
            if previous is loaded:
                continue
            layer, table = name.split(".")
            target, relation = f'"{layer}"."{table}"', f"__{layer}__{table}"
            con.execute(f'CREATE SCHEMA IF NOT EXISTS "{layer}"')
            if previous is not None:
                con.execute(f"DROP {'TABLE' if previous.native else 'VIEW'} {target}")
            con.register(relation, loaded.relation)
            if loaded.native:
                con.execute(f'CREATE TABLE {target} AS SELECT * FROM "{relation}"')
                con.unregister(relation)
            else:
                con.execute(f'CREATE VIEW {target} AS SELECT * FROM "{relation}"')
            self._loaded[name] = loaded
            changed = changed or loaded.native
        if changed:
            con.execute("CHECKPOINT lakehouse")  # compresses what a load left uncompressed

    def query(self, sql: str) -> pa.Table:
        """The result of a read-only query, as an Arrow table."""
        names = parse(sql)
        available = self.tables(names)
        missing = sorted(n for n in names if n.split(".")[0] in LAYERS and n not in available)
        if missing:
            known = ", ".join(self.tables()) or "none yet"
            raise QueryRejected(f"not in the lakehouse (yet): {', '.join(missing)}. Tables available: {known}")
        with self._lock:
            con = self._connection()
            self._bind(con, names, available)
            try:
                return con.execute(sql).fetch_arrow_table()
            except duckdb.CatalogException as exc:
                raise QueryRejected(f"{exc}. Tables available: {', '.join(self.tables()) or 'none yet'}") from exc
            except duckdb.PermissionException as exc:
                raise QueryRejected(f"not allowed: queries read only the lakehouse tables ({exc})") from exc

    def close(self) -> None:
        """Close the DuckDB connection and drop cached snapshots."""
        with self._lock:
            if self._con is not None:
                self._con.close()
            self._con, self._loaded = None, {}
