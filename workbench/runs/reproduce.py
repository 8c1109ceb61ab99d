"""``workbench reproduce RUN --data DATA``: re-run a recorded run and compare every finding.

The run is read from its manifest — the same rules (checked against their recorded definition
hashes), the same parameter values, the same engine unless another is asked for — and re-run on
DATA. The findings are compared one by one (``finding_id``, amount, evidence, detail). The
input tables' SHA-256 are recomputed (never read from ``data_manifest.json``) and compared with
the fingerprints the run recorded, so a difference names the table that changed.

RUN may also be an evidence pack (``workbench export``): then the pack's own manifest, findings
and rule files (its ``rules/library``, ``views`` and ``knowledge``) are used, so a firm with
another version of the workbench re-runs exactly the definitions the pack carries; only the
findings the pack selected (one rule, one institution or a list of ids) are compared.
"""
from __future__ import annotations

import hashlib
import json
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pandas as pd

from .. import datafolder, schema
from ..errors import ReproduceError, RuleError
from ..rules import views as _views
from ..rules.loader import LIBRARY_DIR, load_rule
from . import manifest as _manifest
from .folder import RunFolder, read_findings

COMPARED = ("amount_at_risk", "evidence", "detail")
PACK_FILE = "pack.json"


@dataclass
class Source:
    """A run folder or an evidence pack, opened for re-running.

    Attributes
    ----------
    kind : {'run', 'pack'}
    path : Path
    manifest : dict
        The run manifest.
    findings : DataFrame
        The recorded findings (amounts as Decimal).
    rules : dict of str to Rule
        The rules to re-run, loaded from their files.
    roots : tuple of Path or None
        Folders of views and knowledge (a pack's own; None: as the audit found them).
    selection : dict
        Which findings a pack holds (``rule``, ``institution``, ``finding_ids``); empty for a run.
    rule_problems : list of str
        Rules whose file is missing or whose definition hash differs from the recorded one.
    """

    kind: str
    path: Path
    manifest: dict
    findings: pd.DataFrame
    rules: dict
    roots: object = None
    selection: dict = field(default_factory=dict)
    rule_problems: list = field(default_factory=list)
    folder: Path = None
    _tmp: object = None

    def close(self):
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


