"""workbench extract: what it keeps (institutions, county, period), references, manifest, errors,
and every analysis on an extract against the whole region (rules, stays)."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil

import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest_demo import planted_institutions

from workbench import cli, datafolder
from workbench.errors import DataFolderError, WorkbenchError
from workbench.extract import extract, source_fingerprint


def read(folder, name) -> pd.DataFrame:
    return pd.read_parquet(datafolder.table_path(folder, name))


@pytest.fixture(scope="module")
def region(demo_data):
    """The demo region's tables, read once."""
    names = ["psn", "insu", "medins", "dr", "mdtrt", "setl", "fee", "stock", "truth"]
    return {n: read(demo_data, n) for n in names}


@pytest.fixture(scope="module")
def county_extract(demo_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("county") / "ex"
    extract(demo_data, out, county="370883")
    return out


FROM, TO = dt.date(2024, 5, 1), dt.date(2024, 6, 30)


@pytest.fixture(scope="module")
def period_extract(demo_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("period") / "ex"
    extract(demo_data, out, institutions=planted_institutions(demo_data), date_from=FROM, date_to=TO.isoformat())
    return out


def _unordered(df):
    return df.sort_values(list(df.columns)).reset_index(drop=True)


# --- what an extract keeps ---------------------------------------------------------------------

def test_extract_by_institutions_keeps_their_visits_settlements_and_lines_in_source_order(demo_data, demo_extract, region):
    codes = planted_institutions(demo_data)
    assert 10 <= len(codes) < region["medins"].shape[0] / 2  # an extract, not the region
    mdtrt = region["mdtrt"][region["mdtrt"].fixmedins_code.isin(codes)].reset_index(drop=True)
    got = read(demo_extract, "mdtrt")
    pd.testing.assert_frame_equal(got, mdtrt)
    ids = set(mdtrt.mdtrt_id)
    for t in ("setl", "fee"):
        want = region[t][region[t].mdtrt_id.isin(ids)].reset_index(drop=True)
        pd.testing.assert_frame_equal(read(demo_extract, t), want)
    assert len(got) < len(region["mdtrt"]) / 2


def test_persons_doctors_and_institutions_are_those_the_kept_rows_involve(demo_data, demo_extract, region):
    codes = set(planted_institutions(demo_data))
    mdtrt, fee = read(demo_extract, "mdtrt"), read(demo_extract, "fee")
    visit_psn = set(mdtrt.psn_no)
    certs = set(region["psn"][region["psn"].psn_no.isin(visit_psn)].certno)
    psn = read(demo_extract, "psn")
    assert set(psn.psn_no) == visit_psn | set(region["psn"][region["psn"].certno.isin(certs)].psn_no)
    assert set(psn.psn_no) - visit_psn  # the second enrolment of a person with visits comes along
    rp = region["insu"]
    assert _unordered(read(demo_extract, "insu")).equals(_unordered(rp[rp.psn_no.isin(set(psn.psn_no)) | rp.certno.isin(certs)]))
    named = set(mdtrt.atddr_no.dropna()) | set(fee.bilg_dr_codg.dropna())
    rd = region["dr"]
    keep_dr = set(rd[rd.fixmedins_code.isin(codes)].dr_code) | (named & set(rd.dr_code))
    dr = read(demo_extract, "dr")
    assert _unordered(dr).equals(_unordered(rd[rd.dr_code.isin(keep_dr)]))
    medins = read(demo_extract, "medins")
    assert set(medins.fixmedins_code) == codes | set(dr.fixmedins_code)
    manifest = datafolder.read_manifest(demo_extract)["source"]
    assert manifest["institutions"] == sorted(codes)
    assert manifest["referenced_institutions"] == sorted(set(dr.fixmedins_code) - codes)


def test_catalogue_and_inspector_pool_are_copied_whole(demo_data, demo_extract):
    src, got = datafolder.read_manifest(demo_data)["tables"], datafolder.read_manifest(demo_extract)["tables"]
    for name in ("list", "list_incl", "inspector"):
        assert got[name]["sha256"] == src[name]["sha256"] and got[name]["rows"] == src[name]["rows"]


def test_extract_by_county_keeps_every_visit_of_its_institutions(county_extract, region):
    inst = set(region["medins"][region["medins"].admdvs == "370883"].fixmedins_code)
    assert len(inst) >= 10
    mdtrt = read(county_extract, "mdtrt")
    assert len(mdtrt) == region["mdtrt"].fixmedins_code.isin(inst).sum()
    assert set(mdtrt.fixmedins_code) == inst - {c for c in inst if not (region["mdtrt"].fixmedins_code == c).any()}
    src = datafolder.read_manifest(county_extract)["source"]
    assert src["institutions"] == sorted(inst)
    assert src["filter"] == {"institutions": None, "county": "370883", "from": None, "to": None}
    medins = read(county_extract, "medins").set_index("fixmedins_code")
    assert (medins.loc[sorted(inst)].admdvs == "370883").all()
    assert (medins.drop(index=sorted(inst)).admdvs != "370883").all()  # the others: doctors' homes


def test_extract_by_period_keeps_the_visits_that_begin_in_it_and_whole_stays(period_extract, demo_data, region):
    codes = planted_institutions(demo_data)
    m = region["mdtrt"]
    day = m.begntime.dt.date
    want = m[m.fixmedins_code.isin(codes) & (day >= FROM) & (day <= TO)]
    got = read(period_extract, "mdtrt")
    assert list(got.mdtrt_id) == list(want.mdtrt_id)
    # a stay that begins in the period and ends after it is kept whole, its later lines too
    straddling = got[got.endtime.dt.date > TO]
    assert len(straddling) > 0
    fee = read(period_extract, "fee")
    late = fee[fee.mdtrt_id.isin(set(straddling.mdtrt_id)) & (fee.fee_ocur_time.dt.date > TO)]
    assert len(late) > 0
    assert len(fee[fee.mdtrt_id.isin(set(straddling.mdtrt_id))]) == region["fee"].mdtrt_id.isin(set(straddling.mdtrt_id)).sum()
    # one that began before the period is not, though it ends inside
    before = m[m.fixmedins_code.isin(codes) & (day < FROM) & (m.endtime.dt.date >= FROM)]
    assert len(before) > 0 and not set(before.mdtrt_id) & set(got.mdtrt_id)
    src = datafolder.read_manifest(period_extract)["source"]
    assert src["filter"]["from"] == "2024-05-01" and src["filter"]["to"] == "2024-06-30"


def test_period_stock_holds_its_months_and_the_month_each_item_carries_over(period_extract, demo_data, region):
    codes = planted_institutions(demo_data)
    s = region["stock"][region["stock"].fixmedins_code.isin(codes)]
    inside = s[(s.period >= "2024-05") & (s.period <= "2024-06")]
    latest = s[s.period < "2024-05"].groupby(["fixmedins_code", "med_list_codg"]).period.max().reset_index()
    carried = s.merge(latest, on=["fixmedins_code", "med_list_codg", "period"])
    got = read(period_extract, "stock")
    assert len(inside) > 0 and len(carried) > 0
    assert _unordered(got).equals(_unordered(pd.concat([inside, carried])))
    assert got.period.max() == "2024-06"


@pytest.mark.parametrize("which", ["demo_extract", "county_extract", "period_extract"])
def test_references_hold_in_every_extract(which, request, region):
    ex = request.getfixturevalue(which)
    t = {n: read(ex, n) for n in ("psn", "medins", "dr", "mdtrt", "setl", "fee", "stock", "insu")}
    psn, visits, inst = set(t["psn"].psn_no), set(t["mdtrt"].mdtrt_id), set(t["medins"].fixmedins_code)
    assert set(t["mdtrt"].psn_no) <= psn and set(t["mdtrt"].fixmedins_code) <= inst
    for name in ("setl", "fee"):
        assert set(t[name].mdtrt_id) <= visits and set(t[name].psn_no) <= psn
    assert set(t["setl"].mdtrt_id) == visits & set(region["setl"].mdtrt_id)  # no visit loses its settlements
    assert set(t["dr"].fixmedins_code) <= inst and set(t["stock"].fixmedins_code) <= inst
    known_dr = set(region["dr"].dr_code)  # a code the region lacks is for the rules to judge
    named = set(t["mdtrt"].atddr_no.dropna()) | set(t["fee"].bilg_dr_codg.dropna())
    assert named & known_dr <= set(t["dr"].dr_code)
    truth = read(ex, "truth")
    assert set(truth.mdtrt_id.dropna()) <= visits
    assert set(truth[truth.mdtrt_id.isna()].fixmedins_code.dropna()) <= inst
    assert set(truth.psn_no.dropna()) <= psn


def test_truth_keeps_the_planted_cases_of_the_kept_visits_institutions_and_persons(demo_extract, region):
    t = region["truth"]
    visits, psn = set(read(demo_extract, "mdtrt").mdtrt_id), set(read(demo_extract, "psn").psn_no)
    chosen = set(datafolder.read_manifest(demo_extract)["source"]["institutions"])
    keep = t.mdtrt_id.isin(visits).where(t.mdtrt_id.notna(), t.fixmedins_code.isin(chosen).where(
        t.fixmedins_code.notna(), t.psn_no.isin(psn)))
    want = t[keep.astype(bool)].reset_index(drop=True)
    got = read(demo_extract, "truth")
    pd.testing.assert_frame_equal(got, want)
    assert {"split_stay_hospital", "collusion_ring", "split_stay"} <= set(got.scenario)
    assert len(got) < len(t)


def test_manifest_names_the_source_by_fingerprint_and_the_filter_without_paths(demo_data, demo_extract):
    src_manifest = datafolder.read_manifest(demo_data)
    text = (demo_extract / datafolder.MANIFEST).read_text(encoding="utf-8")
    m = json.loads(text)
    tables = {n: r["sha256"] for n, r in src_manifest["tables"].items()}
    want = hashlib.sha256(json.dumps(tables, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    assert m["source"]["source_fingerprint"] == want == source_fingerprint(src_manifest)
    assert m["source"]["kind"] == "extract" and m["source"]["seed"] == 2024
    assert m["source"]["filter"]["institutions"] == planted_institutions(demo_data)
    assert str(demo_data) not in text and str(demo_data.parent) not in text
    strings = []

    def walk(v):
        if isinstance(v, dict):
            [walk(x) for x in v.values()]
        elif isinstance(v, list):
            [walk(x) for x in v]
        elif isinstance(v, str):
            strings.append(v)
    walk(m)
    assert not [s for s in strings if s.startswith("/") or "\\" in s]
    assert datafolder.verify_manifest(demo_extract) == []


def test_the_same_extract_twice_is_the_same_bytes(demo_data, demo_extract, tmp_path):
    again = extract(demo_data, tmp_path / "again", institutions=planted_institutions(demo_data))
    first = datafolder.read_manifest(demo_extract)
    assert {n: r["sha256"] for n, r in again["tables"].items()} == {n: r["sha256"] for n, r in first["tables"].items()}


def test_a_table_stored_as_parts_is_read_and_written_as_parts(demo_data, demo_extract, tmp_path):
    src = tmp_path / "parts"
    shutil.copytree(demo_data, src)
    fee = pq.read_table(src / "fee.parquet")
    (src / "fee.parquet").unlink()
    (src / "fee").mkdir()
    n = fee.num_rows
    for k, (lo, hi) in enumerate([(0, n // 3), (n // 3, 2 * n // 3), (2 * n // 3, n)]):
        pq.write_table(fee.slice(lo, hi - lo), src / "fee" / f"part-{k:05d}.parquet")
    datafolder.write_manifest(src, datafolder.read_manifest(demo_data)["source"])
    m = extract(src, tmp_path / "ex", institutions=planted_institutions(demo_data))
    assert (tmp_path / "ex" / "fee").is_dir() and m["tables"]["fee"]["path"] == "fee"
    pd.testing.assert_frame_equal(read(tmp_path / "ex", "fee"), read(demo_extract, "fee"))


def test_an_enrolment_spell_under_another_person_number_follows_its_certno(demo_data, tmp_path):
    src = tmp_path / "src"
    shutil.copytree(demo_data, src)
    mdtrt, psn = read(src, "mdtrt"), read(src, "psn")
    who = psn.set_index("psn_no").loc[mdtrt[mdtrt.fixmedins_code == "H37088300005"].psn_no.iloc[0]]
    insu = read(src, "insu")
    spell = {c: None for c in insu.columns} | {"psn_no": "X0000001", "certno": who.certno, "insutype": "390",
                                                "insuplc_admdvs": "370811", "begndate": dt.date(2024, 1, 1)}
    insu = pd.concat([insu, pd.DataFrame([spell])], ignore_index=True)
    datafolder.write_table(src, "insu", insu)
    datafolder.write_manifest(src, datafolder.read_manifest(demo_data)["source"])
    extract(src, tmp_path / "ex", institutions="H37088300005")
    got = read(tmp_path / "ex", "insu")
    assert "X0000001" in set(got.psn_no) and set(got.certno) == set(read(tmp_path / "ex", "psn").certno)


def test_a_nested_extract_names_its_own_source(demo_data, demo_extract, tmp_path):
    m = extract(demo_extract, tmp_path / "one", institutions="H37088300005")
    assert m["source"]["source_fingerprint"] == source_fingerprint(datafolder.read_manifest(demo_extract))
    assert m["source"]["origin"]["source_fingerprint"] == source_fingerprint(datafolder.read_manifest(demo_data))
    assert set(read(tmp_path / "one", "mdtrt").fixmedins_code) == {"H37088300005"}


# --- errors: a clear message and nothing written -------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    ({"institutions": ["H37088300005", "H99999999999"]}, "H99999999999"),
    ({"county": "999999"}, "999999"),
    ({"institutions": "H37088300005", "county": "370811"}, "not in county 370811"),
    ({"institutions": "H37088300005", "date_from": "2024-13-01"}, "2024-13-01"),
    ({"institutions": "H37088300005", "date_from": "2024-06-01", "date_to": "2024-05-01"}, "after"),
    ({"institutions": "H37088300005", "date_from": "2030-01-01"}, "no visit"),
    ({}, "--institutions, --county or --from"),
    ({"institutions": " , "}, "no institution code"),
])
def test_bad_filters_raise_and_write_nothing(demo_data, tmp_path, kwargs, message):
    out = tmp_path / "sub" / "ex"
    with pytest.raises(WorkbenchError, match=message):
        extract(demo_data, out, **kwargs)
    assert not out.exists()
    assert not (tmp_path / "sub").exists() or list((tmp_path / "sub").iterdir()) == []


def test_a_non_empty_out_is_refused_and_kept_and_force_replaces_only_the_extracts_files(demo_data, tmp_path):
    out = tmp_path / "ex"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(DataFolderError, match="not empty"):
        extract(demo_data, out, institutions="H37088300005")
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    m = extract(demo_data, out, institutions="H37088300005", force=True)
    assert (out / "notes.txt").read_text() == "mine" and m["tables"]["mdtrt"]["rows"] > 0
    with pytest.raises(DataFolderError):
        extract(demo_data, demo_data / "inside", institutions="H37088300005")
    assert not (demo_data / "inside").exists()


def test_cli_extract_and_its_errors(demo_data, tmp_path, capsys):
    out = tmp_path / "ex"
    assert cli.main(["extract", str(demo_data), "--out", str(out), "--county", "370811",
                     "--from", "2024-03-01", "--to", "2024-03-31", "--no-progress"]) == 0
    said = capsys.readouterr().out
    n = datafolder.read_manifest(out)["tables"]["mdtrt"]["rows"]
    assert f"{n:,} visits" in said and "16 institution(s)" in said
    assert set(read(out, "mdtrt").begntime.dt.month) == {3}
    bad = tmp_path / "bad"
    assert cli.main(["extract", str(demo_data), "--out", str(bad), "--institutions", "H0", "--no-progress"]) == 1
    assert "H0" in capsys.readouterr().err and not bad.exists()
    assert "extract" in cli.build_parser().format_help()


# --- every analysis on an extract: rules ---------------------------------------------------------

# Rules whose findings at an institution depend on data outside it, and why. An extract can make
# them miss a case the region shows (a person's stay at a hospital left out), or, for peer
# statistics, judge an institution against other peers. docs/extract.md says the same.
REGION_DEPENDENT = {
    "cost_share_outlier": "peer statistics: an institution's cost shares against the median of its peer group in the data",
    "doctor_impossible_volume": "a doctor's visits of a day are counted at every institution",
    "outpatient_during_stay": "the person's inpatient stays at any institution",
    "overlapping_stays": "the person's stays at any institution",
    "frequent_outpatient": "one finding per person over visits at every institution",
    "frequent_admission": "one finding per person over stays at every institution",
    "frequent_purchase": "one finding per person over purchases at every pharmacy",
    "duplicate_enrollment": "one finding per person's enrolment spells, no institution",
    "chronic_outpatient_without_diagnosis": "the person's qualifying diagnosis may be on a visit at any institution",
    "diagnosis_age_mismatch": "a newborn on the mother's card is left alone after her delivery stay at any institution",
    "card_multi_institution_same_day": "one finding per person and day over visits at every institution",
    "out_of_area_concentration": "peer statistics: an institution's share of fund money for one other region's persons against the median of its peers in the data",
    "overlapping_prescriptions": "the earlier supply of the drug was dispensed at another institution",
}
KEYS = ["rule_id", "fixmedins_code", "dr_code", "psn_no", "mdtrt_id"]
COMPARED = ["finding_id", *KEYS, "amount_at_risk", "evidence", "detail", "detail_en"]


@pytest.fixture(scope="module", params=["demo_extract", "county_extract"])
def extract_run(request, tmp_path_factory):
    """(extract folder, its audit findings) for the planted institutions and for a county."""
    ex = request.getfixturevalue(request.param)
    out = tmp_path_factory.mktemp("exrun") / "run"
    assert cli.main(["audit", str(ex), "--out", str(out), "--no-progress"]) == 0
    return ex, pd.read_parquet(out / "findings.parquet")


def test_region_dependent_rules_are_rules_of_the_library():
    from workbench.rules import load_library

    assert set(REGION_DEPENDENT) < set(load_library())


def test_findings_of_the_extracts_institutions_are_those_of_the_region(extract_run, demo_run):
    ex, found = extract_run
    chosen = set(datafolder.read_manifest(ex)["source"]["institutions"])
    region = pd.read_parquet(demo_run / "findings.parquet")
    local = ~region.rule_id.isin(list(REGION_DEPENDENT))
    want = region[local & region.fixmedins_code.isin(chosen)][COMPARED]
    got = found[~found.rule_id.isin(list(REGION_DEPENDENT))][COMPARED]
    assert set(got.fixmedins_code) <= chosen
    pd.testing.assert_frame_equal(got.sort_values("finding_id").reset_index(drop=True),
                                  want.sort_values("finding_id").reset_index(drop=True))
    # not a vacuous comparison: visit-level and institution-level rules both have findings there
    assert len(want) >= 30 and {"split_hospitalization", "duplicate_billing", "price_over_cap"} <= set(want.rule_id)


def test_region_dependent_rules_on_an_extract_only_miss_never_invent(extract_run, demo_run):
    ex, found = extract_run
    region = pd.read_parquet(demo_run / "findings.parquet")
    # peers may go either way; a qualifying diagnosis (or a delivery stay) outside the extract adds a finding
    cross = [r for r in REGION_DEPENDENT
             if r not in ("cost_share_outlier", "chronic_outpatient_without_diagnosis", "diagnosis_age_mismatch",
                          "out_of_area_concentration")]
    keys = lambda df: set(df[df.rule_id.isin(cross)][KEYS].astype(str).itertuples(index=False, name=None))  # noqa: E731
    got = keys(found)
    assert got and got <= keys(region)


def test_evaluation_on_an_extract_recalls_what_the_region_recalls(extract_run, demo_run, demo_data):
    from workbench.rules.evaluate import match_truth

    ex, found = extract_run
    truth_x, truth_r = read(ex, "truth"), read(demo_data, "truth")
    region = pd.read_parquet(demo_run / "findings.parquet")

    def recalled(findings, truth):
        pairs = match_truth(findings, truth)
        return set(truth.reset_index(drop=True).loc[pairs.truth_row, "case_id"] + "/" +
                   truth.reset_index(drop=True).loc[pairs.truth_row, "rule_id"])

    local = truth_x[~truth_x.rule_id.isin(list(REGION_DEPENDENT)) & truth_x.mdtrt_id.notna()]
    assert len(local) >= 15
    ids = set(local.case_id + "/" + local.rule_id)
    assert recalled(found, truth_x) & ids == recalled(region, truth_r) & ids == ids


# --- every analysis on an extract: stays ---------------------------------------------------------

@pytest.fixture(scope="module")
def stays_pair(demo_data, demo_extract):
    import workbench

    with workbench.open(demo_data) as r, workbench.open(demo_extract) as x:
        yield r, x


def test_readmission_pairs_of_the_extracts_institutions_are_those_of_the_region(stays_pair, demo_extract, tmp_path):
    from workbench import stays

    r, x = stays_pair
    chosen = set(datafolder.read_manifest(demo_extract)["source"]["institutions"])
    want = stays.readmission_pairs(r, 15)
    want = want[want.fixmedins_code.isin(chosen)].reset_index(drop=True)
    got = stays.readmission_pairs(x, 15)
    assert len(want) >= 10
    pd.testing.assert_frame_equal(got, want)
    out = tmp_path / "pairs.csv"
    assert cli.main(["stays", str(demo_extract), "--out", str(out)]) == 0
    csv = pd.read_csv(out, dtype=str)
    assert list(csv.second_mdtrt_id) == list(want.second_mdtrt_id)


def test_planted_splitting_hospitals_are_still_found_in_the_extract(stays_pair):
    from workbench import stays

    r, x = stays_pair
    planted = stays.planted_split_hospitals(x)
    assert planted == stays.planted_split_hospitals(r) and len(planted) == 2
    inst_r = stays.institution_patterns(r, 15).set_index("fixmedins_code")
    inst_x = stays.institution_patterns(x, 15).set_index("fixmedins_code")
    # their own figures are the region's ...
    cols = ["stays", "readmissions", "short_gap_readmissions", "short_gap_rate", "short_gap_share"]
    pd.testing.assert_frame_equal(inst_x.loc[planted, cols], inst_r.loc[planted, cols])
    # ... and on them alone they lead the extract: most readmitted within 1-3 days, most beyond expected
    for measure in ("short_gap_rate", "excess_short_gap"):
        assert set(inst_x[measure].nlargest(2).index) == set(planted), measure


def test_planted_splitting_hospitals_rank_top_in_the_extract(stays_pair):
    from workbench import stays

    r, x = stays_pair
    planted = stays.planted_split_hospitals(x)
    ranks = stays.institution_patterns(x, 15).set_index("fixmedins_code").split_rank[planted]
    assert ranks.max() <= len(planted), ranks.to_dict()


def test_a_cms_layout_folder_without_fee_lines_keeps_its_labels_of_the_kept_institutions(tmp_path):
    from pathlib import Path

    from workbench.importer import import_extract

    src = tmp_path / "cms"
    import_extract(Path(__file__).parent / "fixtures" / "cms", "cms", src)
    m = extract(src, tmp_path / "ex", institutions="PRV55912")
    assert "fee" not in m["tables"] and set(m["tables"]) >= {"psn", "medins", "dr", "mdtrt", "setl"}
    mdtrt = read(src, "mdtrt")
    assert list(read(tmp_path / "ex", "mdtrt").mdtrt_id) == list(mdtrt[mdtrt.fixmedins_code == "PRV55912"].mdtrt_id)
    labels = pd.read_parquet(tmp_path / "ex" / "cms_labels.parquet")
    assert labels.to_dict("records") == [{"fixmedins_code": "PRV55912", "potential_fraud": True}]
    assert m["source"]["provenance"]["cms_labels"]["rows"] == 1
    assert m["source"]["origin"] == {"format": "cms"}
