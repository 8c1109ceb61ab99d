"""The sizes the generator makes: ``demo``, ``city``, ``province`` (and ``tiny`` for tests)."""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import WorkbenchError


@dataclass(frozen=True)
class Scale:
    """One size of synthetic region.

    Attributes
    ----------
    persons : int
        Insured persons (before duplicate enrolments are added).
    cities : tuple of str
        4-digit city codes (``counties.csv``).
    counties : tuple of str or None
        6-digit county codes to use; None = every county of the cities.
    chunk_persons : int
        Most persons generated (and held in memory) at once; a county is split into blocks.
    case_factor, actor_factor : float
        Multipliers of the demo counts of planted cases: visit- and person-level scenarios, and
        institution- and doctor-level scenarios.
    fee_parts : bool
        Write ``fee/`` as a folder of Parquet parts (one per chunk) instead of one file.
    """

    name: str
    persons: int
    cities: tuple
    counties: tuple | None
    chunk_persons: int
    case_factor: float
    actor_factor: float
    fee_parts: bool


SCALES = {
    "tiny": Scale("tiny", 6_000, ("3708",), ("370811", "370812", "370881"), 6_000, 0.5, 1, False),
    "demo": Scale("demo", 20_000, ("3708",), ("370811", "370812", "370881", "370883", "370829", "370826"), 20_000, 1, 1, False),
    "city": Scale("city", 1_000_000, ("3708",), None, 50_000, 6, 3, True),
    "province": Scale("province", 10_000_000, ("3708", "3701", "3703", "3709", "3713", "3717"), None, 60_000, 30, 10, True),
}


def get_scale(scale) -> Scale:
    """The :class:`Scale` called ``scale`` (or ``scale`` itself)."""
    if isinstance(scale, Scale):
        return scale
    try:
        return SCALES[scale]
    except KeyError:
        raise WorkbenchError(f"unknown scale {scale!r}; choose one of {', '.join(s for s in SCALES if s != 'tiny')}") from None
