"""workbench.runs.RunFolder: the one way a run folder is opened, with one error type."""
import hashlib
import shutil

import pytest

from workbench.errors import DataFolderError, RunFolderError, RunTampered
from workbench.runs import RunFolder


def test_open_a_run(hand_run):
    run = RunFolder.open(hand_run)
    assert run.verified and run.manifest["kind"] == "audit"
    assert run.run_id == hashlib.sha256((hand_run / "manifest.json").read_bytes()).hexdigest()[:16]
    f = run.findings()
    assert len(f) == run.manifest["counts"]["findings"] and f["finding_id"].is_unique
    assert str(run.data_folder).endswith("data") and RunFolder.open(run) is run


def test_not_a_run_folder_and_a_changed_one(hand_run, tmp_path):
    with pytest.raises(RunFolderError, match="not a run folder \\(no findings.parquet\\)"):
        RunFolder(tmp_path)
    (tmp_path / "findings.parquet").write_bytes((hand_run / "findings.parquet").read_bytes())
    with pytest.raises(RunFolderError, match="no manifest.json"):
        RunFolder(tmp_path)
    bad = tmp_path / "bad"
    shutil.copytree(hand_run, bad)
    with open(bad / "findings.parquet", "ab") as f:
        f.write(b"x")
    with pytest.raises(RunTampered, match="bad/findings.parquet was changed"):
        RunFolder(bad)
    assert RunFolder(bad, verify=False).manifest["kind"] == "audit"  # reproduce compares findings itself
    # one error type, still a DataFolderError for callers that caught that before
    assert issubclass(RunTampered, RunFolderError) and issubclass(RunFolderError, DataFolderError)


def test_old_module_names_are_the_runs_modules():
    import workbench.audit
    import workbench.manifest
    import workbench.reproduce
    from workbench.runs import audit, manifest, reproduce

    assert workbench.audit is audit and workbench.manifest is manifest and workbench.reproduce is reproduce
    assert workbench.audit.findings_table is workbench.runs.findings_table


def test_a_run_manifest_and_a_pack_name_no_machine_path(tiny_data, tmp_path):
    """A manifest travels to audit firms: the data folder is recorded relative to the run, and
    the run and its pack still find it (reproduce and export without --data)."""
    import json
    import zipfile

    from workbench.cli import main

    region = tmp_path / "audit-2024"
    shutil.copytree(tiny_data, region / "data")
    assert main(["audit", str(region / "data"), "--out", str(region / "run"), "--no-progress"]) == 0
    text = (region / "run" / "manifest.json").read_text(encoding="utf-8")
    assert str(tmp_path) not in text and json.loads(text)["data"]["folder"] == "../data"
    # the two folders moved together keep working
    moved = tmp_path / "elsewhere"
    shutil.move(str(region), str(moved))
    assert RunFolder(moved / "run").data_folder.resolve() == (moved / "data").resolve()
    assert main(["reproduce", str(moved / "run"), "--data", str(moved / "data")]) == 0
    pack = tmp_path / "pack.zip"
    assert main(["export", str(moved / "run"), "--out", str(pack), "--home", str(tmp_path / "home")]) == 0
    with zipfile.ZipFile(pack) as z:
        meta = z.read("pack.json").decode("utf-8")
    assert str(tmp_path) not in meta and json.loads(meta)["data"]["folder"] == "data"
