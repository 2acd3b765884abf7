"""Benchmark of the ingest path: single POSTs and /events batches against a bare producer.

Starts its own Kafka broker and ingest API (one uvicorn worker, `pinlake api`) under the
supervisor in a temporary data root, then measures, on the same generated events:

1. single POSTs (/pin/, /geo/, /user/): events/s and p50/p99 latency, driven by several
   client processes, each keeping many keep-alive connections busy with a minimal asyncio
   HTTP/1.1 client (much cheaper per request than httpx, so the client is not the bottleneck);
2. POST /events batches of --batch-size events: events/s and p50/p99 latency per batch;
3. the ceiling: a bare confluent-kafka producer in this process, same configuration as the
   API's, sending the same records (value, key, headers) and waiting for every delivery report.

It prints each figure, its ratio to the ceiling, the targets, and the API process's
CPU time (all its threads, librdkafka's included) per wall second and per event, which says
more than the rates on a machine that others keep busy.

`--brokers 1 3` runs it all once per cluster size, each on a fresh stack, and compares the
replicated cluster with one broker (acks=all then waits for two replicas). With three or more
brokers it also measures a failover: single POSTs of one record, whose key Kafka puts on a
partition led by broker b, every 50 ms; b is SIGKILLed; the figure is the time from the kill to
the first 200 for that partition again. It reports the brokers' resident memory too. Run:
    .venv/bin/python bench/ingest.py [--postings 10000] [--batch-rounds 5] [--brokers 1 3] [--json]
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder comes first on sys.path and its name would shadow the
# `ingest` package; put the project root there instead.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402

from ingest.emulator import generate  # noqa: E402
from ingest.producer import new_event_ids, producer_config  # noqa: E402
from ingest.service import API, api_url, ready  # noqa: E402
from ingest.validation import parse_record  # noqa: E402
from pinlake.kafka import brokers, partitions, service_name  # noqa: E402
from pinlake.settings import TOPICS, Settings  # noqa: E402
from pinlake.supervisor import Supervisor, wait_until  # noqa: E402
from tests.ports import free_block, free_port  # noqa: E402


def http_request(path: str, body: bytes) -> bytes:
    """One raw HTTP/1.1 keep-alive POST."""
    head = (f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


async def _connection(port: int, requests: list[tuple[bytes, int]], latencies: list, statuses: Counter) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 22)
    try:
        for request, _events in requests:
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            at = head.lower().index(b"content-length:") + 15
            await reader.readexactly(int(head[at:head.index(b"\r\n", at)]))
            latencies.append(time.perf_counter() - started)
            statuses[int(head[9:12])] += _events
    finally:
        writer.close()


def _client(port: int, requests: list[tuple[bytes, int]], connections: int, barrier, results) -> None:
    """One load-generating process: `connections` connections share its requests."""
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    latencies: list[float] = []
    statuses: Counter = Counter()
    shares = [requests[i::connections] for i in range(connections)]

    async def run() -> None:
        await asyncio.gather(*(_connection(port, share, latencies, statuses) for share in shares if share))

    barrier.wait()
    started = time.perf_counter()
    asyncio.run(run())
    results.put((started, time.perf_counter(), latencies, dict(statuses)))


def drive(port: int, requests: list[tuple[bytes, int]], processes: int, connections: int) -> dict:
    """Send `requests` from `processes` processes; events/s of 200s and request latencies."""
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(processes), ctx.Queue()
    workers = [ctx.Process(target=_client, args=(port, requests[i::processes], connections, barrier, results))
               for i in range(processes)]
    for worker in workers:
        worker.start()
    collected = [results.get(timeout=900) for _ in workers]
    for worker in workers:
        worker.join()
    seconds = max(c[1] for c in collected) - min(c[0] for c in collected)
    latencies = sorted(x for c in collected for x in c[2])
    statuses: Counter = Counter()
    for c in collected:
        statuses.update(c[3])
    return {"events": statuses.get(200, 0), "seconds": seconds, "events_per_s": statuses.get(200, 0) / seconds,
            "p50_ms": 1000 * statistics.median(latencies),
            "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
            "statuses": {str(k): v for k, v in sorted(statuses.items())}}


def bare_producer(settings: Settings, events: list[dict]) -> dict:
    """The ceiling: the API's producer configuration, the same records, no HTTP."""
    from confluent_kafka import Producer

    config = {k: v for k, v in producer_config(settings).items() if k != "logger"}
    config["queue.buffering.max.messages"] = max(config["queue.buffering.max.messages"], len(events) + 1)
    messages = [parse_record(e["type"], json.dumps(e["record"]).encode(), 10**7) for e in events]
    producer = Producer(config)
    failures = Counter()

    def report(err, _msg) -> None:
        failures[err is not None] += 1

    for message in messages[:100]:  # warm up: connection and producer id
        producer.produce(TOPICS[message.kind], message.value, message.key)
    producer.flush(30)
    started = time.perf_counter()
    received_at = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
    for message, event_id in zip(messages, new_event_ids(len(messages))):
        producer.produce(TOPICS[message.kind], message.value, message.key, on_delivery=report,
                         headers=[("event_id", event_id), ("received_at", received_at)])
        producer.poll(0)
    left = producer.flush(120)
    seconds = time.perf_counter() - started
    ok = failures[False]
    return {"events": ok, "seconds": seconds, "events_per_s": ok / seconds, "failed": failures[True] + left}


