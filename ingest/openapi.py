"""The OpenAPI description of the ingest API, built from the pydantic models of `ingest.models`.

The endpoints read raw bodies (see `ingest.app`), so FastAPI cannot infer their schemas; they
are declared here and the models are added to the document's components.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.openapi.utils import get_openapi
from pydantic.json_schema import models_json_schema

from ingest.models import EVENT_TYPES, MAX_BATCH_ITEMS, SCHEMA_MODELS, Accepted, BatchAccepted


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json_body(schema: dict) -> dict:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


RECORD_BODY = {kind: _json_body(_ref(kind.title())) for kind in EVENT_TYPES}
BATCH_BODY = _json_body({
    "type": "array",
    "maxItems": MAX_BATCH_ITEMS,
    "items": {
        "oneOf": [_ref(f"{kind.title()}Event") for kind in EVENT_TYPES],
        "discriminator": {"propertyName": "type",
                          "mapping": {kind: f"#/components/schemas/{kind.title()}Event" for kind in EVENT_TYPES}},
    },
})

_PROBLEM = {"content": {"application/json": {"schema": _ref("ProblemBody")}}}
_COMMON = {
    401: {"description": "An API key is configured and X-API-Key is missing or wrong.", **_PROBLEM},
    413: {"description": "The body, or one record, is larger than the configured limit.", **_PROBLEM},
    422: {"description": "A required field is missing or a field has the wrong JSON type; "
                         "`detail` names each bad item and field. Nothing was produced.", **_PROBLEM},
    503: {"description": "Kafka is unreachable or the producer queue is full; nothing is acknowledged.",
          "headers": {"Retry-After": {"description": "Seconds to wait before retrying.",
                                      "schema": {"type": "integer"}}},
          **_PROBLEM},
}
ERROR_RESPONSES = {
    "record": {200: {"model": Accepted, "description": "Kafka acknowledged the record."}, **_COMMON},
    "batch": {200: {"model": BatchAccepted, "description": "Kafka acknowledged every record, in order."},
              **_COMMON},
}


def install_openapi(app: FastAPI, secured: bool) -> None:
    """Make `app.openapi()` include the event models and, when a key is configured, the API-key scheme."""

    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description,
                             routes=app.routes)
        _, defs = models_json_schema([(model, "validation") for model in SCHEMA_MODELS],
                                     ref_template="#/components/schemas/{model}")
        components = schema.setdefault("components", {})
        components.setdefault("schemas", {}).update(defs.get("$defs", {}))
        if secured:
            components["securitySchemes"] = {"APIKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}}
            for path, operations in schema["paths"].items():
                if path.startswith(("/pin", "/geo", "/user", "/events")):
                    for operation in operations.values():
                        operation["security"] = [{"APIKey": []}]
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def install_docs(app: FastAPI, web_cache: Path) -> None:
    """/docs (Swagger UI) and /redoc from the pinned copies under /assets: no CDN, no internet."""
    from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
    from fastapi.staticfiles import StaticFiles

    from pinlake import web

    try:
        web.require(web_cache)
    except web.WebAssetsMissing as exc:  # the API itself works without them: say so, and go on
        logging.getLogger(__name__).warning("/docs, /redoc and the Data Docs will not render: %s", exc)
    app.mount(web.URL_PREFIX, StaticFiles(directory=web_cache, check_dir=False), name="assets")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url, title=f"{app.title} - Swagger UI",
                                   swagger_js_url=web.url("swagger-ui-dist", "swagger-ui-bundle.js"),
                                   swagger_css_url=web.url("swagger-ui-dist", "swagger-ui.css"),
                                   swagger_favicon_url=web.url("swagger-ui-dist", "favicon-32x32.png"))

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url=app.openapi_url, title=f"{app.title} - ReDoc",
                              redoc_js_url=web.url("redoc", "bundles/redoc.standalone.js"),
                              redoc_favicon_url=web.url("swagger-ui-dist", "favicon-32x32.png"),
                              with_google_fonts=False)
