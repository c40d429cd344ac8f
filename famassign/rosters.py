"""Printable rosters: a PDF per staff member and one for the whole staff, to hand out.

:func:`roster_pdfs` renders, for every staff member with a line in
:func:`famassign.workbook.staff_rosters`, ``rosters/<staff_id>.pdf`` (their families, then the
families leaving them, with the hand-out words relative to the plan in force) and
``rosters/all-staff.pdf`` (every staff member's roster, each from a new page: the staff
members' PDFs joined with pypdf, so each roster is typeset once). The families'
names, children and contact are printed: the rosters are for the staff who work with them.

Text is set with fpdf2 and shaped by HarfBuzz (uharfbuzz) in the Noto fonts vendored in
``famassign/report/fonts`` (OFL): Noto Sans for Latin with accents and Vietnamese, Noto Sans
Arabic (shaped, right to left) and a Noto Sans CJK subset for Chinese, as fallbacks of each
other, so a line may mix scripts.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from importlib.resources import files
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import TableCellFillMode, WrapMode
from pypdf import PdfReader, PdfWriter

from famassign.models.scenario import Scenario
from famassign.solver.result import Result
from famassign.workbook import PlanInForce, RosterEntry, staff_label, staff_names, staff_rosters

ROSTERS_DIR = "rosters"
"""The plan folder's subfolder of printed rosters."""
ALL_STAFF_PDF = f"{ROSTERS_DIR}/all-staff.pdf"
"""The whole staff's rosters in one PDF."""

_BASE_FONTS = (
    ("NotoSans", "", "NotoSans-Regular.ttf"),
    ("NotoSans", "B", "NotoSans-Bold.ttf"),
)
_SCRIPT_FONTS = (
    # family, file, the script's characters (a document loads the font only when it has one)
    (
        "NotoSansArabic",
        "NotoSansArabic-Regular.ttf",
        re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]"),
    ),
    (
        "NotoSansCJK",
        "NotoSansCJK-Regular-subset.otf",
        re.compile("[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]"),
    ),
)
_ARABIC = _SCRIPT_FONTS[0][2]
_COLUMNS = (
    ("Family ID", 20),
    ("Family", 40),
    ("Children", 42),
    ("Contact", 30),
    ("Language, site, option", 58),
)
# The family id has a column of its own: fpdf2 2.8 sets a Latin line that follows a shaped
# Arabic line in the same cell with the wrong glyphs.
_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9_.-]")


def roster_file(staff_id: str) -> str:
    """The roster's name in the plan folder: ``rosters/<staff_id>.pdf`` (characters other than
    letters, digits, ``_``, ``.`` and ``-`` in the id as ``_``)."""
    return f"{ROSTERS_DIR}/{_UNSAFE_FILE_CHARS.sub('_', staff_id)}.pdf"


def _document(title: str, text: str) -> FPDF:
    """An empty document with the fonts `text` needs: Noto Sans always, the Arabic and CJK
    fonts as fallbacks only when `text` has characters of theirs, and HarfBuzz shaping only
    for Arabic (loading, shaping and subsetting the others took most of the time)."""
    pdf = FPDF(orientation="landscape", format="letter")
    pdf.set_title(title)
    pdf.set_creator("famassign")
    pdf.set_auto_page_break(auto=True, margin=12)
    fonts = files("famassign.report").joinpath("fonts")
    for family, style, name in _BASE_FONTS:
        pdf.add_font(family, style, str(fonts.joinpath(name)))
    fallbacks = []
    for family, name, script in _SCRIPT_FONTS:
        if script.search(text):
            pdf.add_font(family, "", str(fonts.joinpath(name)))
            fallbacks.append(family)
    pdf.set_font("NotoSans", size=9)
    if fallbacks:
        pdf.set_fallback_fonts(fallbacks, exact_match=False)
    if _ARABIC.search(text):
        pdf.set_text_shaping(True)
    return pdf


def _text(entries: Sequence[RosterEntry]) -> str:
    return "".join(f"{e.family_name}{e.children}{e.contact}" for e in entries)


def _details(entry: RosterEntry) -> str:
    return f"{entry.language}\n{entry.site}; {entry.program_option}"


def _roster_pages(pdf: FPDF, scenario: Scenario, entries: Sequence[RosterEntry], who: str) -> None:
    pdf.add_page()
    mine = sum(1 for e in entries if not e.leaving)
    pdf.set_font("NotoSans", "B", 14)
    pdf.cell(text=f"Caseload of {who}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("NotoSans", "", 9)
    pdf.cell(
        text=f"{scenario.name}: plan as of {scenario.as_of.isoformat()}; {mine} families",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(2)
    widths = tuple(w for _, w in _COLUMNS)
    handout_width = pdf.epw - sum(widths)
    with pdf.table(
        col_widths=(*widths, handout_width),
        text_align="LEFT",
        wrapmode=WrapMode.WORD,
        cell_fill_color=245,
        cell_fill_mode=TableCellFillMode.ROWS,
        line_height=4.5,
        repeat_headings=1,
    ) as table:
        table.row([*(title for title, _ in _COLUMNS), "For you"])
        for entry in entries:
            table.row(
                [
                    entry.family_id,
                    entry.family_name,
                    entry.children.replace("; ", "\n"),
                    entry.contact,
                    _details(entry),
                    entry.handout,
                ]
            )


def roster_pdfs(
    result: Result, scenario: Scenario, in_force: PlanInForce | None = None
) -> dict[str, bytes]:
    """The printed rosters, file name (:func:`roster_file`, :data:`ALL_STAFF_PDF`) -> PDF bytes.

    Parameters
    ----------
    result, scenario
        The plan and its scenario.
    in_force
        The plan staff last received (:func:`famassign.workbook.staff_rosters`); by default the
        families' current staff in `scenario`.
    """
    rosters = staff_rosters(result, scenario, in_force)
    names = staff_names(scenario)
    out: dict[str, bytes] = {}
    everyone = PdfWriter()
    for staff in scenario.staff:
        if staff.staff_id not in rosters:
            continue
        who = staff_label(staff.staff_id, names)
        entries = rosters[staff.staff_id]
        own = _document(f"Caseload of {who}", who + _text(entries))
        _roster_pages(own, scenario, entries, who)
        out[roster_file(staff.staff_id)] = data = bytes(own.output())
        everyone.append(PdfReader(io.BytesIO(data)))
    if not out:
        empty = _document(f"Rosters: {scenario.name}", "")
        empty.add_page()
        empty.cell(text="No staff member has a family in this plan.")
        everyone.append(PdfReader(io.BytesIO(bytes(empty.output()))))
    everyone.add_metadata({"/Title": f"Rosters: {scenario.name}", "/Creator": "famassign"})
    buffer = io.BytesIO()
    everyone.write(buffer)
    out[ALL_STAFF_PDF] = buffer.getvalue()
    return out


def write_rosters(pdfs: Mapping[str, bytes], folder: Path) -> list[str]:
    """Write `pdfs` (from :func:`roster_pdfs`) under `folder`; return the names written."""
    (folder / ROSTERS_DIR).mkdir(parents=True, exist_ok=True)
    for name, data in pdfs.items():
        (folder / name).write_bytes(data)
    return list(pdfs)


__all__ = ["ALL_STAFF_PDF", "ROSTERS_DIR", "roster_file", "roster_pdfs", "write_rosters"]
