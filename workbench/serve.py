"""``workbench serve``: the Voilà dashboards on 127.0.0.1, code hidden, behind a token.

Voilà serves every notebook of the ``dashboards/`` folder (``/voila/render/<name>.ipynb``) with
its code stripped and a landing page, ``index.ipynb``, that links them all. The data and run
folders reach the dashboards' ``parameters`` cells in two ways (:mod:`workbench.params`):

* ``workbench serve --data DATA --run RUN`` puts their absolute paths in ``WORKBENCH_DATA`` and
  ``WORKBENCH_RUN``, which every kernel Voilà starts inherits;
* a URL may choose others for one page: ``…/briefing.ipynb?DATA=/srv/d&RUN=/srv/r`` (Voilà passes
  the query string to the kernel as ``QUERY_STRING``).

The Jupyter server's token is on: the printed URL carries it once, the browser keeps a cookie.
The token is in no process's command line (``ps`` shows every argv to every local user): it
comes from ``$WORKBENCH_TOKEN`` or a ``--token-file`` only its owner can read (or is made anew),
and reaches Voilà in a 0600 file that the server removes once read (:mod:`workbench.serve_watch`).
Tokens shorter than :data:`MIN_TOKEN_LENGTH` characters are refused.

Voilà keeps a kernel per open page; idle kernels are culled after :data:`CULL_IDLE_SECONDS`. The
server is watched: restarted when its memory passes a ceiling or it stops answering, and ended
with its kernels on SIGTERM (:class:`workbench.serve_watch.Supervisor`).
"""
from __future__ import annotations

import json
import os
import secrets
import socket
import sys
from pathlib import Path

from .errors import DataFolderError, WorkbenchError

HOST = "127.0.0.1"
CULL_IDLE_SECONDS = 3600
CULL_INTERVAL_SECONDS = 300
LANDING = "index.ipynb"
MIN_TOKEN_LENGTH = 32
TOKEN_ENV = "WORKBENCH_TOKEN"
DEFAULT_MEMORY_CEILING = "2GiB"
_REPO_DASHBOARDS = Path(__file__).resolve().parent.parent / "dashboards"
# Dashboards a projector or a first visit opens: kept warm (widgets.page), PREHEAT_POOL kernels each
PREHEATED = ("index.ipynb", "briefing.ipynb", "findings.ipynb")
PREHEAT_POOL = 1


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
            from .manifest import data_folder_of, read

            data = data_folder_of(run_path, read(run_path))
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


def voila_argv(folder, port: int, open_browser: bool = False, preheat: bool = True) -> list:
    """The Voilà command-line arguments of ``workbench serve`` (the token is not one of them).

    With ``preheat`` Voilà keeps :data:`PREHEAT_POOL` kernel(s) per dashboard of
    :data:`PREHEATED` started, with the dashboard's imports done (each waits for its page's request
    in :func:`widgets.page.wait_for_page`): a page opens without starting Python. The other
    dashboards start a kernel when asked (each preheated kernel holds ~150 MB).
    """
    argv = [
        str(folder), f"--Voila.ip={HOST}", f"--port={int(port)}", "--Voila.port_retries=0",
        f"--Voila.open_browser={open_browser}",
        "--VoilaConfiguration.strip_sources=True", "--VoilaConfiguration.show_tracebacks=False",
        f"--MappingKernelManager.cull_idle_timeout={CULL_IDLE_SECONDS}",
        f"--MappingKernelManager.cull_interval={CULL_INTERVAL_SECONDS}",
    ]
    if preheat:
        others = sorted(p.stem for p in Path(folder).glob("*.ipynb") if p.name not in PREHEATED)
        argv += ["--preheat_kernel=True", f"--pool_size={PREHEAT_POOL}"]
        if others:  # re.match'ed against the notebook's path, absolute at start-up, relative later
            argv.append(f"--VoilaKernelManager.preheat_denylist={json.dumps(['(^|.*/)(' + '|'.join(others) + ')[.]ipynb$'])}")
    return argv


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


def check_token(token: str, source: str = "--token") -> str:
    """``token`` when it is long enough and has no blank or control character; else raise.

    Raises
    ------
    WorkbenchError
        Shorter than :data:`MIN_TOKEN_LENGTH` characters, or holding a blank or control character.
    """
    if len(token) < MIN_TOKEN_LENGTH:
        raise WorkbenchError(f"{source}: the token has {len(token)} characters, at least {MIN_TOKEN_LENGTH} are "
                             "needed (the dashboards show claims data); leave it out for a random one")
    if any(c.isspace() or not c.isprintable() for c in token):
        raise WorkbenchError(f"{source}: the token must not hold blanks or control characters")
    return token


def read_token_file(path) -> str:
    """The token in file ``path`` (surrounding blank lines stripped), which only its owner may read.

    Raises
    ------
    WorkbenchError
        The file is missing, or its group or others may read or write it (``chmod 600``).
    """
    p = Path(path)
    try:
        st = p.stat()
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise WorkbenchError(f"--token-file {p}: cannot be read ({e})") from None
    if st.st_mode & 0o077:
        raise WorkbenchError(f"--token-file {p}: readable by others (mode {st.st_mode & 0o777:o}); chmod 600 it")
    return check_token(text.strip(), f"--token-file {p}")


