"""The Kafka side of the API: an idempotent confluent-kafka producer behind an asyncio facade.

`KafkaSink.send` produces a request's messages and returns only when every one has its
delivery report: the event ids when all succeeded, `Unavailable` otherwise. The event loop
itself serves the delivery reports: a pump task calls the non-blocking `poll(0)` every
millisecond while records are in flight (every 100 ms otherwise), so the callbacks resolve
the requests' futures directly, with no thread hand-over (a poll thread costs a cross-thread
wake-up and GIL contention per report, which doubled the CPU time of a single POST).

The sink also knows whether Kafka is reachable. A request while it is not is refused at
once (503) instead of queueing records that may never leave; a probe (a metadata request, in
a worker thread) runs after every sign of trouble and, while Kafka is unreachable, every
half second, and marks it reachable again by itself when the broker answers.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Sequence

from confluent_kafka import KafkaError, KafkaException, Producer

from ingest.validation import Message
from pinlake.settings import TOPICS, Settings

log = logging.getLogger("pinlake.ingest.kafka")
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}
PROBE_INTERVAL_S = 0.5
PUMP_BUSY_S = 0.001  # poll interval while records are in flight: bounds the added latency
PUMP_IDLE_S = 0.1  # poll interval otherwise: error callbacks still get served
FIRST_PROBE_S = 5.0  # the first probe's timeout, which a worker's first requests wait for
PROBE_TIMEOUT_S = 1.0  # every later probe's


class Unavailable(Exception):
    """Kafka did not take (or may not have taken) every record: answer 503."""


def producer_config(settings: Settings) -> dict:
    """The producer's settings: idempotent, acks from all replicas, compressed, short linger."""
    return {
        "bootstrap.servers": settings.bootstrap,
        "client.id": "pinlake-ingest",
        "enable.idempotence": True,
        "acks": "all",
        "compression.type": "lz4",
        "linger.ms": settings.api_linger_ms,
        "message.timeout.ms": int(settings.api_delivery_timeout_s * 1000),
        "queue.buffering.max.messages": settings.api_queue_max_messages,
        # The Java client's partitioner, so every producer puts a key on the same partition.
        "partitioner": "murmur2_random",
        "reconnect.backoff.max.ms": 1000,
        "socket.nagle.disable": True,  # small produce requests must not wait for Nagle's delayed ACKs
        "log.connection.close": False,
        "logger": log,
    }


def new_event_ids(count: int) -> list[str]:
    """`count` random (version 4) UUIDs as text, from one urandom call (uuid.uuid4 is slower)."""
    digits = os.urandom(16 * count).hex()
    ids = []
    for start in range(0, 32 * count, 32):
        h = digits[start:start + 32]
        ids.append(f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}")
    return ids


def headers(event_id: str, received_at: str) -> list[tuple[str, str]]:
    """The contract's message headers."""
    return [("event_id", event_id), ("received_at", received_at)]


class _Pending:
    """The delivery reports of one request; the first error, or the last report, finishes it."""

    __slots__ = ("remaining", "future")

    def __init__(self, count: int, future: asyncio.Future):
        self.remaining, self.future = count, future

    def delivered(self, err: KafkaError | None, _msg) -> None:
        """Delivery callback, run by `poll` on the event loop."""
        self.remaining -= 1
        if self.future.done():
            return
        if err is not None:
            self.future.set_result(err)
        elif self.remaining == 0:
            self.future.set_result(None)


