"""workbench.serve: Voilà's arguments, the folders passed to kernels, the landing page's list.

The server itself is started once for the browser tests (``tests/browser/``), which also check
its token and that no code reaches a viewer.
"""
from __future__ import annotations

import json
import socket
from pathlib import Path

import nbformat
import pytest
from dashdata import write_hand_run

from workbench import serve
from workbench.cli import main
from workbench.errors import DataFolderError, WorkbenchError

ROOT = Path(__file__).resolve().parents[1]
DASHBOARDS = sorted((ROOT / "dashboards").glob("*.ipynb"))


def test_voila_serves_on_localhost_with_code_hidden_and_no_token_in_its_arguments():
    argv = serve.voila_argv("/x/dashboards", 8899, open_browser=False)
    assert argv[0] == "/x/dashboards"
    for expected in ("--Voila.ip=127.0.0.1", "--port=8899", "--Voila.port_retries=0",
                     "--VoilaConfiguration.strip_sources=True", "--VoilaConfiguration.show_tracebacks=False",
                     "--Voila.open_browser=False"):
        assert expected in argv
    assert not [a for a in argv if "token" in a.lower()]
    assert any(a.startswith("--MappingKernelManager.cull_idle_timeout=") for a in argv)


def test_dashboards_are_preheated_and_every_page_resource_is_local():
    import re as _re

    argv = serve.voila_argv(ROOT / "dashboards", 8899)
    assert "--preheat_kernel=True" in argv and f"--pool_size={serve.PREHEAT_POOL}" in argv
    deny = json.loads(next(a for a in argv if a.startswith("--VoilaKernelManager.preheat_denylist=")).split("=", 1)[1])
    for nb in DASHBOARDS:  # Voilà matches the pattern against absolute paths at start-up, relative ones later
        for name in (str(nb), nb.name):
            assert bool(_re.match(deny[0], name)) == (nb.name not in serve.PREHEATED), name
    assert "--preheat_kernel=True" not in serve.voila_argv(ROOT / "dashboards", 8899, preheat=False)
    # the page template served instead of Voilà's lab one: no address outside this server
    from widgets import voila_server

    folder = Path(voila_server.TEMPLATE_ROOT) / "voila" / "templates" / voila_server.TEMPLATE
    for page in folder.iterdir():
        text = page.read_text(encoding="utf-8")
        assert not _re.search(r"(src|href)=[\"']?(https?:)?//", text), page.name
    assert (Path(voila_server.fontawesome_root()) / "fontawesomefree" / "css" / "all.min.css").is_file()
    assert (Path(voila_server.fontawesome_root()) / "fontawesomefree" / "webfonts" / "fa-solid-900.woff2").is_file()


def test_a_dashboard_kernel_waits_for_its_page_only_when_preheated(monkeypatch):
    from widgets import page

    monkeypatch.delenv("VOILA_PREHEAT", raising=False)
    assert not page.preheated() and page.wait_for_page() is None  # nbclient, Jupyter: at once
    monkeypatch.setenv("VOILA_PREHEAT", "False")
    assert not page.preheated()
    monkeypatch.setenv("VOILA_PREHEAT", "True")
    assert page.preheated()


def test_urls():
    assert serve.url(8866, "t0k") == "http://127.0.0.1:8866/voila/render/index.ipynb?token=t0k"
    assert serve.url(8866, page="briefing.ipynb", DATA="/d d") == "http://127.0.0.1:8866/voila/render/briefing.ipynb?DATA=%2Fd+d"
    assert serve.url(8866, "t", page=None) == "http://127.0.0.1:8866/?token=t"


