"""Evidence packs (审计底稿): a set of findings with everything needed to read, check and re-run them.

``workbench export RUN --out PACK.zip [--rule ID] [--institution CODE] [--include-pii]`` writes
one zip:

========================  ==========================================================================
``pack.json``             what the pack holds: run id, data folder, selection, counts, whether
                          personal data is included and at whose request, the case store's chain
                          head, and the SHA-256 of every other file
``run/manifest.json``     the run manifest, byte for byte
``findings.parquet/.csv`` the selected findings
``evidence/T.parquet/.csv`` the rows behind them, one pair per table, with ``evidence_key`` and
                          ``finding_ids``; personal data masked by row (:mod:`workbench.privacy`:
                          certno hidden, names ``张*``, birth dates to the year) unless
                          ``--include-pii``; ``pack.json`` says which (``pii.mode``)
``evidence/keys.csv``     finding_id, table, key: which rows back which finding
``rules/library/*.yaml``  each rule's file as it was run (checked against the recorded hash),
``rules/views``,          with the derived views and knowledge tables the run read, so
``rules/knowledge``       ``workbench reproduce PACK.zip --data DATA`` re-runs these exact definitions
``rules/basis.csv``       rule id, codes, names, result type, version, hash, parameters, policy basis
``decisions.csv/.jsonl``  every case-store event on these findings (the JSONL with its hashes)
``report.html/.xlsx``     the readable report (Chinese, with an English line per section)
========================  ==========================================================================
"""
from __future__ import annotations

import getpass
import io
import json
import os
import tempfile
import zipfile
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .. import privacy
from ..cases import CaseStore, action_names, canonical, current_frame, fine_of, now, run_id, yuan
from ..csvfile import csv_bytes
from ..errors import DataFolderError, RuleError, WorkbenchError
from ..rules.loader import LIBRARY_DIR, load_rule
from ..rules.views import VIEWS_DIR
from ..runs import RunFolder, findings_table
from ..runs import manifest as _manifest
from ..runs.reproduce import PACK_FILE, sha256_bytes, table_changes
from ..version import __version__
from . import rows as evidence
from .report import render_html, write_xlsx

FORMAT = 1
DECISION_COLUMNS = ["seq", "finding_id", "at", "by", "status", "note", "recovered", "actions", "fine", "hash"]


def select_findings(findings: pd.DataFrame, rule=None, institution=None, finding_ids=None) -> pd.DataFrame:
    """The findings of one rule, one institution, a list of ids (all given filters apply), or all.

    An id that is not a finding of the run raises :class:`WorkbenchError` naming it.
    """
    f = findings
    if rule:
        f = f[f["rule_id"] == rule]
    if institution:
        f = f[f["fixmedins_code"] == institution]
    if finding_ids is not None:
        ids = [finding_ids] if isinstance(finding_ids, str) else list(finding_ids)
        unknown = sorted(set(ids) - set(findings["finding_id"]))
        if unknown:
            raise WorkbenchError(f"no finding {', '.join(unknown)} in this run")
        f = f[f["finding_id"].isin(ids)]
    return f.sort_values("finding_id", kind="stable").reset_index(drop=True)


def rule_files(m: dict, rule_ids, run=None) -> dict:
    """``{rule_id: Path}``: the file of each rule whose bytes hash to the recorded definition
    (a local rule's ``file`` is its copy, relative to the ``run`` folder)."""
    out = {}
    for rid in rule_ids:
        entry = m.get("rules", {}).get(rid)
        if entry is None:
            raise RuleError(f"rule {rid!r} is not among the rules of this run")
        candidates = ([Path(run or ".") / entry["file"]] if entry.get("file") else []) + [LIBRARY_DIR / f"{rid}.yaml"]
        match = [p for p in candidates if p.is_file() and _manifest.sha256_text(p) == entry["definition_hash"]]
        if not match:
            raise RuleError(f"rule {rid}: no file with the definition the run recorded "
                            f"(sha256 {entry['definition_hash'][:12]}…; {entry.get('file')} has changed or is gone): "
                            f"the pack must carry the exact definition")
        out[rid] = match[0]
    return out


def support_files(m: dict, run=None) -> dict:
    """``{'views/NAME.sql' or 'knowledge/NAME.csv': Path}`` of every support file the run recorded."""
    roots = [VIEWS_DIR.parent] + [(Path(run or ".") / e["file"]).parent.parent
                                  for e in m.get("rules", {}).values() if e.get("file")]
    out = {}
    for name, digest in (m.get("support_files") or {}).items():
        match = [r / name for r in dict.fromkeys(roots) if (r / name).is_file() and _manifest.sha256_text(r / name) == digest]
        if not match:
            raise RuleError(f"{name}: no file with the content the run read (sha256 {digest[:12]}…): "
                            f"the pack must carry the exact view or knowledge table")
        out[name] = match[0]
    return out


