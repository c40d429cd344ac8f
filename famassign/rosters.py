"""Printable rosters: a PDF per staff member and one for the whole staff, to hand out.

:func:`roster_pdfs` renders, for every staff member with a line in
:func:`famassign.workbook.staff_rosters`, ``rosters/<staff_id>.pdf`` (their families, then the
families leaving them, with the hand-out words relative to the plan in force) and
``rosters/all-staff.pdf`` (every staff member's roster, each from a new page: set once, in
one document with the fonts loaded once, and each staff member's PDF sliced from it with
pypdf). The families'
names, children and contact are printed: the rosters are for the staff who work with them.

Text is set with fpdf2 and shaped by HarfBuzz (uharfbuzz) in the Noto fonts vendored in
``famassign/report/fonts`` (OFL): Noto Sans for Latin with accents and Vietnamese, Noto Sans
Arabic (shaped, right to left) and a Noto Sans CJK subset for Chinese, as fallbacks of each
other, so a line may mix scripts; only lines with Arabic or CJK characters go through fpdf2's
text layout (and only Arabic ones through shaping), the rest are placed directly, in fixed-width
columns (the table layout took about 10 ms a family).
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from importlib.resources import files
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import TTFFont
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
_COMPLEX = re.compile("|".join(script.pattern for _, _, script in _SCRIPT_FONTS))
_COLUMNS = (
    # title, width (mm; the last column takes the rest of the line)
    ("Family ID", 20),
    ("Family", 40),
    ("Children", 42),
    ("Contact", 30),
    ("Language, site, option", 58),
    ("For you", 0),
)
_LINES = (1, 2, 2, 2, 2, 3)
"""Lines each column's text may take (the children, and the language, site and option: each
part from a line of its own, of up to that many lines)."""
_SIZE = 9
_LINE = 4.5
_MARGIN = 12
_ELLIPSIS = "\u2026"
_NOBODY = "No staff member has a family in this plan."
_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9_.-]")


def roster_file(staff_id: str) -> str:
    """The roster's name in the plan folder: ``rosters/<staff_id>.pdf`` (characters other than
    letters, digits, ``_``, ``.`` and ``-`` in the id as ``_``)."""
    return f"{ROSTERS_DIR}/{_UNSAFE_FILE_CHARS.sub('_', staff_id)}.pdf"


class _Roster:
    """One PDF of rosters being set: fonts loaded once, lines placed with fixed-width columns.

    Text in Noto Sans alone (Latin with accents, Vietnamese, ...) is measured from the font's
    glyph widths and placed with ``FPDF.text`` (no layout engine); a line with Arabic or CJK
    characters goes through ``FPDF.cell``, which takes the fallback fonts and, for Arabic,
    HarfBuzz shaping (right to left). Text too wide for its column wraps at spaces onto as
    many lines as the column allows (:data:`_LINES`) and is cut with "…" past the last one.
    """

    def __init__(self, title: str, text: str) -> None:
        pdf = FPDF(orientation="landscape", format="letter")
        pdf.set_title(title)
        pdf.set_creator("famassign")
        pdf.set_auto_page_break(auto=False, margin=_MARGIN)
        fonts = files("famassign.report").joinpath("fonts")
        for family, style, name in _BASE_FONTS:
            pdf.add_font(family, style, str(fonts.joinpath(name)))
        fallbacks = []
        for family, name, script in _SCRIPT_FONTS:
            if script.search(text):
                pdf.add_font(family, "", str(fonts.joinpath(name)))
                fallbacks.append(family)
        if fallbacks:
            pdf.set_fallback_fonts(fallbacks, exact_match=False)
        self.pdf = pdf
        self._widths: dict[tuple[str, float], dict[str, float]] = {}
        self._font("", _SIZE)

    def _font(self, style: str, size: float) -> None:
        self.pdf.set_font("NotoSans", style, size)

    def width(self, text: str) -> float:
        """`text`'s width (mm) in the current font."""
        pdf = self.pdf
        if _COMPLEX.search(text):
            pdf.set_text_shaping(bool(_ARABIC.search(text)))
            return pdf.get_string_width(text)
        font = pdf.current_font
        assert isinstance(font, TTFFont)
        key = (pdf.font_style, pdf.font_size_pt)
        cache = self._widths.setdefault(key, {})
        scale = pdf.font_size_pt * 0.001 / pdf.k
        total = 0.0
        for char in text:
            w = cache.get(char)
            if w is None:
                w = cache[char] = font.cw[ord(char)] * scale
            total += w
        return total

    def fit(self, text: str, width: float, lines: int) -> list[str]:
        """`text` broken at spaces into at most `lines` lines that fit a column `width` mm wide;
        a word wider than a line, or text left after the last line, is cut and ends with "…"."""
        room = width - 2 * self.pdf.c_margin
        if self.width(text) <= room:
            return [text]
        out: list[str] = []
        rest = text.split(" ")
        while rest and len(out) < lines:
            line = rest.pop(0)
            while rest and self.width(f"{line} {rest[0]}") <= room:
                line = f"{line} {rest.pop(0)}"
            if self.width(line) > room or (rest and len(out) == lines - 1):
                while line and self.width(line + _ELLIPSIS) > room:
                    line = line[:-1]
                out.append(line + _ELLIPSIS)
                break
            out.append(line)
        return out

    def put(self, x: float, y: float, width: float, text: str) -> None:
        """`text` (fitted) as one line at the top left corner `x`, `y`."""
        pdf = self.pdf
        if _COMPLEX.search(text):
            pdf.set_text_shaping(bool(_ARABIC.search(text)))
            pdf.set_xy(x, y)
            pdf.cell(width, _LINE, text)
            pdf.set_text_shaping(False)
        elif text:
            pdf.text(x + pdf.c_margin, y + _LINE / 2 + 0.3 * pdf.font_size, text)

    def heading(self, who: str, subtitle: str) -> None:
        """A new page with the staff member's title (`subtitle` below it) and column titles."""
        pdf = self.pdf
        pdf.add_page()
        self._font("B", 14)
        self.put(pdf.l_margin, pdf.t_margin, pdf.epw, f"Caseload of {who}")
        self._font("", _SIZE)
        self.put(pdf.l_margin, pdf.t_margin + 7, pdf.epw, subtitle)
        self._font("B", _SIZE)
        y = pdf.t_margin + 13
        x = pdf.l_margin
        for (title, _), width in zip(_COLUMNS, self.columns(), strict=True):
            self.put(x, y, width, title)
            x += width
        pdf.line(pdf.l_margin, y + _LINE, pdf.l_margin + pdf.epw, y + _LINE)
        self._font("", _SIZE)
        pdf.set_y(y + _LINE + 0.5)

    def columns(self) -> list[float]:
        """The columns' widths (mm): fixed, the hand-out words taking the rest of the line."""
        fixed = [w for _, w in _COLUMNS[:-1]]
        return [*fixed, self.pdf.epw - sum(fixed)]

    def roster(self, scenario: Scenario, entries: Sequence[RosterEntry], who: str) -> None:
        """`who`'s roster from a new page; column titles repeated on each further page."""
        pdf = self.pdf
        mine = sum(1 for e in entries if not e.leaving)
        subtitle = f"{scenario.name}: plan as of {scenario.as_of.isoformat()}; {mine} families"
        self.heading(who, subtitle)
        widths = self.columns()
        pdf.set_fill_color(245)
        for row, entry in enumerate(entries):
            texts = (
                [entry.family_id],
                [entry.family_name],
                entry.children.split("; ") if entry.children else [],
                [entry.contact],
                [entry.language, entry.site, entry.program_option],
                [entry.handout],
            )
            cells = [
                [line for text in parts for line in self.fit(text, width, lines)]
                for parts, width, lines in zip(texts, widths, _LINES, strict=True)
            ]
            height = _LINE * max(len(lines) for lines in cells)
            if pdf.y + height > pdf.h - _MARGIN:
                self.heading(who, f"{subtitle} (continued)")
            y = pdf.y
            if row % 2:
                pdf.rect(pdf.l_margin, y, pdf.epw, height, style="F")
            x = pdf.l_margin
            for lines, width in zip(cells, widths, strict=True):
                for i, line in enumerate(lines):
                    self.put(x, y + i * _LINE, width, line)
                x += width
            pdf.set_y(y + height)

    def output(self) -> bytes:
        """The PDF."""
        return bytes(self.pdf.output())