def test_folders_are_checked_and_the_run_names_its_data(tiny_data, tmp_path):
    run = write_hand_run(tiny_data, tmp_path / "run")
    data, got_run = serve.check_folders(run=run)
    assert data == tiny_data.resolve() and got_run == run.resolve()
    assert serve.kernel_env(data, got_run) == {"WORKBENCH_DATA": str(tiny_data.resolve()), "WORKBENCH_RUN": str(run.resolve())}
    assert serve.kernel_env() == {}
    with pytest.raises(DataFolderError, match="not a run folder.*findings.parquet"):
        serve.check_folders(run=tmp_path)
    with pytest.raises(DataFolderError, match="not a data folder"):
        serve.check_folders(data=tmp_path)


def test_landing_lists_every_dashboard_but_itself():
    entries = serve.dashboard_entries(ROOT / "dashboards")
    assert [e["file"] for e in entries] == [p.name for p in DASHBOARDS if p.name != "index.ipynb"]
    by_file = {e["file"]: e for e in entries}
    assert by_file["briefing.ipynb"]["title"] == "医保基金监管工作简报 Fund supervision briefing"
    assert by_file["findings.ipynb"]["summary"].startswith("按规则、区县、机构")


def test_notebook_heading(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1"),
                nbformat.v4.new_markdown_cell("intro\n## 标题 Title\n\nfirst line\nsecond line\n\nlater")]
    p = tmp_path / "a.ipynb"
    nbformat.write(nb, p)
    assert serve.notebook_heading(p) == ("标题 Title", "first line second line")
    nb.cells = [nb.cells[0]]
    nbformat.write(nb, p)
    assert serve.notebook_heading(p) == ("a", "")


def test_dashboards_folder_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("WORKBENCH_DASHBOARDS", str(tmp_path))
    assert serve.dashboards_dir() == tmp_path
    monkeypatch.setenv("WORKBENCH_DASHBOARDS", str(tmp_path / "missing"))
    with pytest.raises(WorkbenchError, match="no dashboards folder"):
        serve.dashboards_dir()


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_every_dashboard_takes_its_folders_from_the_url(path):
    """DATA and RUN are plain assignments from param(), so nbclient can inject and a URL can choose."""
    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, "one cell tagged parameters"
    lines = [ln for ln in cells[0].source.splitlines() if ln.strip() and not ln.startswith(("#", "from ", "import "))]
    assert all(" = " in ln for ln in lines), "the parameters cell holds assignments only"
    for ln in lines:
        name = ln.split(" = ")[0]
        if name in ("DATA", "RUN"):
            assert ln.split(" = ", 1)[1].startswith(f'param("{name}", '), ln
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "committed without outputs"


def test_serve_refuses_a_busy_port_and_a_short_or_blank_token(capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("WORKBENCH_TOKEN", raising=False)
    good = "k" * 32
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert not serve.port_free(port)
        assert main(["serve", "--port", str(port), "--token", good, "--no-browser"]) == 1
        assert f"port {port}" in capsys.readouterr().err
    for bad, says in [("x", "the token has 1 characters, at least 32"), (" " * 40, "blanks or control"),
                      ("k" * 31, "the token has 31 characters"), ("k" * 20 + " " + "k" * 20, "blanks or control")]:
        assert main(["serve", "--port", str(port), "--token", bad, "--no-browser"]) == 1
        assert says in capsys.readouterr().err
    monkeypatch.setenv("WORKBENCH_TOKEN", "short")
    assert main(["serve", "--port", str(port), "--no-browser"]) == 1
    assert "$WORKBENCH_TOKEN: the token has 5 characters" in capsys.readouterr().err
    f = tmp_path / "token"
    f.write_text(good + "\n")
    f.chmod(0o644)
    assert main(["serve", "--port", str(port), "--token-file", str(f), "--no-browser"]) == 1
    assert "readable by others (mode 644); chmod 600" in capsys.readouterr().err
    f.chmod(0o600)
    assert serve.read_token_file(f) == good
    assert serve.resolve_token(token_file=f) == (good, "file")
    assert serve.resolve_token(environ={"WORKBENCH_TOKEN": good}) == (good, "environment")
    new, source = serve.resolve_token(environ={})
    assert source == "new" and len(new) == 48 and new != serve.resolve_token(environ={})[0]
    assert main(["serve", "--run", str(tmp_path), "--no-browser"]) == 1
    assert "not a run folder" in capsys.readouterr().err
    monkeypatch.setenv("WORKBENCH_TOKEN", good)
    assert main(["serve", "--port", str(port), "--memory-ceiling", "10MB", "--no-browser"]) == 1
    assert "--memory-ceiling 10MB: give a size of at least 256MiB" in capsys.readouterr().err


def test_demo_serves_the_run_it_made(monkeypatch, tmp_path):
    """``workbench demo`` ends by calling ``serve --data DATA --run RUN`` (the synth/audit steps stubbed)."""
    from workbench import demo

    calls = []
    monkeypatch.setattr(demo, "cli", lambda argv: calls.append(argv) or 0)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "data_manifest.json").write_text(json.dumps({}))

    class Args:
        out = str(tmp_path)
        no_serve = False

    assert demo.cli_demo(Args()) == 0
    assert calls[-1][:1] == ["serve"] and calls[-1][1:5] == ["--data", str(tmp_path / "data"), "--run", str(tmp_path / "run")]


