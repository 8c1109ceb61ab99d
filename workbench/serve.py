"""``workbench serve``: the Voilà dashboards on 127.0.0.1, code hidden, behind a token.

Voilà serves every notebook of the ``dashboards/`` folder (``/voila/render/<name>.ipynb``) with
its code stripped and a landing page, ``index.ipynb``, that links them all. The data and run
folders reach the dashboards' ``parameters`` cells in two ways (:mod:`workbench.params`):

* ``workbench serve --data DATA --run RUN`` puts their absolute paths in ``WORKBENCH_DATA`` and
  ``WORKBENCH_RUN``, which every kernel Voilà starts inherits;
* a URL may choose others for one page: ``…/briefing.ipynb?DATA=/srv/d&RUN=/srv/r`` (Voilà passes
  the query string to the kernel as ``QUERY_STRING``).

The Jupyter server's token is on: the printed URL carries it once, the browser keeps a cookie.
Voilà keeps a kernel per open page; idle kernels are culled after :data:`CULL_IDLE_SECONDS`.
"""
from __future__ import annotations

import json
import os
import secrets
import socket
from pathlib import Path

from .errors import DataFolderError, WorkbenchError

HOST = "127.0.0.1"
CULL_IDLE_SECONDS = 3600
CULL_INTERVAL_SECONDS = 300
LANDING = "index.ipynb"
_REPO_DASHBOARDS = Path(__file__).resolve().parent.parent / "dashboards"


def dashboards_dir() -> Path:
    """The folder of dashboards: ``$WORKBENCH_DASHBOARDS``, else the ``dashboards/`` beside the package."""
    folder = Path(os.environ.get("WORKBENCH_DASHBOARDS") or _REPO_DASHBOARDS)
    if not folder.is_dir():
        raise WorkbenchError(f"{folder}: no dashboards folder (set WORKBENCH_DASHBOARDS to the folder of the .ipynb files)")
    return folder


def notebook_heading(path) -> tuple:
    """The first Markdown heading of a notebook and the paragraph after it.

    ``# 简报 Briefing`` then ``Figures for …`` → ``("简报 Briefing", "Figures for …")``; the file
    stem and "" when the notebook has no heading.
    """
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        src = cell.get("source", "")
        lines = (src if isinstance(src, str) else "".join(src)).splitlines()
        for i, line in enumerate(lines):
            if line.startswith("#"):
                rest = [s.strip() for s in lines[i + 1:]]
                para = []
                for s in rest:
                    if s.startswith("#") or (not s and para):
                        break
                    if s:
                        para.append(s)
                return line.lstrip("#").strip(), " ".join(para)
    return Path(path).stem, ""


def dashboard_entries(folder=None) -> list:
    """Every dashboard of ``folder`` but the landing page, by file name: ``[{"file", "title", "summary"}]``."""
    folder = dashboards_dir() if folder is None else Path(folder)
    out = []
    for p in sorted(folder.glob("*.ipynb")):
        if p.name != LANDING:
            title, summary = notebook_heading(p)
            out.append({"file": p.name, "title": title, "summary": summary})
    return out


def check_folders(data=None, run=None) -> tuple:
    """Absolute data and run folders, checked; ``data`` defaults to the one the run recorded.

    Raises :class:`DataFolderError` naming a folder that is not a data folder
    (``data_manifest.json``) or not a run folder (``findings.parquet`` and ``manifest.json``).
    """
    run_path = None
    if run is not None:
        run_path = Path(run).resolve()
        for name in ("findings.parquet", "manifest.json"):
            if not (run_path / name).is_file():
                raise DataFolderError(f"{run_path}: not a run folder (no {name}); make one with `workbench audit DATA --out RUN`")
        if data is None:
            from .manifest import read

            data = (read(run_path).get("data") or {}).get("folder")
    data_path = None
    if data is not None:
        data_path = Path(data).resolve()
        if not (data_path / "data_manifest.json").is_file():
            raise DataFolderError(f"{data_path}: not a data folder (no data_manifest.json)")
    return data_path, run_path


def kernel_env(data=None, run=None) -> dict:
    """The environment variables the dashboards' kernels get: ``WORKBENCH_DATA``, ``WORKBENCH_RUN``."""
    env = {}
    if data is not None:
        env["WORKBENCH_DATA"] = str(data)
    if run is not None:
        env["WORKBENCH_RUN"] = str(run)
    return env


