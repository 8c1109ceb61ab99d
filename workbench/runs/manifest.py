"""Run manifests (``RUN/manifest.json``): what a run read, with which rules and parameters.

A finding without a manifest cannot leave the workbench: the manifest records the input
fingerprints (the data folder's own manifest, checked afresh against the files), each rule's
id, version and the SHA-256 of its file, the derived views and knowledge tables, every parameter
value, the engine, the seed of synthetic data, package versions, times and counts — enough for
``workbench reproduce`` to run the same audit again and say whether anything changed.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import os
import json
import platform
import sys
from decimal import Decimal
from importlib import metadata
from pathlib import Path

from .. import datafolder
from ..errors import DataFolderError, RunFolderError, RunTampered
from ..rules import local as _local
from ..version import __version__

FORMAT = 1
PACKAGES = ("duckdb", "pyarrow", "pandas", "pyspark", "sqlglot", "pyyaml", "numpy")


def now() -> str:
    """The current time, UTC, ISO 8601 to the second."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def package_versions() -> dict:
    """Versions of the workbench, Python and the packages a run depends on (None if absent)."""
    out = {"workbench": __version__, "python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def sha256_text(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def data_inputs(folder, verify: bool = True, run=None) -> dict:
    """Fingerprints of a data folder: its manifest's tables plus a fresh check of the files.

    ``folder`` is recorded relative to the run folder ``run`` (``../data``), never as a machine
    path: a manifest travels to audit firms, and the two folders usually travel together.

    Raises :class:`DataFolderError` naming the tables whose files no longer match the data
    manifest when ``verify`` is true: findings on data that differ from their recorded
    fingerprints could never be reproduced.
    """
    folder = Path(folder)
    m = datafolder.read_manifest(folder)
    changed = datafolder.verify_manifest(folder) if verify else []
    if changed:
        raise DataFolderError(f"{folder}: the data no longer match {datafolder.MANIFEST}: {'; '.join(changed)}")
    return {
        "folder": relative_folder(folder, run),
        "data_manifest_sha256": sha256_text(folder / datafolder.MANIFEST),
        "created": m.get("created"),
        "source": m.get("source"),
        "tables": m.get("tables", {}),
        "verified": bool(verify),
    }


def relative_folder(folder, base) -> str:
    """``folder`` as a POSIX path relative to ``base`` (its name alone without a base)."""
    folder = Path(folder).resolve()
    if base is None:
        return folder.name
    return Path(os.path.relpath(folder, Path(base).resolve())).as_posix()


def data_folder_of(run, manifest: dict):
    """The data folder a run recorded, as a path (relative entries are relative to the run
    folder; runs written before kept an absolute path); None when it records none."""
    folder = (manifest.get("data") or {}).get("folder")
    if not folder:
        return None
    p = Path(folder)
    return p if p.is_absolute() else Path(run) / p


def seed_of(data_manifest_source) -> object:
    """The seed of synthetic data (None for real extracts)."""
    src = data_manifest_source or {}
    return src.get("seed") if isinstance(src, dict) else None


def rule_entries(result, env_files=None) -> dict:
    """Per rule: version, definition hash, file, status and its counts."""
    out = {}
    for rid, rule in result.rules.items():
        c = result.counts.get(rid)
        out[rid] = {
            "version": rule.version,
            "definition_hash": rule.definition_hash,
            # no machine path: a local rule's copy in the run folder, None for a built-in one (helper-9)
            "source": _local.origin(rule) if rule.path else "local",
            "file": _local.run_file(rule) if rule.path else None,
            "official_code": rule.official_code,
            "result_type": rule.result_type,
            "status": "ran" if c else "skipped",
            "findings": c["findings"] if c else 0,
            "amount_at_risk": str(c["amount_at_risk"]) if c else "0.00",
            "seconds": round(c["seconds"], 3) if c else None,
            "collapsed_rows": c.get("collapsed_rows", 0) if c else 0,
            "skipped_reason": result.skipped.get(rid),
        }
    return out


def support_files(roots) -> dict:
    """SHA-256 of every derived view and knowledge file the run could read."""
    out = {}
    for root in roots:
        for sub, pattern in (("views", "*.sql"), ("knowledge", "*.csv")):
            d = Path(root) / sub
            if d.is_dir():
                for f in sorted(d.glob(pattern)):
                    out[f"{sub}/{f.name}"] = sha256_text(f)
    return out


def build(*, data: dict, result, started: str, ended: str, params_source: dict, outputs: dict,
          evaluation=None, roots=(), command=None) -> dict:
    """The manifest of one audit run as a JSON-ready dict."""
    total = sum((Decimal(v["amount_at_risk"]) for v in rule_entries(result).values()), Decimal("0.00"))
    return {
        "format": FORMAT,
        "kind": "audit",
        "command": command,
        "started": started,
        "ended": ended,
        "engine": result.engine,
        "seed": seed_of(data.get("source")),
        "data": data,
        "rules": rule_entries(result),
        "support_files": support_files(roots),
        "params": {rid: dict(v) for rid, v in result.params.items()},
        "params_source": params_source,
        "skipped": dict(result.skipped),
        "counts": {"findings": int(len(result.findings)), "amount_at_risk": str(total),
                   "rules_run": len(result.counts), "rules_skipped": len(result.skipped)},
        "outputs": outputs,
        "evaluation": evaluation,
        "packages": package_versions(),
        "platform": {"system": platform.system(), "machine": platform.machine(), "argv0": Path(sys.argv[0]).name},
    }


def write(path, manifest: dict) -> Path:
    """Write a manifest as UTF-8 JSON (sorted keys, readable Chinese)."""
    path = Path(path)
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True, default=_json_default) + "\n",
                    encoding="utf-8")
    return path


