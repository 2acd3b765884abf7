"""The ingest API (contract section 2): records in over HTTP, acknowledged only once Kafka has them.

The hot path reads the raw body and checks it in `ingest.validation` (msgspec, plain type
checks) rather than through FastAPI's pydantic body parsing, which is several times slower;
the pydantic models of `ingest.models` still describe every body in the OpenAPI schema.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timezone

import msgspec
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from ingest.metrics import IngestMetrics
from ingest.models import EVENT_TYPES
from ingest.openapi import BATCH_BODY, ERROR_RESPONSES, RECORD_BODY, install_openapi
from ingest.producer import KafkaSink, Unavailable
from ingest.validation import Invalid, Message, parse_batch, parse_record
from pinlake.settings import Settings, get_settings

_json = msgspec.json.encode


class _Refused(Exception):
    """A request refused before its body is looked at (401, 413)."""

    def __init__(self, status: int, kind: str, msg: str):
        super().__init__(msg)
        self.status, self.kind, self.msg = status, kind, msg


def received_at() -> str:
    """Now, as RFC 3339 UTC with microseconds (the `received_at` header)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _problem(status: int, kind: str, msg: str, headers: dict | None = None) -> Response:
    body = {"detail": [{"loc": ["body"] if status in (413, 422) else [], "item": None, "field": None,
                        "type": kind, "msg": msg}]}
    return Response(_json(body), status_code=status, media_type="application/json", headers=headers)


class Ingest:
    """What every ingest request does: authorise, read, check, produce, answer."""

    def __init__(self, settings: Settings, sink: KafkaSink, metrics: IngestMetrics):
        key = settings.api_key.get_secret_value() if settings.api_key else ""
        self.key = key.encode() if key else None
        self.max_body = settings.api_max_body_bytes
        self.max_record = settings.api_max_record_bytes
        self.retry_after = str(settings.api_retry_after_s)
        self.sink, self.metrics = sink, metrics

    def _authorise(self, request: Request) -> None:
        if self.key is None:
            return
        given = request.headers.get("x-api-key", "").encode("latin-1")
        if not hmac.compare_digest(given, self.key):
            raise _Refused(401, "unauthorized", "a valid X-API-Key header is required")

    async def _read(self, request: Request) -> bytes:
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_body:
            raise _Refused(413, "too_large", f"body is {length} bytes; the limit is {self.max_body}")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.max_body:
                raise _Refused(413, "too_large", f"body exceeds the limit of {self.max_body} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    async def handle(self, request: Request, route: str, parse: Callable[[bytes], list[Message]],
                     answer: Callable[[list[str]], object]) -> Response:
        """Answer one ingest request; 200 only when Kafka acknowledged every record."""
        started, at = time.perf_counter(), received_at()
        kinds: list[str] = []
        try:
            self._authorise(request)
            messages = parse(await self._read(request))
            ids = await self.sink.send(messages, at)
            kinds = [m.kind for m in messages]
            response = Response(_json(answer(ids)), media_type="application/json")
        except _Refused as exc:
            response = _problem(exc.status, exc.kind, exc.msg)
        except Invalid as exc:
            response = Response(_json({"detail": exc.problems}), status_code=exc.status,
                                media_type="application/json")
        except Unavailable as exc:
            response = _problem(503, "unavailable", f"{exc}; retry later", {"Retry-After": self.retry_after})
        self.metrics.observe(route, response.status_code, time.perf_counter() - started, kinds)
        return response


def _record_endpoint(kind: str) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        ingest: Ingest = request.app.state.ingest
        return await ingest.handle(request, kind, lambda body: [parse_record(kind, body, ingest.max_record)],
                                   lambda ids: {"event_id": ids[0]})

    endpoint.__name__ = f"post_{kind}"
    endpoint.__doc__ = f"Send one {kind} record; 200 once Kafka has acknowledged it."
    return endpoint


async def post_events(request: Request) -> Response:
    """Send a batch of up to 10,000 records, all or nothing; 200 once Kafka acknowledged all."""
    ingest: Ingest = request.app.state.ingest
    return await ingest.handle(request, "events", lambda body: parse_batch(body, ingest.max_record),
                               lambda ids: {"event_ids": ids})


def create_app(settings: Settings | None = None) -> FastAPI:
    """The ingest API for these settings (default: the process's settings)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        sink = KafkaSink(settings)
        metrics = IngestMetrics(sink.queue_length, lambda: sink.reachable)
        app.state.ingest = Ingest(settings, sink, metrics)
        sink.start()
        try:
            yield
        finally:
            await asyncio.to_thread(sink.close, 10.0)

    app = FastAPI(title="pinlake ingest", version="1", lifespan=lifespan,
                  description="Pinterest-style events in; Kafka acknowledges before the API does.")
    for kind in EVENT_TYPES:
        endpoint = _record_endpoint(kind)
        app.post(f"/{kind}/", tags=["ingest"], openapi_extra=RECORD_BODY[kind],
                 responses=ERROR_RESPONSES["record"])(endpoint)
        app.post(f"/{kind}", include_in_schema=False)(endpoint)
    app.post("/events", tags=["ingest"], openapi_extra=BATCH_BODY, responses=ERROR_RESPONSES["batch"])(post_events)
    app.post("/events/", include_in_schema=False)(post_events)
    _add_probes(app)
    from serving.api import create_router  # the read side: /gold/{table} and /dashboard
    app.include_router(create_router(settings))
    from quality.docs import mount_data_docs  # the Data Docs site under /quality/
    mount_data_docs(app, settings)
    install_openapi(app, secured=settings.api_key is not None)
    return app


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
