"""Reading a Prometheus text exposition in the tests, with prometheus_client's own parser (which
names a counter's samples `<name>_total`, whether or not the exporter wrote the suffix)."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample


def scrape(url: str) -> list[Sample]:
    """Every sample the endpoint serves."""
    text = httpx.get(url, timeout=30).text
    return [sample for family in text_string_to_metric_families(text) for sample in family.samples]


def value(samples: list[Sample], name: str) -> float | None:
    """The value of the unlabelled sample `name`, None when there is none."""
    return next((s.value for s in samples if s.name == name and not s.labels), None)
