"""The OpenAPI document describes exactly what the validation accepts, from the one field table."""

import pytest
from pydantic import SecretStr

from ingest.app import create_app
from ingest.models import FIELDS, INTEGER, NUMBER, STRING, STRING_OR_INTEGER
from pinlake.settings import Settings

pytestmark = pytest.mark.unit
JSON_TYPES = {INTEGER: {"integer"}, NUMBER: {"number"}, STRING: {"string"}, STRING_OR_INTEGER: {"string", "integer"}}


@pytest.fixture(scope="module")
def document(tmp_path_factory) -> dict:
    return create_app(Settings(_env_file=None, data_root=tmp_path_factory.mktemp("openapi"))).openapi()


def _types(prop: dict) -> set[str]:
    return {option["type"] for option in prop.get("anyOf", [prop])}


@pytest.mark.parametrize("kind", sorted(FIELDS))
def test_each_record_schema_matches_the_field_table(document, kind):
    schema = document["components"]["schemas"][kind.title()]
    assert schema["additionalProperties"] is True
    assert schema["required"] == [name for name, (_, required, _) in FIELDS[kind].items() if required]
    for name, (json_type, required, _) in FIELDS[kind].items():
        expected = JSON_TYPES[json_type] | (set() if required else {"null"})
        assert _types(schema["properties"][name]) == expected, name


def test_the_endpoints_and_their_bodies_are_documented(document):
    paths = document["paths"]
    for kind in FIELDS:
        body = paths[f"/{kind}/"]["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert body == {"$ref": f"#/components/schemas/{kind.title()}"}
        assert {"200", "401", "413", "422", "503"} <= set(paths[f"/{kind}/"]["post"]["responses"])
    batch = paths["/events"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert batch["type"] == "array" and batch["maxItems"] == 10_000
    assert [ref["$ref"] for ref in batch["items"]["oneOf"]] == [
        "#/components/schemas/PinEvent", "#/components/schemas/GeoEvent", "#/components/schemas/UserEvent"]
    assert "Retry-After" in paths["/events"]["post"]["responses"]["503"]["headers"]
    assert {"/healthz", "/readyz", "/metrics"} <= set(paths)
    assert "security" not in paths["/pin/"]["post"]


def test_the_api_key_scheme_is_documented_when_a_key_is_set(tmp_path):
    document = create_app(Settings(_env_file=None, data_root=tmp_path, api_key=SecretStr("k"))).openapi()
    assert document["components"]["securitySchemes"]["APIKey"] == {"type": "apiKey", "in": "header",
                                                                   "name": "X-API-Key"}
    assert document["paths"]["/events"]["post"]["security"] == [{"APIKey": []}]
    assert "security" not in document["paths"]["/healthz"]["get"]