def resolve_token(token=None, token_file=None, environ=None) -> tuple:
    """The token and where it came from: ``token_file``, ``token``, ``$WORKBENCH_TOKEN``, or new."""
    environ = os.environ if environ is None else environ
    if token_file is not None:
        return read_token_file(token_file), "file"
    if token is not None:
        return check_token(token, "--token"), "argument"
    if environ.get(TOKEN_ENV):
        return check_token(environ[TOKEN_ENV], f"${TOKEN_ENV}"), "environment"
    return secrets.token_hex(24), "new"


def serve(data=None, run=None, port: int = 8866, token: str | None = None, open_browser: bool = False,
          folder=None, token_file=None, memory_ceiling=DEFAULT_MEMORY_CEILING,
          unanswered_seconds: float = 30.0) -> int:
    """Serve the dashboards until SIGTERM or Ctrl-C; return 0, or the server's code if it cannot start.

    Voilà runs as a watched child process (:class:`workbench.serve_watch.Supervisor`) with the
    kernels' environment; SIGTERM or Ctrl-C stop it and its kernels.

    Parameters
    ----------
    data, run : path, optional
        The data and run folders every dashboard opens by default.
    port : int
    token : str, optional
        The access token, at least :data:`MIN_TOKEN_LENGTH` characters. Default: ``token_file``,
        else ``$WORKBENCH_TOKEN``, else a new random one. It never reaches a command line.
    open_browser : bool
    folder : path, optional
        The dashboards folder (default :func:`dashboards_dir`).
    token_file : path, optional
        A file holding the token, readable by its owner only.
    memory_ceiling : str or int
        Resident memory of the server process (kernels apart) beyond which it is restarted:
        bytes, or a size such as ``2GiB``.
    unanswered_seconds : float
        The server is restarted when it has not answered HTTP on 127.0.0.1 for this long.
    """
    import importlib.util

    from .serve_watch import Supervisor

    if importlib.util.find_spec("voila") is None:
        raise WorkbenchError("Voilà is not installed: pip install voila (see requirements.lock)")
    folder = dashboards_dir() if folder is None else Path(folder)
    data, run = check_folders(data, run)
    token, source = resolve_token(token, token_file)
    ceiling = _ceiling_bytes(memory_ceiling)
    if not unanswered_seconds > 0:
        raise WorkbenchError(f"--watchdog must be a positive number of seconds, not {unanswered_seconds}")
    if not port_free(port):
        raise WorkbenchError(f"port {port} on {HOST} is in use: choose another with --port")
    if source == "argument":
        print(f"warning: --token is visible to every local user in `ps` while the command starts; "
              f"prefer ${TOKEN_ENV} or --token-file", file=sys.stderr)
    print(f"数据 data: {data or '(each dashboard default)'}\n筛查结果 run: {run or '(each dashboard default)'}")
    print("dashboards 看板:")
    for e in dashboard_entries(folder):
        print(f"  {e['title']}: {url(port, page=e['file'])}")
    print(f"open 打开 (token included 含访问令牌):\n  {url(port, token)}\nCtrl-C stops the server.", flush=True)
    env = {**os.environ, **kernel_env(data, run)}
    supervisor = Supervisor(voila_argv(folder, port, open_browser=False), env, port, token,
                            memory_ceiling=ceiling, unanswered_seconds=unanswered_seconds)
    on_ready = (lambda: _open_browser(url(port, token))) if open_browser else None
    return supervisor.run(on_ready=on_ready)


def _ceiling_bytes(value) -> int:
    from .session import size_bytes

    n = value if isinstance(value, (int, float)) else size_bytes(str(value).replace(" ", ""))
    if n is None or n < 256 * 2**20:
        raise WorkbenchError(f"--memory-ceiling {value}: give a size of at least 256MiB, such as 2GiB")
    return int(n)


def _open_browser(address: str) -> None:
    """Open ``address`` (the landing page, token included); Voilà's own opens it without the token."""
    import threading
    import webbrowser

    threading.Thread(target=webbrowser.open, args=(address,), daemon=True).start()


def register(parser) -> None:
    """Declare the options of ``workbench serve`` on its parser (``workbench.cli`` assembles them)."""
    parser.add_argument("--data", default=None)
    parser.add_argument("--run", default=None)
    parser.add_argument("--port", type=int, default=8866)
    parser.add_argument("--token", default=None,
                        help="access token, at least 32 characters (visible in `ps`: prefer $WORKBENCH_TOKEN or "
                             "--token-file; default: a new random one, printed in the URL)")
    parser.add_argument("--token-file", default=None, metavar="FILE", help="read the token from FILE (mode 600)")
    parser.add_argument("--memory-ceiling", default=None, metavar="SIZE",
                        help="restart the server when its memory passes SIZE (default 2GiB; kernels not counted)")
    parser.add_argument("--watchdog", type=float, default=None, metavar="SECONDS",
                        help="restart the server when it has not answered for SECONDS (default 30)")
    parser.add_argument("--no-browser", action="store_true", help="do not open a web browser")


def cli_serve(args) -> int:
    """``workbench serve [--data DATA] [--run RUN] [--port 8866] [--token-file F] [--no-browser] …``."""
    rc = serve(data=args.data, run=args.run, port=args.port, token=getattr(args, "token", None),
               open_browser=not getattr(args, "no_browser", True), token_file=getattr(args, "token_file", None),
               memory_ceiling=getattr(args, "memory_ceiling", None) or DEFAULT_MEMORY_CEILING,
               unanswered_seconds=getattr(args, "watchdog", None) or 30.0)
    return 0 if rc in (0, -15, 130) else rc
