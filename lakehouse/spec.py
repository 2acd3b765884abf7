"""What pinlake knows about each table, in one place: the table spec.

Every lakehouse table has one `Table`, defined in the module that builds it. The registries
(`lakehouse.catalog`), the quality gates, the demo's questions, serving's catalog and
maintenance's list are all derived from these specs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from pyspark.sql import DataFrame
from pyspark.sql import types as T

LAYERS = ("bronze", "silver", "gold", "quality")


@dataclass(frozen=True, eq=False)
class Table:
    """One lakehouse table.

    - `name`: `<layer>.<table>`; `schema`: its columns, in order; `keys`: what identifies a row.
    - `description`: one line; for a gold table, the question it answers.
    - `inputs`: the tables it is built from (a gold table: silver.pins joined with what it
      groups by); `build`: the pure transform that builds it from them.
    - `expectations`: its own quality expectations (a function, so that Great Expectations is
      imported only where a gate runs); the gate adds what the spec itself says (columns, keys).
      None: the table is not gated.
    - `reach`: per input, the SQL filter of the rows that can reach this table. A gold table
      must not be empty when each input has such a row.
    - `counts`: named counts of input rows, `name -> (input, SQL filter)`, that its
      expectations use as parameters.
    - `summary`: a gold table's state: the fact columns its `build` reads. The gold job keeps
      their distinct combinations with a count `n` (`gold.<table>__state`), and `build` reads
      that state, not the facts: an increment of silver changes the state by the counts it adds
      and retracts, and the table is built again from the state alone.
    """

    name: str
    schema: T.StructType
    keys: tuple[str, ...] = ()
    description: str = ""
    partition_by: tuple[str, ...] = ()
    properties: Mapping[str, str] = field(default_factory=dict)
    inputs: tuple[str, ...] = ()
    build: Callable[..., DataFrame] | None = None
    expectations: Callable[[], list] | None = None
    reach: Mapping[str, str | None] = field(default_factory=dict)
    counts: Mapping[str, tuple[str, str | None]] = field(default_factory=dict)
    summary: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        layer, _, table = self.name.partition(".")
        if layer not in LAYERS or not table or "." in table or "/" in table:
            raise ValueError(f"not a lakehouse table name: {self.name!r} (expected <layer>.<table>)")
        unknown = [c for c in (*self.keys, *self.partition_by) if c not in self.columns]
        if unknown:
            raise ValueError(f"{self.name}: keys or partition columns {unknown} are not in its schema")

    @property
    def layer(self) -> str:
        """`silver` for `silver.pins`."""
        return self.name.partition(".")[0]

    @property
    def columns(self) -> list[str]:
        """The column names, in order."""
        return self.schema.fieldNames()


@dataclass(frozen=True, eq=False)
class SilverTable(Table):
    """A silver table promoted from one bronze table: `clean` gives each bronze row its cleaned
    values and sorted reason codes, `build` keeps the accepted rows, latest version per key."""

    topic: str = ""
    clean: Callable[[DataFrame], DataFrame] | None = None

    @property
    def source(self) -> str:
        """The bronze table it reads."""
        return self.inputs[0]
