"""The ingest API (contract section 2): records in over HTTP, acknowledged only once Kafka has them.

The ingest POSTs are the hot path. `IngestLane`, a plain ASGI middleware, answers them before
FastAPI's router, request objects and dependency machinery (which cost more CPU than the
rest of a request together), and checks bodies with `ingest.validation` (msgspec, plain JSON
type checks) rather than pydantic. The FastAPI routes of the same paths call the same
`Ingest.respond`; they describe the endpoints in the OpenAPI document (with the pydantic
models of `ingest.models`) and serve any request the lane lets through.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager

import msgspec
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from ingest.metrics import IngestMetrics
from ingest.models import EVENT_TYPES
from ingest.openapi import BATCH_BODY, ERROR_RESPONSES, RECORD_BODY, install_docs, install_openapi
from ingest.producer import KafkaSink, Unavailable
from ingest.validation import Invalid, Message, parse_batch, parse_record
from pinlake.settings import Settings, get_settings

_json = msgspec.json.encode
Receive = Callable[[], Awaitable[dict]]
# path -> route; both spellings of the trailing slash
LANES = {**{f"/{kind}{slash}": kind for kind in EVENT_TYPES for slash in ("/", "")},
         "/events": "events", "/events/": "events"}
_stamp_cache: list = [-1, ""]


class _Refused(Exception):
    """A request refused before its records are looked at (401, 413, a client gone)."""

    def __init__(self, status: int, kind: str, msg: str):
        super().__init__(msg)
        self.status, self.kind, self.msg = status, kind, msg


def received_at() -> str:
    """Now, as RFC 3339 UTC with microseconds (the `received_at` header)."""
    now = time.time()
    second = int(now)
    if _stamp_cache[0] != second:  # formatting the date part once a second saves a few µs a request
        _stamp_cache[:] = [second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))]
    return f"{_stamp_cache[1]}.{int((now - second) * 1_000_000):06d}Z"


def _problem(status: int, kind: str, msg: str) -> bytes:
    return _json({"detail": [{"loc": ["body"] if status in (413, 422) else [], "item": None, "field": None,
                              "type": kind, "msg": msg}]})


class Ingest:
    """What every ingest request does: authorise, read, check, produce, answer."""

    def __init__(self, settings: Settings, sink: KafkaSink, metrics: IngestMetrics):
        key = settings.api_key.get_secret_value() if settings.api_key else ""
        self.key = key.encode() if key else None
        self.max_body = settings.api_max_body_bytes
        self.max_record = settings.api_max_record_bytes
        self.retry_after = str(settings.api_retry_after_s).encode()
        self.sink, self.metrics = sink, metrics

    def _parse(self, route: str, body: bytes) -> list[Message]:
        if route == "events":
            return parse_batch(body, self.max_record)
        return [parse_record(route, body, self.max_record)]

    async def _read(self, length: bytes | None, receive: Receive) -> bytes:
        if length is not None and length.isdigit() and int(length) > self.max_body:
            raise _Refused(413, "too_large", f"body is {length.decode()} bytes; the limit is {self.max_body}")
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Refused(499, "client_gone", "the client went away")
            chunk, more = message.get("body", b""), message.get("more_body", False)
            size += len(chunk)
            if size > self.max_body:
                raise _Refused(413, "too_large", f"body exceeds the limit of {self.max_body} bytes")
            chunks.append(chunk)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    async def respond(self, route: str, length: bytes | None, key: bytes | None,
                      receive: Receive) -> tuple[int, bytes, list]:
        """Status, JSON body and extra headers of one ingest request; 200 only once Kafka has every record."""
        started, at, kinds, extra = time.perf_counter(), received_at(), [], []
        try:
            if self.key is not None and not hmac.compare_digest(key or b"", self.key):
                raise _Refused(401, "unauthorized", "a valid X-API-Key header is required")
            messages = self._parse(route, await self._read(length, receive))
            ids = await self.sink.send(messages, at)
            kinds = [m.kind for m in messages]
            status, body = 200, _json({"event_ids": ids} if route == "events" else {"event_id": ids[0]})
        except _Refused as exc:
            status, body = exc.status, _problem(exc.status, exc.kind, exc.msg)
        except Invalid as exc:
            status, body = exc.status, _json({"detail": exc.problems})
        except Unavailable as exc:
            status, body = 503, _problem(503, "unavailable", f"{exc}; retry later")
            extra = [(b"retry-after", self.retry_after)]
        self.metrics.observe(route, status, time.perf_counter() - started, kinds)
        return status, body, extra


class IngestLane:
    """ASGI middleware answering the ingest POSTs itself (see the module docstring)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        route = LANES.get(scope.get("path")) if scope["type"] == "http" and scope["method"] == "POST" else None
        if route is None:
            return await self.app(scope, receive, send)
        length = key = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = value
            elif name == b"x-api-key":
                key = value
        status, body, extra = await scope["app"].state.ingest.respond(route, length, key, receive)
        if status == 499:
            return
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()), *extra]})
        await send({"type": "http.response.body", "body": body})