def sha256_bytes(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def open_source(run) -> Source:
    """Open a run folder or an evidence pack (``.zip``) for :func:`reproduce`."""
    path = Path(run)
    if path.is_file() and zipfile.is_zipfile(path):
        return _open_pack(path)
    if not path.is_dir():
        raise ReproduceError(f"{path}: neither a run folder nor an evidence pack")
    run = RunFolder(path, verify=False)  # reproduce compares every finding itself
    m = run.manifest
    rules, problems = {}, []
    for rid, entry in m.get("rules", {}).items():
        rule, problem = _rule_for(rid, entry, path)
        if problem:
            problems.append(problem)
        if rule is not None:
            rules[rid] = rule
    return Source("run", path, m, run.findings(), rules, None, {}, problems, path)


def _rule_for(rid, entry, run=None):
    """The rule file recorded for a rule (or the shipped one of that id) and any problem with it
    (a local rule's ``file`` is its copy, relative to the ``run`` folder)."""
    candidates = [Path(run or ".") / entry["file"]] if entry.get("file") else []
    candidates.append(LIBRARY_DIR / f"{rid}.yaml")
    existing = [p for p in candidates if p.is_file()]
    for p in existing:
        if _manifest.sha256_text(p) == entry.get("definition_hash"):
            return load_rule(p), None
    if not existing:
        return None, f"rule {rid}: no rule file found (recorded {entry.get('file')}); it was not re-run"
    p = existing[0]
    rule = load_rule(p)
    return rule, (f"rule {rid}: definition hash differs from the one recorded "
                  f"({str(entry.get('definition_hash'))[:12]}… in the run, {rule.definition_hash[:12]}… now in {p})")


def _open_pack(path: Path) -> Source:
    tmp = tempfile.TemporaryDirectory(prefix="workbench-pack-")
    root = Path(tmp.name)
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
            if PACK_FILE not in names:
                raise ReproduceError(f"{path}: not an evidence pack (no {PACK_FILE})")
            for n in names:
                if n.startswith("/") or ".." in Path(n).parts:
                    raise ReproduceError(f"{path}: unsafe file name {n!r} in the pack")
            z.extractall(root)
        meta = json.loads((root / PACK_FILE).read_text(encoding="utf-8"))
        for name, digest in meta.get("files", {}).items():
            f = root / name
            if not f.is_file():
                raise ReproduceError(f"{path}: {name} is listed in {PACK_FILE} but missing from the pack")
            if sha256_bytes(f.read_bytes()) != digest:
                raise ReproduceError(f"{path}: {name} was altered (its SHA-256 differs from {PACK_FILE})")
        m = json.loads((root / "run" / "manifest.json").read_text(encoding="utf-8"))
        rules, problems = {}, []
        for rid in meta.get("rules", []):
            f = root / "rules" / "library" / f"{rid}.yaml"
            if not f.is_file():
                problems.append(f"rule {rid}: its file is missing from the pack; it was not re-run")
                continue
            rule = load_rule(f)
            rules[rid] = rule
            recorded = m.get("rules", {}).get(rid, {}).get("definition_hash")
            if rule.definition_hash != recorded:
                problems.append(f"rule {rid}: the pack's file differs from the definition the run recorded")
        findings = read_findings(root / "findings.parquet")
    except BaseException:
        tmp.cleanup()
        raise
    return Source("pack", path, m, findings, rules, (root / "rules",), meta.get("selection") or {}, problems,
                  root, tmp)


def table_changes(data, manifest: dict) -> list:
    """Input tables whose current SHA-256 differs from the run's recorded fingerprint.

    Returns a list of dicts ``table``, ``change`` (``changed``, ``missing`` or ``added``),
    ``recorded`` / ``now`` (sha256) and ``recorded_rows`` / ``now_rows``.
    """
    recorded = manifest.get("data", {}).get("tables", {})
    out = []
    for name in list(schema.TABLE_ORDER) + ["truth"]:
        rec = recorded.get(name)
        p = datafolder.table_path(data, name)
        now = datafolder.fingerprint(p) if p is not None else None
        if rec is None and now is None:
            continue
        if rec is None:
            change = "added"
        elif now is None:
            change = "missing"
        elif now["sha256"] != rec["sha256"]:
            change = "changed"
        else:
            continue
        out.append({"table": name, "change": change, "recorded": rec and rec["sha256"], "now": now and now["sha256"],
                    "recorded_rows": rec and rec.get("rows"), "now_rows": now and now["rows"]})
    return out


def support_changes(source: Source) -> list:
    """Derived views / knowledge files of a run folder that differ from those the run recorded."""
    if source.kind == "pack":
        return []
    recorded = source.manifest.get("support_files", {}) or {}
    now = _manifest.support_files(_views.roots_of(source.rules.values()))
    return [f"{name}: {'missing now' if name not in now else 'differs from the file the run read'}"
            for name in sorted(recorded) if now.get(name) != recorded[name]]


def rerun(source: Source, data, engine=None, **session_options):
    """Re-run the source's rules on ``data`` with its recorded parameters.

    Returns
    -------
    findings : DataFrame
    skipped : dict of str to str
        Rules that did not run now, with the reason.
    problems : list of str
        Rules that could not be run (bad parameters for a changed definition).
    """
    import workbench
    from ..rules.engine import run_rules

    engine = engine or source.manifest.get("engine") or "duckdb"
    roots = tuple(source.roots) if source.roots else _views.roots_of(source.rules.values())
    recorded = source.manifest.get("params", {})
    rules, params, problems = {}, {}, []
    for rid, rule in source.rules.items():
        try:
            rule.resolve(recorded.get(rid), where=f"rule {rid}")
        except RuleError as e:
            problems.append(f"rule {rid}: the recorded parameters do not fit its definition now ({e})")
            continue
        rules[rid] = rule
        if recorded.get(rid) is not None:
            params[rid] = recorded[rid]
    with workbench.open(data, **session_options) as session:
        result = run_rules(session, rules, params, progress=False, engine=engine, environment=roots)
    return result.findings, result.skipped, problems


def select(findings: pd.DataFrame, selection: dict) -> pd.DataFrame:
    """The findings an evidence pack's selection covers."""
    f = findings
    if selection.get("rule"):
        f = f[f["rule_id"] == selection["rule"]]
    if selection.get("institution"):
        f = f[f["fixmedins_code"] == selection["institution"]]
    if selection.get("finding_ids") is not None:
        f = f[f["finding_id"].isin(selection["finding_ids"])]
    return f


def compare(recorded: pd.DataFrame, recomputed: pd.DataFrame) -> pd.DataFrame:
    """Finding-by-finding differences: ``rule_id, finding_id, change`` (added / missing /
    changed), ``fields`` (what changed: ``amount_at_risk 245.04 → 252.04``) and ``finding``
    (a short description), sorted by rule and id."""
    rec = {r["finding_id"]: r for r in recorded.to_dict("records")}
    new = {r["finding_id"]: r for r in recomputed.to_dict("records")}
    rows = []
    for fid in sorted(set(rec) | set(new)):
        a, b = rec.get(fid), new.get(fid)
        if a is None:
            rows.append({"rule_id": b["rule_id"], "finding_id": fid, "change": "added", "fields": "", "finding": _describe(b)})
        elif b is None:
            rows.append({"rule_id": a["rule_id"], "finding_id": fid, "change": "missing", "fields": "", "finding": _describe(a)})
        else:
            diff = [f"{k} {_show(a.get(k))} → {_show(b.get(k))}" for k in COMPARED if _norm(a.get(k)) != _norm(b.get(k))]
            if diff:
                rows.append({"rule_id": a["rule_id"], "finding_id": fid, "change": "changed", "fields": "; ".join(diff),
                             "finding": _describe(a)})
    df = pd.DataFrame(rows, columns=["rule_id", "finding_id", "change", "fields", "finding"])
    return df.sort_values(["rule_id", "change", "finding_id"], kind="stable").reset_index(drop=True)


def _norm(v):
    if isinstance(v, Decimal):
        return v.quantize(Decimal("0.01"))
    if isinstance(v, (float, int)) and not isinstance(v, bool):
        return Decimal(str(v)).quantize(Decimal("0.01"))
    return v


def _show(v):
    s = "—" if v is None else str(v)
    return s if len(s) <= 60 else s[:59] + "…"


def _describe(r) -> str:
    keys = " ".join(str(r[k]) for k in ("fixmedins_code", "dr_code", "psn_no", "mdtrt_id") if r.get(k))
    return f"{keys} ¥{r['amount_at_risk']} {r.get('detail') or ''}".strip()


@dataclass
class Reproduction:
    """The outcome of :func:`reproduce`.

    ``identical`` is True when every finding is identical and every rule definition is the one
    recorded; ``differences`` holds the finding-level differences (:func:`compare`),
    ``tables`` the input tables that changed (:func:`table_changes`), ``rule_problems`` and
    ``support`` the rule / view / knowledge files that differ.
    """

    source: str
    kind: str
    run_id: str
    findings: int
    rules: int
    engine: str
    differences: pd.DataFrame
    tables: list
    rule_problems: list
    support: list
    skipped_now: dict

    @property
    def identical(self) -> bool:
        return not len(self.differences) and not self.rule_problems and not self.support

    def report(self) -> str:
        """The text ``workbench reproduce`` prints."""
        if self.identical:
            line = f"reproduced: {self.findings} findings identical, {self.rules} rules ({self.engine}, run {self.run_id})"
            if self.tables:  # different bytes, same findings: say so without failing
                line += "\n  note: " + "; ".join(_table_line(t) for t in self.tables)
            return line
        lines = [f"NOT reproduced: {len(self.differences)} finding difference(s) "
                 f"({self.findings} findings recorded, {self.rules} rules, {self.engine}, run {self.run_id})"]
        if self.tables:
            lines.append("  input tables changed since the run (SHA-256 recomputed):")
            lines += [f"    {_table_line(t)}" for t in self.tables]
        elif len(self.differences):
            lines.append("  input tables: identical to the run's fingerprints")
        for p in self.rule_problems + [f"rule file {s}" for s in self.support]:
            lines.append(f"  {p}")
        for rid, g in self.differences.groupby("rule_id", sort=True):
            counts = ", ".join(f"{int((g['change'] == c).sum())} {c}" for c in ("added", "missing", "changed")
                               if (g["change"] == c).any())
            lines.append(f"  rule {rid}: {counts}" + (f" (skipped now: {self.skipped_now[rid]})"
                                                         if rid in self.skipped_now else ""))
            for r in g.itertuples(index=False):
                lines.append(f"    {r.change:<8} {r.finding_id}  " + (r.fields if r.change == "changed" else r.finding))
        return "\n".join(lines)


def _table_line(t) -> str:
    if t["change"] == "changed":
        return (f"{t['table']}: changed (sha256 {t['recorded'][:12]}… → {t['now'][:12]}…, "
                f"rows {t['recorded_rows']} → {t['now_rows']})")
    return f"{t['table']}: {t['change']} since the run"


def reproduce(run, data=None, engine=None, **session_options) -> Reproduction:
    """Re-run a run folder or evidence pack on ``data`` and compare every finding.

    Parameters
    ----------
    run : path
        A run folder (``manifest.json``, ``findings.parquet``) or an evidence pack (``.zip``).
    data : path, optional
        The data folder (default: the one the run recorded).
    engine : {'duckdb', 'spark'}, optional
        Default: the engine the run used.
    **session_options
        ``memory_limit`` / ``temp_directory`` of the DuckDB session (:class:`workbench.session.Session`).
    """
    source = open_source(run)
    try:
        data = Path(data) if data is not None else Path(_manifest.data_folder_of(run, source.manifest) or "")
        if not data.is_dir():
            raise ReproduceError(f"{data}: no such data folder (give --data)")
        engine = engine or source.manifest.get("engine") or "duckdb"
        tables = table_changes(data, source.manifest)
        support = support_changes(source)
        recomputed, skipped, problems = rerun(source, data, engine, **session_options)
        recorded = source.findings
        if source.kind == "pack":
            recomputed = select(recomputed, source.selection)
        not_run = set(source.manifest.get("rules", {})) - set(source.rules)
        if source.kind == "run" and not_run:  # rules that could not be loaded: their findings stay unexplained
            problems.append(f"{len(not_run)} rule(s) not re-run: {', '.join(sorted(not_run))}")
        diffs = compare(recorded, recomputed)
        run_id = sha256_bytes(_manifest_bytes(source))[:16]
        return Reproduction(str(run), source.kind, run_id, len(recorded), len(source.rules) - len(skipped), engine,
                            diffs, tables, source.rule_problems + problems, support, skipped)
    finally:
        source.close()


def _manifest_bytes(source: Source) -> bytes:
    return (source.folder / ("run/manifest.json" if source.kind == "pack" else "manifest.json")).read_bytes()


def cli_reproduce(args) -> int:
    """``workbench reproduce RUN --data DATA``: exit 0 when every finding is identical, 1 otherwise."""
    from ..session import resource_options

    result = reproduce(args.run, args.data, engine=getattr(args, "engine", None), **resource_options(args))
    print(result.report(), file=sys.stdout)
    return 0 if result.identical else 1

