"""``workbench extract``: a consistent data folder of some institutions, a county or a period.

What a bureau hands an audit firm is an extract: the claims of a few institutions, of one county
or of one period. :func:`extract` cuts one from a data folder so that every analysis can be run
and checked on it (``docs/extract.md``):

- visits (``mdtrt``) of the selected institutions whose ``begntime`` falls in the period (a stay
  belongs to the period it begins in and is kept whole), with all their settlements (``setl``,
  refunds dated later included) and fee lines (``fee``);
- the persons they involve (``psn``; also the person numbers that share a ``certno`` with them)
  and their enrolment spells (``insu``, by person number or ``certno``);
- the doctors they involve (``dr``): those registered at a selected institution, and every
  registration of a doctor a kept visit or fee line names;
- ``medins``: the selected institutions plus the institutions where those doctors are
  registered, so that every reference of a kept row holds;
- ``stock`` of the selected institutions for the months of the period, plus each item's latest
  ledger month before the period (the stock a month carries over, see ``stock_mismatch``);
- the catalogue (``list``, ``list_incl``) and the inspector pool (``inspector``) whole, copied
  byte for byte;
- ``truth.parquet`` (planted cases) and provenance files (``cms_labels``) filtered to the rows
  that concern the kept visits, selected institutions, persons or doctors.

Rows keep the order they have in the source, so the same extract of the same folder is the same
bytes. Its ``data_manifest.json`` names the source by a fingerprint of its tables (no paths) and
the filter. Bad codes, a bad date or an empty result raise before anything is written.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import shutil
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from . import datafolder, schema
from .errors import DataFolderError, WorkbenchError
from .session import Session

# Tables copied whole: knowledge (the catalogue) and the bureau's inspector pool, which is no
# data about the selected institutions (a lottery on an extract still needs inspectors of other
# counties, and the former-employer conflicts of all of them).
WHOLE_TABLES = ("list", "list_incl", "inspector")
# Keys of truth and provenance rows, most specific first: the first one a row fills decides.
_ROW_KEYS = (("mdtrt_id", "x_visit"), ("fixmedins_code", "x_sel"), ("psn_no", "x_psn"), ("dr_code", "x_dr"))
# Facts about the source worth carrying (never paths, never file lists).
_ORIGIN_KEYS = ("kind", "generator", "generator_version", "scale", "seed", "year", "region", "format",
                "source_fingerprint")
_BATCH_ROWS = 1_000_000
_PART_ROWS = 10_000_000


def source_fingerprint(manifest: dict) -> str:
    """SHA-256 naming a data folder by its tables' fingerprints, wherever it is stored.

    The SHA-256 of ``{table: sha256}`` (every table of its ``data_manifest.json``, ``truth``
    included) as JSON with sorted keys and no spaces, so anyone can recompute it from the manifest.
    """
    tables = {name: rec["sha256"] for name, rec in sorted(manifest.get("tables", {}).items())}
    text = json.dumps(tables, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _parse_date(value, what: str):
    if value is None or value == "":
        return None
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    try:
        return _dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise WorkbenchError(f"extract: {what} {value!r} is not a date YYYY-MM-DD") from None


def _codes(institutions) -> list | None:
    if institutions is None:
        return None
    items = institutions.split(",") if isinstance(institutions, str) else list(institutions)
    codes = sorted({str(c).strip() for c in items if str(c).strip()})
    if not codes:
        raise WorkbenchError("extract: --institutions names no institution code")
    return codes


def _check_out(source: Path, out: Path, force: bool) -> None:
    s, o = source.resolve(), out.resolve()
    if o == s or s in o.parents or o in s.parents:
        raise DataFolderError(f"extract: --out {out} and the source data folder {source} overlap; choose another folder")
    datafolder.check_out(out, force)


def _list_sql(values) -> str:
    return "[" + ", ".join("'" + str(v).replace("'", "''") + "'" for v in values) + "]"


def _raw(path) -> str:
    """The stored rows of a table (file or folder of parts) with their position in the source."""
    files = _list_sql(str(f.resolve()) for f in datafolder.table_files(path))
    return f"read_parquet({files}, filename = true, file_row_number = true)"


def _select_sql(name: str):
    """Filter of table ``name``'s stored rows (over the kept-key tables ``x_*``), or None to copy it."""
    if name in WHOLE_TABLES:
        return None
    if name in ("mdtrt", "setl", "fee"):
        return "mdtrt_id IN (SELECT mdtrt_id FROM x_visit)"
    if name == "psn":
        return "psn_no IN (SELECT psn_no FROM x_psn)"
    if name == "insu":
        return "psn_no IN (SELECT psn_no FROM x_psn) OR certno IN (SELECT certno FROM x_cert)"
    if name == "medins":
        return "fixmedins_code IN (SELECT fixmedins_code FROM x_inst)"
    if name == "dr":
        return "dr_code IN (SELECT dr_code FROM x_dr) AND fixmedins_code IN (SELECT fixmedins_code FROM x_inst)"
    if name == "stock":
        return "(fixmedins_code, med_list_codg, period) IN (SELECT fixmedins_code, med_list_codg, period FROM x_stock)"
    raise WorkbenchError(f"extract: no filter for table {name}")  # a new contract table needs one here


