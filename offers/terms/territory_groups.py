"""The named territory groups an offer may use instead of listing countries one by one.

Every group is defined here and nowhere else. Members are ISO 3166-1 alpha-2 codes.

- LATIN_AMERICA: the Spanish- and Portuguese-speaking countries of the Americas, Puerto Rico included,
  plus Haiti (the usual cultural definition). French overseas departments (GF, GP, MQ) are France.
- NORTH_AMERICA: the film trade's meaning, "the United States and Canada, with their territories and
  possessions" (so Puerto Rico is in both this group and LATIN_AMERICA); not Mexico.
- EUROPE: the UN M49 region Europe, plus Cyprus (so that the EU is inside Europe).
- EU: the 27 member states of the European Union.
- WORLDWIDE: every officially assigned ISO 3166-1 code.
"""

from __future__ import annotations

import pycountry


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


LATIN_AMERICA = _codes("AR BO BR CL CO CR CU DO EC SV GT HN MX NI PA PY PE PR UY VE HT")
NORTH_AMERICA = _codes("US CA PR VI GU AS MP UM")
EU = _codes("AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE")
EUROPE = _codes(
    "BY BG CZ HU MD PL RO RU SK UA "  # Eastern Europe
    "AX DK EE FO FI GG IS IE IM JE LV LT NO SJ SE GB "  # Northern Europe
    "AL AD BA HR GI GR VA IT MT ME MK PT SM RS SI ES "  # Southern Europe
    "AT BE FR DE LI LU MC NL CH "  # Western Europe
    "CY"
)
WORLDWIDE = frozenset(country.alpha_2 for country in pycountry.countries)

TERRITORY_GROUPS: dict[str, frozenset[str]] = {
    "WORLDWIDE": WORLDWIDE,
    "LATIN_AMERICA": LATIN_AMERICA,
    "EUROPE": EUROPE,
    "NORTH_AMERICA": NORTH_AMERICA,
    "EU": EU,
}