def evidence_tables(session, findings: pd.DataFrame, include_pii: bool) -> tuple:
    """The rows behind the findings, per table, with ``evidence_key`` and ``finding_ids`` first.

    Returns
    -------
    tables : dict of str to DataFrame
    keys : DataFrame
        ``finding_id, table, key`` for every evidence key.
    """
    links = []
    for fid, ev in zip(findings["finding_id"], findings["evidence"]):
        for k in json.loads(ev):
            links.append((fid, k.partition(":")[0], k))
    keys = pd.DataFrame(links, columns=["finding_id", "table", "key"])
    by_key = keys.groupby("key")["finding_id"].apply(lambda s: ";".join(sorted(set(s)))).to_dict() if len(keys) else {}
    frames = evidence.evidence_rows(session, sorted(by_key), include_pii=include_pii)
    out = {}
    for table, df in frames.items():
        cols = evidence.KEY_COLUMNS[table]
        ek = [f"{table}:" + "/".join(_key_text(v) for v in parts) for parts in zip(*(df[c] for c in cols))]
        out[table] = pd.concat([pd.DataFrame({"evidence_key": ek, "finding_ids": [by_key.get(k, "") for k in ek]}),
                                df.reset_index(drop=True)], axis=1)
    return out, keys


def _key_text(v) -> str:
    return v.isoformat()[:10] if hasattr(v, "isoformat") else str(v)


def decisions(events) -> pd.DataFrame:
    """Case-store events as a table (``DECISION_COLUMNS``, money as Decimal)."""
    rows = [{"seq": e["seq"], "finding_id": e["finding_id"], "at": e["at"], "by": e["by"], "status": e["status"],
             "note": e["note"], "recovered": yuan(e["recovered_fen"]), "actions": action_names(e["actions"]),
             "fine": fine_of(e["actions"]), "hash": e["hash"]} for e in events]
    return pd.DataFrame(rows, columns=DECISION_COLUMNS)


