"""Access to the throwaway MariaDB that Scripts/test started, and helpers to run the funnel
in front of it. A test that needs MariaDB fails under CI when it is missing; elsewhere it skips."""
import os
import socket
import time

import pymysql
import pytest

HOST = os.environ.get("MYSQL_TEST_HOST", "127.0.0.1")
PORT = int(os.environ.get("MYSQL_TEST_PORT", "33061"))
USER = os.environ.get("MYSQL_TEST_USER", "root")
PASSWORD = os.environ.get("MYSQL_TEST_PASSWORD", "")

APP_USER, APP_PASSWORD = "app", "app-secret"
RO_USER, RO_PASSWORD = "reader", "reader-secret"
OTHER_USER, OTHER_PASSWORD = "other", "other-secret"


def require_mariadb():
    try:
        with socket.create_connection((HOST, PORT), timeout=1):
            return
    except OSError as e:
        message = f"MariaDB is not reachable at {HOST}:{PORT} ({e}); run the tests through Scripts/test"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def root(**kw):
    return pymysql.connect(host=HOST, port=PORT, user=USER, password=PASSWORD, autocommit=True, **kw)


def prepare_server():
    """Users and schema the funnel tests use; idempotent."""
    with root() as c, c.cursor() as cur:
        cur.execute("SET GLOBAL max_allowed_packet = 64*1024*1024")
        cur.execute("CREATE DATABASE IF NOT EXISTS funnel_test")
        cur.execute("CREATE DATABASE IF NOT EXISTS funnel_other")
        for user, password in ((APP_USER, APP_PASSWORD), (OTHER_USER, OTHER_PASSWORD)):
            cur.execute(f"CREATE USER IF NOT EXISTS '{user}'@'%' IDENTIFIED BY '{password}'")
            cur.execute(f"GRANT ALL ON *.* TO '{user}'@'%'")
        cur.execute(f"CREATE USER IF NOT EXISTS '{RO_USER}'@'%' IDENTIFIED BY '{RO_PASSWORD}'")
        cur.execute(f"GRANT SELECT ON funnel_test.* TO '{RO_USER}'@'%'")
        cur.execute("CREATE TABLE IF NOT EXISTS funnel_test.counters (id INT PRIMARY KEY, n BIGINT NOT NULL)")
        cur.execute("CREATE TABLE IF NOT EXISTS funnel_test.items (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(100), b LONGBLOB)")


def server_socket():
    """The test server's Unix socket (Scripts/test exports it); a test that needs it fails without it."""
    path = os.environ.get("MYSQL_TEST_SOCKET")
    if not path or not os.path.exists(path):
        pytest.fail(f"MYSQL_TEST_SOCKET ({path!r}) is not the test server's socket; run the tests through Scripts/test")
    return path


def server_connections(user):
    """Connections the server has for `user` (what the funnel holds open)."""
    with root() as c, c.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = %s", (user,))
        return cur.fetchone()[0]


def wait_until(predicate, timeout=10.0, interval=0.05, message="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"{message} not reached within {timeout}s")
