"""The lakehouse's silver and gold tables as Airflow assets, one per Delta table.

The medallion DAG's silver and gold steps declare them as outlets, so that each successful
step records an asset event per table it wrote (a skipped step records none); the `publish`
DAG is scheduled on the gold assets and so runs once after every gold step that wrote gold.
An asset's name is the table's (`silver.pins`), its URI the table's location: a
`file://` URI on the local disk, the object store's own URI otherwise.
"""

from __future__ import annotations

from airflow.sdk import Asset

from lakehouse import catalog
from lakehouse.tables import table_path

# The layers whose tables are assets: what the medallion DAG writes (bronze is written by the
# stream, quality.results by every gate).
LAYERS = ("silver", "gold")


def uri(location: str) -> str:
    """An asset URI for a table's location: `/data/lakehouse/gold/x` -> `file:///data/lakehouse/gold/x`."""
    return f"file://{location}" if location.startswith("/") else location


def layer_assets(layer: str, root: str) -> list[Asset]:
    """The assets of one layer's tables, in the registry's order."""
    if layer not in LAYERS:
        raise ValueError(f"the {layer} tables are not Airflow assets; only {', '.join(LAYERS)}")
    return [Asset(name=spec.name, uri=uri(table_path(spec.name, root)), group=layer)
            for spec in catalog.layer(layer)]
