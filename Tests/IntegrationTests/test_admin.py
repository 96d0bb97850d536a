"""admin end to end: the real chassis with funnel, stats and admin in front of a real MariaDB;
operators' clients (PyMySQL, the mariadb CLI) on the admin port read every table while a
workload runs through the funnel, and change the funnel with the admin commands."""
import subprocess
import threading
import time

import pymysql
import pytest

from conftest import free_port, run_chassis, wait_for_port
from mariadb import (APP_PASSWORD, APP_USER, HOST, OTHER_PASSWORD, OTHER_USER, PORT, prepare_server, require_mariadb,
                     root, server_socket, wait_until)

ADMIN_USER, ADMIN_PASSWORD = "admin", "admin-secret"
TABLES = ["backends", "pools", "clients", "users", "query_digests", "metrics", "plugins", "services", "config"]


@pytest.fixture(scope="module", autouse=True)
def server():
    require_mariadb()
    prepare_server()


class Admin:
    def __init__(self, chassis, port, funnel_port):
        self.chassis = chassis
        self.port = port
        self.funnel_port = funnel_port

    def connect(self, user=ADMIN_USER, password=ADMIN_PASSWORD, **kw):
        return pymysql.connect(host="127.0.0.1", port=self.port, user=user, password=password, connect_timeout=10,
                               read_timeout=60, **kw)

    def client(self, user=APP_USER, password=APP_PASSWORD, database="funnel_test", **kw):
        """A client of the funnel, the workload admin watches."""
        return pymysql.connect(host="127.0.0.1", port=self.funnel_port, user=user, password=password, database=database,
                               autocommit=True, connect_timeout=10, read_timeout=60, **kw)

    def cli(self, *args, password=ADMIN_PASSWORD, stdin=None):
        return subprocess.run(["mariadb", "--no-defaults", "-h127.0.0.1", f"-P{self.port}", f"-u{ADMIN_USER}",
                               f"-p{password}", *args], input=stdin, capture_output=True, text=True, timeout=30)


@pytest.fixture
def start_admin(start_chassis, tmp_path):
    def start(*options, plugins="funnel,stats,admin", default_address=False):
        """default_address: leave admin's address to its default (127.0.0.1:4041)."""
        admin_port, funnel_port = (4041 if default_address else free_port()), free_port()
        cfg = tmp_path / f"admin-{admin_port}.toml"
        cfg.write_text("\n".join([
            "[funnel]", f'address = "127.0.0.1:{funnel_port}"', f'backend-addresses = ["{HOST}:{PORT}"]',
            'auth-user = "root"', "threads = 2", "drain-timeout = 2",
            "[stats]", 'address = ""',
            "[admin]", f'password = "{ADMIN_PASSWORD}"',
            *([] if default_address else [f'address = "127.0.0.1:{admin_port}"']),
        ]) + "\n")
        c = start_chassis("--plugins", plugins, "--defaults-file", cfg, *options)
        c.wait_for_log("started plugins")
        if "funnel" in plugins:
            wait_for_port(funnel_port, c.proc)
        return Admin(c, admin_port, funnel_port)

    return start