def single_requests(events: list[dict]) -> list[tuple[bytes, int]]:
    """One POST /<type>/ per event."""
    return [(http_request(f"/{e['type']}/", json.dumps(e["record"]).encode()), 1) for e in events]


def batch_requests(events: list[dict], size: int) -> list[tuple[bytes, int]]:
    """POST /events of `size` events each."""
    return [(http_request("/events", json.dumps(events[i:i + size]).encode()), len(events[i:i + size]))
            for i in range(0, len(events), size)]


def _cpu(proc) -> float:
    times = proc.cpu_times()
    return times.user + times.system


def measure(args, settings: Settings, supervisor: Supervisor) -> dict:
    """Run the three measurements on one stack."""
    events = list(generate(args.postings, args.seed))
    api = supervisor.process(API.name)
    drive(settings.api_port, single_requests(events[:300]) + batch_requests(events[:1000], args.batch_size), 1, 4)
    results = {}
    for name, requests, processes, connections in (
        ("single", single_requests(events[:args.single_events]), args.client_processes, args.single_connections),
        ("batch", batch_requests(events * args.batch_rounds, args.batch_size), 1, args.batch_connections),
    ):
        cpu = _cpu(api)
        results[name] = drive(settings.api_port, requests, processes, connections)
        used = _cpu(api) - cpu
        results[name]["api_cpu_percent"] = 100 * used / results[name]["seconds"]
        results[name]["api_cpu_us_per_event"] = 1e6 * used / max(1, results[name]["events"])
    results["bare"] = bare_producer(settings, events * args.batch_rounds)
    for name in ("single", "batch"):
        results[name]["ratio_to_bare"] = results[name]["events_per_s"] / results["bare"]["events_per_s"]
    return results


def broker_memory(supervisor: Supervisor, settings: Settings) -> int:
    """The brokers' resident memory, in bytes (each JVM and its children)."""
    total = 0
    for node in settings.broker_nodes:
        proc = supervisor.process(service_name(node))
        for member in [proc, *proc.children(recursive=True)] if proc else []:
            total += member.memory_info().rss
    return total


def failover(settings: Settings, supervisor: Supervisor, events: list[dict]) -> dict:
    """SIGKILL the leader of one partition while one of its records is POSTed every 50 ms;
    the seconds until that partition answers 200 again."""
    import httpx
    from confluent_kafka import Consumer, TopicPartition

    pins = [e for e in events if e["type"] == "pin"][:50]
    with httpx.Client(base_url=api_url(settings), timeout=30) as client:
        ids = {client.post("/pin/", json=e["record"]).json()["event_id"]: e for e in pins}
    consumer = Consumer({"bootstrap.servers": settings.bootstrap, "group.id": "bench-failover",
                         "enable.auto.commit": False})
    where = {}
    for p in range(settings.kafka_partitions):
        low, high = consumer.get_watermark_offsets(TopicPartition(TOPICS["pin"], p), timeout=30)
        consumer.assign([TopicPartition(TOPICS["pin"], p, low)])
        for message in consumer.consume(high - low, timeout=30):
            event_id = dict(message.headers() or []).get("event_id", b"").decode()
            if event_id in ids:
                where[event_id] = p
    consumer.close()
    leaders = {p["partition"]: p["leader"] for p in partitions(settings.bootstrap) if p["topic"] == TOPICS["pin"]}
    event_id, partition = next(iter(where.items()))
    record, leader = ids[event_id]["record"], leaders[partition]
    answers: list[tuple[float, int]] = []
    with httpx.Client(base_url=api_url(settings), timeout=30) as client:
        proc = supervisor.process(service_name(leader))
        os.killpg(proc.pid, signal.SIGKILL)
        killed = time.perf_counter()
        while time.perf_counter() - killed < 120:
            sent = time.perf_counter()
            status = client.post("/pin/", json=record).status_code
            answers.append((time.perf_counter(), status))
            if status == 200:
                break
            time.sleep(max(0.0, sent + 0.05 - time.perf_counter()))
    back = next((at - killed for at, status in answers if status == 200), None)
    return {"partition": f"{TOPICS['pin']}[{partition}]", "leader_killed": leader, "seconds_to_200": back,
            "answers": dict(Counter(status for _, status in answers))}