def export_pack(run, out, rule=None, institution=None, finding_ids=None, include_pii=False, requested_by=None,
                data=None, home=None) -> dict:
    """Write the evidence pack of a set of findings of a run; return its ``pack.json`` content.

    Parameters
    ----------
    run : path
        The run folder.
    out : path
        The zip to write (replaced only once complete).
    rule, institution : str, optional
        Only the findings of this rule / institution.
    finding_ids : str or list of str, optional
        Only these findings (one case, or a list).
    include_pii : bool
        Personal data unmasked; the pack records it and ``requested_by``.
    requested_by : str, optional
        Who asks for the pack (default: the operating-system user).
    data : path, optional
        The data folder (default: the one the run's manifest records). Its tables must still
        match the run's fingerprints.
    home : path, optional
        The workbench home whose case store holds the decisions.
    """
    import workbench

    run = Path(run)
    folder = RunFolder(run)  # a changed findings.parquet must not export as genuine
    m = folder.manifest
    data = Path(data) if data is not None else Path(folder.data_folder or "")
    if not data.is_dir():
        raise DataFolderError(f"{data}: the run's data folder is not there; give --data")
    changed = table_changes(data, m)
    if changed:
        raise DataFolderError(f"{data}: the data differ from what run {run} read "
                              f"({', '.join(t['table'] + ' ' + t['change'] for t in changed)}); "
                              f"export needs the same data (give --data)")
    chosen = select_findings(folder.findings(), rule, institution, finding_ids)
    if rule and rule not in m.get("rules", {}):
        raise RuleError(f"--rule: rule {rule!r} is not among the rules of run {run}")
    if finding_ids is not None:
        rule_ids = sorted(set(chosen["rule_id"]))
    else:
        rule_ids = [rule] if rule else list(m.get("rules", {}))
    files_rules = rule_files(m, rule_ids, run)
    files_support = support_files(m, run)
    rules = {rid: load_rule(p) for rid, p in files_rules.items()}
    with workbench.open(data) as session:
        tables, keys = evidence_tables(session, chosen, include_pii)
    store = CaseStore(home)
    events = store.events(list(chosen["finding_id"]))
    trail = store.verify()
    requested_by = requested_by or _os_user()
    meta = {
        "format": FORMAT, "kind": "evidence_pack", "created": now(), "workbench_version": __version__,
        "run": {"folder": run.resolve().name, "run_id": run_id(run), "started": m.get("started"),
                "engine": m.get("engine")},
        "data": {"folder": data.resolve().name, "tables": {k: v["sha256"] for k, v in m.get("data", {}).get("tables", {}).items()}},
        "selection": {"rule": rule, "institution": institution,
                      "finding_ids": None if finding_ids is None else sorted(chosen["finding_id"])},
        "rules": rule_ids,
        "counts": {"findings": len(chosen), "amount_at_risk": str(_total(chosen["amount_at_risk"])),
                   "evidence_rows": {t: len(df) for t, df in sorted(tables.items())}, "decisions": len(events)},
        "pii": {"included": bool(include_pii), "mode": "included" if include_pii else "masked",
                "requested_by": requested_by if include_pii else None,
                "masked_columns": [] if include_pii else privacy.masked_columns(),
                "policy": {} if include_pii else dict(sorted(privacy.POLICY.items()))},
        "exported_by": requested_by,
        "case_store": {"path": Path(store.path).name, "events": trail.events, "head_seq": trail.head_seq,
                       "head_hash": trail.head_hash, "intact": trail.ok},
    }
    files = {"run/manifest.json": (run / "manifest.json").read_bytes()}
    files.update(_findings_files(chosen))
    for t, df in sorted(tables.items()):
        files[f"evidence/{t}.parquet"] = _parquet(df)
        files[f"evidence/{t}.csv"] = _csv(df)
    files["evidence/keys.csv"] = _csv(keys)
    for rid, p in files_rules.items():
        files[f"rules/library/{rid}.yaml"] = p.read_bytes()
    for name, p in files_support.items():
        files[f"rules/{name}"] = p.read_bytes()
    basis = basis_table(rules, m)
    files["rules/basis.csv"] = _csv(basis)
    dec = decisions(events)
    files["decisions.csv"] = _csv(dec)
    files["decisions.jsonl"] = "".join(canonical(e) + "\n" for e in events).encode("utf-8")
    ctx = {"meta": meta, "manifest": m, "findings": chosen, "evidence": tables, "rules": basis, "decisions": dec,
           "current": current_frame(events)}
    files["report.html"] = render_html(ctx).encode("utf-8")
    files["report.xlsx"] = write_xlsx(ctx)
    meta["files"] = {n: sha256_bytes(b) for n, b in sorted(files.items())}
    files[PACK_FILE] = (json.dumps(meta, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")
    _write_zip(out, files)
    return meta


def basis_table(rules: dict, m: dict) -> pd.DataFrame:
    """One row per rule: id, codes, names, result type, version, definition hash, parameters, policy basis."""
    rows = [{"rule_id": rid, "official_code": r.official_code, "name_zh": r.name_zh, "name_en": r.name_en,
             "result_type": r.result_type, "version": r.version, "definition_hash": r.definition_hash,
             "params": json.dumps(m.get("params", {}).get(rid, {}), ensure_ascii=False, sort_keys=True),
             "basis": r.basis} for rid, r in rules.items()]
    return pd.DataFrame(rows, columns=["rule_id", "official_code", "name_zh", "name_en", "result_type", "version",
                                       "definition_hash", "params", "basis"])


def _total(amounts) -> Decimal:
    return sum((a for a in amounts if a is not None), Decimal("0.00"))


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in some containers
        return "unknown"


def _findings_files(df: pd.DataFrame) -> dict:
    out = {"findings.parquet": _parquet_table(findings_table(df))}
    csv_df = df.copy()
    csv_df["amount_at_risk"] = [format(a, "f") for a in csv_df["amount_at_risk"]]
    out["findings.csv"] = _csv(csv_df)
    return out


def _parquet_table(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def _parquet(df: pd.DataFrame) -> bytes:
    return _parquet_table(pa.Table.from_pandas(df, preserve_index=False))


def _csv(df: pd.DataFrame) -> bytes:
    """UTF-8 with a BOM (Excel opens it as UTF-8), money as plain decimal text, no live formulas."""
    return csv_bytes(df)


def _write_zip(out, files: dict) -> None:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.partial-", dir=out.parent)
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
            for name in sorted(files):
                z.writestr(zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0)), files[name],
                           compress_type=zipfile.ZIP_DEFLATED)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cli_export(args) -> int:
    """``workbench export RUN --out PACK.zip [--rule ID] [--institution CODE] [--include-pii]``."""
    meta = export_pack(args.run, args.out, rule=args.rule, institution=args.institution,
                       include_pii=args.include_pii, requested_by=getattr(args, "by", None),
                       data=getattr(args, "data", None), home=getattr(args, "home", None))
    c = meta["counts"]
    rows = ", ".join(f"{t} {n}" for t, n in c["evidence_rows"].items()) or "none"
    print(f"wrote {args.out}: {c['findings']} findings, ¥{c['amount_at_risk']} at risk, evidence rows: {rows}, "
          f"{c['decisions']} decision event(s), {len(meta['rules'])} rules"
          + ("; personal data INCLUDED at the request of " + meta["pii"]["requested_by"] if meta["pii"]["included"]
             else "; personal data masked"))
    if not meta["case_store"]["intact"]:
        print("warning: the case store's audit trail is broken (workbench case verify)")
    return 0

