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


def test_voila_serves_on_localhost_with_token_and_code_hidden():
    argv = serve.voila_argv("/x/dashboards", 8899, "tok", open_browser=False)
    assert argv[0] == "/x/dashboards"
    for expected in ("--Voila.ip=127.0.0.1", "--port=8899", "--Voila.token=tok", "--Voila.port_retries=0",
                     "--VoilaConfiguration.strip_sources=True", "--VoilaConfiguration.show_tracebacks=False",
                     "--Voila.open_browser=False"):
        assert expected in argv
    assert any(a.startswith("--MappingKernelManager.cull_idle_timeout=") for a in argv)


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


def test_serve_refuses_a_busy_port_and_an_empty_token(capsys, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert not serve.port_free(port)
        assert main(["serve", "--port", str(port), "--token", "x", "--no-browser"]) == 1
        assert f"port {port}" in capsys.readouterr().err
    assert main(["serve", "--port", str(port), "--token", " ", "--no-browser"]) == 1
    assert "--token must not be empty" in capsys.readouterr().err
    assert main(["serve", "--run", str(tmp_path), "--no-browser"]) == 1
    assert "not a run folder" in capsys.readouterr().err


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
    assert manifest["counts"]["rules_run"] == 28 and manifest["counts"]["findings"] > 0
    again = capsys.readouterr().out
    assert main(["demo", "--out", str(out), "--no-serve"]) == 0
    assert "demo data already in" in capsys.readouterr().out and again
