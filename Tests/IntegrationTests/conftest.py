"""Shared fixtures for the end-to-end tests: they run the real chassis binary with real
plugins, and (for the funnel) a real MariaDB that Scripts/test started."""
import contextlib
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def bin_dir() -> pathlib.Path:
    path = os.environ.get("CHASSIS_BIN_DIR")
    if not path:
        path = subprocess.check_output(["swift", "build", "--show-bin-path"], cwd=ROOT, text=True).strip()
    return pathlib.Path(path)


@pytest.fixture(scope="session")
def chassis_bin() -> pathlib.Path:
    exe = bin_dir() / "chassis"
    assert exe.exists(), f"{exe} is missing: run Scripts/build first"
    return exe


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 15.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"chassis exited with {proc.returncode} before listening on {port}:\n{read_log(proc)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port} after {timeout}s")


def read_log(proc) -> str:
    path = getattr(proc, "log_path", None)
    return pathlib.Path(path).read_text() if path and os.path.exists(path) else ""


class Chassis:
    """A running chassis process; stop() sends SIGTERM and returns (exit code, log)."""

    def __init__(self, exe, args, tmp_path, env=None):
        self.log_path = tmp_path / f"chassis-{time.time_ns()}.log"
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([str(exe), *args], stdout=self.log, stderr=subprocess.STDOUT,
                                     env={**os.environ, **(env or {})})
        self.proc.log_path = self.log_path

    def text(self) -> str:
        return self.log_path.read_text()

    def wait_for_log(self, fragment: str, timeout: float = 10.0) -> str:
        deadline = time.time() + timeout
        while time.time() < deadline:
            text = self.text()
            if fragment in text:
                return text
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"{fragment!r} not in log:\n{self.text()}")

    def stop(self, timeout: float = 20.0):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError(f"chassis did not stop within {timeout}s after SIGTERM:\n{self.text()}")
        self.log.close()
        return code, self.text()


@pytest.fixture
def start_chassis(chassis_bin, tmp_path):
    started = []

    def start(*args, env=None):
        c = Chassis(chassis_bin, [str(a) for a in args], tmp_path, env)
        started.append(c)
        return c

    yield start
    for c in started:
        if c.proc.poll() is None:
            c.proc.kill()
            c.proc.wait()


def run_chassis(exe, *args, timeout=20):
    return subprocess.run([str(exe), *[str(a) for a in args]], capture_output=True, text=True, timeout=timeout)


@contextlib.contextmanager
def connector_client(port, user, password, database):
    """A mysql-connector-python client (pure Python: it sends COM_CHANGE_USER and
    COM_RESET_CONNECTION), closed at the end even when the test broke its connection."""
    import mysql.connector
    conn = mysql.connector.connect(host="127.0.0.1", port=port, user=user, password=password, database=database,
                                   ssl_disabled=True, use_pure=True)
    try:
        yield conn
    finally:
        try:
            conn.close()
        except mysql.connector.Error:
            pass