def _keyed_filter(columns) -> str:
    """Filter of a truth or provenance file by the most specific key each row fills."""
    cases = [f"WHEN NULLIF({c}, '') IS NOT NULL THEN {c} IN (SELECT * FROM {t})"
             for c, t in _ROW_KEYS if c in columns]
    return f"CASE {' '.join(cases)} ELSE false END" if cases else "true"


def _copy_rows(con, query: str, schema_: pa.Schema, dest: Path, parts: bool) -> int:
    """Stream ``query`` into Parquet at ``dest`` (a file, or a folder of parts) in ``schema_``."""
    reader = con.sql(query).to_arrow_reader(_BATCH_ROWS)
    rows, part, writer, in_part = 0, 0, None, 0

    def open_writer(k):
        if parts:
            dest.mkdir(exist_ok=True)
            return pq.ParquetWriter(dest / f"part-{k:05d}.parquet", schema_, compression="zstd")
        return pq.ParquetWriter(dest, schema_, compression="zstd")

    writer = open_writer(part)
    try:
        for batch in reader:
            if parts and in_part >= _PART_ROWS:
                writer.close()
                part, in_part = part + 1, 0
                writer = open_writer(part)
            t = pa.Table.from_batches([batch]).cast(schema_)
            writer.write_table(t, row_group_size=_BATCH_ROWS)
            rows += t.num_rows
            in_part += t.num_rows
    finally:
        writer.close()
    return rows


def _copy_table(con, path: Path, where: str | None, dest_folder: Path, name: str) -> None:
    """Write table ``name`` (stored at ``path``) into ``dest_folder``: the rows ``where`` picks,
    in source order, or the files unchanged when ``where`` is None."""
    dest = dest_folder / (path.name if path.is_dir() else f"{name}.parquet")
    if where is None:
        if path.is_dir():
            shutil.copytree(path, dest)
        else:
            shutil.copyfile(path, dest)
        return
    schema_ = pq.read_schema(datafolder.table_files(path)[0])
    query = (f"SELECT * EXCLUDE (filename, file_row_number) FROM {_raw(path)} WHERE {where} "
             f"ORDER BY filename, file_row_number")
    _copy_rows(con, query, schema_, dest, parts=path.is_dir())