def query(conn, sql, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def rows(conn, sql):
    """Rows as dicts, so a test names the columns it checks."""
    with conn.cursor(pymysql.cursors.DictCursor) as cur:
        cur.execute(sql)
        return cur.fetchall()


def run(conn, sql):
    """A command that must succeed; a refusal (say a funnel service that is missing) fails with its text."""
    try:
        with conn.cursor() as cur:
            return cur.execute(sql)
    except pymysql.err.MySQLError as e:
        raise AssertionError(f"{sql!r} was refused: {e.args}") from None


def error(conn, sql):
    with pytest.raises(pymysql.err.MySQLError) as e:
        query(conn, sql)
    return e.value.args


# -------------------------------------------------------------- the port

def test_password_is_required(chassis_bin):
    r = run_chassis(chassis_bin, "--plugins", "admin")
    assert r.returncode == 5, r.stderr
    assert "admin-password must be set" in r.stderr


def test_wrong_password_is_refused_like_mariadb(start_admin):
    a = start_admin()
    with pytest.raises(pymysql.err.OperationalError) as e:
        a.connect(password="wrong")
    assert e.value.args == (1045, "Access denied for user 'admin'@'127.0.0.1' (using password: YES)")
    with pytest.raises(pymysql.err.OperationalError) as e:
        a.connect(user="root", password=ADMIN_PASSWORD)
    assert e.value.args == (1045, "Access denied for user 'root'@'127.0.0.1' (using password: YES)")
    with pytest.raises(pymysql.err.OperationalError) as e:
        a.connect(password="")
    assert e.value.args == (1045, "Access denied for user 'admin'@'127.0.0.1' (using password: NO)")
    out = a.cli("-e", "SHOW TABLES", password="wrong")
    assert out.returncode != 0 and "ERROR 1045 (28000)" in out.stderr
    with a.connect() as c:
        assert query(c, "SELECT 1") == ((1,),)


def test_default_address_is_loopback(start_admin):
    a = start_admin(default_address=True)
    text = a.chassis.wait_for_log("admin port listening")
    assert "admin port listening on 127.0.0.1:4041" in text
    listening = open("/proc/net/tcp").read().split("\n")[1:]
    local = {line.split()[1] for line in listening if line.split() and line.split()[3] == "0A"}   # 0A: LISTEN
    assert "0100007F:0FC9" in local and "00000000:0FC9" not in local   # 127.0.0.1:4041, not 0.0.0.0:4041
    with a.connect() as c:
        config = {(r["plugin"], r["name"]): r for r in rows(c, "SELECT * FROM config WHERE plugin = 'admin'")}
    assert config[("admin", "address")]["value"] == "127.0.0.1:4041"
    assert config[("admin", "password")]["value"] == "********"


def test_show_tables_and_help(start_admin):
    a = start_admin()
    with a.connect() as c:
        assert [r[0] for r in query(c, "SHOW TABLES")] == TABLES
        with c.cursor() as cur:
            cur.execute("SHOW HELP")
            assert [d[0] for d in cur.description] == ["statement", "description"]
            statements = " ".join(r[0] for r in cur.fetchall())
        for word in ["SELECT", "INSERT INTO backends", "UPDATE backends", "DELETE FROM backends", "INSERT INTO users",
                     "UPDATE users", "SET", "KILL CLIENT", "PAUSE", "RESUME", "RELOAD", "LOAD PLUGIN"]:
            assert word in statements, word


def test_mariadb_cli(start_admin):
    a = start_admin()
    out = a.cli("admin", "-e", "select @@version_comment limit 1; SELECT DATABASE(); SHOW TABLES; "
                "SELECT address, state FROM backends; \\s")
    assert out.returncode == 0, out.stderr
    assert "chassis admin port" in out.stdout
    assert f"{HOST}:{PORT}\tup" in out.stdout
    assert "Current database:\tadmin" in out.stdout
    # Batch mode with a failing statement: the CLI reports it and --force goes on on the same session.
    out = a.cli("--force", "-N", stdin="selec 1;\nSELECT COUNT(*) FROM nope;\nSELECT 42;\n")
    assert "ERROR 1064 (42000) at line 1: You have an error in your SQL syntax near 'selec 1' at position 1" in out.stderr
    assert "ERROR 1146 (42S02) at line 2" in out.stderr
    assert out.stdout.split() == ["42"]


def test_errors_keep_the_session(start_admin):
    a = start_admin()
    with a.connect() as c:
        code, message = error(c, "SELEC * FROM pools")
        assert code == 1064 and "at position 1" in message
        code, message = error(c, "SELECT * FROM backends WHERE weight 3")
        assert code == 1064 and "near '3' at position 37" in message
        assert error(c, "SELECT * FROM nope") == (1146, "Table 'admin.nope' doesn't exist (SHOW TABLES lists the tables)")
        assert error(c, "SELECT nope FROM pools") == (1054, "Unknown column 'nope' in 'field list'")
        assert error(c, "SELECT * FROM pools WHERE nope = 1") == (1054, "Unknown column 'nope' in 'where clause'")
        assert error(c, "SELECT * FROM pools WHERE open = 'many'")[0] == 1366
        assert error(c, "SELECT * FROM backends WHERE address = 3")[0] == 1366
        assert error(c, "UPDATE pools SET open = 1 WHERE user = 'x'")[0] == 1036
        assert error(c, "UPDATE backends SET weight = 'heavy' WHERE address = 'x:1'")[0] == 1366
        assert error(c, "UPDATE backends SET open = 1 WHERE address = 'x:1'")[0] == 1036
        assert error(c, "DELETE FROM backends")[0] == 1235   # a drain of everything needs a WHERE
        assert query(c, "SELECT 'still here'") == (("still here",),)
        c.ping()
        code, log = a.chassis.stop()   # with an admin session open
    assert code == 0, log


def test_tables_without_their_plugin_say_what_to_load(start_admin):
    a = start_admin(plugins="admin")
    with a.connect() as c:
        for table in ["backends", "pools", "clients", "users"]:
            assert error(c, f"SELECT * FROM {table}") == (
                1105, f"table {table} needs the funnel plugin: add funnel to --plugins (or LOAD PLUGIN funnel)")
        code, message = error(c, "SELECT * FROM query_digests")
        assert message.startswith("table query_digests needs the stats plugin: add stats to --plugins")
        assert error(c, "PAUSE")[1].startswith("PAUSE needs the funnel plugin")
        assert [r["name"] for r in rows(c, "SELECT name FROM plugins")] == ["admin"]
        assert error(c, "LOAD PLUGIN no-such-plugin")[1].startswith("plugin no-such-plugin: no such file")
        run(c, "LOAD PLUGIN stats")
        assert query(c, "SELECT COUNT(*) FROM query_digests") == ((0,),)
        assert {r["name"] for r in rows(c, "SELECT * FROM plugins")} == {"admin", "stats"}
        assert {"provider": "stats", "name": "stats", "version": 1} in rows(c, "SELECT * FROM services")
        run(c, "RELOAD")


# ------------------------------------------------------- reading the tables

def test_every_table_under_a_workload(start_admin):
    a = start_admin()
    done, errors = threading.Event(), []

    def work():
        try:
            with a.client() as c:
                while not done.is_set():
                    query(c, "SELECT SLEEP(0.2), 'admin-workload'")
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        with a.connect() as c:
            busy = wait_until(lambda: [r for r in rows(c, "SELECT * FROM clients WHERE query LIKE '%admin-workload%'")
                                       if r["state"] != "idle"], message="the workload's clients in the clients table")
            assert all(r["user"] == APP_USER and r["db"] == "funnel_test" and r["address"] == "127.0.0.1" for r in busy)
            assert all(r["backend"] == f"{HOST}:{PORT}" for r in busy if r["state"] == "active")
            wait_until(lambda: query(c, f"SELECT COUNT(*) FROM clients WHERE user = '{APP_USER}'")[0][0] >= 4,
                       message="all four workload clients listed")
            pool = wait_until(lambda: rows(c, f"SELECT * FROM pools WHERE user = '{APP_USER}' AND in_use > 0"),
                              message="a pool with connections in use")[0]
            assert pool["backend"] == f"{HOST}:{PORT}" and pool["connects_ok"] >= 1
            wait_until(lambda: rows(c, f"SELECT * FROM pools WHERE user = '{APP_USER}' AND hand_overs > 4"),
                       message="hand-overs counted")
            backend = rows(c, "SELECT * FROM backends")[0]
            assert backend["address"] == f"{HOST}:{PORT}" and backend["role"] == "rw" and backend["state"] == "up"
            assert backend["weight"] >= 1 and backend["max_connections"] >= 1
            wait_until(lambda: rows(c, "SELECT * FROM backends WHERE queries > 4 AND p99_ms > 100"),
                       message="backend queries and latency counted")
            done.set()
            for t in threads:
                t.join(30)
            assert errors == []
            metrics = rows(c, "SELECT * FROM metrics")
            assert metrics and all(set(m) == {"name", "labels", "value", "count", "p50", "p99"} for m in metrics)
            assert {"funnel", "stats", "admin"} <= {r["name"] for r in rows(c, "SELECT name FROM plugins")}
            plugins = {r["name"]: r for r in rows(c, "SELECT * FROM plugins")}
            assert plugins["admin"]["state"] == "started" and plugins["admin"]["abi"] == "1.1"
            assert plugins["admin"]["path"].endswith("libadmin.so")
            services = {r["name"]: r["provider"] for r in rows(c, "SELECT * FROM services")}
            for name in ["funnel.pools", "funnel.backends", "funnel.clients", "funnel.control"]:
                assert services.get(name) == "funnel", f"{name} is not registered by the funnel: {services}"
            assert services["stats"] == "stats" and services["chassis.plugins"] == "chassis"
            config = {(r["plugin"], r["name"]): r for r in rows(c, "SELECT * FROM config")}
            assert config[("funnel", "threads")]["value"] == "2" and config[("funnel", "threads")]["origin"] == "config"
            assert config[("admin", "password")]["value"] == "********"
            with c.cursor() as cur:
                cur.execute("SELECT * FROM users")
                assert [d[0] for d in cur.description] == ["name", "database", "pool_mode", "max_client_connections",
                                                          "max_backend_connections", "clients", "source"]
            ordered = query(c, "SELECT name FROM plugins ORDER BY name DESC LIMIT 2")
            assert [r[0] for r in ordered] == sorted(plugins, reverse=True)[:2]
            digests = wait_until(lambda: rows(c, "SELECT * FROM query_digests WHERE text LIKE 'SELECT SLEEP%'"), timeout=5,
                                 message="query digests of the workload (the funnel records queries through stats)")
            assert digests[0]["count"] >= 4 and digests[0]["user"] == APP_USER and digests[0]["total_ms"] > 100
            assert len(digests[0]["digest"]) == 16 and digests[0]["first_seen"] <= digests[0]["last_seen"]
    finally:
        done.set()


# ---------------------------------------------------------------- commands

def test_add_update_maintenance_and_drain_a_backend(start_admin):
    a = start_admin()
    second = f"localhost:{PORT}"   # the same server under another name: a backend of its own to the funnel
    with a.connect() as c:
        assert run(c, f"INSERT INTO backends (address, role, weight, max_connections) VALUES ('{second}', 'ro', 2, 5)") == 1
        added = rows(c, f"SELECT * FROM backends WHERE address = '{second}'")
        assert [(b["role"], b["weight"], b["max_connections"]) for b in added] == [("ro", 2, 5)]
        assert error(c, f"INSERT INTO backends (address) VALUES ('{second}')")[0] == 1105   # the funnel's refusal
        assert run(c, f"UPDATE backends SET weight = 3, max_connections = 7 WHERE address = '{second}'") == 1
        assert rows(c, f"SELECT weight, max_connections FROM backends WHERE address = '{second}'") == [
            {"weight": 3, "max_connections": 7}]
        assert run(c, f"UPDATE backends SET state = 'maintenance' WHERE address = '{second}'") == 1
        assert query(c, f"SELECT state FROM backends WHERE address = '{second}'") == (("maintenance",),)
        assert run(c, f"UPDATE backends SET state = 'up' WHERE address = '{second}'") == 1
        assert query(c, f"SELECT state FROM backends WHERE address = '{second}'") == (("up",),)
        assert error(c, f"UPDATE backends SET state = 'down' WHERE address = '{second}'")[0] == 1366
        assert run(c, "UPDATE backends SET weight = 1 WHERE address = 'nowhere:1'") == 0
        with a.client() as client:   # clients are served throughout
            assert query(client, "SELECT 1") == ((1,),)
        assert run(c, f"DELETE FROM backends WHERE address = '{second}'") == 1
        wait_until(lambda: not rows(c, f"SELECT * FROM backends WHERE address = '{second}'"),
                   message="the drained backend gone")
        with a.client() as client:
            assert query(client, "SELECT 2") == ((2,),)


def test_a_backend_still_draining_cannot_be_added_again_yet(start_admin):
    a = start_admin("--funnel-drain-timeout=30")
    primary, second = f"{HOST}:{PORT}", f"localhost:{PORT}"
    with a.connect() as c, a.client() as client:
        assert run(c, f"INSERT INTO backends (address) VALUES ('{second}')") == 1
        assert run(c, f"UPDATE backends SET state = 'maintenance' WHERE address = '{primary}'") == 1
        client.begin()   # a transaction on the second backend, the only one taking work
        assert query(client, "SELECT 1") == ((1,),)
        assert run(c, f"UPDATE backends SET state = 'up' WHERE address = '{primary}'") == 1
        assert run(c, f"DELETE FROM backends WHERE address = '{second}'") == 1
        assert query(c, f"SELECT state FROM backends WHERE address = '{second}'") == (("draining",),)
        code, message = error(c, f"INSERT INTO backends (address) VALUES ('{second}')")
        assert code == 1105 and "still draining" in message, message
        client.commit()   # the drain ends with the transaction
        wait_until(lambda: not rows(c, f"SELECT * FROM backends WHERE address = '{second}'"), message="the drain done")
        assert run(c, f"INSERT INTO backends (address) VALUES ('{second}')") == 1


def test_move_to_a_backend_on_a_unix_socket_at_runtime(start_admin):
    socket_path = server_socket()
    a = start_admin()
    with a.connect() as c:
        assert run(c, f"INSERT INTO backends (address, role) VALUES ('unix:{socket_path}', 'rw')") == 1
        assert query(c, f"SELECT address, state FROM backends WHERE address = '{socket_path}'") == ((socket_path, "up"),)
        assert run(c, f"DELETE FROM backends WHERE address = '{HOST}:{PORT}'") == 1
        wait_until(lambda: not rows(c, f"SELECT * FROM backends WHERE address = '{HOST}:{PORT}'"),
                   message="the TCP backend drained")
    with a.client() as client:
        own = query(client, "SELECT CONNECTION_ID()")[0][0]
        # Served over the socket: the server sees the funnel's connection from localhost.
        assert query(client, "SELECT HOST FROM information_schema.PROCESSLIST WHERE ID = %s", (own,)) == (("localhost",),)


def test_pause_and_resume(start_admin):
    a = start_admin("--funnel-backlog-timeout=30")
    with a.connect() as c, a.client() as client:
        run(c, "PAUSE")
        result = {}
        t = threading.Thread(target=lambda: result.update(v=query(client, "SELECT 'after resume'")))
        t.start()
        time.sleep(0.5)
        assert "v" not in result, "a statement ran while the funnel was paused"
        run(c, "RESUME")
        t.join(10)
        assert result["v"] == (("after resume",),)


def test_kill_client(start_admin):
    a = start_admin()
    with a.connect() as c:
        victim = a.client()
        query(victim, "SELECT 'find me'")
        ids = wait_until(lambda: [r[0] for r in query(c, f"SELECT id FROM clients WHERE user = '{APP_USER}'")],
                         message="the client listed")
        assert len(ids) == 1
        run(c, f"KILL CLIENT {ids[0]}")
        with pytest.raises(pymysql.err.OperationalError):
            query(victim, "SELECT 1")
        wait_until(lambda: not query(c, f"SELECT id FROM clients WHERE id = {ids[0]}"), message="the client gone")
        assert error(c, "KILL CLIENT 999999") == (1094, "Unknown thread id: 999999")


def test_a_client_killed_mid_query_leaves_no_query_in_flight(start_admin):
    """least-outstanding balancing ranks backends by queries in flight: a query whose client is
    killed before its answer must leave that count, or its backend looks busy for ever."""
    a = start_admin()
    backend = f"{HOST}:{PORT}"
    with a.connect() as c:
        def in_flight():
            return query(c, f"SELECT in_flight FROM backends WHERE address = '{backend}'")[0][0]

        victims = [a.client() for _ in range(3)]
        payload = b"\x03SELECT SLEEP(30)"   # a COM_QUERY, sent without waiting for its answer
        for v in victims:
            v._sock.sendall(len(payload).to_bytes(3, "little") + b"\x00" + payload)
        wait_until(lambda: in_flight() == 3, message="three queries in flight")
        for row in query(c, f"SELECT id FROM clients WHERE user = '{APP_USER}'"):
            run(c, f"KILL CLIENT {row[0]}")
        wait_until(lambda: in_flight() == 0, message="no query in flight after the kills")
        with a.client() as client:   # the backend still serves, and counts its next query out again
            assert query(client, "SELECT 1") == ((1,),)
        assert in_flight() == 0
        for v in victims:
            v._sock.close()
    # The server runs a statement whose connection closed until it notices: end them here, so
    # later tests count only their own connections.
    with root() as r:
        for (thread,) in query(r, "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO = 'SELECT SLEEP(30)'"):
            try:
                query(r, f"KILL {thread}")
            except pymysql.err.MySQLError:
                pass   # it ended meanwhile
        wait_until(lambda: not query(r, "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO = 'SELECT SLEEP(30)'"),
                   message="the killed clients' statements gone from the server")


def test_set_live_option(start_admin):
    a = start_admin("--funnel-backend-max-connections=1", "--funnel-backlog-timeout=30")
    with a.connect() as c:
        run(c, "SET backlog_timeout = 0.5")
        assert error(c, "SET no_such_option = 1")[0] == 1105
        run(c, "SET NAMES utf8mb4")   # what clients send on connect is accepted
        run(c, "SET autocommit = 1")
    with a.client() as holder, a.client() as waiter:
        holder.begin()
        query(holder, "SELECT 1")
        started = time.time()
        with pytest.raises(pymysql.err.OperationalError) as e:
            query(waiter, "SELECT 1")
        assert e.value.args[0] == 9001 and time.time() - started < 5   # the new 0.5 s, not the 30 s it started with
        holder.commit()


def test_add_and_change_a_user(start_admin):
    a = start_admin()
    with a.connect() as c:
        assert run(c, "INSERT INTO users (name, password, database, max_client_connections, max_backend_connections, pool_mode) "
                      f"VALUES ('{OTHER_USER}', '{OTHER_PASSWORD}', 'funnel_other', 1, 0, 'session')") == 1
        user = rows(c, f"SELECT * FROM users WHERE name = '{OTHER_USER}'")
        assert [(u["database"], u["pool_mode"], u["max_client_connections"], u["source"]) for u in user] == [
            ("funnel_other", "session", 1, "admin")]
        assert "password" not in user[0]
        assert error(c, f"INSERT INTO users (name, password) VALUES ('{OTHER_USER}', 'x')")[0] == 1062
        assert error(c, "INSERT INTO users (name) VALUES ('nopassword')")[0] == 1364
        assert error(c, f"UPDATE users SET pool_mode = 'sometimes' WHERE name = '{OTHER_USER}'")[0] == 1366
        first = a.client(user=OTHER_USER, password=OTHER_PASSWORD, database=None)
        assert query(first, "SELECT DATABASE()") == (("funnel_other",),)
        with pytest.raises(pymysql.err.OperationalError) as e:
            a.client(user=OTHER_USER, password=OTHER_PASSWORD, database=None)
        assert e.value.args[0] == 1203
        assert run(c, f"UPDATE users SET max_client_connections = 2 WHERE name = '{OTHER_USER}'") == 1
        second = a.client(user=OTHER_USER, password=OTHER_PASSWORD, database=None)
        assert query(c, f"SELECT clients FROM users WHERE name = '{OTHER_USER}'") == ((2,),)
        first.close()
        second.close()
