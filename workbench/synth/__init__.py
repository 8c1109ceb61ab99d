"""Synthetic regions with planted violations (``workbench synth``).

A believable city (or province) of insured persons, designated institutions, doctors and
pharmacies, a year of visits, settlements, itemised charges and drug ledgers, with every
scenario of ``docs/rules-spec.md`` planted at low prevalence and recorded in ``truth.parquet``.
See ``docs/synth.md``.

>>> from workbench.synth import synthesize
>>> manifest = synthesize("demo-data", scale="demo", seed=2024, progress=False)  # doctest: +SKIP
"""
from __future__ import annotations

from .cli import cli_synth  # noqa: F401  (workbench synth; declared in synth.cli)
from .generate import GENERATOR_VERSION, synthesize
from .scales import SCALES, Scale


__all__ = ["synthesize", "cli_synth", "SCALES", "Scale", "GENERATOR_VERSION"]