def _select_institutions(session, codes, county) -> list:
    known = {r[0] for r in session.rows("SELECT DISTINCT fixmedins_code FROM medins")}
    if codes is not None:
        missing = [c for c in codes if c not in known]
        if missing:
            shown = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
            raise WorkbenchError(f"extract: institution code(s) not in medins.fixmedins_code of {session.folder}: {shown}")
    if county is None:
        return codes if codes is not None else sorted(known)
    in_county = sorted(r[0] for r in session.rows(
        "SELECT DISTINCT fixmedins_code FROM medins WHERE admdvs = $c", {"c": county}))
    if not in_county:
        counties = [r[0] for r in session.rows("SELECT DISTINCT admdvs FROM medins WHERE admdvs IS NOT NULL ORDER BY 1")]
        raise WorkbenchError(f"extract: no institution of {session.folder} has medins.admdvs = {county!r} "
                             f"(counties there: {', '.join(counties[:20])})")
    if codes is None:
        return in_county
    outside = [c for c in codes if c not in set(in_county)]
    if outside:
        raise WorkbenchError(f"extract: institution(s) {', '.join(outside)} are not in county {county} (medins.admdvs)")
    return codes


def _kept_keys(session, selected, date_from, date_to) -> None:
    """Temporary tables ``x_*`` of the keys an extract keeps (see the module docstring)."""
    con = session.con
    con.execute("CREATE TEMP TABLE x_sel AS SELECT UNNEST($c::VARCHAR[]) AS fixmedins_code", {"c": selected})
    period, params = [], {}
    if date_from is not None:
        period.append("begntime >= CAST($from AS TIMESTAMP)")
        params["from"] = date_from
    if date_to is not None:  # the whole last day
        period.append("begntime < CAST($to AS TIMESTAMP) + INTERVAL 1 DAY")
        params["to"] = date_to
    when = "".join(f" AND {p}" for p in period)
    con.execute("CREATE TEMP TABLE x_visit AS SELECT DISTINCT mdtrt_id FROM mdtrt "
                f"WHERE fixmedins_code IN (SELECT fixmedins_code FROM x_sel){when}", params)
    kept = "mdtrt_id IN (SELECT mdtrt_id FROM x_visit)"
    # one read of each table for both the persons and the doctors it names
    con.execute(f"CREATE TEMP TABLE x_named AS SELECT DISTINCT psn_no, atddr_no AS dr_code FROM mdtrt WHERE {kept}")
    if session.has("fee"):
        con.execute(f"INSERT INTO x_named SELECT DISTINCT psn_no, bilg_dr_codg FROM fee WHERE {kept}")
    if session.has("setl"):
        con.execute(f"INSERT INTO x_named SELECT DISTINCT psn_no, NULL FROM setl WHERE {kept}")
    con.execute("CREATE TEMP TABLE x_vpsn AS SELECT DISTINCT psn_no FROM x_named")
    # The same human under another person number (a second enrolment) comes along, so that
    # duplicate enrolment reads the same in the extract as in the region.
    con.execute("CREATE TEMP TABLE x_cert AS SELECT DISTINCT certno FROM psn "
                "WHERE psn_no IN (SELECT psn_no FROM x_vpsn) AND certno IS NOT NULL")
    con.execute("CREATE TEMP TABLE x_psn AS SELECT psn_no FROM x_vpsn WHERE psn_no IS NOT NULL "
                "UNION SELECT psn_no FROM psn WHERE certno IN (SELECT certno FROM x_cert)")
    con.execute("CREATE TEMP TABLE x_dref AS SELECT DISTINCT dr_code FROM x_named WHERE dr_code IS NOT NULL")
    if session.has("dr"):
        con.execute("CREATE TEMP TABLE x_dr AS SELECT DISTINCT dr_code FROM dr "
                    "WHERE fixmedins_code IN (SELECT fixmedins_code FROM x_sel) "
                    "OR dr_code IN (SELECT * FROM x_dref)")
        home = "UNION SELECT fixmedins_code FROM dr WHERE dr_code IN (SELECT dr_code FROM x_dr)"
    else:
        con.execute("CREATE TEMP TABLE x_dr AS SELECT DISTINCT * FROM x_dref")
        home = ""
    con.execute("CREATE TEMP TABLE x_inst AS SELECT fixmedins_code FROM medins "
                f"WHERE fixmedins_code IN (SELECT fixmedins_code FROM x_sel {home})")
    if session.has("stock"):
        lo = date_from.strftime("%Y-%m") if date_from else "0000-00"
        hi = date_to.strftime("%Y-%m") if date_to else "9999-99"
        con.execute("""CREATE TEMP TABLE x_stock AS
            WITH s AS (SELECT DISTINCT fixmedins_code, med_list_codg, period FROM stock
                       WHERE fixmedins_code IN (SELECT fixmedins_code FROM x_sel) AND period <= $hi)
            SELECT * FROM s WHERE period >= $lo
            UNION SELECT fixmedins_code, med_list_codg, max(period) FROM s WHERE period < $lo GROUP BY 1, 2""",
                    {"lo": lo, "hi": hi})


