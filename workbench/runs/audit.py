"""``workbench audit DATA --out RUN``: run the rule library and write a run folder.

A run folder holds ``findings.parquet`` and ``findings.csv`` (one row per finding,
``shared/cli.md``; :mod:`workbench.runs.folder`), ``manifest.json`` (:mod:`workbench.runs.manifest`) and, on synthetic data,
``evaluation.csv`` (recall and precision per rule against ``truth.parquet``). It is written in a
staged folder and moved into place, so a failed run never leaves a partial run folder.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from .. import datafolder
from .. import session as _session
from ..csvfile import write_csv
from ..errors import RuleError
from ..rules import local as _local
from ..rules import views as _views
from ..rules.analysis import RuleAnalysis
from ..rules.evaluate import format_table
from ..rules.loader import load_library, load_rule, parse_param_overrides, read_config, resolve_params
from . import manifest as _manifest
from .folder import FINDINGS_SCHEMA, findings_table, write_findings  # noqa: F401  (workbench.audit.findings_table)

def select(rules_arg, local=None):
    """The library and the rules an ``--rules`` value names (``local``: a bureau's own rules,
    from ``--rules-dir``, run beside the built-in ones and nameable in ``--rules``).

    Each comma-separated item is a rule id of the shipped library, a folder of rule files (all
    of its rules) or a single ``.yaml`` rule file. None or empty: every rule of the library.

    Returns
    -------
    library : dict of str to Rule
        Every rule parameters may be given for.
    chosen : list of str
        Ids of the rules to run, in order.
    """
    items = [s.strip() for s in (rules_arg or "").split(",") if s.strip()]
    local = dict(local or {})
    if not items:
        library = {**load_library(), **local}
        return library, list(library)
    library, chosen, shipped = dict(local), list(local), None
    for item in items:
        p = Path(item)
        if p.is_dir():
            got = load_library(p)
        elif p.suffix in (".yaml", ".yml") and p.is_file():
            r = load_rule(p)
            got = {r.id: r}
        else:
            if shipped is None:
                shipped = {**load_library(), **local}
            if item not in shipped:
                raise RuleError(f"--rules: unknown rule {item!r} (known: {', '.join(sorted(shipped)) or 'none'})")
            got = {item: shipped[item]}
        for rid, r in got.items():
            if rid in library and library[rid].definition_hash != r.definition_hash:
                raise RuleError(f"--rules: two different rule files with id {rid!r}: {library[rid].path} and {r.path}")
            library[rid] = r
            if rid not in chosen:
                chosen.append(rid)
    return library, chosen


def audit(data, out, rules=None, param=None, config=None, engine="duckdb", progress=True, command=None, echo=None,
          memory_limit=None, temp_directory=None, rules_dir=None):
    """Run the rule library on a data folder and write the run folder.

    Parameters
    ----------
    data : path
        A data folder.
    out : path
        The run folder to write, atomically when complete: an earlier run's files there are
        replaced, other files kept; a data folder is refused.
    rules : str, optional
        The ``--rules`` value (ids, folders or rule files, comma-separated).
    param : list of str, optional
        ``--param RULE.KEY=VALUE`` overrides.
    config : path, optional
        Regional parameter file ``{rule_id: {param: value}}``.
    engine : {'duckdb', 'spark'}
    progress : bool
    echo : file, optional
        Where the summary and evaluation table are printed (default: standard output).
    rules_dir : path, optional
        A bureau's own rules (``--rules-dir``): every rule file of the folder, checked before
        anything runs (:func:`workbench.rules.local.load_rules_dir`), run with the library and
        copied into the run folder.
    memory_limit, temp_directory : optional
        DuckDB's memory limit (e.g. ``"4GB"``) and where it spills and keeps scratch tables
        (:class:`workbench.session.Session`); ``--memory-limit`` / ``--temp-dir`` on the command line.

    Returns
    -------
    dict
        The manifest written.
    """
    import workbench

    echo = echo or sys.stdout
    started = _manifest.now()
    library, chosen = select(rules, _local.load_rules_dir(rules_dir) if rules_dir else None)
    overrides = parse_param_overrides(param or [])
    cfg = read_config(config) if config else None
    # A regional file covers the whole shipped library: it may name rules this run leaves out.
    known = {**_shipped_or_empty(), **library}
    params = resolve_params(known, config=cfg, overrides=overrides, rules=chosen)
    data_info = _manifest.data_inputs(data, run=out)
    with workbench.open(data, memory_limit=memory_limit, temp_directory=temp_directory) as session:
        analysis = RuleAnalysis(session, {"rules": [library[r] for r in chosen], "overrides": params},
                                engine=engine, library=library, progress=progress)
        result = analysis.result
        ev = analysis.evaluate() if session.has("truth") else None
    # A run is derived data: an earlier run's files are replaced, anything else in --out is kept.
    with datafolder.staged_folder(out, force=True, what="run folder") as tmp:
        outputs = write_findings(result.findings, tmp)
        _local.copy_into_run([library[r] for r in chosen], tmp)  # reproduce and packs work without --rules-dir
        if ev is not None:
            write_csv(ev, tmp / "evaluation.csv", bom=False)
            outputs["evaluation.csv"] = {"sha256": datafolder.sha256_file(tmp / "evaluation.csv"), "rows": len(ev)}
        m = _manifest.build(
            data=data_info, result=result, started=started, ended=_manifest.now(),
            params_source={"config": ({"path": str(Path(config).resolve()), "sha256": _manifest.sha256_text(config)}
                                      if config else None),
                           "overrides": list(param or [])},
            outputs=outputs, evaluation=(_records(ev) if ev is not None else None),
            roots=_views.roots_of(library[r] for r in chosen), command=command)
        _manifest.write(tmp / "manifest.json", m)
    _print_summary(result, ev, out, echo)
    return m


def _shipped_or_empty() -> dict:
    try:
        return load_library()
    except RuleError:
        return {}


def _records(ev: pd.DataFrame) -> list:
    return [{k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()} for r in ev.to_dict("records")]


def _print_summary(result, ev, out, echo):
    n = len(result.findings)
    print(f"{n} findings, ¥{result.amount_at_risk} at risk, {len(result.counts)} rules run, "
          f"{len(result.skipped)} skipped ({result.engine}, {result.seconds:.1f}s)", file=echo)
    for rid, reason in result.skipped.items():
        print(f"  skipped {rid}: {reason}", file=echo)
    if ev is not None:
        print("evaluation against truth.parquet:", file=echo)
        print(format_table(ev), file=echo)
    print(f"wrote {Path(out)}", file=echo)


def cli_audit(args) -> int:
    """``workbench audit``: see :func:`audit`."""
    command = "workbench audit " + " ".join(sys.argv[2:]) if len(sys.argv) > 2 and sys.argv[1] == "audit" else None
    audit(args.data, args.out, rules=args.rules, param=args.param, config=args.config, engine=args.engine,
          progress=not args.no_progress, command=command, rules_dir=getattr(args, "rules_dir", None),
          **_session.resource_options(args))
    return 0
