"""The client behind `pinlake emit`: send events to the ingest API, paced, retried, accounted for.

Events go to a few concurrent workers, each entity always to the same one, so that every
version of an entity is sent after the previous one was acknowledged (the order Kafka keeps
per key). A 503 or a connection failure is retried with backoff (at least the server's
Retry-After); a 4xx other than 401 rejects the events of that request; a 401 stops the run.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from ingest.models import EVENT_TYPES, KEY_FIELD

_DONE = object()


class Unauthorized(RuntimeError):
    """The API refused the key: no point sending the rest."""


@dataclass
class Summary:
    """What happened to the events of one run."""

    sent: int = 0
    acknowledged: int = 0
    rejected: int = 0
    failed: int = 0
    unreachable: int = 0  # of the failed: given up on because the API could not be reached
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        """Acknowledged events per second."""
        return self.acknowledged / self.seconds if self.seconds else 0.0

    def note(self, problem: str) -> None:
        """Keep the first few reasons for the final report."""
        if len(self.problems) < 10:
            self.problems.append(problem)


def read_jsonl(path: Path) -> Iterator[dict]:
    """The events of a JSONL file in order; a line that is not JSON becomes a local rejection."""
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    yield {"type": None, "record": None, "_error": f"{path}:{number}: not JSON ({exc.msg})"}


def count_lines(path: Path) -> int:
    """Non-blank lines of a file (the progress bar's total)."""
    with open(path, encoding="utf-8") as lines:
        return sum(1 for line in lines if line.strip())


class _Pacer:
    """Spaces sends out to `rate` events per second over all workers (0: no limit)."""

    def __init__(self, rate: float):
        self.rate, self.next = rate, time.monotonic()

    async def wait(self, events: int) -> None:
        if self.rate <= 0:
            return
        now = time.monotonic()
        slot = max(now, self.next)
        self.next = slot + events / self.rate
        if slot > now:
            await asyncio.sleep(slot - now)


@dataclass
class Emitter:
    """Sends events; `run` returns the Summary."""

    url: str
    api_key: str | None = None
    rate: float = 0.0
    batch_size: int = 1
    concurrency: int = 4
    retries: int = 8
    ledger: IO[str] | None = None
    on_progress: Callable[[int], None] = lambda n: None
    summary: Summary = field(default_factory=Summary)
    _abort: Unauthorized | None = None

    async def run(self, events: Iterable[dict]) -> Summary:
        """Send every event and wait for every answer."""
        started = time.monotonic()
        pacer = _Pacer(self.rate)
        queues = [asyncio.Queue(maxsize=4) for _ in range(self.concurrency)]
        headers = {"X-API-Key": self.api_key} if self.api_key else {}
        limits = httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency)
        async with httpx.AsyncClient(base_url=self.url, headers=headers, limits=limits, timeout=60) as client:
            workers = [asyncio.create_task(self._work(client, queue, pacer)) for queue in queues]
            try:
                await self._dispatch(events, queues)
                await asyncio.gather(*workers)
            finally:
                for worker in workers:
                    worker.cancel()
        self.summary.seconds = time.monotonic() - started
        if self._abort is not None:
            raise self._abort
        return self.summary

    async def _dispatch(self, events: Iterable[dict], queues: list[asyncio.Queue]) -> None:
        buffers: list[list[dict]] = [[] for _ in queues]
        for event in events:
            if self._abort is not None:
                break
            if not self._sendable(event):
                continue
            slot = hash((event["type"], str(_entity(event)))) % len(queues)
            buffers[slot].append(event)
            if len(buffers[slot]) >= self.batch_size:
                await queues[slot].put(buffers[slot])
                buffers[slot] = []
        for slot, queue in enumerate(queues):
            if buffers[slot]:
                await queue.put(buffers[slot])
            await queue.put(_DONE)

    def _sendable(self, event) -> bool:
        if isinstance(event, dict) and event.get("type") in EVENT_TYPES and isinstance(event.get("record"), dict):
            return True
        self.summary.rejected += 1
        self.summary.note(event.get("_error") if isinstance(event, dict) and event.get("_error")
                          else f"not a {{type, record}} event: {str(event)[:80]}")
        self.on_progress(1)
        return False

    async def _work(self, client: httpx.AsyncClient, queue: asyncio.Queue, pacer: _Pacer) -> None:
        # After a 401 the worker keeps draining its queue, unsent, so the dispatcher never blocks.
        while (chunk := await queue.get()) is not _DONE:
            if self._abort is None:
                await pacer.wait(len(chunk))
                self.summary.sent += len(chunk)
                try:
                    await self._send(client, chunk)
                except Unauthorized as exc:
                    self._abort = exc
                    self._rejected(chunk, str(exc))
            self.on_progress(len(chunk))

    async def _send(self, client: httpx.AsyncClient, chunk: list[dict]) -> None:
        single = self.batch_size <= 1
        path, body = (f"/{chunk[0]['type']}/", chunk[0]["record"]) if single else ("/events", chunk)
        content = json.dumps(body, ensure_ascii=False).encode()
        for attempt in range(self.retries + 1):
            wait = min(0.25 * 2 ** attempt, 10.0) * (0.5 + random.random())
            try:
                response = await client.post(path, content=content, headers={"Content-Type": "application/json"})
            except httpx.TransportError as exc:
                problem, unreachable = f"{path}: {type(exc).__name__}: {exc}", True
            else:
                if response.status_code == 200:
                    return self._acknowledged(chunk, response.json())
                if response.status_code == 401:
                    raise Unauthorized(f"the API refused the key (401): {response.text[:200]}")
                if response.status_code < 500:
                    return self._rejected(chunk, f"{path}: {response.status_code} {response.text[:300]}")
                problem, unreachable = f"{path}: {response.status_code} {response.text[:200]}", False
                wait = max(wait, float(response.headers.get("Retry-After", 0) or 0))
            if attempt < self.retries:
                await asyncio.sleep(wait)
        self.summary.failed += len(chunk)
        self.summary.unreachable += len(chunk) if unreachable else 0
        self.summary.note(f"gave up after {self.retries} retries: {problem}")

    def _acknowledged(self, chunk: list[dict], answer: dict) -> None:
        ids = [answer["event_id"]] if "event_id" in answer else answer["event_ids"]
        self.summary.acknowledged += len(ids)
        if self.ledger is not None:
            self.ledger.writelines(json.dumps({"type": event["type"], "event_id": event_id}) + "\n"
                                   for event, event_id in zip(chunk, ids))

    def _rejected(self, chunk: list[dict], problem: str) -> None:
        self.summary.rejected += len(chunk)
        self.summary.note(problem)


def _entity(event: dict):
    record = event["record"]
    return record.get(KEY_FIELD[event["type"]])
