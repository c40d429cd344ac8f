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
from dataclasses import dataclass
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
        "urgency": (
            "urgency_level",
            "priority",
            "need_level",
            "family_assessment_level",
            "assessment_level",
            "family_status",
            "matrix_level",
        ),
        "intensity": ("service_intensity", "support_intensity", "support_level"),
        "needs": (
            "identified_needs",
            "needs_identified",
            "family_needs",
            "pfce_needs",
            "needs_categories",
            "need_categories",
            "family_need_areas",
        ),
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
        "external_plan_agency": (
            "partner_agency",
            "community_agency",
            "external_agency",
            "plan_with_other_agency",
            "other_agency_plan",
            "other_agency",
            "plan_with_another_agency",
            "has_other_agency_plan",
        ),
        "current_staff_id": (
            "staff_id",
            "advocate_id",
            "family_advocate_id",
            "assigned_staff_id",
            "worker_id",
            "current_advocate_id",
            "advocate",
            "family_advocate",
            "current_advocate",
            "assigned_advocate",
            "advocate_name",
            "family_advocate_name",
            "home_visitor",
            "assigned_staff",
            "caseworker",
            "case_manager",
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
        "sites": (
            "site",
            "sites_served",
            "sites_covered",
            "centers",
            "centers_served",
            "centers_covered",
            "locations",
            "site_name",
        ),
        "program_options": ("options_served", "program_option", "program_types"),
        "strengths": ("pfce_strengths", "staff_strengths", "specialties", "areas_of_expertise"),
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

URGENCY_SCALES: dict[str, tuple[str, ...]] = {
    "famassign": ("Urgent Need", "Support Needed", "Secure", "Self-Sufficient", "Thriving"),
    "Family Development Matrix": ("In Crisis", "At Risk", "Safe", "Stable", "Thriving"),
    "crisis to thriving": ("Crisis", "Vulnerable", "Safe", "Stable", "Thriving"),
    "crisis to thriving, four steps": ("Crisis", "At Risk", "Stable", "Thriving"),
    "high to low need": ("High Need", "Moderate Need", "Low Need"),
}
"""Family-assessment urgency scales as programs write them, most urgent first. A step is read by
its position: on an n-step scale, step i (0 = most urgent) is urgency ``5 - round(4 i / (n - 1))``
(famassign's 5 urgent need .. 1 thriving), so Stable on a five-step crisis..thriving scale is 2.
The scales agree wherever they share a label."""

INTENSITY_SCALES: dict[str, tuple[str, ...]] = {
    "famassign": ("High", "Medium", "Low"),
    "intensive to light": ("Intensive", "Moderate", "Light"),
    "intensive to minimal": ("Intensive", "Moderate", "Minimal"),
    "tiers": ("Tier 3", "Tier 2", "Tier 1"),
    "levels": ("Level 3", "Level 2", "Level 1"),
    "multi-tiered": ("Intensive", "Targeted", "Universal"),
}
"""Service-intensity scales, most intensive first; step i of n is high, medium, low by position
(``high`` for the first third, ``low`` for the last)."""

NUMERIC_URGENCY_DIRECTION = "higher is more urgent"
"""How a numeric urgency column is read (a guess, always said): 1-5 as famassign's own codes
(5 urgent need), 1-10 binned in pairs (9-10 -> 5, 7-8 -> 4, ... 1-2 -> 1). A program whose scale
runs the other way maps the numbers under ``values.urgency``."""


def _scale_steps(scales: dict[str, tuple[str, ...]], codes: tuple[str, ...]) -> dict[str, str]:
    steps: dict[str, str] = {}
    top = len(codes) - 1
    for labels in scales.values():
        for i, label in enumerate(labels):
            code = codes[round(top * i / (len(labels) - 1))]
            assert steps.setdefault(normalise_label(label), code) == code, label
    return steps


URGENCY_STEPS = _scale_steps(URGENCY_SCALES, ("5", "4", "3", "2", "1"))
"""Normalised label -> urgency code, over every scale of :data:`URGENCY_SCALES`."""
INTENSITY_STEPS = _scale_steps(INTENSITY_SCALES, ("high", "medium", "low"))
"""Normalised label -> intensity code, over every scale of :data:`INTENSITY_SCALES`."""


NUMERIC_URGENCY_SCALE = "1-10"
"""The name :func:`urgency_scale_of` gives a column of numbers above 5 (none above 10)."""


def urgency_scale_of(labels: list[str]) -> str | None:
    """The name of the scale in :data:`URGENCY_SCALES` holding the most of `labels`, or
    :data:`NUMERIC_URGENCY_SCALE` for whole numbers up to 10, some above 5 (None: neither)."""
    if labels and all(x.strip().isdigit() for x in labels):
        top = max(int(x) for x in labels)
        return NUMERIC_URGENCY_SCALE if 5 < top <= 10 else None
    keys = {normalise_label(label) for label in labels}
    best = max(
        URGENCY_SCALES.items(),
        key=lambda item: len(keys & {normalise_label(x) for x in item[1]}),
    )
    return best[0] if keys & {normalise_label(x) for x in best[1]} else None


NEED_CATEGORIES: dict[str, str] = {
    "housing": "well_being",
    "homelessness": "well_being",
    "shelter": "well_being",
    "employment": "well_being",
    "job": "well_being",
    "income": "well_being",
    "financial": "well_being",
    "financial_literacy": "well_being",
    "food": "well_being",
    "food_security": "well_being",
    "nutrition": "well_being",
    "health": "well_being",
    "medical": "well_being",
    "dental": "well_being",
    "health_insurance": "well_being",
    "mental_health": "well_being",
    "substance_use": "well_being",
    "substance_abuse": "well_being",
    "safety": "well_being",
    "domestic_violence": "well_being",
    "legal": "well_being",
    "immigration": "well_being",
    "child_care": "well_being",
    "childcare": "well_being",
    "transportation": "well_being",
    "utilities": "well_being",
    "clothing": "well_being",
    "education": "learners",
    "adult_education": "learners",
    "esl": "learners",
    "english_classes": "learners",
    "ged": "learners",
    "job_training": "learners",
    "parenting": "parent_child",
    "parenting_skills": "parent_child",
    "child_development": "lifelong_educators",
    "school_readiness": "lifelong_educators",
    "literacy": "lifelong_educators",
    "transition_to_kindergarten": "transitions",
    "kindergarten_transition": "transitions",
    "transitions": "transitions",
    "social_support": "connections",
    "isolation": "connections",
    "community_resources": "connections",
    "leadership": "advocates_leaders",
    "advocacy": "advocates_leaders",
    "policy_council": "advocates_leaders",
}
"""Concrete need categories as programs record them (normalised) -> the PFCE outcome they are
counted under by default. The label as written is kept in the mapping (``values.outcome``), where
the manager may map it to another outcome; staff strengths written either way then match."""

ALL_WORDS = frozenset(
    {
        "all",
        "any",
        "all_sites",
        "any_site",
        "every_site",
        "all_centers",
        "all_centres",
        "all_locations",
        "all_options",
        "any_option",
        "agency_wide",
        "program_wide",
    }
)
"""Words meaning "every one" in a staff member's sites or program options (normalised)."""

LIST_SEPARATORS = (";", "|", "\n", "/", ",")
"""The separators a list column may use, in the order a tie is settled."""

OPTION_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("family_child_care", "family_child_care"),
    ("fcc", "family_child_care"),
    ("child_care_home", "family_child_care"),
    ("home", "home_based"),
    ("locally", "locally_designed"),
    ("combination", "locally_designed"),
    ("center", "center_based"),
    ("centre", "center_based"),
    ("classroom", "center_based"),
    ("full_day", "center_based"),
    ("part_day", "center_based"),
)
"""Words within a program-option label and the option they suggest (a guess, first match wins):
``Center-Based Full Day`` is center_based."""

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
        **INTENSITY_STEPS,
        "l": "low",
        "lo": "low",
        "m": "medium",
        "med": "medium",
        "mid": "medium",
        "h": "high",
        "hi": "high",
    },
    "urgency": {
        **URGENCY_STEPS,
        "urgent": "5",
        "needs_support": "4",
        "self_sufficiency": "2",
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
    if found is None and vocabulary == "outcome":
        found = NEED_CATEGORIES.get(key)
    if found is None and vocabulary == "urgency" and re.fullmatch(r"[1-5](\.0+)?", key):
        found = key[0]
    return found


TO_CONFIRM = ("near miss", "guess")
"""The ways of reading a label (``how``) that the manager is asked to confirm."""


@dataclass(frozen=True)
class LabelMatch:
    """How a label was read: its code, how it was found and why.

    `how` is ``exact`` (the code itself), ``synonym`` (a known name: a vocabulary entry, a language
    name, a need category of :data:`NEED_CATEGORIES`), ``near miss`` (a typo of a known name) or
    ``guess`` (a rule: a step of a scale read by its position, a number binned, a word within the
    label); near misses and guesses are for the manager to confirm.
    """

    code: str
    how: str
    reason: str = ""

    @property
    def to_confirm(self) -> bool:
        """Whether the manager should confirm this reading (a near miss or a guess)."""
        return self.how in TO_CONFIRM


def _scale_reason(scales: dict[str, tuple[str, ...]], key: str, scale: str | None) -> str:
    ordered = sorted(scales.items(), key=lambda item: item[0] != scale)
    for name, labels in ordered:
        keys = [normalise_label(x) for x in labels]
        if key in keys and name != "famassign":
            return f"step {keys.index(key) + 1} of {len(keys)} on the {name} scale"
    return ""


def read_label(vocabulary: str, text: str, scale: str | None = None) -> LabelMatch | None:
    """The reading of a label in `vocabulary`, or None when no candidate is found at all.

    Parameters
    ----------
    vocabulary
        A vocabulary of :data:`COLUMN_VOCABULARY` (language, program_option, outcome, ...).
    text
        The label as written.
    scale
        The scale the column was found to use (:func:`urgency_scale_of`), named in the reason;
        :data:`NUMERIC_URGENCY_SCALE` bins every number of the column, 1-5 included.

    Returns
    -------
    LabelMatch or None
        See :class:`LabelMatch`; a scale step other than famassign's own, a number of a 1-10
        urgency scale, a program-option keyword (:data:`OPTION_KEYWORDS`) and a near miss are
        marked to be confirmed.
    """
    key = normalise_label(text)
    ten = scale == NUMERIC_URGENCY_SCALE and vocabulary == "urgency"
    if is_code(vocabulary, text) and not ten:
        return LabelMatch(text.strip().lower(), "exact")
    if ten and re.fullmatch(r"([1-9]|10)(\.0+)?", key.replace("_", ".")):
        number = int(key.split("_")[0])
        return LabelMatch(
            str((number + 1) // 2), "guess", f"{number} of 1-10, {NUMERIC_URGENCY_DIRECTION}"
        )
    code = translate(vocabulary, text)
    if code is not None:
        scales = {"urgency": URGENCY_SCALES, "intensity": INTENSITY_SCALES}.get(vocabulary)
        reason = _scale_reason(scales, key, scale) if scales else ""
        if reason:
            return LabelMatch(code, "guess", reason)
        if vocabulary == "outcome" and key in NEED_CATEGORIES:
            return LabelMatch(code, "synonym", "need category (default table)")
        return LabelMatch(code, "synonym")
    if vocabulary == "program_option":
        for word, option in OPTION_KEYWORDS:
            if word in key:
                return LabelMatch(option, "guess", f"the label holds {word!r}")
    names = _label_names(vocabulary)
    close = difflib.get_close_matches(key, list(names), n=1, cutoff=FUZZY_CUTOFF)
    if close:
        return LabelMatch(names[close[0]], "near miss", f"close to {close[0]!r}")
    return None


def _label_names(vocabulary: str) -> dict[str, str]:
    """Normalised label -> code over a vocabulary's names and codes (languages: their names)."""
    if vocabulary == "language":
        return _language_names()
    names = dict(VOCABULARIES.get(vocabulary, {}))
    if vocabulary == "outcome":
        names.update(NEED_CATEGORIES)
    codes = _CODES.get(vocabulary)
    names.update({c.value: c.value for c in codes or ()})
    return names


@lru_cache(maxsize=1)
def _language_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for a in "abcdefghijklmnopqrstuvwxyz":
        for b in "abcdefghijklmnopqrstuvwxyz":
            if langcodes.tag_is_valid(a + b):
                name = langcodes.Language.get(a + b).display_name()
                if not name.lower().startswith("unknown"):
                    names.setdefault(normalise_label(name), a + b)
    return names


def suggest_codes(vocabulary: str, text: str, n: int = 3) -> tuple[str, ...]:
    """Up to `n` likely codes for an unknown label (the nearest names first; for a language,
    the nearest language names known to ``langcodes``); every code of a small vocabulary when
    none is near."""
    names = _label_names(vocabulary)
    key = normalise_label(text)
    found: list[str] = []
    for close in difflib.get_close_matches(key, list(names), n=n * 3, cutoff=0.5):
        if names[close] not in found:
            found.append(names[close])
    if not found and vocabulary != "language":
        return tuple(sorted(set(names.values())))
    return tuple(found[:n])


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
    "ALL_WORDS",
    "CHILD_HEADERS",
    "COLUMN_VOCABULARY",
    "DATE_ORDERS",
    "HEADER_SYNONYMS",
    "INTENSITY_SCALES",
    "INTENSITY_STEPS",
    "LIST_SEPARATORS",
    "NEED_CATEGORIES",
    "NUMERIC_URGENCY_DIRECTION",
    "NUMERIC_URGENCY_SCALE",
    "OPTION_KEYWORDS",
    "TO_CONFIRM",
    "URGENCY_SCALES",
    "URGENCY_STEPS",
    "VOCABULARIES",
    "LabelMatch",
    "date_orders_fitting",
    "is_code",
    "language_code",
    "match_header",
    "normalise_label",
    "parse_date",
    "read_label",
    "suggest_codes",
    "suggest_column",
    "translate",
    "urgency_scale_of",
]
