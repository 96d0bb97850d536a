"""funnel over several backends: balancing, health, runtime add/drain, read/write split and
the C hook plugin. Two extra throwaway MariaDB servers are started for this module."""
import collections
import pathlib
import shutil
import signal
import subprocess
import threading
import time

import pymysql
import pytest

from conftest import ROOT, free_port, wait_for_port
from mariadb import (APP_PASSWORD, APP_USER, HOST, PORT, prepare_server, require_mariadb, root, wait_until)

MARIADB = ROOT / "Scripts/mariadb"


class Server:
    def __init__(self, port, datadir):
        self.port, self.datadir = port, datadir

    def start(self):
        subprocess.run([str(MARIADB), "start", str(self.datadir), str(self.port)], check=True, capture_output=True, timeout=120)

    def stop(self):
        subprocess.run([str(MARIADB), "stop", str(self.datadir)], check=True, capture_output=True, timeout=120)

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def connections(self, user=APP_USER):
        try:
            with pymysql.connect(host=HOST, port=self.port, user="root", password="") as c, c.cursor() as cur:
                cur.execute("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = %s", (user,))
                return cur.fetchone()[0]
        except pymysql.err.OperationalError:
            return 0


def prepare(port):
    with pymysql.connect(host=HOST, port=port, user="root", password="", autocommit=True) as c, c.cursor() as cur:
        cur.execute(f"CREATE USER IF NOT EXISTS '{APP_USER}'@'%' IDENTIFIED BY '{APP_PASSWORD}'")
        cur.execute(f"GRANT ALL ON *.* TO '{APP_USER}'@'%'")
        cur.execute("CREATE DATABASE IF NOT EXISTS funnel_test")
        cur.execute("CREATE TABLE IF NOT EXISTS funnel_test.counters (id INT PRIMARY KEY, n BIGINT NOT NULL)")


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    require_mariadb()
    prepare_server()
    primary = Server(PORT, None)
    extra = []
    for _ in range(2):
        s = Server(free_port(), tmp_path_factory.mktemp("mariadb"))
        s.start()
        prepare(s.port)
        extra.append(s)
    yield [primary, *extra]
    for s in extra:
        s.stop()


def backends_toml(entries):
    lines = []
    for address, role, weight in entries:
        lines += ["[[funnel.backends]]", f'address = "{address}"', f'role = "{role}"', f"weight = {weight}"]
    return "\n".join(lines)


@pytest.fixture
def start_funnel(start_chassis, tmp_path):
    def start(backends, *options, extra_toml="", plugins="funnel"):
        port = free_port()
        cfg = tmp_path / f"funnel-{port}.toml"
        body = (f'[funnel]\naddress = "127.0.0.1:{port}"\nauth-user = "root"\nthreads = 2\n'
                f'health-check-interval = 0.3\nhealth-check-timeout = 0.5\n{extra_toml}\n' + backends_toml(backends) + "\n")
        cfg.write_text(body)
        c = start_chassis("--plugins", plugins, "--defaults-file", cfg, *options)
        wait_for_port(port, c.proc)
        c.port, c.cfg, c.header = port, cfg, body[: body.index("[[funnel.backends]]")]
        return c

    return start


def connect(f, **kw):
    return pymysql.connect(host="127.0.0.1", port=f.port, user=APP_USER, password=APP_PASSWORD, database="funnel_test",
                           autocommit=True, connect_timeout=10, read_timeout=30, **kw)


