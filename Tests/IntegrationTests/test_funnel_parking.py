"""Parking idle clients, end to end: the real chassis with funnel, stats and admin in front of a
real MariaDB. A client idle past client-park-after leaves SwiftNIO (its socket waits in the
funnel's own epoll set) and comes back with its session on its next statement; a client in a
transaction, pinned, or half-way through a packet is never parked."""
import os
import socket
import stat
import struct
import subprocess
import time

import mysql.connector
import pymysql
import pytest

from conftest import bin_dir, connector_client, free_port, run_chassis, wait_for_port
from mariadb import (APP_PASSWORD, APP_USER, HOST, OTHER_PASSWORD, OTHER_USER, PORT, prepare_server, require_mariadb,
                     root, wait_until)

ADMIN_USER, ADMIN_PASSWORD = "admin", "admin-secret"
PARK_AFTER = 0.4


@pytest.fixture(scope="module", autouse=True)
def server():
    require_mariadb()
    prepare_server()


class Funnel:
    def __init__(self, chassis, port, admin_port):
        self.chassis = chassis
        self.port = port
        self.admin_port = admin_port

    def connect(self, user=APP_USER, password=APP_PASSWORD, database="funnel_test", **kw):
        return pymysql.connect(host="127.0.0.1", port=self.port, user=user, password=password, database=database,
                               autocommit=True, connect_timeout=10, read_timeout=30, write_timeout=30, **kw)

    def admin(self):
        return pymysql.connect(host="127.0.0.1", port=self.admin_port, user=ADMIN_USER, password=ADMIN_PASSWORD,
                               connect_timeout=10, read_timeout=30, autocommit=True)

    def states(self, user=APP_USER):
        """The clients table's state of each of the user's clients, by id."""
        with self.admin() as a, a.cursor() as cur:
            cur.execute(f"SELECT id, state FROM clients WHERE user = '{user}'")
            return dict(cur.fetchall())

    def metric(self, name):
        with self.admin() as a, a.cursor() as cur:
            cur.execute(f"SELECT value FROM metrics WHERE name = '{name}'")
            row = cur.fetchone()
            return row and float(row[0])


@pytest.fixture
def start_funnel(start_chassis, tmp_path):
    def start(*options, park_after=PARK_AFTER, users=None, socket_path=None):
        """socket_path: clients connect on this Unix socket instead of a TCP port."""
        port, admin_port = free_port(), free_port()
        cfg = tmp_path / f"funnel-{port}.toml"
        address = socket_path or f"127.0.0.1:{port}"
        lines = ["[funnel]", f'address = "{address}"', f'backend-addresses = ["{HOST}:{PORT}"]',
                 'auth-user = "root"', "threads = 2", f"client-park-after = {park_after}"]
        for name, fields in (users or {}).items():
            body = ", ".join(f'{k} = "{v}"' if isinstance(v, str) else f"{k} = {v}" for k, v in fields.items())
            lines += ["[funnel.users]", f"{name} = {{ {body} }}"]
        lines += ["[stats]", 'address = ""', "[admin]", f'address = "127.0.0.1:{admin_port}"',
                  f'password = "{ADMIN_PASSWORD}"']
        cfg.write_text("\n".join(lines) + "\n")
        c = start_chassis("--plugins", "funnel,stats,admin", "--defaults-file", cfg, *options)
        if socket_path:
            c.wait_for_log(f"listening on {socket_path}")
        else:
            wait_for_port(port, c.proc)
        c.wait_for_log("started plugins")
        return Funnel(c, port, admin_port)

    return start


