"""Money: integers in minor units plus an ISO 4217 currency (docs/architecture.md, invariant 5).

The one table of minor-unit exponents and the one formatter. Every page, the terms, the deal memo, the
payment pages and the emails format amounts through ``format_money``: 430000 EUR -> "EUR 4,300.00"
(en), "EUR 4 300,00" (es and fr, grouped by a narrow space); the order of code and amount comes from the
catalogue ("%(currency)s %(amount)s"), so a language may change it.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.formats import number_format
from django.utils.translation import gettext

# ISO 4217 minor-unit exponents that are not 2 (ISO 4217 list one, 2024 edition).
_EXPONENTS = {
    code: exponent
    for codes, exponent in (
        ("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF", 0),
        ("BHD IQD JOD KWD LYD OMR TND", 3),
        ("CLF UYW", 4),
    )
    for code in codes.split()
}

# ISO 4217 codes that are no money one can pay in: metals, bond-market units, SDR, testing.
NOT_PAYABLE = frozenset("XAG XAU XPD XPT XBA XBB XBC XBD XDR XSU XUA XAD XTS XXX".split())  # noqa: SIM905

MINUS = "\u2212"


def currency_exponent(currency: str) -> int:
    """Digits after the decimal point: EUR 2, JPY 0, KWD 3, CLF 4."""
    return _EXPONENTS.get(currency, 2)


def minor_to_major(amount_minor: int, currency: str) -> Decimal:
    """Exact: 430000 EUR -> Decimal("4300.00")."""
    return Decimal(amount_minor).scaleb(-currency_exponent(currency))


def major_to_minor(amount: Decimal, currency: str) -> int:
    """Exact, or ValueError when ``amount`` has more digits than the currency's minor unit."""
    scaled = amount.scaleb(currency_exponent(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} {currency} has more decimals than the currency allows.")
    return int(scaled)


def format_money(amount_minor: int, currency: str) -> str:
    """The amount as the reader's language writes it; a negative amount (a credit) reads "−EUR 12.50"."""
    digits = currency_exponent(currency)
    major = Decimal(abs(amount_minor)).scaleb(-digits)
    amount = number_format(major, decimal_pos=digits, use_l10n=True, force_grouping=True)
    text = gettext("%(currency)s %(amount)s") % {"currency": currency, "amount": amount}
    return f"{MINUS}{text}" if amount_minor < 0 else text