def port_of(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT @@port")
        return cur.fetchone()[0]


def test_weighted_round_robin_distribution(servers, start_funnel):
    a, b, _ = servers
    f = start_funnel([(a.address, "rw", 3), (b.address, "rw", 1)], extra_toml='balance = "round-robin"')
    counts = collections.Counter()
    with connect(f) as c:
        for _ in range(400):
            counts[port_of(c)] += 1
    share = counts[a.port] / 400
    assert 0.70 <= share <= 0.80, counts   # weight 3:1 -> 75 %


def test_least_outstanding_avoids_a_slowed_backend(servers, start_funnel):
    a, b, _ = servers
    # Every query that lands on b takes 100 ms: b is the slowed backend.
    slow = f"SELECT IF(@@port = {b.port}, SLEEP(0.1), 0), @@port"

    def run(balance):
        f = start_funnel([(a.address, "rw", 1), (b.address, "rw", 1)], extra_toml=f'balance = "{balance}"')
        counts = collections.Counter()
        lock = threading.Lock()

        def client():
            with connect(f) as c, c.cursor() as cur:
                deadline = time.time() + 3
                while time.time() < deadline:
                    cur.execute(slow)
                    with lock:
                        counts[cur.fetchone()[1]] += 1

        threads = [threading.Thread(target=client, daemon=True) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        f.stop()
        return counts[b.port] / sum(counts.values())

    round_robin, least = run("round-robin"), run("least-outstanding")
    assert least < 0.2, least
    assert least < round_robin / 2, (least, round_robin)


def test_backend_killed_under_load_then_readmitted(servers, start_funnel):
    a, _, c = servers
    f = start_funnel([(a.address, "rw", 1), (c.address, "rw", 1)], "--funnel-eject-after-failures=1")
    stop, errors, ports = threading.Event(), [], collections.Counter()

    def client():
        conn = connect(f)
        while not stop.is_set():
            try:
                ports[port_of(conn)] += 1
            except pymysql.err.MySQLError as e:
                errors.append(e.args[0])
                if e.args[0] not in (2013, 9005):
                    raise
                if e.args[0] == 9005:
                    conn.rollback()
            time.sleep(0.005)
        conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(6)]
    for t in threads:
        t.start()
    time.sleep(1)
    c.stop()
    time.sleep(1.5)
    after_kill = ports.copy()
    time.sleep(1)
    assert ports[c.port] == after_kill[c.port], "traffic still reaches the dead backend"
    assert ports[a.port] > after_kill[a.port], "traffic did not move to the live backend"
    c.start()
    wait_until(lambda: ports[c.port] > after_kill[c.port], timeout=15, message="re-admission of the restarted backend")
    stop.set()
    for t in threads:
        t.join(10)
    assert all(code in (2013, 9005) for code in errors)
    assert len(errors) <= 6 * 2, errors   # only the work in flight when it died
    log = f.text()
    assert "to=DOWN" in log or "DOWN" in log


def test_all_backends_down_backlog_then_clear_error(servers, start_funnel):
    _, b, _ = servers
    f = start_funnel([(b.address, "rw", 1)], "--funnel-backlog-timeout=1.5", "--funnel-eject-after-failures=1")
    with connect(f) as conn:
        assert port_of(conn) == b.port
        b.stop()
        try:
            time.sleep(1)   # the health check marks it DOWN
            started = time.time()
            with pytest.raises(pymysql.err.MySQLError) as e:
                port_of(conn)
            if e.value.args[0] == 2013:   # the old connection died under us: the next one waits
                started = time.time()
                with pytest.raises(pymysql.err.MySQLError) as e:
                    port_of(conn)
            assert e.value.args[0] == 9003, e.value.args
            assert "no backend is available" in e.value.args[1]
            assert time.time() - started >= 1.2   # it waited in the backlog first
        finally:
            b.start()
        wait_until(lambda: _try_port(conn) == b.port, timeout=15, message="back after restart")


def test_requests_waiting_when_the_backend_goes_down_wait_for_it(servers, start_funnel):
    """The only backend is ejected while requests wait for its one connection (that connection is
    killed mid-query); a health check brings it back. The waiting requests wait for it, as
    requests arriving while it is down do, and run: none fails with ERR 9003 at once."""
    _, b, _ = servers
    f = start_funnel([(b.address, "rw", 1)], "--funnel-backend-max-connections=1", "--funnel-eject-after-failures=1",
                     "--funnel-backlog-timeout=20")
    holder = connect(f)
    held = {}

    def hold():
        try:
            with holder.cursor() as cur:
                cur.execute("SELECT SLEEP(5)")
                held["result"] = cur.fetchone()
        except pymysql.err.MySQLError as e:
            held["error"] = e.args[0]

    def sleeping_thread():
        with pymysql.connect(host=HOST, port=b.port, user="root", password="") as r, r.cursor() as cur:
            cur.execute("SELECT ID FROM information_schema.PROCESSLIST WHERE INFO = 'SELECT SLEEP(5)'")
            row = cur.fetchone()
            return row and row[0]

    holding = threading.Thread(target=hold, daemon=True)
    holding.start()
    wait_until(sleeping_thread, message="the holder's statement running on the backend")
    results = []

    def waiter():
        try:
            with connect(f) as conn:
                results.append(port_of(conn))
        except pymysql.err.MySQLError as e:
            results.append(e.args)

    waiters = [threading.Thread(target=waiter, daemon=True) for _ in range(3)]
    for t in waiters:
        t.start()
    time.sleep(1)   # logged in, their statements in the backlog behind the SLEEP
    assert results == [], results
    with pymysql.connect(host=HOST, port=b.port, user="root", password="") as r, r.cursor() as cur:
        cur.execute(f"KILL {sleeping_thread()}")
    for t in waiters:
        t.join(30)
    holding.join(30)
    assert "error" in held, held   # the statement on the killed connection fails; nothing else does
    f.wait_for_log(f"backend {b.address} is DOWN")
    assert results == [b.port] * 3, results
    holder.close()


def _try_port(conn):
    try:
        return port_of(conn)
    except pymysql.err.MySQLError:
        return None


def test_add_and_drain_backends_under_load_with_zero_failures(servers, start_funnel):
    a, b, _ = servers
    f = start_funnel([(a.address, "rw", 1)], "--funnel-drain-timeout=20")
    with root() as r, r.cursor() as cur:
        cur.execute("REPLACE INTO funnel_test.counters VALUES (5, 0)")
    stop, errors, done = threading.Event(), [], collections.Counter()

    def client():
        with connect(f) as conn:
            while not stop.is_set():
                try:
                    conn.begin()
                    with conn.cursor() as cur:
                        cur.execute("SELECT @@port")
                        port = cur.fetchone()[0]
                        cur.execute("SELECT SLEEP(0.01)")
                        cur.execute("SELECT @@port")
                        assert cur.fetchone()[0] == port
                    conn.commit()
                    done[port] += 1
                except Exception as e:  # noqa: BLE001
                    errors.append(repr(e))

    threads = [threading.Thread(target=client, daemon=True) for _ in range(6)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.5)
        # Add b, then drain a, both through the config file and SIGHUP.
        f.cfg.write_text(f.header + backends_toml([(a.address, "rw", 1), (b.address, "rw", 1)]) + "\n")
        f.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: done[b.port] > 5, message="traffic on the added backend")
        f.cfg.write_text(f.header + backends_toml([(b.address, "rw", 1)]) + "\n")
        f.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: a.connections() == 0, timeout=20, message="the drained backend has no funnel connections")
        drained_at = done[a.port]
        time.sleep(0.5)
    finally:
        stop.set()
        for t in threads:
            t.join(20)
    assert errors == []
    assert done[a.port] == drained_at   # nothing went to a after its drain finished
    assert "funnel.backend" not in errors