def query(conn, sql, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def wait_parked(f, user=APP_USER, count=1):
    return wait_until(lambda: list(f.states(user).values()).count("parked") == count,
                      message=f"{count} parked client(s) of {user}")


def test_idle_client_is_parked_and_wakes_with_its_session(start_funnel):
    f = start_funnel()
    with root() as r:
        query(r, "CREATE TABLE IF NOT EXISTS funnel_test.parking_ids (id INT AUTO_INCREMENT PRIMARY KEY, v INT)")
    with f.connect() as c:
        query(c, "USE funnel_other")
        query(c, "SET SESSION sql_mode = 'ANSI_QUOTES', time_zone = '+03:00'")
        query(c, "INSERT INTO funnel_test.parking_ids (v) VALUES (1)")
        inserted = query(c, "SELECT LAST_INSERT_ID()")[0][0]
        assert inserted > 0
        wait_parked(f)
        assert f.metric("funnel_clients_parked") == 1
        # The next statement wakes it: same schema, variables and last insert id as before.
        assert query(c, "SELECT DATABASE(), @@sql_mode, @@time_zone, LAST_INSERT_ID()") == \
            (("funnel_other", "ANSI_QUOTES", "+03:00", inserted),)
        assert f.metric("funnel_client_wakes") >= 1
        # Parked and woken many times over, it keeps working.
        for i in range(5):
            wait_parked(f)
            assert query(c, "SELECT %s", (i,)) == ((i,),)
        assert f.metric("funnel_client_parks") >= 6
        wait_parked(f)
        c.ping()   # COM_PING wakes it too


def test_clients_on_a_unix_socket_are_served_parked_and_woken(start_funnel, tmp_path):
    path = tmp_path / "funnel.sock"
    f = start_funnel(socket_path=str(path))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o777   # as mysqld's socket: the login is the check
    c = pymysql.connect(unix_socket=str(path), user=APP_USER, password=APP_PASSWORD, database="funnel_test",
                        autocommit=True, connect_timeout=10, read_timeout=30)
    try:
        assert query(c, "SELECT CURRENT_USER(), DATABASE()") == ((f"{APP_USER}@%", "funnel_test"),)
        with f.admin() as a:
            assert query(a, f"SELECT address FROM clients WHERE user = '{APP_USER}'") == (("localhost",),)
        wait_parked(f)
        assert query(c, "SELECT 'woken'") == (("woken",),)
    finally:
        c.close()
    cli = subprocess.run(["mariadb", "--no-defaults", "-S", str(path), f"-u{APP_USER}", f"-p{APP_PASSWORD}", "-N", "-e",
                          "SELECT 40 + 2"], capture_output=True, text=True, timeout=30)
    assert cli.returncode == 0 and cli.stdout.strip() == "42", cli.stderr
    code, _ = f.chassis.stop()
    assert code == 0
    assert not path.exists()   # removed on the way out


def test_a_socket_in_use_is_not_taken_over_and_a_stale_one_is_replaced(start_funnel, chassis_bin, tmp_path):
    path = tmp_path / "funnel.sock"
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(path))   # left behind, as by a process that was killed: nobody listens
    stale.close()
    f = start_funnel(socket_path=str(path))
    r = run_chassis(chassis_bin, "--plugin-dir", bin_dir(), "--plugins", "funnel", f"--funnel-address={path}",
                    f"--funnel-backend-addresses={HOST}:{PORT}")
    assert r.returncode == 5 and f"another process listens on {path}" in r.stderr, r.stderr
    with pymysql.connect(unix_socket=str(path), user=APP_USER, password=APP_PASSWORD, database="funnel_test") as c:
        assert query(c, "SELECT 'still served'") == (("still served",),)   # the first funnel keeps its socket


def test_change_user_after_parking(start_funnel):
    """COM_CHANGE_USER's answer is checked against the greeting's nonce, which parking keeps."""
    f = start_funnel()
    with connector_client(f.port, APP_USER, APP_PASSWORD, "funnel_test") as c:
        cur = c.cursor()
        cur.execute("SELECT 1")
        assert cur.fetchall() == [(1,)]
        wait_parked(f)
        c.cmd_change_user(username=OTHER_USER, password=OTHER_PASSWORD, database="funnel_other")
        cur = c.cursor()
        cur.execute("SELECT CURRENT_USER(), DATABASE()")
        assert cur.fetchall() == [(f"{OTHER_USER}@%", "funnel_other")]
        wait_parked(f, OTHER_USER)
        with pytest.raises(mysql.connector.Error) as e:
            c.cmd_change_user(username=APP_USER, password="wrong")
        assert e.value.errno == 1045


