"""The ``workbench`` command line (``shared/cli.md``).

The parser is declared here; each command's work lives in the module that owns the capability
and is imported only when that command runs, so ``workbench --help`` stays fast.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from .errors import WorkbenchError

# command -> "module:function"; the function takes the parsed arguments and returns an exit code.
HANDLERS = {
    "synth": "workbench.synth:cli_synth",
    "import": "workbench.importer:cli_import",
    "summary": "workbench.summary:cli_summary",
    "dictionary": "workbench.dictionary:cli_dictionary",
    "audit": "workbench.runs.audit:cli_audit",
    "providers": "workbench.providers:cli_providers",
    "rings": "workbench.rings:cli_rings",
    "stays": "workbench.stays.cli:cli_stays",
    "reproduce": "workbench.runs.reproduce:cli_reproduce",
    "lottery draw": "workbench.lottery.cli:cli_draw",
    "lottery verify": "workbench.lottery.cli:cli_verify",
    "case decide": "workbench.cases.cli:cli_decide",
    "case list": "workbench.cases.cli:cli_list",
    "case verify": "workbench.cases.cli:cli_verify",
    "case open": "workbench.cases.cli:cli_open",
    "case act": "workbench.cases.cli:cli_act",
    "inspection record": "workbench.cases.cli:cli_inspection",
    "briefing": "workbench.period_briefing:cli_briefing",
    "credit": "workbench.credit_store:cli_credit",
    "credit repair": "workbench.credit_store:cli_record",
    "credit object": "workbench.credit_store:cli_record",
    "export": "workbench.evidence.pack:cli_export",
    "serve": "workbench.serve:cli_serve",
    "demo": "workbench.demo:cli_demo",
    "extract": "workbench.extract:cli_extract",
    "rules": "workbench.rules.listing:cli_rules",
}


def _resource_options(s) -> None:
    """``--memory-limit`` / ``--temp-dir`` of a command that runs heavy SQL on DuckDB."""
    s.add_argument("--memory-limit", default=None, metavar="SIZE",
                   help="DuckDB memory limit, e.g. 4GB (default: DuckDB's, 80%% of RAM); beyond it DuckDB spills to disk")
    s.add_argument("--temp-dir", default=None, metavar="DIR",
                   help="where DuckDB spills and keeps its scratch tables (default: the system's temporary folder)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="workbench", description="医保基金智能监管审计工作台 — fund-audit workbench")
    from . import __version__

    p.add_argument("--version", action="version", version=f"workbench {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    s = sub.add_parser("synth", help="make a synthetic region with planted violations")
    s.add_argument("--scale", choices=["demo", "city", "province"], default="demo")
    s.add_argument("--seed", type=int, default=2024)
    s.add_argument("--out", required=True, metavar="DATA")
    s.add_argument("--no-progress", action="store_true", help="no progress bar")
    s.add_argument("--force", action="store_true",
                   help="write into a non-empty --out, replacing only the files synth writes")

    s = sub.add_parser("import", help="validate and convert an extract into a data folder")
    s.add_argument("src", metavar="SRC")
    s.add_argument("--format", required=True, choices=["platform", "cms"], dest="fmt")
    s.add_argument("--out", required=True, metavar="DATA")
    s.add_argument("--max-report", type=int, default=10, help="problems listed per kind (default 10)")
    s.add_argument("--force", action="store_true",
                   help="write into a non-empty --out, replacing only the files the import writes")

    s = sub.add_parser("summary", help="print the tables and headline figures of a data folder")
    s.add_argument("data", metavar="DATA")

    s = sub.add_parser("dictionary", help="write the data dictionary (Markdown, Chinese and English)")
    s.add_argument("--out", default="-", help="file to write (default: standard output)")

    s = sub.add_parser("audit", help="run the rule library")
    s.add_argument("data", metavar="DATA")
    s.add_argument("--out", required=True, metavar="RUN")
    s.add_argument("--rules", default=None, help="comma-separated rule ids (default: all whose tables exist)")
    s.add_argument("--rules-dir", default=None, metavar="DIR",
                   help="a bureau's own rule files (DIR/*.yaml, DIR/knowledge/*.csv), run beside the library")
    s.add_argument("--param", action="append", default=[], metavar="RULE.KEY=VALUE")
    s.add_argument("--config", default=None, help="regional parameter file (YAML)")
    s.add_argument("--engine", choices=["duckdb", "spark"], default="duckdb")
    s.add_argument("--no-progress", action="store_true")
    _resource_options(s)

    for name, helptext, extra in [
        ("providers", "one row per institution with peer group, cluster, risk score and reasons", []),
        ("rings", "suspected collusion rings, most suspicious first", []),
        ("stays", "readmission pairs at the same institution within the window", ["--window-days"]),
    ]:
        s = sub.add_parser(name, help=helptext)
        s.add_argument("data", metavar="DATA")
        s.add_argument("--out", required=True, metavar="FILE.csv")
        s.add_argument("--engine", choices=["duckdb", "spark"], default="duckdb")
        if extra:
            from .params import days_argument  # 0-9 digits, at most a century (issue 23)

            s.add_argument("--window-days", type=days_argument, default=15)
        _resource_options(s)

    s = sub.add_parser("reproduce", help="re-run a recorded run and compare every finding")
    s.add_argument("run", metavar="RUN", help="a run folder or an evidence pack (.zip)")
    s.add_argument("--data", required=True, metavar="DATA")
    s.add_argument("--engine", choices=["duckdb", "spark"], default=None, help="default: the engine the run used")
    _resource_options(s)

    lot = sub.add_parser("lottery", help="双随机 inspection lottery").add_subparsers(dest="sub", metavar="ACTION")
    s = lot.add_parser("draw", help="draw institutions and inspectors")
    s.add_argument("data", metavar="DATA")
    s.add_argument("--seed", required=True)
    s.add_argument("--institutions", type=int, required=True)
    s.add_argument("--inspectors", type=int, required=True)
    s.add_argument("--out", required=True, metavar="DRAW.json")
    s.add_argument("--strata", default=None, help="medins columns, comma-separated (default admdvs,fixmedins_type); credit class is always a stratum")
    s.add_argument("--ratios", default=None, help="sampling ratio per credit class (default A=5%%,B=10%%,C=20%%,D=40%%)")
    s.add_argument("--credit", default=None, metavar="FILE.csv", help="credit classes: columns fixmedins_code, credit_class")
    s.add_argument("--team-size", type=int, default=2)
    s.add_argument("--exclude-own-county", action="store_true", help="no inspector inspects in their own county")
    s.add_argument("--date", default=None, metavar="YYYY-MM-DD", help="date of the draw (default today)")
    s.add_argument("--publish", default=None, metavar="DIR", help="also write the public notice (HTML, CSV) to DIR")
    s.add_argument("--publish-names", action="store_true", help="name the inspectors in the notice")
    s = lot.add_parser("verify", help="verify a draw independently")
    s.add_argument("draw", metavar="DRAW.json")
    s.add_argument("--data", required=True, metavar="DATA")

    case = sub.add_parser("case", help="auditors' decisions").add_subparsers(dest="sub", metavar="ACTION")
    s = case.add_parser("decide", help="record a decision on a finding")
    s.add_argument("finding_id", metavar="FINDING_ID")
    s.add_argument("--status", required=True, choices=["confirmed", "dismissed", "open"])
    s.add_argument("--by", required=True, metavar="NAME")
    s.add_argument("--note", default=None)
    s.add_argument("--recovered", default=None, metavar="YUAN")
    s.add_argument("--action", action="append", default=[], metavar="ACTION",
                   choices=["suspend", "terminate", "fine", "refer_police", "refer_discipline"],
                   help="add an action: suspend 暂停协议, terminate 解除协议, fine 罚款, refer_police 移送公安, "
                        "refer_discipline 移送纪检监察 (repeatable)")
    s.add_argument("--fine", default=None, metavar="YUAN", help="the fine (罚款), yuan")
    s.add_argument("--run", default=None, metavar="RUN", help="keep the finding's facts from this run folder")
    s.add_argument("--home", default=None, metavar="DIR", help="workbench home (default $WORKBENCH_HOME or ~/.workbench)")
    s = case.add_parser("list", help="list decisions")
    s.add_argument("--json", action="store_true")
    s.add_argument("--home", default=None, metavar="DIR")
    s = case.add_parser("verify", help="check the audit trail is intact")
    s.add_argument("--home", default=None, metavar="DIR")
    s = case.add_parser("open", help="open a case from any lead; prints the case id as its last line")
    s.add_argument("--institution", required=True, metavar="CODE", help="fixmedins_code (a ring: its members, comma-separated)")
    s.add_argument("--source", required=True,
                   choices=["rule", "providers", "rings", "stays", "tipoff", "referral", "campaign", "inspection"])
    s.add_argument("--by", required=True, metavar="NAME")
    s.add_argument("--finding", nargs="+", action="extend", default=[], metavar="ID", help="finding ids the case bundles")
    s.add_argument("--run", default=None, metavar="RUN", help="the run folder the findings are in")
    s.add_argument("--on", default=None, metavar="DATE", help="the day the lead came in (default today)")
    s.add_argument("--note", default=None)
    s.add_argument("--home", default=None, metavar="DIR")
    s = case.add_parser("act", help="record a step or an action on a case")
    s.add_argument("case", metavar="CASE")
    s.add_argument("--action", required=True, choices=["interview", "rectify", "rectified", "revisit", "appeal", "review",
                                                        "confirm", "dismiss", "recover", "fine", "suspend", "terminate",
                                                        "doctor_points", "expose", "refer"])
    s.add_argument("--by", required=True, metavar="NAME")
    s.add_argument("--on", default=None, metavar="DATE", help="the date it happened (default today)")
    s.add_argument("--amount", default=None, metavar="YUAN", help="recover, fine")
    s.add_argument("--due", default=None, metavar="DATE", help="rectify: the deadline; appeal: the review's deadline")
    s.add_argument("--until", default=None, metavar="DATE", help="suspend: the last day of the suspension")
    s.add_argument("--to", default=None, choices=["police", "discipline", "health", "market"], help="refer")
    s.add_argument("--doctor", default=None, metavar="DR_CODE", help="doctor_points")
    s.add_argument("--points", type=int, default=None, metavar="N", help="doctor_points: 1-12")
    s.add_argument("--article", type=int, default=None, choices=[38, 40],
                   help="fine: 第三十八条 (1-2x the loss) or 第四十条 (2-5x, fraud); default 40 when a finding is fraud")
    s.add_argument("--notice", default=None, metavar="FILE.html",
                   help="expose: also write the public notice (曝光典型案例), personal data removed")
    s.add_argument("--data", default=None, metavar="DATA", help="expose --notice: name institutions from medins")
    s.add_argument("--note", default=None)
    s.add_argument("--home", default=None, metavar="DIR")

    ins = sub.add_parser("inspection", help="inspections of institutions").add_subparsers(dest="sub", metavar="ACTION")
    s = ins.add_parser("record", help="record an inspection (or every institution of a lottery draw)")
    s.add_argument("--institution", default=None, metavar="CODE")
    s.add_argument("--kind", required=True, choices=["lottery", "flying", "campaign", "cross", "revisit", "routine"])
    s.add_argument("--on", required=True, metavar="DATE")
    s.add_argument("--by", required=True, metavar="NAME")
    s.add_argument("--draw", default=None, metavar="DRAW.json", help="record every institution this draw drew")
    s.add_argument("--note", default=None)
    s.add_argument("--home", default=None, metavar="DIR")

    s = sub.add_parser("briefing", help="outcome figures of a period across all cases (检查、暂停、罚款、追回、曝光 …)")
    s.add_argument("--from", dest="date_from", required=True, metavar="DATE", help="first day (YYYY-MM-DD), included")
    s.add_argument("--to", dest="date_to", required=True, metavar="DATE", help="last day (YYYY-MM-DD), included")
    s.add_argument("--county", default=None, metavar="ADMDVS", help="only institutions of this county (medins.admdvs)")
    s.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    s.add_argument("--out", default=None, metavar="FILE.xlsx|FILE.html", help="write the read-out (Chinese, no personal data)")
    s.add_argument("--data", default=None, metavar="DATA", help="data folder placing institutions in counties (medins.admdvs)")
    s.add_argument("--home", default=None, metavar="DIR", help="workbench home holding the case store")

    cr = sub.add_parser("credit", help="doctors' points and institutions' credit classes from the cases (医保信用)")
    cr.add_argument("--as-of", default=None, metavar="DATE", help="the day (default today)")
    cr.add_argument("--data", default=None, metavar="DATA", help="data folder: every institution, peer rates, fund share")
    cr.add_argument("--json", action="store_true")
    cr.add_argument("--home", default=None, metavar="DIR")
    crs = cr.add_subparsers(dest="sub", metavar="ACTION")
    for name, helptext in [("repair", "record a 信用修复: what came before no longer counts"),
                           ("object", "record an 异议 (objection), or its outcome with --outcome")]:
        s = crs.add_parser(name, help=helptext)
        s.add_argument("--institution", default=None, metavar="CODE")
        s.add_argument("--doctor", default=None, metavar="DR_CODE")
        s.add_argument("--by", required=True, metavar="NAME")
        s.add_argument("--on", default=None, metavar="DATE", help="the date it happened (default today)")
        if name == "object":
            s.add_argument("--ref", default=None, metavar="FINDING_ID|CASE", help="the finding or case objected to")
            s.add_argument("--outcome", default=None, choices=["upheld", "rejected"],
                           help="decide the pending objection: upheld drops what it names from the record")
        s.add_argument("--note", default=None)
        s.add_argument("--home", default=None, metavar="DIR")

    s = sub.add_parser("export", help="evidence pack (审计底稿) of a set of findings")
    s.add_argument("run", metavar="RUN")
    s.add_argument("--out", required=True, metavar="PACK.zip")
    s.add_argument("--rule", default=None)
    s.add_argument("--institution", default=None)
    s.add_argument("--include-pii", action="store_true")
    s.add_argument("--by", default=None, metavar="NAME", help="who asks for the pack (recorded; default: the OS user)")
    s.add_argument("--data", default=None, metavar="DATA", help="the data folder (default: the one the run recorded)")
    s.add_argument("--home", default=None, metavar="DIR", help="workbench home holding the case store")

    s = sub.add_parser("serve", help="serve the Voilà dashboards on 127.0.0.1")
    s.add_argument("--data", default=None)
    s.add_argument("--run", default=None)
    s.add_argument("--port", type=int, default=8866)
    s.add_argument("--token", default=None,
                   help="access token, at least 32 characters (visible in `ps`: prefer $WORKBENCH_TOKEN or "
                        "--token-file; default: a new random one, printed in the URL)")
    s.add_argument("--token-file", default=None, metavar="FILE", help="read the token from FILE (mode 600)")
    s.add_argument("--memory-ceiling", default=None, metavar="SIZE",
                   help="restart the server when its memory passes SIZE (default 2GiB; kernels not counted)")
    s.add_argument("--watchdog", type=float, default=None, metavar="SECONDS",
                   help="restart the server when it has not answered for SECONDS (default 30)")
    s.add_argument("--no-browser", action="store_true", help="do not open a web browser")

    s = sub.add_parser("extract", help="a consistent data folder of some institutions, a county or a period")
    s.add_argument("data", metavar="DATA")
    s.add_argument("--out", required=True, metavar="SUB", help="the new data folder (absent or empty unless --force)")
    s.add_argument("--institutions", default=None, metavar="CODE,…", help="fixmedins_code values, comma-separated")
    s.add_argument("--county", default=None, metavar="ADMDVS", help="the institutions whose medins.admdvs is this")
    s.add_argument("--from", dest="date_from", default=None, metavar="DATE", help="first day (YYYY-MM-DD) of visit begntime")
    s.add_argument("--to", dest="date_to", default=None, metavar="DATE", help="last day (YYYY-MM-DD) of visit begntime")
    s.add_argument("--no-progress", action="store_true", help="no progress bar")
    s.add_argument("--force", action="store_true",
                   help="write into a non-empty --out, replacing only the files an extract writes")

    s = sub.add_parser("rules", help="list the rule library (id, code, names, tier, type, stage, parameters, source)")
    fmt = s.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="every field of every rule, for scripts")
    fmt.add_argument("--markdown", action="store_true", help="the rule-library page (docs/rule-library.md)")
    s.add_argument("--rules-dir", default=None, metavar="DIR", help="also list a bureau's own rule files (source: local)")

    s = sub.add_parser("demo", help="synth demo data, audit it, serve the dashboards")
    s.add_argument("--out", default="demo", help="folder for the demo data and run (default ./demo)")
    s.add_argument("--no-serve", action="store_true")
    return p


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    key = args.command + (f" {args.sub}" if getattr(args, "sub", None) else "")
    if key not in HANDLERS:
        parser.parse_args([args.command, "--help"])
        return 2
    mod_name, func_name = HANDLERS[key].split(":")
    try:
        mod = importlib.import_module(mod_name)
    except ModuleNotFoundError as e:
        if e.name == mod_name:
            print(f"workbench {key}: not available in this version yet", file=sys.stderr)
            return 2
        raise
    try:
        return int(getattr(mod, func_name)(args) or 0)
    except WorkbenchError as e:
        print(f"workbench {key}: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
