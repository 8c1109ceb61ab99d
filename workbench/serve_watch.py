"""Keep the Voilà server of ``workbench serve`` alive and bounded.

:class:`Supervisor` runs the server (:mod:`widgets.voila_server`) as a child process and

* hands it the token in a file (mode 0600 in a 0700 folder) that the child reads and removes:
  the token is in no process's argv;
* restarts it when its resident memory passes a ceiling (a runaway allocation would otherwise
  take the machine; the server itself needs ~100-200 MB, kernels are not counted) or when it
  stops answering HTTP on 127.0.0.1 for a while (its event loop is stuck);
* on SIGTERM or Ctrl-C stops it, its kernels with it: SIGTERM first (Voilà shuts its kernels
  down), then SIGKILL to the server and every process it started if it does not end in time.
"""
from __future__ import annotations

import http.client
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TOKEN_FILE_ENV = "WORKBENCH_VOILA_TOKEN_FILE"
SERVER_MODULE = "widgets.voila_server"


def probe(port: int, host: str = "127.0.0.1", timeout: float = 5.0) -> bool:
    """True when the server on ``host:port`` answers an HTTP request within ``timeout`` seconds.

    Any HTTP answer counts (the login page needs no token): it shows the event loop runs.
    """
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request("GET", "/login")
        conn.getresponse().read()
        return True
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def write_token_file(token: str) -> Path:
    """A new 0700 folder holding ``token`` in a 0600 file; the path of the file."""
    folder = Path(tempfile.mkdtemp(prefix="workbench-serve-"))  # mkdtemp: 0700
    path = folder / "token"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(token)
    return path


def _rss(pid: int):
    import psutil

    try:
        return psutil.Process(pid).memory_info().rss
    except psutil.Error:
        return None


def _descendants(pid: int) -> list:
    import psutil

    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


class Supervisor:
    """Run, watch and stop one Voilà server.

    Parameters
    ----------
    argv : list of str
        Voilà's arguments (no token).
    env : dict
        The server's environment (the kernels inherit it).
    port : int
    token : str
    memory_ceiling : int
        Bytes of resident memory of the server process beyond which it is restarted.
    unanswered_seconds : float
        Restart the server when it has not answered for this long (once it answered at all).
    start_seconds : float
        Time a new server has to answer for the first time.
    log : callable
        Where messages go (default: standard error).
    """

    def __init__(self, argv, env, port, token, memory_ceiling=2 * 1024**3, unanswered_seconds=30.0,
                 start_seconds=90.0, log=None):
        self.argv, self.env, self.port, self.token = list(argv), dict(env), int(port), token
        self.memory_ceiling, self.unanswered = int(memory_ceiling), float(unanswered_seconds)
        self.start_seconds = float(start_seconds)
        self.log = log or (lambda msg: print(f"workbench serve: {msg}", file=sys.stderr, flush=True))
        self.child = None
        self.restarts = 0
        self._stop_signal = None
        self._token_dir = None

    # ------------------------------------------------------------------ child process
    def _start(self) -> None:
        path = write_token_file(self.token)
        self._token_dir = path.parent
        env = {k: v for k, v in self.env.items() if k not in ("WORKBENCH_TOKEN", "JUPYTER_TOKEN")}
        env[TOKEN_FILE_ENV] = str(path)
        self.child = subprocess.Popen([sys.executable, "-m", SERVER_MODULE, *self.argv], env=env)

    def _cleanup_token(self) -> None:
        if self._token_dir is not None:
            shutil.rmtree(self._token_dir, ignore_errors=True)
            self._token_dir = None

    def _stop_child(self, grace: float) -> int | None:
        """End the server and everything it started; its exit code."""
        child = self.child
        if child is None:
            return None
        family = _descendants(child.pid)  # kernels run in sessions of their own: kill them by pid
        if child.poll() is None and grace > 0:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(grace)
            except subprocess.TimeoutExpired:
                pass
        if child.poll() is None:
            child.kill()
        rc = child.wait()
        for p in family + _descendants(child.pid):
            try:
                if p.is_running():
                    p.kill()
            except Exception:  # gone meanwhile
                pass
        self._cleanup_token()
        self.child = None
        return rc

    def _restart(self, reason: str, grace: float) -> None:
        self.log(f"restarting the server: {reason}")
        self._stop_child(grace)
        self.restarts += 1
        self._start()

    # ------------------------------------------------------------------ signals
    def _on_signal(self, signum, frame):
        self._stop_signal = signum

    def run(self, on_ready=None, tick: float = 0.5) -> int:
        """Serve until SIGTERM / SIGINT or until the server cannot be started; its exit code.

        ``on_ready`` is called once, the first time the server answers.
        """
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        failed_starts = 0
        try:
            self._start()
            started, answered, last_ok, ready = time.monotonic(), False, None, False
            while self._stop_signal is None:
                rc = self.child.poll()
                now = time.monotonic()
                if rc is not None:
                    self._cleanup_token()
                    if not answered:
                        failed_starts += 1
                        if failed_starts >= 3:
                            self.log(f"the server ended with code {rc} before answering, {failed_starts} times; giving up")
                            self.child = None
                            return rc or 1
                    self._restart(f"it ended with code {rc}", grace=0)
                    started, answered, last_ok = time.monotonic(), False, None
                    continue
                rss = _rss(self.child.pid)
                if rss is not None and rss > self.memory_ceiling:
                    # a runaway allocation: the event loop is busy, SIGTERM would wait in vain
                    self._restart(f"its memory ({rss / 2**20:.0f} MiB) passed the ceiling "
                                  f"({self.memory_ceiling / 2**20:.0f} MiB)", grace=0)
                    started, answered, last_ok = time.monotonic(), False, None
                    continue
                if probe(self.port, timeout=min(5.0, max(0.5, self.unanswered / 3))):
                    answered, last_ok, failed_starts = True, time.monotonic(), 0
                    if not ready:
                        ready = True
                        if on_ready is not None:
                            on_ready()
                elif answered and time.monotonic() - last_ok > self.unanswered:
                    self._restart(f"it has not answered for {time.monotonic() - last_ok:.0f} s", grace=5)
                    started, answered, last_ok = time.monotonic(), False, None
                    continue
                elif not answered and now - started > self.start_seconds:
                    failed_starts += 1
                    if failed_starts >= 3:
                        self.log(f"the server did not answer within {self.start_seconds:.0f} s, {failed_starts} times; giving up")
                        return 1
                    self._restart(f"it did not answer within {self.start_seconds:.0f} s of starting", grace=5)
                    started, answered, last_ok = time.monotonic(), False, None
                    continue
                time.sleep(tick)
            return 0
        finally:
            for s, h in previous.items():
                signal.signal(s, h)
            if self.child is not None:
                self._stop_child(grace=20)
            self._cleanup_token()
