"""The processes a benchmark starts (MariaDB, haproxy, the chassis), and the supervisor that stops
every one of them, newest first, whatever happens."""
import os
import pathlib
import signal
import socket
import subprocess
import time


class BenchError(Exception):
    pass


class Supervisor:
    """Remembers how to stop what was started; stop_all() runs those in reverse order."""

    def __init__(self):
        self._stops = []

    def add(self, label, stop):
        self._stops.append((label, stop))

    def discard(self, label):
        self._stops = [(l, s) for l, s in self._stops if l != label]

    def stop_all(self):
        while self._stops:
            label, stop = self._stops.pop()
            try:
                stop()
            except Exception as e:   # keep stopping the rest
                print(f"bench: stopping {label}: {e}", flush=True)


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def wait_for_port(port: int, process=None, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            tail = process.log_tail()
            last = tail.splitlines()[-1].strip() if tail.strip() else "(no output)"
            raise BenchError(f"{process.label} exited with {process.returncode} before listening on {port}: {last}\n"
                             f"{tail}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise BenchError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f}s")


class Process:
    """A child in a session of its own (so Ctrl-C reaches only the bench, which then stops it in
    order), its output in a log file."""

    def __init__(self, label, argv, log_path: pathlib.Path, supervisor: Supervisor, env=None, stdin_pipe=False):
        self.label = label
        self.argv = [str(a) for a in argv]
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "w") as log:
            self._popen = subprocess.Popen(self.argv, stdin=subprocess.PIPE if stdin_pipe else subprocess.DEVNULL,
                                           stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                           env={**os.environ, **(env or {})})
        self.pid = self._popen.pid
        self._supervisor = supervisor
        supervisor.add(label, self.stop)

    @property
    def returncode(self):
        return self._popen.returncode

    def poll(self):
        return self._popen.poll()

    def log_tail(self, lines=30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def send_line(self, text: str):
        self._popen.stdin.write(text.encode() + b"\n")
        self._popen.stdin.flush()

    def close_stdin(self):
        if self._popen.stdin and not self._popen.stdin.closed:
            self._popen.stdin.close()

    def wait_for_log(self, pattern: str, timeout: float) -> str:
        """The first log line that contains pattern; None if the process ended or time ran out first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            exited = self.poll() is not None
            for line in self.log_path.read_text(errors="replace").splitlines():
                if pattern in line:
                    return line
            if exited:
                return None
            time.sleep(0.2)
        return None

    def stop(self, timeout: float = 15.0):
        """SIGTERM, then SIGKILL after timeout; returns the exit code."""
        self._supervisor.discard(self.label)
        self.close_stdin()
        if self._popen.poll() is None:
            self._popen.send_signal(signal.SIGTERM)
            try:
                self._popen.wait(timeout)
            except subprocess.TimeoutExpired:
                print(f"bench: {self.label} did not stop within {timeout:.0f}s of SIGTERM; killing it", flush=True)
                self._popen.kill()
                self._popen.wait(10)
        return self._popen.returncode


class MariaDB:
    """The throwaway server of Scripts/mariadb, restartable with other mariadbd arguments."""

    def __init__(self, root: pathlib.Path, directory: pathlib.Path, port: int, supervisor: Supervisor):
        self.root, self.dir, self.port, self._supervisor = root, directory, port, supervisor
        self.pid = None
        self.extra_args = None

    def start(self, extra_args: str = ""):
        if self.pid is not None and self.extra_args == extra_args:
            return
        self.stop()
        if not port_is_free(self.port):
            raise BenchError(f"port {self.port} is taken: pick other ports with --base-port")
        self.dir.mkdir(parents=True, exist_ok=True)
        self._supervisor.add("mariadb", self.stop)   # before the start, which an interrupt may cut short
        # mariadbd stays in the background and would hold a pipe open: its output goes to a file.
        with open(self.dir / "start.log", "w") as log:
            done = subprocess.run([self.root / "Scripts/mariadb", "start", self.dir, str(self.port)], stdout=log,
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                                  env={**os.environ, "MARIADB_EXTRA_ARGS": extra_args}, timeout=90)
        if done.returncode != 0:
            raise BenchError(f"MariaDB did not start:\n{(self.dir / 'start.log').read_text(errors='replace')[-3000:]}")
        self.pid = int((self.dir / "mysqld.pid").read_text())
        self.extra_args = extra_args

    def stop(self):
        self._supervisor.discard("mariadb")
        if self.pid is None and not (self.dir / "mysqld.pid").exists():
            return
        subprocess.run([self.root / "Scripts/mariadb", "stop", self.dir], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
        self.pid = None

    def sql(self, statement: str, timeout: float = 120) -> str:
        done = subprocess.run(["mariadb", "--no-defaults", "-uroot", f"--socket={self.dir}/mysqld.sock", "-N", "-B",
                               "-e", statement], capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise BenchError(f"SQL failed: {statement}\n{done.stderr}")
        return done.stdout


def haproxy_config(port: int, backend_port: int, maxconn: int) -> str:
    return f"""# Written by Scripts/bench: haproxy as a plain layer-4 relay, the reference for a proxy's cost.
global
    maxconn {maxconn}

defaults
    mode tcp
    timeout connect 5s
    timeout client 1h
    timeout server 1h

listen mysql
    bind 127.0.0.1:{port}
    server mariadb 127.0.0.1:{backend_port} maxconn {maxconn}
"""