def test_read_write_split(servers, start_funnel):
    a, b, _ = servers
    f = start_funnel([(a.address, "rw", 1), (b.address, "ro", 1)], extra_toml="read-write-split = true")
    with connect(f) as conn, conn.cursor() as cur:
        for _ in range(5):
            assert port_of(conn) == b.port                      # a read outside a transaction
        cur.execute("SELECT /* comment; INSERT */ 'x' FROM DUAL WHERE 1 = 1")
        conn.begin()
        assert port_of(conn) == a.port                          # reads inside a transaction
        conn.commit()
        cur.execute("INSERT INTO counters VALUES (77, 1) ON DUPLICATE KEY UPDATE n = n + 1")
        cur.execute("SELECT @@port FROM counters WHERE id = 77 FOR UPDATE")
        assert cur.fetchone()[0] == a.port                      # locking read: read-write


def test_c_hook_plugin_sees_events_and_its_veto_is_obeyed(servers, start_funnel):
    a, b, c = servers
    f = start_funnel([(a.address, "rw", 1), (b.address, "rw", 1)], f"--backend-watch-veto={b.address}",
                     plugins="funnel,backend-watch")
    with connect(f) as conn:
        ports = {port_of(conn) for _ in range(50)}
    assert ports == {a.port}
    # A backend added at run time reaches the C plugin as an event with its figures.
    f.cfg.write_text(f.header + backends_toml([(a.address, "rw", 1), (b.address, "rw", 1), (c.address, "rw", 2)]) + "\n")
    f.proc.send_signal(signal.SIGHUP)
    f.wait_for_log(f"[backend-watch] funnel.backend.added {c.address} state=UP weight=2")
    code, log = f.stop()
    assert code == 0
    assert f"[backend-watch] watching backends; vetoing '{b.address}'" in log


def test_lua_script_chooses_backends_with_backend_ndx(servers, start_funnel):
    a, b, _ = servers
    script = ROOT / "Tests/Fixtures/lua/rw_split.lua"
    f = start_funnel([(a.address, "rw", 1), (b.address, "ro", 1)], f"--lua-script={script}", plugins="funnel,lua")
    with connect(f) as conn, conn.cursor() as cur:
        for _ in range(5):
            assert port_of(conn) == b.port          # reads go where the script sends them: read-only
        cur.execute("INSERT INTO counters VALUES (88, 1) ON DUPLICATE KEY UPDATE n = n + 1")
        cur.execute("SHOW VARIABLES LIKE 'port'")   # not a SELECT: the script sends it to read-write
        assert int(cur.fetchone()[1]) == a.port