def test_demo_without_serving_makes_data_and_a_run(tmp_path, capsys):
    """The real ``workbench demo --no-serve``: synth, summary and audit, nothing stubbed."""
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--no-serve"]) == 0
    assert (out / "data" / "data_manifest.json").is_file() and (out / "data" / "truth.parquet").is_file()
    manifest = json.loads((out / "run" / "manifest.json").read_text())
    library = Path(__file__).resolve().parents[1] / "workbench" / "rules" / "library"
    assert manifest["counts"]["rules_run"] == len(list(library.glob("*.yaml"))) >= 28  # every rule of the library
    assert manifest["counts"]["findings"] > 0
    again = capsys.readouterr().out
    assert main(["demo", "--out", str(out), "--no-serve"]) == 0
    assert "demo data already in" in capsys.readouterr().out and again


# ------------------------------------------- the served server: token, protocol guard, watchdog
# (issue 23, items 5 and 6). A tiny dashboards folder keeps each start to a few seconds.
V1 = "v1.kernel.websocket.jupyter.org"


def test_the_legacy_websocket_format_read_as_v1_is_bounded():
    """Voilà 0.5.13 reads a legacy binary message's first 8 bytes as the v1 offset count and builds
    a list that long; the guarded reader returns None at once and still reads real v1 messages."""
    from jupyter_server.services.kernels.connection.base import serialize_binary_message, serialize_msg_to_ws_v1

    from widgets.voila_server import header_of_binary_message, requested_subprotocols

    msg = {"header": {"msg_id": "1", "msg_type": "comm_msg"}, "parent_header": {}, "metadata": {},
           "content": {"data": {"method": "update_states"}}, "buffers": [b"\x00" * 16, b"\x01" * 8], "channel": "iopub"}
    legacy = serialize_binary_message(dict(msg))
    assert int.from_bytes(legacy[:8], "little") > 10**15  # the count the stock reader iterates over
    assert header_of_binary_message(legacy) is None
    v1 = serialize_msg_to_ws_v1([b"{}"] * 0 + [json.dumps(msg["header"]).encode(), b"{}", b"{}", b"{}", *msg["buffers"]], "iopub")
    assert header_of_binary_message(v1) == msg["header"]
    for junk in (b"", b"\x05", (2**63).to_bytes(8, "little") + b"x" * 40, (3).to_bytes(8, "little") + b"\xff" * 24):
        assert header_of_binary_message(junk) is None
    assert requested_subprotocols(f" {V1} , other") == [V1, "other"] and requested_subprotocols(None) == []


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tiny_dashboards(folder: Path) -> Path:
    folder.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# 小 Tiny\n\none slider"),
                nbformat.v4.new_code_cell("import ipywidgets as w\nw.IntSlider(value=3)")]
    nbformat.write(nb, folder / "tiny.ipynb")
    return folder


