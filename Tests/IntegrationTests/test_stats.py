"""The stats plugin end to end: the real chassis with libstats.so, /metrics parsed and checked
by promtool, /stats.json, and a plain-C publisher (Tests/Fixtures/plugins/stats_user.c) whose
figures come back exactly."""
import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from conftest import ROOT, bin_dir, free_port, wait_for_port

HEADER_DIR = ROOT / "Sources/CChassis/include"
STATS_USER_SRC = ROOT / "Tests/Fixtures/plugins/stats_user.c"
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?')


@pytest.fixture(scope="module")
def stats_plugin_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("stats-plugins")
    subprocess.run(["cc", "-shared", "-fPIC", "-Wall", "-Werror", f"-I{HEADER_DIR}", "-o", str(d / "libstats_user.so"),
                    str(STATS_USER_SRC)], check=True)
    for real in ("libstats.so", "libhello.so"):
        os.symlink(bin_dir() / real, d / real)
    return d


@pytest.fixture
def stats_chassis(start_chassis, stats_plugin_dir):
    """Starts the chassis with the given plugins and the stats endpoint on a free port."""
    def start(plugins):
        port = free_port()
        c = start_chassis("--plugin-dir", stats_plugin_dir, "--plugins", plugins, f"--stats-address=127.0.0.1:{port}")
        wait_for_port(port, c.proc)
        c.wait_for_log("started plugins")
        c.port = port
        return c
    return start


