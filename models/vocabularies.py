"""Vocabularies: the names data systems give to the scenario's columns and values.

Header synonyms per table column, value labels per kind (program options, PFCE outcomes as the
Framework names them, yes/no variants, intensity, urgency, staff status, exception kinds), language
names and ISO 639-1/639-3 codes through ``langcodes`` (names in English, Spanish and many more
languages from its ``language_data`` package), and dates in a given order. The importer
(:mod:`famassign.models.importing`) and the everyday loader share them.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from datetime import date
from enum import StrEnum
from functools import lru_cache

import langcodes

from famassign.models.domain import (
    OUTCOME_TITLES,
    ExceptionKind,
    Intensity,
    Outcome,
    ProgramOption,
    StaffStatus,
)


def normalise_label(text: str) -> str:
    """`text` lower-cased, accents dropped, every run of other characters one ``_``.

    ``"Family ID"``, ``"family-id"`` and ``"FAMILY_ID"`` all give ``"family_id"``.
    """
    plain = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "_", plain.lower()).strip("_")


# --------------------------------------------------------------------------------------------
# Headers

HEADER_SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "families": {
        "family_id": (
            "family",
            "family_number",
            "family_no",
            "household_id",
            "household",
            "household_number",
            "hh_id",
            "case_id",
            "case_number",
        ),
        "language": (
            "primary_language",
            "home_language",
            "preferred_language",
            "family_language",
            "language_spoken_at_home",
            "lang",
        ),
        "site": ("site_name", "center", "center_name", "centre", "location", "service_area"),
        "program_option": ("option", "program_type", "program_model", "enrollment_option"),
        "urgency": ("urgency_level", "priority", "need_level", "family_assessment_level"),
        "intensity": ("service_intensity", "support_intensity", "support_level"),
        "needs": ("identified_needs", "needs_identified", "family_needs", "pfce_needs"),
        "interests": ("family_interests", "goals", "family_goals", "pfce_interests"),
        "disability_services": (
            "iep",
            "ifsp",
            "iep_ifsp",
            "has_iep",
            "has_ifsp",
            "iep_or_ifsp",
            "disability",
            "disability_services_needed",
        ),
        "external_plan_agency": ("partner_agency", "community_agency", "external_agency"),
        "current_staff_id": (
            "staff_id",
            "advocate_id",
            "family_advocate_id",
            "assigned_staff_id",
            "worker_id",
            "current_advocate_id",
        ),
        "pinned": ("keep_with_staff", "locked"),
        "family_name": (
            "parent_guardian_name",
            "parent_guardian",
            "parent_name",
            "guardian_name",
            "guardian",
            "primary_guardian",
            "primary_guardian_name",
            "head_of_household",
            "household_name",
            "family_last_name",
        ),
        "children": ("child_name", "child_names", "children_names", "childrens_names", "child"),
        "contact": (
            "primary_contact",
            "contact_phone",
            "phone",
            "phone_number",
            "primary_phone",
            "parent_phone",
            "guardian_phone",
            "telephone",
            "cell_phone",
        ),
    },
    "staff": {
        "staff_id": ("employee_id", "worker_id", "advocate_id", "staff_number", "employee_number"),
        "name": ("staff_name", "full_name", "advocate_name", "employee_name", "worker_name"),
        "fte": ("fte_share", "full_time_equivalent", "caseload_fte"),
        "languages": ("language", "languages_spoken", "spoken_languages", "staff_languages"),
        "sites": ("site", "sites_served", "centers", "centers_served", "locations", "site_name"),
        "program_options": ("options_served", "program_option", "program_types"),
        "strengths": ("pfce_strengths", "staff_strengths"),
        "disability_services": ("disability_trained", "disability_services_trained"),
        "agencies": ("partner_agencies", "community_agencies"),
        "status": ("employment_status", "staff_status"),
        "max_families": ("personal_cap", "caseload_cap", "max_caseload"),
    },
    "exceptions": {
        "exception_id": ("exception", "waiver_id"),
        "kind": ("exception_kind", "type"),
        "staff_id": ("employee_id", "advocate_id"),
        "max_families": ("cap", "relaxed_cap"),
        "starts": ("start", "start_date", "from"),
        "ends": ("end", "end_date", "to"),
        "reference": ("approval_reference", "waiver_reference"),
        "note": ("notes", "comment"),
    },
    "conflicts": {
        "family_id": ("household_id", "family"),
        "staff_id": ("employee_id", "advocate_id"),
        "reason": ("conflict_reason",),
    },
}
"""Normalised header names (see :func:`normalise_label`) per table and column, besides the column
name itself."""

CHILD_HEADERS = (
    "child_id",
    "child_name",
    "child",
    "child_number",
    "student_id",
    "child_first_name",
)
"""Headers that mark a one-row-per-child export."""

FUZZY_CUTOFF = 0.85
"""Least similarity (difflib ratio) for a fuzzy header match; every such match is reported."""


def _header_names(table: str, columns: tuple[str, ...]) -> dict[str, str]:
    names = {c: c for c in columns}
    for column, synonyms in HEADER_SYNONYMS.get(table, {}).items():
        if column in names:
            for synonym in synonyms:
                names.setdefault(synonym, column)
    return names


def match_header(
    table: str, header: str, columns: tuple[str, ...], *, fuzzy: bool = True
) -> tuple[str | None, str]:
    """The column a header names and how it was found.

    Parameters
    ----------
    table
        The logical table (families, staff, exceptions, conflicts).
    header
        The header as written in the file.
    columns
        The table's columns.
    fuzzy
        Whether a near miss (a typo) may match.

    Returns
    -------
    tuple
        (column or None, how): how is ``"name"`` (same name once normalised), ``"synonym"`` or
        ``"fuzzy"``; ``""`` when nothing matched.
    """
    key = normalise_label(header)
    if key in columns:
        return key, "name"
    names = _header_names(table, columns)
    if key in names:
        return names[key], "synonym"
    if fuzzy and key:
        close = difflib.get_close_matches(key, list(names), n=1, cutoff=FUZZY_CUTOFF)
        if close:
            return names[close[0]], "fuzzy"
    return None, ""


def suggest_column(table: str, header: str, columns: tuple[str, ...]) -> str | None:
    """The column a header most likely meant (for a "did you mean" hint), or None."""
    key = normalise_label(header)
    names = _header_names(table, columns)
    close = difflib.get_close_matches(key, list(names), n=1, cutoff=0.6)
    return names[close[0]] if close else None


# --------------------------------------------------------------------------------------------
# Languages

_NAME_LIKE = re.compile(r"[^\W\d_][^\d;,]*")


@lru_cache(maxsize=4096)
def language_code(text: str) -> str | None:
    """The language code of a language name or ISO 639-1/639-3 code; None when unknown.

    Two-letter codes are kept (lower-cased); a three-letter code becomes its two-letter code when
    one exists (``spa`` -> ``es``); a name in English, Spanish or another language known to
    ``language_data`` becomes its code (``Spanish``, ``español`` -> ``es``; ``Mandarin`` -> ``zh``).
    """
    value = text.strip()
    low = value.lower()
    if re.fullmatch(r"[a-z]{2}", low):
        return low
    if re.fullmatch(r"[a-z]{3}", low):
        if not langcodes.tag_is_valid(low):
            return None
        return str(langcodes.Language.get(low).prefer_macrolanguage().language)
    if not _NAME_LIKE.fullmatch(value):
        return None
    try:
        found = langcodes.find(value)
    except LookupError:
        return None
    code = found.prefer_macrolanguage().language
    return str(code) if code else None


# --------------------------------------------------------------------------------------------
# Values

_OUTCOME_LABELS: dict[str, str] = {
    "family_well_being": "well_being",
    "family_wellbeing": "well_being",
    "wellbeing": "well_being",
    "parent_child_relationships": "parent_child",
    "positive_parent_child_relationships": "parent_child",
    "lifelong_educators": "lifelong_educators",
    "learners": "learners",
    "family_engagement_in_transitions": "transitions",
    "engagement_in_transitions": "transitions",
    "family_connections_to_peers_and_community": "connections",
    "connections_to_peers_and_community": "connections",
    "families_as_advocates_and_leaders": "advocates_leaders",
    "advocates_and_leaders": "advocates_leaders",
}
for _outcome, _title in OUTCOME_TITLES.items():
    _OUTCOME_LABELS[normalise_label(_title)] = _outcome.value

VOCABULARIES: dict[str, dict[str, str]] = {
    "program_option": {
        "center": "center_based",
        "centre_based": "center_based",
        "center_based_option": "center_based",
        "cb": "center_based",
        "home": "home_based",
        "home_based_option": "home_based",
        "home_visiting": "home_based",
        "home_visitor": "home_based",
        "hb": "home_based",
        "fcc": "family_child_care",
        "family_child_care_option": "family_child_care",
        "family_childcare": "family_child_care",
        "locally_designed_option": "locally_designed",
        "locally_designed_variation": "locally_designed",
        "ldo": "locally_designed",
    },
    "outcome": _OUTCOME_LABELS,
    "bool": {
        "y": "true",
        "yes": "true",
        "si": "true",
        "true": "true",
        "t": "true",
        "1": "true",
        "x": "true",
        "checked": "true",
        "iep": "true",
        "ifsp": "true",
        "iep_ifsp": "true",
        "n": "false",
        "no": "false",
        "false": "false",
        "f": "false",
        "0": "false",
        "none": "false",
        "unchecked": "false",
    },
    "intensity": {
        "l": "low",
        "lo": "low",
        "m": "medium",
        "med": "medium",
        "moderate": "medium",
        "mid": "medium",
        "h": "high",
        "hi": "high",
        "intensive": "high",
        "1": "low",
        "2": "medium",
        "3": "high",
    },
    "urgency": {
        "urgent_need": "5",
        "urgent": "5",
        "crisis": "5",
        "support_needed": "4",
        "needs_support": "4",
        "secure": "3",
        "stable": "3",
        "self_sufficient": "2",
        "self_sufficiency": "2",
        "thriving": "1",
    },
    "status": {
        "on_leave": "absent",
        "leave": "absent",
        "away": "absent",
        "inactive": "departed",
        "terminated": "departed",
        "separated": "departed",
        "left": "departed",
        "resigned": "departed",
    },
    "exception_kind": {
        "absence": "staff_absence",
        "attrition": "staff_attrition",
        "startup": "start_up",
        "emergency": "emergency_response",
    },
}
"""Value labels (normalised) per kind, besides the codes themselves."""

_CODES: dict[str, type[StrEnum]] = {
    "program_option": ProgramOption,
    "outcome": Outcome,
    "intensity": Intensity,
    "status": StaffStatus,
    "exception_kind": ExceptionKind,
}

COLUMN_VOCABULARY: dict[tuple[str, str], str] = {
    ("families", "language"): "language",
    ("families", "program_option"): "program_option",
    ("families", "urgency"): "urgency",
    ("families", "intensity"): "intensity",
    ("families", "needs"): "outcome",
    ("families", "interests"): "outcome",
    ("families", "disability_services"): "bool",
    ("families", "pinned"): "bool",
    ("staff", "languages"): "language",
    ("staff", "program_options"): "program_option",
    ("staff", "strengths"): "outcome",
    ("staff", "disability_services"): "bool",
    ("staff", "status"): "status",
    ("exceptions", "kind"): "exception_kind",
}
"""Which vocabulary the values of a column are mapped through."""


def is_code(vocabulary: str, text: str) -> bool:
    """Whether `text` is already a value the scenario format takes for `vocabulary`."""
    low = text.strip().lower()
    if vocabulary == "language":
        return bool(re.fullmatch(r"[a-z]{2}", low))
    if vocabulary == "bool":
        return low in ("true", "false", "yes", "no", "1", "0")
    if vocabulary == "urgency":
        return low in ("1", "2", "3", "4", "5")
    if vocabulary == "intensity" and low in ("1", "2", "3"):
        return True
    codes = _CODES.get(vocabulary)
    return codes is not None and low in {c.value for c in codes}


def translate(vocabulary: str, text: str) -> str | None:
    """The code a label stands for in `vocabulary`, or None when the label is unknown."""
    if is_code(vocabulary, text):
        return text.strip().lower()
    if vocabulary == "language":
        return language_code(text)
    key = normalise_label(text)
    codes = _CODES.get(vocabulary)
    if codes is not None and key in {c.value for c in codes}:
        return key
    if vocabulary == "outcome" and key.startswith("families_as_"):
        key = key.removeprefix("families_as_")
    found = VOCABULARIES.get(vocabulary, {}).get(key)
    if found is None and vocabulary == "urgency" and re.fullmatch(r"[1-5](\.0+)?", key):
        found = key[0]
    return found


# --------------------------------------------------------------------------------------------
# Dates

DATE_ORDERS = ("YMD", "MDY", "DMY")
"""The date orders a mapping may set."""

_DATE_PARTS = re.compile(r"(\d{1,4})[-/.](\d{1,2})[-/.](\d{1,4})")


def parse_date(text: str, order: str) -> date | None:
    """`text` as a date written in `order` (``MDY``: 08/17/2026), or None when it is not one.

    ISO dates (2026-08-17) are read whatever the order; a two-digit year is not accepted.
    """
    match = _DATE_PARTS.fullmatch(text.strip().split(" ")[0].split("T")[0])
    if not match:
        return None
    a, b, c = match.groups()
    if len(a) == 4:
        year, month, day = a, b, c
    elif len(c) != 4 or order == "YMD":
        return None
    elif order == "DMY":
        day, month, year = a, b, c
    else:
        month, day, year = a, b, c
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def date_orders_fitting(texts: list[str]) -> list[str]:
    """The orders (of :data:`DATE_ORDERS`) under which every text in `texts` is a date."""
    return [o for o in DATE_ORDERS if all(parse_date(t, o) is not None for t in texts)]


__all__ = [
    "CHILD_HEADERS",
    "COLUMN_VOCABULARY",
    "DATE_ORDERS",
    "HEADER_SYNONYMS",
    "VOCABULARIES",
    "date_orders_fitting",
    "is_code",
    "language_code",
    "match_header",
    "normalise_label",
    "parse_date",
    "suggest_column",
    "translate",
]