class Served:
    """``workbench serve`` in its own process group, token from the environment."""

    def __init__(self, tmp_path, *extra):
        import os
        import secrets
        import subprocess
        import sys

        self.port, self.token = _free_port(), secrets.token_hex(24)
        self.log = tmp_path / "serve.log"
        env = {**os.environ, "WORKBENCH_TOKEN": self.token, "PYTHONUNBUFFERED": "1",
               "WORKBENCH_DASHBOARDS": str(_tiny_dashboards(tmp_path / "dash"))}
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "workbench", "serve", "--port", str(self.port),
                                          "--no-browser", *extra], stdout=out, stderr=subprocess.STDOUT, env=env,
                                         cwd=ROOT, start_new_session=True)
        self.wait_answering()

    def wait_answering(self, seconds=60):
        import time

        from workbench.serve_watch import probe

        deadline = time.monotonic() + seconds
        while not probe(self.port, timeout=2):
            assert self.proc.poll() is None and time.monotonic() < deadline, self.log.read_text(errors="replace")
            time.sleep(0.2)

    def family(self):
        import psutil

        p = psutil.Process(self.proc.pid)
        return [p] + p.children(recursive=True)

    def voila(self):
        import psutil

        kids = [c for c in psutil.Process(self.proc.pid).children() if "widgets.voila_server" in " ".join(c.cmdline())]
        assert len(kids) == 1, kids
        return kids[0]

    def get(self, path, **headers):
        import http.client

        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            c.request("GET", path, headers=headers)
            r = c.getresponse()
            return r.status, r.read().decode("utf-8", "replace")
        finally:
            c.close()

    def kernel_id(self):
        import re

        status, page = self.get(f"/voila/render/tiny.ipynb?token={self.token}")
        assert status == 200, page[:500]
        return re.search(r'"kernelId": "([0-9a-f-]{36})"', page).group(1)

    def stop(self):
        import os
        import signal
        import subprocess

        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(40)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)


@pytest.fixture
def served(tmp_path):
    pytest.importorskip("voila")
    s = Served(tmp_path, "--watchdog", "4")
    yield s
    s.stop()


def test_the_token_is_in_no_command_line_and_opens_the_server(served):
    import psutil

    assert served.get("/voila/render/tiny.ipynb")[0] in (302, 403)  # no token: the login page
    served.kernel_id()  # a page open, so a kernel runs too
    family = served.family()
    assert len(family) >= 3, [p.cmdline() for p in family]  # workbench serve, Voilà, a kernel
    for p in family:
        assert served.token not in "\0".join(p.cmdline()), p.cmdline()
    voila = served.voila()
    assert served.token not in str(voila.environ())
    handoff = voila.environ()["WORKBENCH_VOILA_TOKEN_FILE"]  # the file the token came in: removed once read
    assert not Path(handoff).exists() and Path(handoff).parent.stat().st_mode & 0o077 == 0
    assert served.token not in served.log.read_text(errors="replace").replace(f"token={served.token}", "")
    assert psutil.Process(served.proc.pid).is_running()


