"""The dashboard, served by the real API and loaded in headless Chromium, charts every gold table."""

import os
import re
import subprocess
import sys

import httpx
import pytest

from pinlake.supervisor import wait_until
from serving.catalog import GOLD_TABLES
from tests.browser import dom_after_scripts, screenshot
from tests.conftest import make_settings
from tests.serving_data import write_gold

pytestmark = pytest.mark.integration


@pytest.fixture
def api_url(tmp_path, kafka_settings):
    settings = make_settings(tmp_path, kafka_bootstrap=kafka_settings.bootstrap)
    write_gold(settings.lakehouse)
    env = {**os.environ, **settings.child_env()}
    server = subprocess.Popen([sys.executable, "-m", "pinlake.cli", "api", "--log-level", "warning"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{settings.api_port}"

    def up() -> bool:
        try:
            return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        assert wait_until(lambda: server.poll() is not None or up(), 60) and server.poll() is None, \
            server.stderr.read().decode() if server.poll() is not None else "API did not start"
        yield url
    finally:
        server.terminate()
        server.wait(30)


def test_dashboard_shows_a_chart_for_each_gold_table(api_url):
    dom = dom_after_scripts(f"{api_url}/dashboard")
    assert 'data-ready="true"' in dom, "the page's scripts did not finish"
    rendered = set(re.findall(r'data-table="(\w+)" data-rendered="true"', dom))
    assert rendered == {name.split(".", 1)[1] for name in GOLD_TABLES}
    # plotly draws each chart as an SVG inside the table's chart element
    for name in rendered:
        chart = dom.split(f'id="chart-{name}"', 1)[1].split('class="rows"', 1)[0]
        assert "main-svg" in chart, f"no chart drawn for {name}"
    assert "latest quality run" in dom and "gold published" in dom
    shot = screenshot(f"{api_url}/dashboard", "dashboard.png")
    assert shot.stat().st_size > 50_000