def _endpoint(route: str) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        headers = request.headers
        key = headers.get("x-api-key")
        status, body, extra = await request.app.state.ingest.respond(
            route, (headers.get("content-length") or "").encode() or None,
            key.encode("latin-1") if key is not None else None, request.receive)
        return Response(body, status_code=status, media_type="application/json",
                        headers={k.decode(): v.decode() for k, v in extra})

    endpoint.__name__ = f"post_{route}"
    endpoint.__doc__ = ("Send a batch of up to 10,000 records, all or nothing; 200 once Kafka acknowledged all."
                        if route == "events" else f"Send one {route} record; 200 once Kafka has acknowledged it.")
    return endpoint


def create_app(settings: Settings | None = None) -> FastAPI:
    """The ingest API for these settings (default: the process's settings); `pinlake.http` adds the read side."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        sink = KafkaSink(settings)
        metrics = IngestMetrics(sink.queue_length, lambda: sink.reachable)
        app.state.ingest = Ingest(settings, sink, metrics)
        sink.start()
        gauges = asyncio.create_task(_refresh_every_second(metrics)) if metrics.shared else None
        try:
            yield
        finally:
            if gauges is not None:
                gauges.cancel()
            await sink.aclose(10.0)
            metrics.retire()

    app = FastAPI(title="pinlake ingest", version="1", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Pinterest-style events in; Kafka acknowledges before the API does.")
    app.add_middleware(IngestLane)
    for kind in EVENT_TYPES:
        app.post(f"/{kind}/", tags=["ingest"], openapi_extra=RECORD_BODY[kind],
                 responses=ERROR_RESPONSES["record"])(_endpoint(kind))
        app.post(f"/{kind}", include_in_schema=False)(_endpoint(kind))
    app.post("/events", tags=["ingest"], openapi_extra=BATCH_BODY,
             responses=ERROR_RESPONSES["batch"])(_endpoint("events"))
    app.post("/events/", include_in_schema=False)(_endpoint("events"))
    _add_probes(app)
    install_openapi(app, secured=settings.api_key is not None)  # built at the first request: later routes too
    install_docs(app, settings.web_cache)
    return app


async def _refresh_every_second(metrics: IngestMetrics) -> None:
    """Keep this worker's gauges current for a scrape answered by another worker."""
    while True:
        metrics.refresh()
        await asyncio.sleep(1.0)


def _add_probes(app: FastAPI) -> None:
    @app.get("/healthz", tags=["probes"])
    async def healthz() -> dict:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["probes"], responses={503: {"description": "Kafka is not reachable."}})
    async def readyz(request: Request) -> JSONResponse:
        """Kafka answers and has the contract's topics."""
        ok, detail = await asyncio.to_thread(request.app.state.ingest.sink.check, 2.0)
        return JSONResponse({"status": "ready" if ok else "unavailable", "kafka": detail},
                            status_code=200 if ok else 503)

    @app.get("/metrics", tags=["probes"], response_class=Response)
    async def metrics(request: Request) -> Response:
        """Prometheus text exposition."""
        return Response(request.app.state.ingest.metrics.render(),
                        media_type="text/plain; version=0.0.4; charset=utf-8")