def report(results: dict, args) -> None:
    """Print the figures, the ratios and the targets."""
    print(f"\ningest benchmark: {args.postings} postings (seed {args.seed}); single POSTs from "
          f"{args.client_processes}x{args.single_connections} connections; /events of {args.batch_size} from "
          f"{args.batch_connections} connections, {args.batch_rounds} rounds")
    print(f"{'path':<8}{'events':>9}{'seconds':>9}{'events/s':>11}{'p50 ms':>9}{'p99 ms':>9}{'vs bare':>9}"
          f"{'API CPU':>9}{'API CPU µs/event':>18}")
    nan = float("nan")
    for name in ("single", "batch", "bare"):
        r = results[name]
        print(f"{name:<8}{r['events']:>9}{r['seconds']:>9.2f}{r['events_per_s']:>11.0f}"
              f"{r.get('p50_ms', nan):>9.1f}{r.get('p99_ms', nan):>9.1f}{r.get('ratio_to_bare', 1.0):>8.0%} "
              f"{r.get('api_cpu_percent', nan):>7.0f}%{r.get('api_cpu_us_per_event', nan):>18.0f}")
    single, batch = results["single"], results["batch"]
    print("targets: single >= 2000 events/s: {}; single p99 < 50 ms: {}; batch >= 50% of bare: {}".format(
        _ok(single["events_per_s"] >= 2000), _ok(single["p99_ms"] < 50), _ok(batch["ratio_to_bare"] >= 0.5)))
    for name in ("single", "batch"):
        if set(results[name]["statuses"]) != {"200"}:
            print(f"warning: {name} answers by status (events): {results[name]['statuses']}")
    if "memory_mib" in results:
        print(f"brokers' resident memory: {results['memory_mib']:.0f} MiB")
    if "failover" in results:
        f = results["failover"]
        print(f"failover: leader {f['leader_killed']} of {f['partition']} SIGKILLed; first 200 for that partition "
              f"{f['seconds_to_200']:.1f} s later (answers meanwhile {f['answers']})" if f["seconds_to_200"]
              else f"failover: no 200 within 120 s ({f['answers']})")
    if args.json:
        print(json.dumps(results))


def compare(runs: dict[int, dict]) -> None:
    """Each cluster size against one broker, in the same run."""
    if 1 not in runs or len(runs) < 2:
        return
    one = runs[1]
    print(f"\n{'brokers':<9}{'single ev/s':>12}{'single p99':>11}{'batch ev/s':>11}{'batch p99':>10}"
          f"{'bare ev/s':>10}{'single vs 1':>12}{'batch vs 1':>11}{'memory MiB':>11}")
    for count, r in sorted(runs.items()):
        print(f"{count:<9}{r['single']['events_per_s']:>12.0f}{r['single']['p99_ms']:>11.1f}"
              f"{r['batch']['events_per_s']:>11.0f}{r['batch']['p99_ms']:>10.1f}{r['bare']['events_per_s']:>10.0f}"
              f"{r['single']['events_per_s'] / one['single']['events_per_s']:>12.2f}"
              f"{r['batch']['events_per_s'] / one['batch']['events_per_s']:>11.2f}{r['memory_mib']:>11.0f}")


def _ok(flag: bool) -> str:
    return "met" if flag else "NOT met"


def main() -> None:
    """Parse the options, run the stack, measure, report, clean up."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postings", type=int, default=10000, help="postings generated (about 3 events each)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--single-events", type=int, default=30000, help="events sent as single POSTs")
    parser.add_argument("--client-processes", type=int, default=1,
                        help="load-generating processes for single POSTs (each takes CPU from the API)")
    parser.add_argument("--single-connections", type=int, default=40, help="connections per client process")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--batch-connections", type=int, default=8)
    parser.add_argument("--batch-rounds", type=int, default=5, help="times the events are sent as batches")
    parser.add_argument("--brokers", type=int, nargs="+", default=[1],
                        help="cluster sizes to measure, each on a fresh stack (e.g. 1 3)")
    parser.add_argument("--json", action="store_true", help="also print the results as one JSON line")
    args = parser.parse_args()
    runs = {count: run(args, count) for count in args.brokers}
    compare(runs)


def run(args, count: int) -> dict:
    """One stack of `count` brokers and the API: measure, report, clean up."""
    root = Path(tempfile.mkdtemp(prefix="pinlake-bench-ingest-"))
    base = free_block(2 * count)
    settings = Settings(_env_file=None, data_root=root, kafka_brokers=count, kafka_port=base,
                        kafka_controller_port=base + 1, api_port=free_port(), kafka_heap="512m")
    supervisor = Supervisor(settings, [*brokers(settings), API])
    try:
        supervisor.up(on_event=lambda name, what: print(f"{name}: {what}", file=sys.stderr))
        if not wait_until(lambda: ready(settings), 60):
            raise SystemExit(f"the API at {api_url(settings)} never became ready")
        print(f"\n== {count} broker(s): replication factor {settings.replication_factor}, "
              f"min.insync.replicas {settings.min_insync_replicas}")
        results = measure(args, settings, supervisor)
        results["memory_mib"] = broker_memory(supervisor, settings) / 2**20
        if count >= 3:
            results["failover"] = failover(settings, supervisor, list(generate(200, args.seed + 1, start=10**6)))
        report(results, args)
        return results
    finally:
        supervisor.down()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
