"""The dashboard, served by the real API and loaded in headless Chromium, charts every gold table
and draws the lineage graph from the stored OpenLineage events."""

import re
import uuid

import pytest

from serving.catalog import gold_tables
from tests.browser import dom_after_scripts, screenshot
from tests.conftest import make_settings
from tests.integration.ingest_helpers import running_api
from tests.serving_data import write_gold

pytestmark = pytest.mark.integration


@pytest.fixture
def api_url(tmp_path, kafka_settings):
    settings = make_settings(tmp_path, kafka_bootstrap=kafka_settings.bootstrap)
    write_gold(settings.lakehouse)
    with running_api(settings) as url:
        yield url


def test_dashboard_shows_a_chart_for_each_gold_table(api_url):
    dom = dom_after_scripts(f"{api_url}/dashboard")
    assert 'data-ready="true"' in dom, "the page's scripts did not finish"
    rendered = set(re.findall(r'data-table="(\w+)" data-rendered="true"', dom))
    assert rendered == {name.split(".", 1)[1] for name in gold_tables()}
    # plotly draws each chart as an SVG inside the table's chart element
    for name in rendered:
        chart = dom.split(f'id="chart-{name}"', 1)[1].split('class="rows"', 1)[0]
        assert "main-svg" in chart, f"no chart drawn for {name}"
    assert "latest quality run" in dom and "gold published" in dom
    # The pipeline panel: bronze lag per topic (from Kafka's end offsets; no bronze here, so all
    # of it), and why there are no DAG runs to list (no Airflow runs beside this API).
    pipeline = dom.split('id="pipeline"', 1)[1].split('id="grid"', 1)[0]
    assert 'data-ready="true"' in pipeline.split(">", 1)[0]
    for topic in ("pinterest.pin", "pinterest.geo", "pinterest.user"):
        assert re.search(rf"bronze lag {re.escape(topic)}</b><span[^>]*>\d+ message\(s\)", pipeline), pipeline
    assert "latest medallion runs: Airflow did not answer" in pipeline, pipeline
    shot = screenshot(f"{api_url}/dashboard", "dashboard.png")
    assert shot.stat().st_size > 50_000


def test_the_lineage_panel_draws_bronze_silver_gold_from_the_stored_events(tmp_path, kafka_settings):
    from lakehouse import catalog
    from lakehouse.lineage import datasets, runs, store

    settings = make_settings(tmp_path, kafka_bootstrap=kafka_settings.bootstrap)
    root, gold = settings.lakehouse, catalog.layer("gold")[0].name
    write_gold(root)
    for job, inputs, outputs in (("lakehouse.silver.job", [("bronze.pin_events", 3)], [("silver.pins", 4)]),
                                 ("lakehouse.gold.job", [("silver.pins", 4)], [(gold, 7)])):
        run_id = str(uuid.uuid4())
        for state in (runs.RunState.START, runs.RunState.COMPLETE):
            read = [datasets.input_dataset(n, root, v) for n, v in inputs]
            done = state == runs.RunState.COMPLETE
            written = [datasets.output_dataset(n, root, v) for n, v in outputs] if done else []
            event = runs.run_event(state, job, run_id, read, written)
            assert store.write_event(event, root)
    with running_api(settings) as url:
        dom = dom_after_scripts(f"{url}/dashboard")
    panel = dom.split('id="lineage"', 1)[1].split('id="grid"', 1)[0]
    assert 'data-ready="true"' in dom.split('id="lineage"', 1)[1].split(">", 1)[0], panel[:500]
    drawn = re.findall(r'<g class="(job|table)" data-node="([^"]+)">', panel)
    assert drawn == [("table", "bronze.pin_events"), ("job", "pinlake/lakehouse.silver.job"), ("table", "silver.pins"),
                     ("job", "pinlake/lakehouse.gold.job"), ("table", gold)], drawn
    assert panel.count("<path ") == 4  # read, wrote, read, wrote
    label = f"{gold} v7"  # each table with the version last written, cut to the box's 32 characters
    assert (label if len(label) <= 32 else label[:31] + "…") in panel and "silver.pins v4" in panel
