"""Split hospitalization (分解住院): a region's inpatient stays on a timeline.

Modules, each importing only those before it: ``episodes`` (the stay sequence, pairs, a
person's stays, a stay's bill; SQL in ``sql/``) < ``patterns`` (institutions against their
peers) < ``analysis`` (:class:`StayAnalysis`) < ``cli`` (``workbench stays``). This façade
exports what widgets, notebooks and scripts use.

Heavy work is SQL over the session's views (``workbench/stays/sql/*.sql``); Python only works on
reduced results (one row per institution, one row per gap).

* :func:`episodes`: every inpatient stay (``med_type '21'``) with the person's sex and age, the
  institution and its peer group, dates, length of stay, diagnosis and category, net bill and
  fund share, and the gap to the person's previous stay at the same institution and at any
  (previous: of the stays admitted before it, the one discharged last).
* :func:`readmission_pairs`: consecutive stays of one person at one institution with
  ``0 <= gap <= window_days`` — the findings of rule ``split_hospitalization`` with
  ``same_diagnosis=false`` (``workbench stays`` writes them as CSV).
* :func:`institution_patterns`: one row per institution: readmission gaps against its peer
  group, a split signature with a robust z-score, a readmission rate adjusted for age and
  diagnosis mix, stays just under a cost or day limit, and a rank.
* :class:`StayAnalysis`: those results for one session and one set of parameters, computed once,
  plus a person's stays, a stay's bill and an institution's gap profile (what the widgets show).

Definitions (``docs/rules-spec.md``): gap = ``date(second.begntime) - date(first.endtime)`` in
days (0 = readmitted on the day of discharge, negative = overlap); age = whole years from
``brdy`` to the admission date; diagnosis category = the first three characters of
``dise_codg`` (ICD-10 ``I50``, or ICD-9 ``428`` from CMS imports); ``los_days`` = discharge date
minus admission date (住院天数, 0 for a same-day stay), ``stay_days`` = calendar days inclusive.
"""
from ..stats import robust_z  # noqa: F401  (stays.robust_z: the one robust z)
from .analysis import EVAL_COLUMNS, SPLIT_SCENARIO, StayAnalysis  # noqa: F401
from .cli import cli_stays, write_pairs_csv  # noqa: F401
from .episodes import (BILL_COLUMNS, EPISODES_TABLE, PAIR_COLUMNS, SQL_DIR, _episodes_sql,  # noqa: F401
                       ensure_episodes, episodes, gap_counts, person_stays, readmission_pairs,
                       readmission_pairs_spark, stay_bill)
from .patterns import (DEFAULT_AGE_BANDS, institution_gap_profile, institution_patterns,  # noqa: F401
                       planted_split_hospitals, readmission_summary, split_surprise)
