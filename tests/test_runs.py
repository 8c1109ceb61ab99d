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
