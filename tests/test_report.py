"""report.html and compliance.md: self-contained, escaped, identifiers only, charts per staff."""

from __future__ import annotations

import re
import time
from datetime import date
from html.parser import HTMLParser

import builders
import pytest
from builders import assignment, waiver

from famassign.models import Family, Policy, Scenario, Staff
from famassign.report import (
    COLOURS,
    Bar,
    compliance_markdown,
    histogram_counts,
    load_per_fte,
    md_cell,
    plan_facts,
    render_report,
    svg_bar_chart,
    svg_histogram,
)
from famassign.solver import PlanOptions, evaluate, solve
from famassign.solver.result import (
    Caseload,
    ObjectiveTerms,
    Result,
    SolveStatus,
    Unplaced,
)

SENTINEL_LANGUAGE = "zz-sentinel"
SENTINEL_AGENCY = "AGENCY-SENTINEL-Q7"
SENTINEL_REASON = f"language {SENTINEL_LANGUAGE}"
EVIL_ID = '<script>alert("x")</script>|F9'


def small_plan() -> tuple[Result, Scenario]:
    """Four families on two staff (cap 2, S1 at 3 under waiver W1), one unplaced with a hostile id.

    F2 carries a sentinel language and agency: neither may reach compliance.md or report.html.
    """
    families = (
        Family(family_id="F1", language="en", site="A", urgency=3, intensity="low"),
        Family(
            family_id="F2",
            language=SENTINEL_LANGUAGE,
            site="A",
            urgency=4,
            intensity="high",
            external_plan_agency=SENTINEL_AGENCY,
        ),
        Family(family_id="F3", language="en", site="A", urgency=2, intensity="medium"),
        Family(family_id=EVIL_ID, language="en", site="Z", urgency=5, intensity="low"),
    )
    staff = (
        Staff(staff_id="S1", languages=("en", SENTINEL_LANGUAGE), sites=("A",)),
        Staff(staff_id="S2", languages=("en",), sites=("A",)),
    )
    waiver_s1 = waiver(staff_id="S1", reference="HHS-ACF-2026-0042")
    scenario = Scenario(
        name="Small <program>",
        as_of=date(2026, 8, 17),
        policy=Policy(max_families_per_staff=2),
        families=families,
        staff=staff,
        exceptions=(waiver_s1,),
    )
    result = Result(
        status=SolveStatus.feasible,
        objective=30,
        bound=33,
        terms=ObjectiveTerms(
            placed=3, urgency_unplaced=5, over_cap=1, moves=0, match=30, max_load_per_fte=6.0
        ),
        max_load_bound=5.0,
        assignments=(
            assignment("F1", "S1", 10, "W1", reasons=SENTINEL_REASON),
            assignment("F2", "S1", 14, "W1", reasons=SENTINEL_REASON),
            assignment("F3", "S1", 6, "W1", reasons=SENTINEL_REASON),
            assignment(EVIL_ID, None),
        ),
        caseloads=(
            Caseload(staff_id="S1", families=3, weighted_load=6.0, cap=2, exception_id="W1"),
            Caseload(staff_id="S2", families=0, weighted_load=0.0, cap=2, exception_id=None),
        ),
        unplaced=(Unplaced(family_id=EVIL_ID, reason="no active staff member serves site Z"),),
        exceptions_used=("W1",),
        notes=(),
        runtime_s=1.5,
        seed=1,
        version="0.1.0",
    )
    return result, scenario


VOID = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "source", "wbr"}