def _text(entries: Sequence[RosterEntry]) -> str:
    return "".join(f"{e.family_name}{e.children}{e.contact}" for e in entries)


def roster_pdfs(
    result: Result, scenario: Scenario, in_force: PlanInForce | None = None
) -> dict[str, bytes]:
    """The printed rosters, file name (:func:`roster_file`, :data:`ALL_STAFF_PDF`) -> PDF bytes.

    The whole staff's PDF is set once, each staff member's roster from a new page; each staff
    member's own PDF holds their pages of it (sliced with pypdf). A row is a family: its id,
    name, children (one from each line), contact, language, site and option (each from a line
    of its own), and what it is for the staff member; a name or text too long for its column
    wraps at spaces onto a second line (a third for the hand-out words) and past that is cut
    with "…", so a row never spans pages.

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
    title = f"Rosters: {scenario.name}"
    labels = {s.staff_id: staff_label(s.staff_id, names) for s in scenario.staff}
    order = [s.staff_id for s in scenario.staff if s.staff_id in rosters]
    text = "".join(labels[s] + _text(rosters[s]) for s in order)
    document = _Roster(title, text)
    pages: dict[str, tuple[int, int]] = {}
    for staff_id in order:
        first = document.pdf.page
        document.roster(scenario, rosters[staff_id], labels[staff_id])
        pages[staff_id] = (first, document.pdf.page)
    if not order:
        document.pdf.add_page()
        document.put(document.pdf.l_margin, document.pdf.t_margin, document.pdf.epw, _NOBODY)
    everyone = document.output()
    out: dict[str, bytes] = {}
    reader = PdfReader(io.BytesIO(everyone))
    for staff_id, (first, last) in pages.items():
        writer = PdfWriter()
        writer.append(reader, pages=(first, last))
        writer.add_metadata({"/Title": f"Caseload of {labels[staff_id]}", "/Creator": "famassign"})
        buffer = io.BytesIO()
        writer.write(buffer)
        out[roster_file(staff_id)] = buffer.getvalue()
    out[ALL_STAFF_PDF] = everyone
    return out


def write_rosters(pdfs: Mapping[str, bytes], folder: Path) -> list[str]:
    """Write `pdfs` (from :func:`roster_pdfs`) under `folder`; return the names written."""
    (folder / ROSTERS_DIR).mkdir(parents=True, exist_ok=True)
    for name, data in pdfs.items():
        (folder / name).write_bytes(data)
    return list(pdfs)


__all__ = ["ALL_STAFF_PDF", "ROSTERS_DIR", "roster_file", "roster_pdfs", "write_rosters"]
