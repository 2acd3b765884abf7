"""The lineage graph from the stored events (pure): tables and jobs as nodes, reads and writes as edges.

Each job's latest event gives its state; its latest COMPLETE event gives its edges (the tables
it read, at the versions read, and wrote, at their new versions). Nodes carry a `depth` for
drawing left to right: a table nothing writes is at 0, a job one past its deepest input, a table
one past the job that writes it (bronze 0, the silver job 1, silver 2, the gold job 3, gold 4).
"""

from __future__ import annotations

from collections.abc import Iterable


def _table_id(dataset: dict) -> str:
    return dataset.get("table") or f"{dataset.get('namespace')}/{dataset.get('name')}"


def _job_id(row: dict) -> str:
    return f"{row['job_namespace']}/{row['job_name']}"


def _when(row: dict) -> str:
    time = row["event_time"]
    return time.isoformat() if hasattr(time, "isoformat") else str(time)


def lineage_graph(rows: Iterable[dict]) -> dict:
    """`{"nodes": [...], "edges": [...]}` from rows of quality.lineage (any order)."""
    latest: dict[str, dict] = {}
    completed: dict[str, dict] = {}
    for row in sorted(rows, key=_when):
        latest[_job_id(row)] = row
        if row["event_type"] == "COMPLETE":
            completed[_job_id(row)] = row
    nodes: dict[str, dict] = {}
    edges: list[dict] = []
    for job, row in completed.items():
        state = latest[job]
        nodes[job] = {"id": job, "kind": "job", "name": row["job_name"], "namespace": row["job_namespace"],
                      "state": state["event_type"], "at": _when(state), "run_id": state["run_id"],
                      "parent": state.get("parent_job_name")}
        for direction, key in (("read", "inputs"), ("wrote", "outputs")):
            for dataset in row.get(key) or []:
                table = _table_id(dataset)
                nodes.setdefault(table, {"id": table, "kind": "table", "name": table, "version": None})
                if direction == "wrote" or nodes[table]["version"] is None:
                    nodes[table]["version"] = dataset.get("version")
                edge = (table, job) if direction == "read" else (job, table)
                edges.append({"from": edge[0], "to": edge[1], "kind": direction, "version": dataset.get("version")})
    jobs_only = {j: n for j, n in nodes.items() if n["kind"] == "job"}
    for node_id, depth in depths(nodes, edges).items():
        nodes[node_id]["depth"] = depth
    # a job with no edges (a DAG run, a run that read and wrote nothing) is no part of the graph
    linked = {e["from"] for e in edges} | {e["to"] for e in edges}
    ordered = sorted((n for n in nodes.values() if n["id"] in linked or n["id"] not in jobs_only),
                     key=lambda n: (n["depth"], n["kind"], n["id"]))
    return {"nodes": ordered, "edges": edges}


def depths(nodes: dict[str, dict], edges: list[dict]) -> dict[str, int]:
    """Each node's longest distance from a node without incoming edges (cycles cut off)."""
    incoming: dict[str, list[str]] = {n: [] for n in nodes}
    for edge in edges:
        incoming[edge["to"]].append(edge["from"])
    found: dict[str, int] = {}

    def depth(node: str, seen: frozenset) -> int:
        if node not in found:
            before = [depth(p, seen | {node}) for p in incoming[node] if p not in seen]
            found[node] = 1 + max(before) if before else 0
        return found[node]

    for node in nodes:
        depth(node, frozenset())
    return found