def test_parking_never_touches_a_transaction_or_a_pinned_session(start_funnel):
    f = start_funnel()
    with root() as r:
        query(r, "CREATE TABLE IF NOT EXISTS funnel_test.parking_tx (v INT)")
        query(r, "DELETE FROM funnel_test.parking_tx")
    with f.connect() as tx, f.connect() as pinned, f.connect() as idle:
        query(tx, "BEGIN")
        query(tx, "INSERT INTO parking_tx VALUES (7)")
        query(pinned, "SET @kept = 42")   # a user variable pins the backend connection
        query(idle, "SELECT 1")
        wait_parked(f)
        time.sleep(PARK_AFTER * 5)
        states = sorted(f.states().values())
        assert states == ["idle", "in_transaction", "parked"], states
        query(tx, "INSERT INTO parking_tx VALUES (8)")
        query(tx, "COMMIT")
        assert query(pinned, "SELECT @kept") == ((42,),)
        with root() as r:
            assert query(r, "SELECT v FROM funnel_test.parking_tx ORDER BY v") == ((7,), (8,))


def test_half_sent_packet_is_not_parked_and_completes(start_funnel):
    f = start_funnel()
    with f.connect() as c:
        payload = b"\x03" + b"DO 1"
        frame = struct.pack("<I", len(payload))[:3] + b"\x00" + payload
        c._sock.sendall(frame[:6])   # the header and part of the statement, then silence
        time.sleep(PARK_AFTER * 5)
        assert "parked" not in f.states().values()
        c._sock.sendall(frame[6:])
        c._next_seq_id = 1
        assert c._read_packet().is_ok_packet()
        assert query(c, "SELECT 'whole'") == (("whole",),)


def test_parked_client_that_hangs_up_frees_its_slot(start_funnel):
    f = start_funnel(users={OTHER_USER: {"password": OTHER_PASSWORD, "max-client-connections": 1}})
    c = f.connect(user=OTHER_USER, password=OTHER_PASSWORD)
    query(c, "SELECT 1")
    wait_parked(f, OTHER_USER)
    with pytest.raises(pymysql.err.OperationalError) as e:
        f.connect(user=OTHER_USER, password=OTHER_PASSWORD)
    assert e.value.args[0] == 1203   # a parked client still counts against its user's limit
    c.close()
    wait_until(lambda: not f.states(OTHER_USER), message="the hung-up client gone from the clients table")
    with f.connect(user=OTHER_USER, password=OTHER_PASSWORD) as again:
        assert query(again, "SELECT 2") == ((2,),)


def test_kill_parked_client(start_funnel):
    f = start_funnel()
    victim = f.connect()
    query(victim, "SELECT 1")
    wait_parked(f)
    (client_id,) = f.states().keys()
    with f.admin() as a:
        query(a, f"KILL CLIENT {client_id}")
    with pytest.raises(pymysql.err.OperationalError):
        query(victim, "SELECT 1")
    assert f.states() == {}
    assert f.metric("funnel_clients_parked") == 0


def test_stop_closes_parked_clients(start_funnel):
    f = start_funnel()
    c = f.connect()
    query(c, "SELECT 1")
    wait_parked(f)
    code, log = f.chassis.stop()
    assert code == 0, log
    with pytest.raises(pymysql.err.OperationalError):
        query(c, "SELECT 1")


def test_parking_off_and_turned_on_live(start_funnel):
    f = start_funnel(park_after=0)
    with f.connect() as c:
        query(c, "SELECT 1")
        time.sleep(1.5)
        assert list(f.states().values()) == ["idle"]
        assert f.metric("funnel_clients_parked") == 0
        with f.admin() as a:
            query(a, "SET client_park_after = 0.5")
        wait_parked(f)
        assert query(c, "SELECT 2") == ((2,),)


def test_many_parked_clients_wake_together(start_funnel):
    f = start_funnel()
    clients = [f.connect() for _ in range(200)]
    for i, c in enumerate(clients):
        assert query(c, "SELECT %s", (i,)) == ((i,),)
    wait_until(lambda: list(f.states().values()).count("parked") == 200, timeout=20, message="200 parked clients")
    for i, c in enumerate(clients):
        assert query(c, "SELECT %s + 1", (i,)) == ((i + 1,),)
        c.close()
    wait_until(lambda: not f.states(), message="every client gone")