class TagBalance(HTMLParser):
    """Records tags that close out of order or stay open."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> with open {self.stack[-3:]}")
            return
        self.stack.pop()


def check_self_contained(page: str) -> None:
    assert "http://" not in page and "https://" not in page
    assert not re.search(r"\b(src|href)\s*=", page, re.IGNORECASE)
    lowered = page.lower()
    for banned in ("<script", "<link", "@import", "url(", "<iframe", "<img"):
        assert banned not in lowered, banned


def test_report_is_self_contained_and_balanced() -> None:
    result, scenario = small_plan()
    page = render_report(result, scenario)
    check_self_contained(page)
    parser = TagBalance()
    parser.feed(page)
    parser.close()
    assert parser.errors == []
    assert parser.stack == []
    assert "svg" in parser.tags
    assert page.startswith("<!DOCTYPE html>")


def test_report_has_one_bar_per_staff_member_largest_first() -> None:
    result, scenario = small_plan()
    page = render_report(result, scenario)
    labels = re.findall(r'<g class="bar" data-label="([^"]*)"', page)
    assert labels == ["S1", "S2"]
    s1 = page[page.index('data-label="S1"') : page.index('data-label="S2"')]
    assert COLOURS["over"] in s1  # above cap under an exception
    assert 'stroke-dasharray="2,2"' in s1  # exception limit tick
    assert page.count('class="bin"') == 40  # two histograms of 20 bins


def test_report_headline_exceptions_and_unplaced() -> None:
    result, scenario = small_plan()
    page = render_report(result, scenario)
    for text in (
        "families",
        "placed",
        "unplaced",
        "ot all placed: 1 of",
        "workload balance",
        "exceptions used",
        "1 (W1)",
        "HHS-ACF",
    ):
        assert text in page, text
    assert "1302.52(d)(2)(i)" in page
    assert "no active staff member serves site Z" in page
    # Plain labels: no raw machine words as the headline.
    assert ">feasible<" not in page and ">optimal<" not in page


def test_values_are_escaped() -> None:
    result, scenario = small_plan()
    page = render_report(result, scenario)
    assert "<script" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;|F9" in page
    assert "Small &lt;program&gt;" in page
    md = compliance_markdown(result, scenario)
    assert "<script>" not in md
    assert '&lt;script&gt;alert("x")&lt;/script&gt;\\|F9' in md


def test_sentinel_family_data_never_reported() -> None:
    result, scenario = small_plan()
    for text in (compliance_markdown(result, scenario), render_report(result, scenario)):
        lowered = text.lower()
        assert SENTINEL_LANGUAGE not in lowered
        assert SENTINEL_AGENCY.lower() not in lowered


def test_compliance_names_exception_paragraph_reference_dates() -> None:
    result, scenario = small_plan()
    md = compliance_markdown(result, scenario)
    row = next(line for line in md.splitlines() if line.startswith("| S1 |"))
    for expected in ("| 3 |", "W1", "waiver", "1302.52(d)(2)(i)", "HHS-ACF-2026-0042"):
        assert expected in row
    assert "2026-07-01" in row and "2027-06-30" in row and "| 45 |" in row
    facts = plan_facts(result, scenario)
    assert facts.compliant and facts.ratio_per_staff == 1.5


def test_over_cap_beyond_exception_limit_is_a_finding() -> None:
    result, scenario = small_plan()
    loads = (
        Caseload(staff_id="S1", families=3, weighted_load=6.0, cap=2, exception_id=None),
        result.caseloads[1],
    )
    bad = result.model_copy(update={"caseloads": loads})
    facts = plan_facts(bad, scenario)
    assert not facts.compliant
    assert "names no exception" in facts.problems[0]
    page = render_report(bad, scenario)
    assert "Findings against 1302.52(d)(2)" in page
    s1 = page[page.index('data-label="S1"') : page.index('data-label="S2"')]
    assert COLOURS["breach"] in s1


def test_large_program_report_stays_small_and_fast() -> None:
    """30,000 families on 1,000 staff: one bar each, a scrolling chart, a few MB at most."""
    n_staff, n_families, n_unplaced = 1000, 30_000, 600
    staff = tuple(
        Staff(staff_id=f"STAFF-{i:04d}", languages=("en",), sites=("*",)) for i in range(n_staff)
    )
    scenario = Scenario(
        name="State office",
        as_of=date(2026, 8, 17),
        families=(Family(family_id="X", language="en", site="A", urgency=1, intensity="low"),),
        staff=staff,
    )
    assignments = tuple(
        assignment(f"FAM-{j:05d}", f"STAFF-{j % n_staff:04d}", j % 97, reasons=SENTINEL_REASON)
        if j >= n_unplaced
        else assignment(f"FAM-{j:05d}", None)
        for j in range(n_families)
    )
    per_staff = (n_families - n_unplaced) // n_staff
    caseloads = tuple(
        Caseload(
            staff_id=s.staff_id,
            families=per_staff + (i % 7) - 3,
            weighted_load=1.7 * per_staff,
            cap=40,
            exception_id=None,
        )
        for i, s in enumerate(staff)
    )
    result = Result(
        status=SolveStatus.optimal,
        objective=1,
        bound=1,
        terms=ObjectiveTerms(
            placed=n_families - n_unplaced,
            urgency_unplaced=n_unplaced,
            over_cap=0,
            moves=0,
            match=1,
            max_load_per_fte=55.0,
        ),
        max_load_bound=55.0,
        assignments=assignments,
        caseloads=caseloads,
        unplaced=tuple(
            Unplaced(family_id=f"FAM-{j:05d}", reason="no room") for j in range(n_unplaced)
        ),
        exceptions_used=(),
        notes=(),
        runtime_s=3.0,
        seed=0,
        version="0.1.0",
    )
    started = time.perf_counter()
    page = render_report(result, scenario)
    elapsed = time.perf_counter() - started
    assert page.count('<g class="bar"') == n_staff
    assert 'class="scroll"' in page
    assert len(page.encode("utf-8")) < 3_000_000
    assert elapsed < 10
    check_self_contained(page)


def test_chart_helpers_share_scales_and_escape() -> None:
    bars = [Bar("a<b", 3, cap=2, limit=5, state="over"), Bar("c", 1, cap=2)]
    svg = svg_bar_chart(bars, title="t & u", max_value=50)
    assert svg.count('<g class="bar"') == 2
    assert "a&lt;b" in svg and "t &amp; u" in svg
    counts, edges = histogram_counts([1, 2, 2, 3], bins=4, value_range=(0, 4))
    assert counts == [0, 1, 2, 1] and edges[0] == 0 and edges[-1] == 4
    hist = svg_histogram([], title="empty", x_label="x", bins=5)
    assert hist.count('class="bin"') == 5 and "no data" in hist
    assert md_cell("a|b\nc*") == "a\\|b c\\*"


def test_load_per_fte_agrees_with_the_independent_evaluator() -> None:
    """The reports' weighted load per FTE (:meth:`Staff.load_per_fte`, also used by recommend)
    gives the largest value the evaluator computes on its own, part-time staff included."""
    families = [
        builders.fam(f"F{i:02d}", intensity=("low", "medium", "high")[i % 3], urgency=1 + i % 5)
        for i in range(30)
    ]
    team = [
        builders.staff("S1"),
        builders.staff("S2", fte=0.5),
        builders.staff("S3", fte=0.8),
        builders.staff("S4", status="absent"),
    ]
    scenario = builders.scenario(families, team)
    result = solve(scenario, PlanOptions(time_limit=2, seed=0, deterministic=True))
    check = evaluate(scenario, result.plan(), result.exception_of())
    assert check.violations == []
    loads = load_per_fte(result, scenario)
    assert len(loads) == 3  # active staff only
    assert max(loads) == pytest.approx(check.max_load_per_fte)
    by_id = {c.staff_id: c for c in result.caseloads}
    half = by_id["S2"]
    assert team[1].load_per_fte(half.weighted_load) == pytest.approx(2 * half.weighted_load)