def voila_argv(folder, port: int, token: str, open_browser: bool = False) -> list:
    """The Voilà command-line arguments of ``workbench serve``."""
    return [
        str(folder), f"--Voila.ip={HOST}", f"--port={int(port)}", "--Voila.port_retries=0",
        f"--Voila.token={token}", f"--Voila.open_browser={open_browser}",
        "--VoilaConfiguration.strip_sources=True", "--VoilaConfiguration.show_tracebacks=False",
        f"--MappingKernelManager.cull_idle_timeout={CULL_IDLE_SECONDS}",
        f"--MappingKernelManager.cull_interval={CULL_INTERVAL_SECONDS}",
    ]


def url(port: int, token: str | None = None, page: str | None = LANDING, **query) -> str:
    """The address of a dashboard (``page``), or of the file tree when ``page`` is None."""
    from urllib.parse import urlencode

    base = f"http://{HOST}:{int(port)}/" + (f"voila/render/{page}" if page else "")
    q = {**({"token": token} if token else {}), **{k: str(v) for k, v in query.items() if v is not None}}
    return base + (f"?{urlencode(q)}" if q else "")


def port_free(port: int) -> bool:
    """True when nothing listens on ``127.0.0.1:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, int(port)))
        except OSError:
            return False
    return True


def serve(data=None, run=None, port: int = 8866, token: str | None = None, open_browser: bool = False,
          folder=None) -> int:
    """Serve the dashboards until interrupted; return Voilà's exit code.

    Voilà runs as a child process (``python -m voila``) with the kernels' environment; Ctrl-C or
    SIGTERM stop it, and Voilà shuts its kernels down.

    Parameters
    ----------
    data, run : path, optional
        The data and run folders every dashboard opens by default.
    port : int
    token : str, optional
        The access token (default: a new random one). Never empty: the dashboards show claims data.
    open_browser : bool
    folder : path, optional
        The dashboards folder (default :func:`dashboards_dir`).
    """
    import importlib.util
    import signal
    import subprocess
    import sys

    if importlib.util.find_spec("voila") is None:
        raise WorkbenchError("Voilà is not installed: pip install voila (see requirements.lock)")
    folder = dashboards_dir() if folder is None else Path(folder)
    data, run = check_folders(data, run)
    if token is not None and not token.strip():
        raise WorkbenchError("--token must not be empty: the dashboards show claims data")
    token = token or secrets.token_hex(24)
    if not port_free(port):
        raise WorkbenchError(f"port {port} on {HOST} is in use: choose another with --port")
    print(f"数据 data: {data or '(each dashboard default)'}\n筛查结果 run: {run or '(each dashboard default)'}")
    print("dashboards 看板:")
    for e in dashboard_entries(folder):
        print(f"  {e['title']}: {url(port, page=e['file'])}")
    print(f"open 打开 (token included 含访问令牌):\n  {url(port, token)}\nCtrl-C stops the server.", flush=True)
    env = {**os.environ, **kernel_env(data, run)}
    child = subprocess.Popen([sys.executable, "-m", "voila", *voila_argv(folder, port, token, open_browser=False)], env=env)
    previous = signal.signal(signal.SIGTERM, lambda *_: child.terminate())
    try:
        if open_browser:
            _open_when_listening(url(port, token))
        while True:
            try:
                return child.wait()
            except KeyboardInterrupt:  # Ctrl-C reached Voilà too (same process group): let it stop its kernels
                continue
    finally:
        signal.signal(signal.SIGTERM, previous)
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(20)
            except subprocess.TimeoutExpired:
                child.kill()


def _open_when_listening(address: str, port_timeout: float = 60.0):
    """Open ``address`` (the landing page, token included) in a browser once the server listens.

    Voilà's own ``open_browser`` opens the page without the token, which lands on a login form.
    """
    import threading
    import time
    import webbrowser
    from urllib.parse import urlsplit

    port = urlsplit(address).port

    def wait_then_open():
        deadline = time.monotonic() + port_timeout
        while time.monotonic() < deadline:
            if not port_free(port):
                webbrowser.open(address)
                return
            time.sleep(0.3)

    threading.Thread(target=wait_then_open, daemon=True).start()


def cli_serve(args) -> int:
    """``workbench serve [--data DATA] [--run RUN] [--port 8866] [--token T] [--no-browser]``."""
    rc = serve(data=args.data, run=args.run, port=args.port, token=getattr(args, "token", None),
               open_browser=not getattr(args, "no_browser", True))
    return 0 if rc in (0, -15, 130) else rc
