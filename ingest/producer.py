"""The Kafka side of the API: an idempotent confluent-kafka producer behind an asyncio facade.

`KafkaSink.send` produces a request's messages and returns only when every one has its
delivery report: the event ids when all succeeded, `Unavailable` otherwise. Delivery reports
are served by one background thread calling `poll`; the reports of a request are counted
there and the request's future is resolved on the event loop with one
`call_soon_threadsafe` per poll round, so the loop never blocks on Kafka.

The sink also knows whether Kafka is reachable. A request while it is not is refused at
once (503) instead of queueing records that may never leave; the poll thread probes the
broker (a metadata request) and marks it reachable again by itself when it answers.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Sequence

from confluent_kafka import KafkaError, KafkaException, Producer

from ingest.validation import Message
from pinlake.settings import TOPICS, Settings

log = logging.getLogger("pinlake.ingest.kafka")
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}
PROBE_INTERVAL_S = 0.5


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
    """The delivery reports of one request, counted in the poll thread."""

    __slots__ = ("remaining", "error", "future", "done")

    def __init__(self, count: int, future: asyncio.Future, done: list):
        self.remaining, self.error, self.future, self.done = count, None, future, done

    def delivered(self, err: KafkaError | None, _msg) -> None:
        """Delivery callback (poll thread): the first error, or the last report, finishes the request."""
        self.remaining -= 1
        if err is not None and self.error is None:
            self.error = err
            self.done.append(self)
        elif self.remaining == 0 and self.error is None:
            self.done.append(self)


class KafkaSink:
    """Produces records and awaits their acknowledgement without blocking the event loop."""

    def __init__(self, settings: Settings):
        self._config = producer_config(settings)
        self._max_queue = settings.api_queue_max_messages
        self._producer = Producer({**self._config, "error_cb": self._on_error})
        self._done: list[_Pending] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._probe_now = True  # learn at start whether the broker answers
        self._fatal = False
        self.reachable = False
        self.failed_requests = 0

    def start(self) -> None:
        """Start the poll thread; call from the event loop that will await `send`."""
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._run, name="kafka-poll", daemon=True)
        self._thread.start()

    def close(self, timeout: float = 10.0) -> int:
        """Stop polling and flush; returns the number of messages still undelivered."""
        self._stopping = True
        if self._thread is not None:
            self._thread.join(timeout)
        left = self._producer.flush(timeout)
        self._hand_over()
        return left

    def queue_length(self) -> int:
        """Messages produced and not yet acknowledged."""
        return len(self._producer)

    async def send(self, messages: Sequence[Message], received_at: str) -> list[str]:
        """Produce every message; return their event ids once Kafka acknowledged all of them."""
        if not messages:
            return []
        if not self.reachable:
            raise Unavailable("Kafka is unreachable")
        producer = self._producer
        if len(producer) + len(messages) > self._max_queue:
            raise Unavailable("the producer queue is full")
        ids = new_event_ids(len(messages))
        pending = _Pending(len(messages), self._loop.create_future(), self._done)
        on_delivery = pending.delivered
        try:
            for message, event_id in zip(messages, ids):
                producer.produce(TOPICS[message.kind], message.value, message.key, on_delivery=on_delivery,
                                 headers=headers(event_id, received_at))
        except BufferError as exc:
            raise Unavailable("the producer queue is full") from exc
        except KafkaException as exc:
            raise Unavailable(f"Kafka refused the record: {exc.args[0].str()}") from exc
        error = await pending.future
        if error is not None:
            self.failed_requests += 1
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

    # -- poll thread ---------------------------------------------------------------------

    def _on_error(self, err: KafkaError) -> None:
        if err.fatal():
            self._fatal = True
        elif err.code() in (KafkaError._ALL_BROKERS_DOWN, KafkaError._TRANSPORT, KafkaError._MSG_TIMED_OUT):
            self._probe_now = True
        log.warning("kafka: %s", err.str())

    def _run(self) -> None:
        next_probe = 0.0
        while not self._stopping:
            try:
                self._producer.poll(0.05)
                if self._done:
                    self._probe_now |= any(p.error is not None for p in self._done)
                    self._hand_over()
                if self._fatal:
                    self._replace_producer()
                now = time.monotonic()
                if self._probe_now or (not self.reachable and now >= next_probe):
                    self._probe_now = False
                    self.reachable = self._answers()
                    next_probe = now + PROBE_INTERVAL_S
            except Exception:  # noqa: BLE001 - the poll thread must survive anything
                log.exception("kafka poll thread")

    def _answers(self) -> bool:
        # Reachable means the broker answers; missing topics show up in /readyz and in produce.
        try:
            self._producer.list_topics(timeout=1.0)
            return True
        except KafkaException:
            return False

    def _hand_over(self) -> None:
        done, self._done[:] = list(self._done), []
        if done and self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(_resolve, done)

    def _replace_producer(self) -> None:
        """A fatal error leaves the producer unusable: fail what it holds and start a new one."""
        self._fatal = False
        old, self._producer = self._producer, Producer({**self._config, "error_cb": self._on_error})
        old.purge()
        old.flush(0)
        self._hand_over()
        self._probe_now = True
        log.error("kafka: fatal producer error; replaced the producer")


def _resolve(done: list[_Pending]) -> None:
    for pending in done:
        if not pending.future.done():
            pending.future.set_result(pending.error)
