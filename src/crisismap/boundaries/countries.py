"""Country codes: ISO 3166-1 alpha-3 from alpha-2, Natural Earth codes or country names.

Natural Earth admin-0 units (``adm0_a3``) that are not ISO 3166-1 countries are mapped to
the ISO 3166-1 alpha-3 of the country ISO 3166 includes them in. Kosovo has no ISO code:
``XKX`` is the user-assigned code the EU and the World Bank use. Disputed areas that ISO
3166 assigns to nobody keep Natural Earth's own code (NE_DISPUTED).
"""

from __future__ import annotations

from collections.abc import Iterable

from crisismap.errors import BoundaryError
from crisismap.i18n import _


def _pycountry():
    """pycountry, imported on first use (its import reads a large JSON table)."""
    import pycountry

    return pycountry


NE_ADM0_TO_ISO3: dict[str, str] = {
    "ALD": "ALA",  # Aland
    "SDS": "SSD",  # South Sudan (older Natural Earth code)
    "PSX": "PSE",  # Gaza Strip and West Bank
    "SAH": "ESH",  # Western Sahara
    "KOS": "XKX",  # Kosovo (user-assigned code)
    "SOL": "SOM",  # Somaliland
    "CYN": "CYP",  # Northern Cyprus
    "ESB": "GBR",  # Dhekelia Sovereign Base Area
    "WSB": "GBR",  # Akrotiri Sovereign Base Area
    "CLP": "FRA",  # Clipperton Island (ISO 3166-2 FR-CP)
    "CSI": "AUS",  # Coral Sea Islands
    "ATC": "AUS",  # Ashmore and Cartier Islands
    "IOA": "AUS",  # Indian Ocean Territories (per region: CXR, CCK)
    "USG": "CUB",  # Guantanamo Bay naval base (leased; ISO 3166 includes it in Cuba)
    "KAB": "KAZ",  # Baikonur lease
}
NE_DISPUTED: dict[str, str] = {
    "KAS": "Siachen Glacier",
    "PGA": "Spratly Islands",
    "SCR": "Scarborough Reef",
    "BJN": "Bajo Nuevo Bank",
    "SER": "Serranilla Bank",
}
# Natural Earth admin-0 units without an ISO code of their own, by name: the country they are in.
NE_UNITS_IN_ISO3 = {"n. cyprus": "CYP", "northern cyprus": "CYP", "somaliland": "SOM"}


def to_iso3(value: str) -> str | None:
    """ISO 3166-1 alpha-3 for an alpha-3, alpha-2 or Natural Earth code; else the code as given."""
    code = str(value).strip().upper()
    if not code or code in ("-99", "-1"):
        return None
    if code in NE_ADM0_TO_ISO3:
        return NE_ADM0_TO_ISO3[code]
    if len(code) == 2 and (country := _pycountry().countries.get(alpha_2=code)):
        return country.alpha_3
    return code


def iso3_from_name(name: str) -> str | None:
    """ISO 3166-1 alpha-3 for a country name pycountry knows (and Kosovo), else None."""
    if name.strip().lower() == "kosovo":
        return "XKX"
    try:
        return _pycountry().countries.lookup(name).alpha_3
    except LookupError:
        return None


def country_list(codes: Iterable[str], known: Iterable[str]) -> list[str]:
    """The requested countries as alpha-3, each checked against the ``known`` codes."""
    known_set = set(known)
    wanted = []
    for raw in codes:
        code = str(raw).strip().upper()
        if not code:
            continue
        if len(code) == 2 and (c := _pycountry().countries.get(alpha_2=code)):
            code = c.alpha_3
        if code not in known_set:
            example = ", ".join(sorted(known_set)[:5])
            raise BoundaryError(
                _(
                    "Unknown country code {raw!r}: expected an ISO 3166-1 alpha-3 code "
                    "present in the boundaries (e.g. {example}); UKR is Ukraine, SDN "
                    "Sudan."
                ).format(raw=raw, example=example)
            )
        if code not in wanted:
            wanted.append(code)
    if not wanted:
        raise BoundaryError(_("No country code given: write e.g. 'world:UKR' or 'world:UKR,SDN'."))
    return wanted
