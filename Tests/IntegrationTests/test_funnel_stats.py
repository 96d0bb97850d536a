"""funnel + stats end to end: a known workload through the funnel, then /metrics and
/stats.json are read back: exact counts, latency quantiles in range, promtool clean. And the
funnel answers the same with stats left out."""
import json

import pymysql
import pytest

from conftest import free_port, wait_for_port
from mariadb import (APP_PASSWORD, APP_USER, HOST, OTHER_PASSWORD, OTHER_USER, PORT, prepare_server, require_mariadb,
                     root)
from test_stats import get, parse, promtool_check, value


@pytest.fixture(scope="module", autouse=True)
def server():
    require_mariadb()
    prepare_server()


def start(start_chassis, plugins):
    port, stats_port = free_port(), free_port()
    c = start_chassis("--plugins", plugins, f"--funnel-address=127.0.0.1:{port}",
                      f"--funnel-backend-addresses={HOST}:{PORT}", "--funnel-auth-user=root",
                      *( [f"--stats-address=127.0.0.1:{stats_port}"] if "stats" in plugins else []))
    wait_for_port(port, c.proc)
    c.port, c.stats_port = port, stats_port
    return c


def connect(c):
    return pymysql.connect(host="127.0.0.1", port=c.port, user=APP_USER, password=APP_PASSWORD,
                           database="funnel_test", autocommit=True)


def workload(c):
    with root() as r, r.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS funnel_test.stats_w (id INT PRIMARY KEY, n INT)")
        cur.execute("DELETE FROM funnel_test.stats_w")
    results = []
    with connect(c) as conn, conn.cursor() as cur:
        for _ in range(1000):
            cur.execute("SELECT SLEEP(0.001)")
            results.append(cur.fetchone())
        for i in range(100):
            cur.execute(f"INSERT INTO stats_w VALUES ({i}, {i * 2})")
        cur.execute("SELECT COUNT(*), SUM(n) FROM stats_w")
        results.append(cur.fetchone())
    return results


def test_known_workload_gives_exact_counts_and_sane_quantiles(start_chassis):
    c = start(start_chassis, "funnel,stats")
    backend = f"{HOST}:{PORT}"
    results = workload(c)
    assert results[-1] == (100, 9900)
    status, _, text = get(c.stats_port, "/metrics")
    assert status == 200
    promtool_check(text)
    samples, types = parse(text)

    # 1000 sleeps + 100 inserts + 1 count, plus PyMySQL's SET AUTOCOMMIT at connect.
    queries = value(samples, "funnel_backend_queries_total", backend=backend)
    assert 1101 <= queries <= 1102, queries
    assert types["funnel_backend_query_duration_seconds"] == "summary"
    assert value(samples, "funnel_backend_query_duration_seconds_count", backend=backend) == queries
    p50 = value(samples, "funnel_backend_query_duration_seconds", backend=backend, quantile="0.5")
    p99 = value(samples, "funnel_backend_query_duration_seconds", backend=backend, quantile="0.99")
    assert 0.001 <= p50 < 0.05, p50          # SELECT SLEEP(0.001) dominates
    assert p50 <= p99 < 1.0, p99
    assert value(samples, "funnel_backend_connects_total", backend=backend) >= 1
    assert value(samples, "funnel_backend_up", backend=backend) == 1
    assert value(samples, "funnel_backend_received_bytes_total", backend=backend) > 0
    assert value(samples, "funnel_backlog_wait_duration_seconds_count", user=APP_USER) == queries

    # The digests: literals folded, counts exact, rows counted.
    _, _, body = get(c.stats_port, "/stats.json")
    digests = json.loads(body)["digests"]
    by_text = {d["text"]: d for d in digests if d["user"] == APP_USER}
    sleep = by_text["SELECT SLEEP ( ? )"] if "SELECT SLEEP ( ? )" in by_text else by_text["SELECT SLEEP(?)"]
    assert sleep["calls"] == 1000 and sleep["rows_sent"] == 1000 and sleep["errors"] == 0
    inserts = [d for t, d in by_text.items() if t.startswith("INSERT INTO stats_w")]
    assert len(inserts) == 1 and inserts[0]["calls"] == 100 and inserts[0]["rows_affected"] == 100
    c.stop()


def test_digests_follow_each_clients_user_and_database(start_chassis):
    """The funnel resolves a client's (user, database) once for the digests and again after a
    change of database: every execution lands under the user and database it ran in."""
    c = start(start_chassis, "funnel,stats")
    with connect(c) as conn, conn.cursor() as cur:
        for _ in range(3):
            cur.execute("SELECT 17 AS scoped_probe")
        conn.select_db("funnel_other")                      # COM_INIT_DB
        for _ in range(2):
            cur.execute("SELECT 17 AS scoped_probe")
        cur.execute("USE funnel_test")                      # a statement
        cur.execute("SELECT 17 AS scoped_probe")
    with pymysql.connect(host="127.0.0.1", port=c.port, user=OTHER_USER, password=OTHER_PASSWORD,
                         database="funnel_test", autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("SELECT 17 AS scoped_probe")
    _, _, body = get(c.stats_port, "/stats.json")
    calls = {(d["user"], d["db"]): d["calls"] for d in json.loads(body)["digests"] if "scoped_probe" in d["text"]}
    assert calls == {(APP_USER, "funnel_test"): 4, (APP_USER, "funnel_other"): 2, (OTHER_USER, "funnel_test"): 1}, calls
    c.stop()


def test_funnel_answers_the_same_without_stats(start_chassis):
    with_stats = workload(start(start_chassis, "funnel,stats"))
    without = workload(start(start_chassis, "funnel"))
    assert with_stats == without