def extract(source, out, *, institutions=None, county=None, date_from=None, date_to=None,
            progress=False, force=False) -> dict:
    """Write the extract of ``source`` for some institutions, a county or a period to ``out``.

    Parameters
    ----------
    source : path
        A data folder (its tables must still match its ``data_manifest.json``).
    out : path
        The new data folder: absent or an empty folder; a non-empty one only with ``force``.
    institutions : list of str or str, optional
        ``fixmedins_code`` values (a list or a comma-separated string); each must be in ``medins``.
    county : str, optional
        ``medins.admdvs``: the institutions of that county. With ``institutions`` too, every
        named institution must be in it.
    date_from, date_to : date or str ``YYYY-MM-DD``, optional
        The period, both days included: a visit is in it when its ``begntime`` is. Either may be
        left open.
    progress : bool
        A progress bar on standard error.
    force : bool
        Write into a non-empty ``out``, replacing only the files an extract writes
        (:func:`workbench.datafolder.staged_folder`: a table there that this extract does not
        write is refused by name, never deleted).

    Returns
    -------
    dict
        The extract's ``data_manifest.json``; ``source`` holds ``kind: extract``, the
        ``source_fingerprint`` (:func:`source_fingerprint`), the ``filter``, the ``institutions``
        selected and the ``referenced_institutions`` added to ``medins``.

    Raises
    ------
    WorkbenchError
        No filter; an institution code not in ``medins``; a county without institutions; a bad
        date or ``date_from`` after ``date_to``; no visit in the selection. Nothing is written.
    DataFolderError
        ``source`` is no data folder or no longer matches its manifest; ``out`` overlaps it, is
        a file, or is not empty and ``force`` is false.
    """
    source, out = Path(source), Path(out)
    codes = _codes(institutions)
    county = None if county is None or str(county).strip() == "" else str(county).strip()
    d_from, d_to = _parse_date(date_from, "from date"), _parse_date(date_to, "to date")
    if d_from and d_to and d_from > d_to:
        raise WorkbenchError(f"extract: from date {d_from} is after to date {d_to}")
    if codes is None and county is None and d_from is None and d_to is None:
        raise WorkbenchError("extract: give --institutions, --county or --from/--to (an extract of everything is a copy)")
    _check_out(source, out, force)
    with Session(source) as session:
        session.con.execute("SET enable_progress_bar = false")  # our bar, by table, not DuckDB's
        changed = datafolder.verify_manifest(source)
        if changed:
            raise DataFolderError(f"{source}: the data no longer match {datafolder.MANIFEST}: {'; '.join(changed)}")
        selected = _select_institutions(session, codes, county)
        _kept_keys(session, selected, d_from, d_to)
        n_visits = session.one("SELECT count(*) FROM x_visit")[0]
        if n_visits == 0:
            period = f" beginning {d_from or '…'} to {d_to or '…'}" if (d_from or d_to) else ""
            raise WorkbenchError(f"extract: no visit of the {len(selected)} selected institution(s){period} "
                                 f"in {source}; nothing written")
        referenced = [r[0] for r in session.rows(
            "SELECT fixmedins_code FROM x_inst WHERE fixmedins_code NOT IN (SELECT fixmedins_code FROM x_sel) ORDER BY 1")]
        src_manifest = session.manifest
        origin = {k: v for k, v in (src_manifest.get("source") or {}).items() if k in _ORIGIN_KEYS}
        info = {
            "kind": "extract",
            "source_fingerprint": source_fingerprint(src_manifest),
            "source_tables": {n: {"sha256": r["sha256"], "rows": r["rows"]}
                              for n, r in sorted(src_manifest.get("tables", {}).items())},
            "origin": origin,
            "filter": {"institutions": codes, "county": county,
                       "from": d_from.isoformat() if d_from else None, "to": d_to.isoformat() if d_to else None},
            "period_by": "mdtrt.begntime",
            "institutions": list(selected),
            "referenced_institutions": referenced,
        }
        if "seed" in origin:  # synthetic data: the seed stays where run manifests look for it
            info["seed"] = origin["seed"]
        names = [n for n in schema.TABLE_ORDER if session.has(n)]
        extras = _extra_files(session, src_manifest)
        from tqdm.auto import tqdm

        bar = tqdm(names + [n for n, _ in extras], desc="extract", unit="table", file=sys.stderr,
                   disable=not progress)
        with datafolder.staged_folder(out, force=force) as tmp:
            for name in bar:
                bar.set_postfix(table=name, refresh=False)
                if name in schema.TABLES:
                    _copy_table(session.con, session.path(name), _select_sql(name), tmp, name)
                    continue
                path = dict(extras)[name]
                cols = pq.read_schema(path).names
                _copy_table(session.con, path, _keyed_filter(cols), tmp, path.stem)
                if name != "truth":
                    info.setdefault("provenance", {})[name] = {"path": path.name,
                                                               **datafolder.fingerprint(tmp / path.name)}
            bar.close()
            manifest = datafolder.write_manifest(tmp, info)
    return manifest


