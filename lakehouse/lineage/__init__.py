"""OpenLineage lineage of the lakehouse: who read and wrote which table, at which Delta version.

`datasets` turns table specs into OpenLineage datasets (location, version, schema, column
lineage, quality assertions); `store` keeps every event in the Delta table `quality.lineage`
(an OpenLineage transport that Airflow's provider and the jobs both use); `runs` emits a
Spark job's START and COMPLETE (or FAIL) events; `graph` draws the graph from the stored events.
"""
