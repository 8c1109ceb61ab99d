"""Synthetic regions with planted violations (``workbench synth``).

A believable city (or province) of insured persons, designated institutions, doctors and
pharmacies, a year of visits, settlements, itemised charges and drug ledgers, with every
scenario of ``docs/rules-spec.md`` planted at low prevalence and recorded in ``truth.parquet``.
See ``docs/synth.md``.

>>> from workbench.synth import synthesize
>>> manifest = synthesize("demo-data", scale="demo", seed=2024, progress=False)  # doctest: +SKIP
"""
from __future__ import annotations

from .generate import GENERATOR_VERSION, synthesize
from .scales import SCALES, Scale


def cli_synth(args) -> int:
    """``workbench synth --scale … --seed … --out DATA [--no-progress] [--force]``."""
    manifest = synthesize(args.out, scale=args.scale, seed=args.seed, progress=not args.no_progress,
                          force=getattr(args, "force", False))
    t = manifest["tables"]
    truth = t.get("truth", {}).get("rows", 0)
    print(f"synthetic {args.scale} region (seed {args.seed}) in {args.out}: "
          f"{t['psn']['rows']:,} persons, {t['mdtrt']['rows']:,} visits, {t['fee']['rows']:,} fee lines, "
          f"{truth:,} planted case rows")
    return 0


__all__ = ["synthesize", "cli_synth", "SCALES", "Scale", "GENERATOR_VERSION"]