def read(run_folder) -> dict:
    """``RUN/manifest.json`` of a run folder."""
    p = Path(run_folder) / "manifest.json"
    if not p.is_file():
        raise RunFolderError(f"{run_folder}: not a run folder (no manifest.json)")
    return json.loads(p.read_text(encoding="utf-8"))


def verify_run(run_folder) -> dict:
    """``RUN/manifest.json``, once every file its ``outputs`` fingerprint still has that SHA-256.

    ``workbench audit`` records the SHA-256 of ``findings.parquet``, ``findings.csv`` (and
    ``evaluation.csv``) in the manifest's ``outputs``; a run whose files were changed afterwards
    (one amount x 100) must not export, be decided on or be shown as the run it claims to be.
    Every run the workbench has written records them, so a manifest without a SHA-256 of
    ``findings.parquet`` was made by hand or edited (dropping the fingerprint would be the way
    round this check): it is refused too, with the advice to re-run the audit.

    Raises
    ------
    RunTampered
        Naming the file that is missing or whose content differs from the recorded SHA-256, or
        the manifest that records none.
    """
    run_folder = Path(run_folder)
    m = read(run_folder)
    outputs = m.get("outputs") if isinstance(m.get("outputs"), dict) else {}
    recorded = {name: e.get("sha256") for name, e in outputs.items() if isinstance(e, dict) and e.get("sha256")}
    if "findings.parquet" not in recorded:
        raise RunTampered(f"{run_folder / 'manifest.json'} records no SHA-256 of findings.parquet, so the run's "
                          f"findings cannot be verified (not written by workbench audit, or edited): "
                          f"re-run workbench audit DATA --out RUN")
    for name, digest in sorted(recorded.items()):
        path = run_folder / name
        if Path(name).name != name or name in (".", ".."):
            raise RunTampered(f"{run_folder / 'manifest.json'}: output {name!r} is not a file of the run folder")
        if not path.is_file():
            raise RunTampered(f"{path}: missing, but the run's manifest records it (sha256 {digest[:12]}…)")
        actual = datafolder.sha256_file(path)
        if actual != digest:
            raise RunTampered(f"{path} was changed after the run wrote it: sha256 {actual[:12]}… where "
                              f"{run_folder / 'manifest.json'} records {digest[:12]}…; re-run workbench audit")
    return m


def _json_default(v):
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, (_dt.date, _dt.datetime)):
        return v.isoformat()
    if isinstance(v, Path):
        return str(v)
    if hasattr(v, "item"):  # numpy scalars
        return v.item()
    raise TypeError(f"not JSON serialisable: {type(v).__name__}")
