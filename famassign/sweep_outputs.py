"""Writing a sweep's outputs to their folder, all or none.

For one program: ``sweep.csv`` (one row per training sample), ``hires.csv`` (one row per person to
hire, as ``famassign staffing --out``), ``robust_staffing.csv`` (the people, their training and
validated shares, the exceptions' probabilities) and ``report.html``
(:mod:`famassign.report.sweep_page`); for several: ``programs.csv`` (one row per program) and one
such folder per program.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from famassign.report.sweep_page import render_sweep
from famassign.safe_io import atomic_output_dir, write_csv
from famassign.sweep_runner import SweepResult

SWEEP_CSV = "sweep.csv"
ROBUST_CSV = "robust_staffing.csv"
HIRES_CSV = "hires.csv"
PROGRAMS_CSV = "programs.csv"
REPORT_HTML = "report.html"


def _write_one(result: SweepResult, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(result.samples, folder / SWEEP_CSV)
    write_csv(result.robust, folder / ROBUST_CSV)
    write_csv(result.hires_frame(), folder / HIRES_CSV)
    (folder / REPORT_HTML).write_text(render_sweep(result), encoding="utf-8")


def write_sweep(results: Sequence[SweepResult], out: Path | str, names: Sequence[str] = ()) -> Path:
    """Write the outputs into `out`, atomically: for one program sweep.csv, hires.csv,
    robust_staffing.csv and report.html; for several, programs.csv and one such folder per
    program (`names`)."""
    target = Path(out)
    with atomic_output_dir(target) as tmp:
        if len(results) == 1:
            _write_one(results[0], tmp)
        else:
            table = pd.DataFrame([r.summary_row() for r in results])
            table.insert(
                1, "folder", list(names) or [f"program-{i + 1}" for i in range(len(results))]
            )
            write_csv(table, tmp / PROGRAMS_CSV)
            for name, result in zip(table["folder"], results, strict=True):
                _write_one(result, tmp / str(name))
    return target


__all__ = ["HIRES_CSV", "PROGRAMS_CSV", "REPORT_HTML", "ROBUST_CSV", "SWEEP_CSV", "write_sweep"]
