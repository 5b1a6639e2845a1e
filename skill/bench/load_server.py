"""The server side of ``python -m skill bench load``: one gunicorn master per app, and CPU clocks.

The listening socket is bound here to 127.0.0.1 on a port the kernel picks, and handed to
gunicorn as ``fd://N``: nothing ever listens on another interface, and there is no race for the
port. The master is started here and stopped here, by its own pid (SIGTERM, then SIGKILL after a
bounded wait). CPU time is read from Linux ``/proc`` (elsewhere it reads as unknown).
"""

from __future__ import annotations

import http.client
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from skill.config import REPO_ROOT

#: Gunicorn options shared by the skill and the baseline (the bench varies only the app).
GUNICORN_OPTIONS = ("--log-level", "warning", "--timeout", "30", "--graceful-timeout", "5",
                    "--backlog", "1024")
#: Workers touch a heartbeat file after every request; gunicorn's own advice is to keep it on
#: a memory filesystem rather than a disk (both apps get the same setting).
SHM = Path("/dev/shm")
#: Server hooks timing each worker's graceful closes (:mod:`skill.bench.gunicorn_hooks`).
HOOKS_MODULE = "skill.bench.gunicorn_hooks"


@dataclass(frozen=True)
class ServerConfig:
    """How gunicorn runs: the same for the skill and the baseline."""

    workers: int = 2
    worker_class: str = "sync"
    threads: int = 4

    @property
    def one_per_connection(self) -> bool:
        """Whether the workers close the connection after every response (sync workers)."""
        return self.worker_class == "sync"

    def describe(self) -> str:
        """The gunicorn flags, as a reader would type them."""
        flags = f"--workers {self.workers} --worker-class {self.worker_class}"
        return flags + (f" --threads {self.threads}" if self.worker_class == "gthread" else "")


def _loopback_listener() -> socket.socket:
    """A listening TCP socket on 127.0.0.1 with a port the kernel chose."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    return sock


def _clock_ticks() -> int:
    return os.sysconf("SC_CLK_TCK")


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of one process (``/proc``); 0 when unknown or gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(stat[11]) + int(stat[12])) / _clock_ticks()


def machine_busy_s() -> float:
    """CPU seconds every process on the machine has used (all CPUs; ``/proc/stat``), or 0."""
    try:
        with open("/proc/stat", encoding="ascii") as handle:
            values = [int(v) for v in handle.readline().split()[1:]]
    except (OSError, ValueError):
        return 0.0
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return (sum(values[:8]) - idle) / _clock_ticks()


def self_cpu_s() -> float:
    """CPU seconds used by this process (all its threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child_pids(pid: int) -> list[int]:
    """Pids whose parent is ``pid`` (``/proc``)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat[1]) == pid:
            found.append(int(entry.name))
    return found


class Server:
    """One gunicorn master serving ``app_spec`` on loopback, started and stopped here.

    :param app_spec: a gunicorn app or factory call, e.g. ``skill.bench.load_app:hello()``.
    :param env: extra environment (``REFLECT_*`` of this process are never passed on).
    :param log_path: gunicorn's and the app's stdout/stderr go here.
    """

    def __init__(self, app_spec: str, config: ServerConfig, env: dict[str, str], log_path: Path) -> None:
        self.app_spec = app_spec
        self.config = config
        self.env = env
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self._listener: socket.socket | None = None
        self._log: IO[bytes] | None = None
        self._workers: list[int] = []

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def command(self, fd: int) -> list[str]:
        """The gunicorn command line, bound to the inherited socket ``fd``."""
        cmd = [sys.executable, "-m", "gunicorn", "--workers", str(self.config.workers),
               "--worker-class", self.config.worker_class, "--bind", f"fd://{fd}",
               "--config", f"python:{HOOKS_MODULE}", *GUNICORN_OPTIONS]
        if SHM.is_dir():
            cmd += ["--worker-tmp-dir", str(SHM)]
        if self.config.worker_class == "gthread":
            cmd += ["--threads", str(self.config.threads)]
        return [*cmd, self.app_spec]

    def start(self, timeout_s: float = 60.0) -> None:
        """Start gunicorn and wait until ``/healthz`` answers and every worker is up.

        :raises RuntimeError: gunicorn exited, or did not answer within ``timeout_s``.
        """
        self._listener = _loopback_listener()
        self.port = self._listener.getsockname()[1]
        fd = self._listener.fileno()
        env = {k: v for k, v in os.environ.items() if not k.startswith("REFLECT_")}
        env.update(self.env)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(self.command(fd), pass_fds=(fd,), env=env, cwd=str(REPO_ROOT),
                                     stdout=self._log, stderr=self._log, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                code = self.proc.returncode
                self.stop()
                raise RuntimeError(f"gunicorn exited with {code}; see {self.log_path}")
            if self._healthy():
                self._workers = child_pids(self.proc.pid)
                if len(self._workers) >= self.config.workers:
                    return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer /healthz within {timeout_s:.0f} s")

    def _healthy(self) -> bool:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                conn.request("GET", "/healthz")
                return conn.getresponse().status == 200
            finally:
                conn.close()
        except (OSError, http.client.HTTPException):
            return False

    def cpu_s(self) -> float:
        """CPU seconds used so far by the master and its workers."""
        if self.proc is None:
            return 0.0
        return sum(process_cpu_s(pid) for pid in (self.proc.pid, *self._workers))

    def stop(self) -> None:
        """Stop the master (SIGTERM, then SIGKILL after 15 s) and close the socket and log."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        if self._log is not None:
            self._log.close()
            self._log = None
