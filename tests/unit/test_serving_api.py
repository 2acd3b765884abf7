"""/gold/{table} serves only allow-listed gold tables, page by page; /dashboard/status reports."""

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from pinlake.settings import Settings
from serving.api import create_router
from tests.serving_data import GOLD_ROWS, write_gold

pytestmark = pytest.mark.unit


@pytest.fixture
def client(tmp_path):
    settings = Settings(_env_file=None, data_root=tmp_path, lakehouse_root=str(tmp_path / "lake"))
    app = FastAPI()
    app.include_router(create_router(settings))
    return TestClient(app), settings


def test_gold_table_pages_through_every_row(client):
    http, settings = client
    write_gold(settings.lakehouse)
    expected = sorted(GOLD_ROWS["gold.category_by_country"].to_pylist(), key=lambda r: r["country"])
    first = http.get("/gold/category_by_country", params={"limit": 2}).json()
    assert first["table"] == "gold.category_by_country" and first["total"] == 3
    assert first["rows"] == expected[:2] and first["next_offset"] == 2
    second = http.get("/gold/category_by_country", params={"limit": 2, "offset": 2}).json()
    assert second["rows"] == expected[2:] and second["next_offset"] is None


@pytest.mark.parametrize("table", ["pins", "silver.pins", "quarantine", "results", "category_by_country;drop"])
def test_tables_outside_the_allow_list_are_rejected(client, table):
    http, settings = client
    write_gold(settings.lakehouse)
    response = http.get(f"/gold/{table}")
    assert response.status_code == 404
    assert "not a gold table" in response.json()["detail"]["error"]


def test_unpublished_gold_table_is_a_clear_404(client):
    http, _ = client
    response = http.get("/gold/category_by_year")
    assert response.status_code == 404
    assert response.json()["detail"]["error"] == "gold.category_by_year has not been published yet"


def test_bad_paging_parameters_are_422_naming_the_field(client):
    http, settings = client
    write_gold(settings.lakehouse)
    response = http.get("/gold/category_by_country", params={"limit": 0})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "limit"]


def test_dashboard_and_its_chart_library_are_served_locally(client):
    http, _ = client
    page = http.get("/dashboard")
    assert page.status_code == 200 and '<script src="/dashboard/plotly.min.js">' in page.text
    assert "http://" not in page.text and "https://" not in page.text  # no CDN
    js = http.get("/dashboard/plotly.min.js")
    assert js.status_code == 200 and len(js.content) > 1_000_000


def test_status_reports_freshness(client):
    http, settings = client
    empty = http.get("/dashboard/status").json()
    assert empty["gold"]["latest_publication"] is None
    assert empty["quality"] == {"status": "no runs yet"}
    write_gold(settings.lakehouse)
    status = http.get("/dashboard/status").json()
    assert status["gold"]["latest_publication"] is not None
    assert set(status["gold"]["tables"]) == set(GOLD_ROWS)
