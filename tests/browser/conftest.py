"""One ``workbench serve`` and one Chromium for every browser test.

* ``voila_server``: ``workbench serve`` on the demo data and run (``conftest_demo``), on a free port
  of 127.0.0.1 with a known token, in its own process group, which the teardown stops (SIGTERM
  makes Voilà shut its kernels down; SIGKILL after 20 s).
* ``browser``: Debian's Chromium driven by Playwright (``playwright install`` cannot download
  browsers here); ``scripts/browser-deps.sh`` installs it when missing, else the tests skip.
* ``page``: a fresh tab logged in with the token; every request it makes, console error and page
  error is recorded (nothing is blocked: a request to another host must show, not be hidden),
  and the test fails at its end on any request to a host but the server's or any console error.

Screenshots (device scale factor 2) go to ``$WORKBENCH_SCREENSHOTS`` when set (CI keeps
``build/screenshots/``), else to ``screenshots/`` in pytest's temporary folder.
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from browserkit import Console, Server

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
START_SECONDS = 90
PAGE_TIMEOUT_MS = 90_000  # a dashboard on a busy 2-core machine


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def chromium_path():
    """Debian's Chromium, installed by ``scripts/browser-deps.sh`` when missing (and we may)."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        subprocess.run(["bash", str(ROOT / "scripts" / "browser-deps.sh")], check=False)
        exe = shutil.which("chromium") or shutil.which("chromium-browser")
    return exe


def stop_group(proc, grace: float = 20.0):
    """SIGTERM the process group of ``proc``, then SIGKILL it if it has not ended after ``grace`` seconds."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(5)


@pytest.fixture(scope="session")
def voila_server(demo_data, demo_run, demo_home, tmp_path_factory):
    pytest.importorskip("voila")
    port, token = _free_port(), secrets.token_hex(16)
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    env = {**os.environ, "WORKBENCH_HOME": str(demo_home), "PYTHONUNBUFFERED": "1", "WORKBENCH_TOKEN": token}
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "workbench", "serve", "--data", str(demo_data), "--run", str(demo_run),
                                 "--port", str(port), "--no-browser"],
                                stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT, start_new_session=True)
    try:
        deadline = time.monotonic() + START_SECONDS
        while not _listening(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"workbench serve did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.2)
        yield Server(f"http://127.0.0.1:{port}", token, log, demo_data, demo_run, demo_home)
    finally:
        stop_group(proc)


@pytest.fixture(scope="session")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    exe = chromium_path()
    if exe is None:
        pytest.skip("no Chromium: run scripts/browser-deps.sh (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory) -> Path:
    """Where screenshots go: ``$WORKBENCH_SCREENSHOTS``, else pytest's temporary folder."""
    folder = os.environ.get("WORKBENCH_SCREENSHOTS")
    return Path(folder) if folder else tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="session")
def browser_context(browser, voila_server):
    ctx = browser.new_context(viewport={"width": 1600, "height": 1000}, device_scale_factor=2, locale="zh-CN")
    ctx.console = Console()  # what the login page and the pages of every test asked for
    ctx.on("request", lambda r: ctx.console.requests.append(r.url))
    login = ctx.new_page()
    login.on("console", lambda m: m.type == "error" and ctx.console.errors.append({"text": m.text, "url": m.location.get("url", "")}))
    resp = login.goto(f"{voila_server.base}/?token={voila_server.token}")
    assert resp is not None and resp.ok, "the token must open the server"
    login.wait_for_load_state("load")
    login.close()
    assert ctx.console.foreign(voila_server.base) == [] and ctx.console.errors == [], "the file tree page"
    yield ctx
    ctx.close()


@pytest.fixture()
def page(browser_context, voila_server):
    p = browser_context.new_page()
    p.set_default_timeout(PAGE_TIMEOUT_MS)
    p.console = Console()
    p.on("request", lambda r: p.console.requests.append(r.url))
    p.on("console", lambda m: m.type == "error" and p.console.errors.append({"text": m.text, "url": m.location.get("url", "")}))
    p.on("pageerror", lambda e: p.console.errors.append({"text": f"page error: {e}", "url": p.url}))
    yield p
    p.goto("about:blank")  # unloading the dashboard lets Voilà shut its kernel down
    p.close()
    # every test, whatever it asserted itself: nothing fetched from elsewhere, nothing went wrong
    assert p.console.foreign(voila_server.base) == [], "requests to another host than the server"
    assert p.console.errors == [], "console errors"
