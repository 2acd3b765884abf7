"""Lakehouse tables as OpenLineage datasets: where they are, their Delta version, schema, column
lineage (from the specs) and the quality gate's assertions (from `quality.results`).

A dataset is named by its location, as OpenLineage's naming spec asks (`file` and the path on a
local disk; `s3://bucket` and the key on an object store); its lakehouse name (`silver.pins`)
is a symlink in the namespace `pinlake`, which the stored events and the graph use.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlparse

from openlineage.client.event_v2 import InputDataset, OutputDataset
from openlineage.client.facet_v2 import (
    column_lineage_dataset,
    data_quality_assertions_dataset,
    dataset_version_dataset,
    schema_dataset,
    symlinks_dataset,
)

from lakehouse import catalog, tables
from lakehouse.lineage.table import TABLE_NAMESPACE
from lakehouse.spec import SilverTable, Table

# Bronze columns that a quarantine row keeps as they were (the rest of its columns come from them).
QUARANTINE_SOURCES = {"source_topic": "topic", "source_partition": "partition", "source_offset": "offset",
                      "event_id": "event_id", "received_at": "received_at", "raw": "value", "reasons": "value"}


def location(name: str, root: str) -> tuple[str, str]:
    """(namespace, name) of a table's location: `("file", "/data/lakehouse/silver/pins")` on a
    local disk, `("s3://bucket", "lakehouse/silver/pins")` on an object store."""
    path = tables.table_path(name, root)
    if "://" not in path:
        return "file", path
    parsed = urlparse(path)
    return f"{parsed.scheme}://{parsed.netloc}", parsed.path.lstrip("/")


def schema_facet(spec: Table) -> schema_dataset.SchemaDatasetFacet:
    """The table's columns and their Spark types, in order."""
    return schema_dataset.SchemaDatasetFacet(fields=[
        schema_dataset.SchemaDatasetFacetFields(name=f.name, type=f.dataType.simpleString(), ordinal_position=i)
        for i, f in enumerate(spec.schema.fields, start=1)])


def column_sources(spec: Table) -> dict[str, list[tuple[str, str, str]]]:
    """Per column of a silver or gold table, the input columns it comes from as
    (input table, column, how): what the code knows, no guessing; {} for other tables."""
    from lakehouse.gold.common import FACT_SOURCES
    from lakehouse.silver.common import PROVENANCE_SOURCES

    if isinstance(spec, SilverTable):
        return {c: [(spec.source, PROVENANCE_SOURCES[c], "IDENTITY")] if c in PROVENANCE_SOURCES
                else [(spec.source, "value", "TRANSFORMATION")] for c in spec.columns}
    if spec.layer == "silver" and set(QUARANTINE_SOURCES) <= set(spec.columns):
        bronze = [s.source for s in catalog.layer("silver") if isinstance(s, SilverTable)]
        return {c: [(b, QUARANTINE_SOURCES[c], "TRANSFORMATION" if c == "reasons" else "IDENTITY") for b in bronze]
                for c in QUARANTINE_SOURCES}
    if spec.layer != "gold":
        return {}
    # a column that is no fact is computed from the facts the table keeps but does not show
    # (a median from follower_count), or from all of them (a count)
    hidden = [c for c in spec.summary if c not in spec.columns] or list(spec.summary)
    sources = {}
    for column in spec.columns:
        if column in FACT_SOURCES:
            table, source = FACT_SOURCES[column]
            sources[column] = [(table, source, "IDENTITY" if source == column else "TRANSFORMATION")]
        else:
            sources[column] = [(*FACT_SOURCES[c], "AGGREGATION") for c in hidden if c in FACT_SOURCES]
    return {c: s for c, s in sources.items() if s}


def column_lineage_facet(spec: Table, root: str) -> column_lineage_dataset.ColumnLineageDatasetFacet | None:
    """OpenLineage's column lineage of a table, from `column_sources`; None when none is known."""
    sources = column_sources(spec)
    if not sources:
        return None

    def field(table: str, column: str, how: str) -> column_lineage_dataset.InputField:
        namespace, name = location(table, root)
        return column_lineage_dataset.InputField(
            namespace=namespace, name=name, field=column,
            transformations=[column_lineage_dataset.Transformation(type="DIRECT", subtype=how)])

    return column_lineage_dataset.ColumnLineageDatasetFacet(fields={
        column: column_lineage_dataset.Fields(inputFields=[field(*s) for s in inputs])
        for column, inputs in sources.items()})


def quality_facet(outcomes: Iterable) -> data_quality_assertions_dataset.DataQualityAssertionsDatasetFacet | None:
    """The gate's outcomes for one table (rows of quality.results) as OpenLineage assertions;
    None when the table was not validated."""
    assertions = [data_quality_assertions_dataset.Assertion(
        assertion=o.expectation, success=bool(o.success), severity=o.severity, actual=o.observed_value)
        for o in outcomes]
    return data_quality_assertions_dataset.DataQualityAssertionsDatasetFacet(assertions=assertions) \
        if assertions else None


def _symlink(name: str) -> symlinks_dataset.SymlinksDatasetFacet:
    return symlinks_dataset.SymlinksDatasetFacet(identifiers=[
        symlinks_dataset.Identifier(namespace=TABLE_NAMESPACE, name=name, type="TABLE")])


def _version(version: int | None) -> dict:
    return {} if version is None else {
        "version": dataset_version_dataset.DatasetVersionDatasetFacet(datasetVersion=str(version))}


def input_dataset(name: str, root: str, version: int | None) -> InputDataset:
    """A table a job read, at the Delta version it read."""
    namespace, path = location(name, root)
    return InputDataset(namespace=namespace, name=path,
                        facets={"symlinks": _symlink(name), "schema": schema_facet(catalog.table(name)),
                                **_version(version)})


def output_dataset(name: str, root: str, version: int | None, outcomes: Iterable = ()) -> OutputDataset:
    """A table a job wrote: its new Delta version, schema, column lineage and quality assertions."""
    spec = catalog.table(name)
    namespace, path = location(name, root)
    facets = {"symlinks": _symlink(name), "schema": schema_facet(spec), **_version(version)}
    lineage = column_lineage_facet(spec, root)
    if lineage is not None:
        facets["columnLineage"] = lineage
    quality = quality_facet(outcomes)
    if quality is not None:
        facets["dataQualityAssertions"] = quality
    return OutputDataset(namespace=namespace, name=path, facets=facets)


def job_datasets(inputs: dict[str, int | None], outputs: Iterable[str], root: str, run_id: str | None = None,
                 complete: bool = False) -> tuple[list[InputDataset], list[OutputDataset]]:
    """A job's datasets: the tables it reads at the versions it read, and the tables it writes;
    once `complete`, those of them that exist, at their new versions, with the assertions of
    the gate's validations under `run_id` (the pipeline run id of quality.results)."""
    from quality.results import results_of_run

    read = [input_dataset(name, root, version) for name, version in inputs.items()]
    if not complete:
        return read, [output_dataset(name, root, None) for name in outputs]
    outcomes: dict[str, list] = {}
    for outcome in (results_of_run(run_id, root) if run_id else []):
        outcomes.setdefault(outcome.table, []).append(outcome)
    written = [output_dataset(name, root, tables.version(name, root), outcomes.get(name, ()))
               for name in outputs if tables.exists(name, root)]
    return read, written