def _extra_files(session, manifest: dict) -> list:
    """``(name, path)`` of the truth and provenance files of the source."""
    out = []
    if session.has("truth"):
        out.append(("truth", session.path("truth")))
    for name, rec in sorted(((manifest.get("source") or {}).get("provenance") or {}).items()):
        p = session.folder / Path(str(rec.get("path", ""))).name
        if p.is_file() and name not in schema.TABLES and name != "truth":
            out.append((name, p))
    return out


def register(s) -> None:
    """Declare the options of ``workbench extract`` on its parser (``workbench.cli`` assembles them)."""
    s.add_argument("data", metavar="DATA")
    s.add_argument("--out", required=True, metavar="SUB", help="the new data folder (absent or empty unless --force)")
    s.add_argument("--institutions", default=None, metavar="CODE,…", help="fixmedins_code values, comma-separated")
    s.add_argument("--county", default=None, metavar="ADMDVS", help="the institutions whose medins.admdvs is this")
    s.add_argument("--from", dest="date_from", default=None, metavar="DATE", help="first day (YYYY-MM-DD) of visit begntime")
    s.add_argument("--to", dest="date_to", default=None, metavar="DATE", help="last day (YYYY-MM-DD) of visit begntime")
    s.add_argument("--no-progress", action="store_true", help="no progress bar")
    s.add_argument("--force", action="store_true",
                   help="write into a non-empty --out, replacing only the files an extract writes")


def cli_extract(args) -> int:
    """``workbench extract DATA --out SUB [--institutions CODE,…] [--county ADMDVS] [--from DATE --to DATE]
    [--no-progress] [--force]``."""
    m = extract(args.data, args.out, institutions=args.institutions, county=args.county,
                date_from=args.date_from, date_to=args.date_to, progress=not args.no_progress,
                force=getattr(args, "force", False))
    s, t = m["source"], m["tables"]
    extra = f" (+{len(s['referenced_institutions'])} where their doctors are registered)" if s["referenced_institutions"] else ""
    fee = f", {t['fee']['rows']:,} fee lines" if "fee" in t else ""
    print(f"extract of {len(s['institutions'])} institution(s){extra} in {args.out}: "
          f"{t['mdtrt']['rows']:,} visits{fee}, {t['psn']['rows']:,} persons")
    return 0