class KafkaSink:
    """Produces records and awaits their acknowledgement without blocking the event loop."""

    def __init__(self, settings: Settings):
        self._config = producer_config(settings)
        self._max_queue = settings.api_queue_max_messages
        self._producer = Producer({**self._config, "error_cb": self._on_error})
        self._pump_task: asyncio.Task | None = None
        self._probe_task: asyncio.Task | None = None
        self._wake = asyncio.Event()
        self._in_flight = 0
        self._probe_now = True  # learn at start whether the broker answers
        self._probed = asyncio.Event()  # set once the first probe answered: until then, requests wait for it
        self._fatal = False
        self.reachable = False
        self.failed_requests = 0

    def start(self) -> None:
        """Start serving delivery reports; call from the event loop that will await `send`."""
        self._pump_task = asyncio.get_running_loop().create_task(self._pump(), name="kafka-pump")

    async def aclose(self, timeout: float = 10.0) -> int:
        """Deliver what is queued (up to `timeout`), stop; returns the number of messages left."""
        deadline = time.monotonic() + timeout
        while len(self._producer) and time.monotonic() < deadline:
            self._producer.poll(0)
            await asyncio.sleep(0.01)
        for task in (self._pump_task, self._probe_task):
            if task is not None:
                task.cancel()
        return len(self._producer)

    def queue_length(self) -> int:
        """Messages produced and not yet acknowledged."""
        return len(self._producer)

    async def send(self, messages: Sequence[Message], received_at: str) -> list[str]:
        """Produce every message; return their event ids once Kafka acknowledged all of them."""
        if not messages:
            return []
        if not self._probed.is_set():  # a worker's first requests can come before its first probe
            try:
                await asyncio.wait_for(self._probed.wait(), FIRST_PROBE_S + 1.0)
            except TimeoutError:
                pass
        if not self.reachable:
            raise Unavailable("Kafka is unreachable")
        producer = self._producer
        if len(producer) + len(messages) > self._max_queue:
            raise Unavailable("the producer queue is full")
        ids = new_event_ids(len(messages))
        pending = _Pending(len(messages), asyncio.get_running_loop().create_future())
        on_delivery = pending.delivered
        self._in_flight += 1
        try:
            try:
                for message, event_id in zip(messages, ids):
                    producer.produce(TOPICS[message.kind], message.value, message.key, on_delivery=on_delivery,
                                     headers=headers(event_id, received_at))
            except BufferError as exc:
                raise Unavailable("the producer queue is full") from exc
            except KafkaException as exc:
                raise Unavailable(f"Kafka refused the record: {exc.args[0].str()}") from exc
            finally:
                self._wake.set()
            error = await pending.future
        finally:
            self._in_flight -= 1
        if error is not None:
            self.failed_requests += 1
            self._probe_now = True
            raise Unavailable(f"Kafka did not acknowledge every record: {error.str()}")
        return ids

    def check(self, timeout: float = 2.0) -> tuple[bool, str]:
        """A metadata round trip (blocking): is the broker there, with the contract's topics?"""
        try:
            topics = self._producer.list_topics(timeout=timeout).topics
        except KafkaException as exc:
            return False, f"Kafka unreachable: {exc.args[0].str()}"
        missing = sorted(set(TOPICS.values()) - set(topics))
        return (not missing), (f"missing topics: {', '.join(missing)}" if missing else "ok")

    def _on_error(self, err: KafkaError) -> None:
        if err.fatal():
            self._fatal = True
        elif err.code() in (KafkaError._ALL_BROKERS_DOWN, KafkaError._TRANSPORT, KafkaError._MSG_TIMED_OUT):
            self._probe_now = True
        log.warning("kafka: %s", err.str())

    async def _pump(self) -> None:
        next_probe = 0.0
        while True:
            try:
                self._producer.poll(0)
                if self._fatal:
                    self._replace_producer()
                now = time.monotonic()
                probing = self._probe_task is not None and not self._probe_task.done()
                if not probing and (self._probe_now or (not self.reachable and now >= next_probe)):
                    self._probe_now, next_probe = False, now + PROBE_INTERVAL_S
                    self._probe_task = asyncio.get_running_loop().create_task(self._probe())
                await self._idle()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the pump must survive anything
                log.exception("kafka pump")
                await asyncio.sleep(PUMP_BUSY_S)

    async def _idle(self) -> None:
        if self._in_flight or len(self._producer):
            await asyncio.sleep(PUMP_BUSY_S)
            return
        self._wake.clear()
        try:
            await asyncio.wait_for(self._wake.wait(), PUMP_IDLE_S)
        except TimeoutError:
            pass

    async def _probe(self) -> None:
        # Reachable means the broker answers; missing topics show up in /readyz and in produce.
        timeout = PROBE_TIMEOUT_S if self._probed.is_set() else FIRST_PROBE_S
        self.reachable = (await asyncio.to_thread(self._answers, timeout))
        self._probed.set()

    def _answers(self, timeout: float) -> bool:
        try:
            self._producer.list_topics(timeout=timeout)
            return True
        except KafkaException:
            return False

    def _replace_producer(self) -> None:
        """A fatal error leaves the producer unusable: fail what it holds and start a new one."""
        self._fatal = False
        old, self._producer = self._producer, Producer({**self._config, "error_cb": self._on_error})
        old.purge()
        old.poll(0)  # serves the purged records' reports: their requests answer 503
        self._probe_now = True
        log.error("kafka: fatal producer error; replaced the producer")
