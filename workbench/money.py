"""Money: yuan as exact Decimal, integer fen, 万元; a missing amount stays None.

Two ways to read yuan as fen, named for what they mean:

- :func:`to_fen` — an amount that is recorded (a fine, money recovered, a case's amount): exact,
  at most 2 decimals, not negative, within the contract's ``DECIMAL(18,2)``, never a float;
- :func:`to_fen_at_least` — a lower bound given by a person (a queue's minimum): rounded up to
  whole fen, so ``amount >= 0.051`` holds exactly for amounts of at least 6 fen.

Both raise ``error`` (a :class:`~workbench.errors.WorkbenchError`; the cases pass
:class:`~workbench.errors.CaseError`) naming ``what`` and the value.
"""
from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, InvalidOperation

from .errors import WorkbenchError

CENT = Decimal("0.01")
MONEY_LIMIT = Decimal("1e16")  # yuan: DECIMAL(18,2) holds 16 digits before the point


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _decimal(value, what: str, error) -> Decimal:
    try:
        d = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise error(f"{what}: {value!r} is not an amount of yuan") from None
    return d


def to_fen(value, what: str = "amount", error=WorkbenchError):
    """Yuan (text, int or Decimal; at most 2 decimals, not negative) as integer fen.

    Parameters
    ----------
    value : str, int, Decimal or None
        ``"1,000.50"`` and ``Decimal("1000.5")`` alike; None or blank text stays None.
    what : str
        Named in the error.
    error : type
        The exception raised for a bad value.

    Returns
    -------
    int or None
    """
    if _blank(value):
        return None
    if isinstance(value, float):
        raise error(f"{what}: give money as text or Decimal, not the float {value!r}")
    d = _decimal(value, what, error)
    if not d.is_finite() or d < 0:
        raise error(f"{what}: {value!r} must be a finite amount of yuan, not negative")
    if d >= MONEY_LIMIT:  # the contract's money is DECIMAL(18,2); the trail keeps 64-bit fen
        raise error(f"{what}: {value!r} is out of range: at most {MONEY_LIMIT - CENT:,} yuan "
                    "(16 digits before the point, 2 after)")
    fen = d * 100
    if fen != fen.to_integral_value():
        raise error(f"{what}: {value!r} has more than 2 decimals (fen)")
    return int(fen)


def to_fen_at_least(value, what: str = "minimum amount", error=WorkbenchError):
    """A lower bound in yuan (text, number or Decimal) as integer fen, rounded up; None or blank
    stays None (see the module)."""
    if _blank(value):
        return None
    d = _decimal(value, what, error)
    if not d.is_finite():
        raise error(f"{what}: {value!r} is not an amount of yuan")
    return int((d * 100).to_integral_value(rounding=ROUND_CEILING))


def yuan(fen):
    """Integer fen as exact yuan (``Decimal('12.34')``); None stays None."""
    return None if fen is None else (Decimal(int(fen)) / 100).quantize(CENT)


def wan(value) -> Decimal:
    """Yuan as 万元, rounded half up to 2 decimals (``Decimal('61260000')`` → ``Decimal('6126.00')``)."""
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    return (d / 10000).quantize(CENT, rounding=ROUND_HALF_UP)