def get(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
        return r.status, r.headers["Content-Type"], r.read().decode()


def unescape(value):
    return re.sub(r'\\(.)', lambda m: "\n" if m.group(1) == "n" else m.group(1), value)


def parse(text):
    """{(name, frozenset of labels): value}, checking every sample's family has HELP and TYPE first."""
    samples, typed, helped = {}, {}, set()
    for line in text.splitlines():
        if line.startswith("# HELP "):
            helped.add(line.split()[2])
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            typed[name] = kind
        else:
            m = SAMPLE.match(line)
            assert m, f"not a sample line: {line!r}"
            name, labels, value = m.groups()
            family = re.sub(r'_(sum|count)$', '', name) if re.sub(r'_(sum|count)$', '', name) in typed else name
            assert family in typed and family in helped, f"{name} has no HELP/TYPE"
            key = (name, frozenset((k, unescape(v)) for k, v in LABEL.findall(labels or "")))
            assert key not in samples, f"duplicate series {key}"
            samples[key] = float(value)
    return samples, typed


def value(samples, name, **labels):
    return samples[(name, frozenset(labels.items()))]


def promtool_check(text):
    promtool = shutil.which("promtool")
    if promtool is None:
        if os.environ.get("CI") == "true":
            pytest.fail("promtool is missing (Debian package prometheus; Scripts/setup installs it)")
        pytest.skip("promtool is not installed")
    r = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def fnv1a(text):
    h = 0xcbf29ce484222325
    for b in text.encode():
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def test_process_and_chassis_figures(stats_chassis):
    c = stats_chassis("stats,hello")
    status, content_type, text = get(c.port, "/metrics")
    assert status == 200 and content_type == "text/plain; version=0.0.4; charset=utf-8"
    samples, typed = parse(text)
    now = time.time()
    assert typed["process_cpu_seconds_total"] == "counter"
    assert 0 < value(samples, "process_cpu_seconds_total") < 600
    assert value(samples, "process_resident_memory_bytes") > 1_000_000
    assert 3 <= value(samples, "process_open_fds") <= value(samples, "process_max_fds")
    assert now - 120 < value(samples, "process_start_time_seconds") <= now
    assert 0 <= value(samples, "process_uptime_seconds") < 120
    assert value(samples, "chassis_plugins_loaded") == 2
    for plugin in ("stats", "hello"):
        info = [k for k in samples if k[0] == "chassis_plugin_info" and ("plugin", plugin) in k[1]]
        assert len(info) == 1 and ("state", "started") in info[0][1], info
    assert value(samples, "stats_digest_evictions_total") == 0
    assert value(samples, "stats_digests") == 0
    promtool_check(text)
    code, log = c.stop()
    assert code == 0, log
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", c.port), timeout=1).close()


def test_c_publisher_figures_come_back_exactly(stats_chassis):
    c = stats_chassis("stats,hello,stats_user")
    c.wait_for_log("stats_user recorded")
    _, _, text = get(c.port, "/metrics")
    samples, typed = parse(text)
    assert typed["stats_user_events_total"] == "counter"
    assert value(samples, "stats_user_events_total", kind='quote"d') == 7
    assert typed["stats_user_latency_seconds"] == "summary"
    assert value(samples, "stats_user_latency_seconds_count") == 4
    assert value(samples, "stats_user_latency_seconds_sum") == pytest.approx(0.006, rel=1e-9)
    assert value(samples, "stats_user_latency_seconds_max") == pytest.approx(0.003, rel=1e-9)
    assert value(samples, "stats_user_latency_seconds", quantile="0.5") == pytest.approx(0.001, rel=1e-3)
    assert value(samples, "stats_user_latency_seconds", quantile="0.999") == pytest.approx(0.003, rel=1e-3)
    assert value(samples, "stats_user_collected", source="c") == 42
    assert value(samples, "chassis_plugins_loaded") == 3

    digest = fnv1a("SELECT * FROM orders WHERE id = ?")
    labels = dict(digest=digest, user="alice", db="shop")
    assert value(samples, "query_digest_calls_total", **labels) == 2
    assert value(samples, "query_digest_errors_total", **labels) == 1
    assert value(samples, "query_digest_rows_sent_total", **labels) == 1
    assert value(samples, "query_digest_duration_seconds_sum", **labels) == pytest.approx(0.006, rel=1e-9)
    assert value(samples, "stats_digests") == 1
    promtool_check(text)

    status, content_type, body = get(c.port, "/stats.json")
    assert status == 200 and content_type == "application/json"
    stats = json.loads(body)
    [d] = stats["digests"]
    assert d["id"] == digest and d["text"] == "SELECT * FROM orders WHERE id = ?"
    assert (d["user"], d["db"], d["calls"], d["errors"], d["rows_sent"]) == ("alice", "shop", 2, 1, 1)
    assert d["max_seconds"] == pytest.approx(0.004)
    events = [m for m in stats["metrics"] if m["name"] == "stats_user_events_total"]
    assert events == [{"name": "stats_user_events_total", "type": "counter", "help": "Events the C fixture counted.",
                       "labels": {"kind": 'quote"d'}, "value": 7}]
    latency = next(m for m in stats["metrics"] if m["name"] == "stats_user_latency_seconds")
    assert latency["count"] == 4 and latency["quantiles"]["0.5"] == pytest.approx(0.001, rel=1e-3)
    assert any(m["name"] == "process_cpu_seconds_total" for m in stats["metrics"])
    code, log = c.stop()
    assert code == 0, log


def test_unknown_path_is_404(stats_chassis):
    c = stats_chassis("stats")
    with pytest.raises(urllib.error.HTTPError) as e:
        get(c.port, "/nope")
    assert e.value.code == 404
    assert c.stop()[0] == 0


def test_empty_address_disables_http(start_chassis, stats_plugin_dir):
    c = start_chassis("--plugin-dir", stats_plugin_dir, "--plugins", "stats,stats_user", "--stats-address=")
    log = c.wait_for_log("started plugins")
    assert "no HTTP endpoint" in log
    assert c.stop()[0] == 0


def test_busy_port_fails_start(start_chassis, stats_plugin_dir):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        c = start_chassis("--plugin-dir", stats_plugin_dir, "--plugins", "stats", f"--stats-address=127.0.0.1:{port}")
        c.proc.wait(timeout=20)
        code, log = c.stop()
    assert code == 5, log
    assert f"cannot listen on 127.0.0.1:{port}" in log