def test_a_legacy_protocol_kernel_websocket_is_refused_and_the_server_stays_up(served):
    """The attack of issue 23: a kernel websocket without the v1 subprotocol asking for the widget
    states. The handshake is refused; a v1 client (what Voilà's page uses) is served."""
    import websocket

    kid = served.kernel_id()
    url = f"ws://127.0.0.1:{served.port}/api/kernels/{kid}/channels?session_id=attacker"
    auth = [f"Authorization: token {served.token}"]
    rss_before = served.voila().memory_info().rss
    for protocols in (None, ["legacy"], ["v0.kernel.websocket.jupyter.org"]):
        with pytest.raises(websocket.WebSocketBadStatusException) as e:
            websocket.create_connection(url, header=auth, subprotocols=protocols, timeout=10)
        assert e.value.status_code == 400 and V1 in str(e.value)
    ws = websocket.create_connection(url, header=auth, subprotocols=[V1], timeout=10)
    try:
        assert ws.subprotocol == V1
        # ask for the widget states, as the attack did, but in v1: answered, bounded
        from jupyter_server.services.kernels.connection.base import deserialize_msg_from_ws_v1, serialize_msg_to_ws_v1

        header = {"msg_id": "m1", "msg_type": "comm_open", "session": "attacker", "username": "a", "version": "5.3",
                  "date": "2024-01-01T00:00:00+00:00"}
        content = {"comm_id": "c1", "target_name": "jupyter.widget.control", "data": {}}
        meta = json.dumps({"version": "1.0.0"}).encode()  # the widget control protocol's version
        ws.send_binary(serialize_msg_to_ws_v1([json.dumps(header).encode(), b"{}", meta, json.dumps(content).encode()], "shell"))
        header2 = dict(header, msg_id="m2", msg_type="comm_msg")
        ask = {"comm_id": "c1", "data": {"method": "request_states"}}
        ws.send_binary(serialize_msg_to_ws_v1([json.dumps(header2).encode(), b"{}", meta, json.dumps(ask).encode()], "shell"))
        got = None
        for _ in range(200):
            frame = ws.recv()
            if isinstance(frame, bytes):
                channel, parts = deserialize_msg_from_ws_v1(frame)
                h = json.loads(parts[0])
                if h["msg_type"] == "comm_msg" and json.loads(parts[3])["data"].get("method") == "update_states":
                    got = json.loads(parts[3])["data"]["states"]
                    break
        assert got and any(s["state"].get("value") == 3 for s in got.values())  # the page's slider
    finally:
        ws.close()
    assert served.get("/login")[0] == 200
    assert served.voila().memory_info().rss < rss_before + 200 * 2**20


def test_the_watchdog_restarts_a_server_that_stopped_answering_and_sigterm_ends_everything(served):
    import os
    import signal
    import time

    import psutil

    served.kernel_id()
    first = served.voila()
    kernels = first.children(recursive=True)
    assert kernels
    first.send_signal(signal.SIGSTOP)  # alive but deaf, like the stuck server of issue 23
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        kids = [c for c in psutil.Process(served.proc.pid).children() if c.pid != first.pid]
        if kids:
            break
        time.sleep(0.5)
    served.wait_answering()
    assert not first.is_running() or first.status() == psutil.STATUS_ZOMBIE
    assert not any(k.is_running() and k.status() != psutil.STATUS_ZOMBIE for k in kernels)
    assert "restarting the server: it has not answered for" in served.log.read_text(errors="replace")
    assert served.get(f"/voila/render/tiny.ipynb?token={served.token}")[0] == 200  # same token after the restart
    family = served.family()
    os.kill(served.proc.pid, signal.SIGTERM)  # to workbench serve alone, not its group
    served.proc.wait(40)
    time.sleep(1)
    assert [p.pid for p in family if p.is_running() and p.status() != psutil.STATUS_ZOMBIE] == []
    assert served.proc.returncode == 0


def test_the_server_is_restarted_when_its_memory_passes_the_ceiling(tmp_path):
    """The Supervisor with a ceiling below an idle Voilà's memory restarts it each time."""
    import os
    import signal
    import threading

    pytest.importorskip("voila")
    from workbench.serve_watch import Supervisor

    port, messages = _free_port(), []
    env = {**__import__("os").environ, "PYTHONPATH": str(ROOT)}
    sup = Supervisor(serve.voila_argv(_tiny_dashboards(tmp_path / "dash"), port), env, port, "t" * 40,
                     memory_ceiling=30 * 2**20, log=messages.append)
    timer = threading.Timer(25, lambda: os.kill(os.getpid(), signal.SIGTERM))
    timer.start()
    try:
        assert sup.run() == 0
    finally:
        timer.cancel()
    assert sup.restarts >= 1 and sup.child is None
    assert any("passed the ceiling (30 MiB)" in m for m in messages), messages
