"""`famassign compare` (the base and every what-if variant side by side) and `famassign staffing`.

Exit codes of both: 0 when the base scenario places every family (with its exceptions in force),
3 when it does not (the outputs say which variants would), 2 invalid input (a bad variant
included), 1 internal error. A variant that leaves families unplaced does not change the exit code:
finding such variants is what a comparison is for.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path

import typer
import yaml

from famassign.commands.common import (
    DETERMINISTIC,
    EXIT_OK,
    EXIT_UNPLACED,
    OUT,
    SEED,
    TIME_LIMIT,
    WORKERS,
    RunOptions,
    guarded,
    load_for_command,
)
from famassign.compare import BASE, Comparison, compare
from famassign.report import (
    Bar,
    caseload_bars,
    fmt_number,
    frame_table,
    histogram_counts,
    html_page,
    html_table,
    legend_html,
    load_per_fte,
    scroll_box,
    svg_bar_chart,
    svg_histogram,
)
from famassign.safe_io import atomic_output_dir, check_output_dir, write_csv
from famassign.scenarios.staffing import StaffingAnswer, staffing
from famassign.scenarios.variants import variants_of

log = logging.getLogger(__name__)

COMPARISON_CSV = "comparison.csv"
STAFFING_CSV = "staffing.csv"
EXCEPTIONS_CSV = "exceptions_carried.csv"
REPORT_HTML = "report.html"
CHART_WIDTH = 330
SUMMARY_COLUMNS = [
    "variant",
    "families",
    "placed",
    "unplaced",
    "staff_active",
    "fte_active",
    "caseloads_above_40",
    "exceptions_used",
    "caseload_mean",
    "caseload_max",
    "max_load_per_fte",
    "objective",
    "bound",
    "families_moved",
    "runtime_s",
]

PROCESSES = typer.Option(2, "--processes", min=1, max=2, help="Plans solved at once (1 or 2).")

_EXTRA_CSS = (
    "<style>.plan{flex:0 0 auto;width:" + str(CHART_WIDTH + 8) + "px}"
    ".plan h3{font-size:1em;margin:8px 0 2px}.plan p{margin:0 0 4px;font-size:.85em;color:#555}"
    "</style>"
)


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _staffing_html(answer: StaffingAnswer) -> str:
    parts = ["<h2>Staffing: what would serve every family within 40:1</h2>"]
    if answer.needs:
        proof = (
            "proven fewest"
            if answer.proven_fewest
            else f"no single one can be dropped; lower bound {answer.lower_bound}"
        )
        parts.append(
            f"<p>Under the policy caps alone (no exception) {answer.unplaced_without_exceptions} "
            f"of {answer.families} families cannot be placed. The fewest additional full-time "
            f"staff (cap {answer.cap_per_new_staff} each) that would place every family: "
            f"<b>{answer.total_staff}</b> ({_esc(proof)}).</p>"
        )
        parts.append(frame_table(answer.needs_frame()))
    else:
        parts.append(
            '<p class="good">Every family can be placed under the policy caps with the '
            "current staff: no additional staff and no exception are needed.</p>"
        )
    if answer.not_placeable:
        parts.append(
            f"<p>{len(answer.not_placeable)} pinned families cannot be placed by hiring.</p>"
        )
    parts.append("<h3>Exceptions in force and the families they carry</h3>")
    parts.append(
        html_table(
            [
                "exception_id",
                "kind",
                "staff_id",
                "max_families",
                "families above cap",
                "unplaced without it",
            ],
            (
                [
                    e.exception_id,
                    e.kind,
                    e.staff_id or "every staff member",
                    e.max_families,
                    e.places_above_cap,
                    e.needed_by,
                ]
                for e in answer.exceptions
            ),
            empty="No exception is in force.",
        )
    )
    return "\n".join(parts)


def _side_by_side(comparison: Comparison) -> str:
    """The comparison table turned: one row per measure, one column per plan."""
    frame = comparison.frame.set_index("variant")[SUMMARY_COLUMNS[1:]]
    rows = (
        [column, *(fmt_number(v) if isinstance(v, int | float) else v for v in frame[column])]
        for column in frame.columns
    )
    return html_table(["measure", *frame.index], rows)


def render_comparison(comparison: Comparison) -> str:
    """report.html of a comparison: one self-contained page (inline CSS and SVG, no scripts)."""
    outcomes = comparison.outcomes
    base = comparison.base
    title = f"famassign what-if comparison: {base.scenario.name}"
    body = [
        _EXTRA_CSS,
        f"<h1>{_esc(title)}</h1>",
        f'<p class="sub">Planning date {base.scenario.as_of.isoformat()} · '
        f"{len(comparison.variants)} variants · {fmt_number(comparison.runtime_s)} s</p>",
        "<h2>Side by side</h2>",
        _side_by_side(comparison),
        '<p class="note">caseloads_above_40: caseloads above 1302.52(d)(2)\'s 40 (each needs an '
        "exception in force); families_moved: families with a current staff member in the base "
        "that the plan puts elsewhere or leaves unplaced; objective: match score (bound: best "
        "possible).</p>",
    ]
    bars = {o.name: caseload_bars(o.result, o.scenario) for o in outcomes}
    order = {b.label: i for i, b in enumerate(bars[BASE])}  # every chart in the base's order
    for plan_bars in bars.values():
        plan_bars.sort(key=lambda b: (order.get(b.label, len(order)), b.label))
    top = max([1.0] + [max(b.value, b.cap or 0, b.limit or 0) for bs in bars.values() for b in bs])
    body += ["<h2>Caseload per staff member</h2>", legend_html()]
    cells = []
    for o in outcomes:
        chart_bars: list[Bar] = bars[o.name]
        chart = svg_bar_chart(
            chart_bars,
            title=f"Families per staff member: {o.name}",
            width=CHART_WIDTH,
            label_width=70,
            max_value=top,
        )
        r = o.result
        cells.append(
            f'<div class="plan"><h3>{_esc(o.name)}</h3><p>{_esc(o.description)}</p>'
            f"<p>{r.placed}/{len(r.assignments)} placed · {len(r.unplaced)} unplaced · "
            f"exceptions: {_esc(', '.join(r.exceptions_used) or 'none')}</p>"
            f"{scroll_box(chart, max_height=420) if len(chart_bars) > 28 else chart}</div>"
        )
    body.append('<div class="row">' + "".join(cells) + "</div>")

    loads = {o.name: load_per_fte(o.result, o.scenario) for o in outcomes}
    every = [v for vs in loads.values() for v in vs]
    low, high = (min(every), max(every)) if every else (0.0, 1.0)
    value_range = (low, high + 1e-9) if high > low else (low - 0.5, high + 0.5)
    top_count = max(
        [1]
        + [max(histogram_counts(v, value_range=value_range)[0], default=0) for v in loads.values()]
    )
    body.append("<h2>Weighted load per FTE (active staff)</h2>")
    body.append(
        '<div class="row">'
        + "".join(
            '<div class="plan">'
            + svg_histogram(
                loads[o.name],
                title=o.name,
                x_label="intensity-weighted load ÷ FTE",
                value_range=value_range,
                max_count=top_count,
                width=CHART_WIDTH,
            )
            + "</div>"
            for o in outcomes
        )
        + "</div>"
    )
    if comparison.staffing is not None:
        body.append(_staffing_html(comparison.staffing))
    body.append("<h2>The variants</h2>")
    variants = {v.name: v for v in variants_of(base.scenario)}
    for o in comparison.variants:
        changes = [c.model_dump(mode="json", exclude_unset=True) for c in variants[o.name].changes]
        text = yaml.safe_dump(
            [{variants[o.name].changes[i].change_kind: c} for i, c in enumerate(changes)],
            sort_keys=False,
            allow_unicode=True,
        )
        body.append(f'<h3>{_esc(o.name)}</h3><pre class="extra">{_esc(text)}</pre>')
    return html_page(title, "\n".join(body))


def _code(placed: int, families: int) -> int:
    return EXIT_OK if placed == families else EXIT_UNPLACED


@guarded
def compare_command(
    scenario: Path = typer.Argument(..., help="Scenario folder (variants in scenario.yaml)."),
    out: Path = OUT,
    time_limit: float = TIME_LIMIT,
    seed: int = SEED,
    workers: int | None = WORKERS,
    deterministic: bool = DETERMINISTIC,
    processes: int = PROCESSES,
) -> int:
    """Solve the base and every variant; write comparison.csv, staffing.csv and report.html.

    Exit 0 when the base places every family, 3 when it does not, 2 invalid input.
    """
    loaded = load_for_command(scenario)
    check_output_dir(out)
    comparison = compare(
        loaded.scenario,
        RunOptions(time_limit, seed, workers, deterministic).plan_options(),
        processes=processes,
    )
    report = render_comparison(comparison)
    answer = comparison.staffing
    with atomic_output_dir(out) as tmp:
        write_csv(comparison.frame, tmp / COMPARISON_CSV)
        if answer is not None:
            write_csv(answer.needs_frame(), tmp / STAFFING_CSV)
            write_csv(answer.exceptions_frame(), tmp / EXCEPTIONS_CSV)
        (tmp / REPORT_HTML).write_text(report, encoding="utf-8")
    for row in comparison.frame.to_dict("records"):
        typer.echo(
            f"{row['variant']}: {row['placed']}/{row['families']} placed, "
            f"{row['unplaced']} unplaced, above 40: {row['caseloads_above_40']}, "
            f"exceptions: {row['exceptions_used'] or 'none'}, moved: {row['families_moved']}"
        )
    typer.echo(f"outputs in {out}")
    base = comparison.base.result
    return _code(base.placed, len(base.assignments))


@guarded
def staffing_command(
    scenario: Path = typer.Argument(..., help="Scenario folder."),
) -> int:
    """Print the fewest additional staff (language x site x option) that would place every family
    without exceptions, and what each exception in force carries. Exit 0 when the base places
    every family (with its exceptions), 3 when it does not."""
    loaded = load_for_command(scenario)
    answer = staffing(loaded.scenario)
    typer.echo(answer.text())
    return _code(answer.placed_with_exceptions, answer.families)


__all__ = ["BASE", "render_comparison"]
