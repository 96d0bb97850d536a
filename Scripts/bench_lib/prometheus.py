"""Reads the stats plugin's Prometheus endpoint: the funnel's own view of a run, next to the
load generator's."""
import re
import urllib.request

SAMPLE = re.compile(r'^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$')
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def scrape(port: int, timeout: float = 10.0) -> dict:
    """{(name, ((label, value), ...)): value} of every sample at http://127.0.0.1:PORT/metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=timeout) as response:
        return parse(response.read().decode())


def parse(text: str) -> dict:
    """The samples of a Prometheus text exposition, keyed as scrape's."""
    samples = {}
    for line in text.splitlines():
        m = SAMPLE.match(line)
        if m and not line.startswith("#"):
            labels = tuple(sorted(LABEL.findall(m.group(2) or "")))
            samples[(m.group(1), labels)] = float(m.group(3))
    return samples


def value(samples: dict, name: str, **labels):
    """One sample's value, or None."""
    return samples.get((name, tuple(sorted((k, str(v)) for k, v in labels.items()))))
