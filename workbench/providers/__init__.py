"""Provider profiles, peer groups and clustering: who is an outlier among comparable providers, and why.

Public API
----------
ProviderAnalysis(session, params=None, seed=2024, engine="duckdb", findings=None): the common analysis
    protocol; .result -> ProviderProfiles, .evaluate(truth=None) -> DataFrame (metric, key, value)
profile_providers(data, findings=None, seed=2024, ..., engine="duckdb") -> ProviderProfiles
institution_profiles(session, engine="duckdb", **params) / doctor_profiles(...) -> DataFrame (SQL;
    engine "spark" runs the same SQL on Spark and gives the same frame)
assign_peer_groups(frame, by, min_size), standardise(frame, columns), robust_z(values, reference)
RobustZDetector, IsolationForestDetector, LOFDetector, EnsembleDetector, default_ensemble
reasons_text(values, medians, z, lang)
evaluate(profile_result, truth=None) -> dict; evaluation_frame(dict) -> DataFrame
cli_providers(args): ``workbench providers DATA --out FILE.csv [--engine duckdb|spark]``

See ``docs/providers.md``.
"""
from .analysis import (LEAD_COLUMNS, MEASURE_COLUMNS, TRAIL_COLUMNS, ProviderAnalysis, ProviderProfiles,  # noqa: F401
                       profile_providers)
from .cli import cli_providers  # noqa: F401
from .detectors import (EnsembleDetector, IsolationForestDetector, LOFDetector, RobustZDetector,  # noqa: F401
                        default_ensemble, rank_normalise)
from .evaluate import EVALUATION_COLUMNS, evaluate, evaluation_frame, find_labels, read_labels  # noqa: F401
from .measures import MEASURES, SCORED, Measure, chronic_categories, measure  # noqa: F401
from .peers import PEER_KEYS, assign_peer_groups, robust_z, standardise  # noqa: F401
from .profiles import add_findings_measures, doctor_profiles, institution_profiles, read_findings  # noqa: F401
from .reasons import reasons_text  # noqa: F401
