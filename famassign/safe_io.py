"""Writing outputs safely: all of a folder or none of it, and no formulas from family data.

:func:`atomic_output_dir` gives the caller a fresh temporary folder next to the target; only when
the ``with`` block finishes does it replace the target as a whole (an atomic directory exchange
on Linux, or move-aside-and-rename elsewhere). A failure, ``KeyboardInterrupt`` or kill leaves
the previous folder as it was.

:func:`neutralise_cell` and the CSV/XLSX writers keep spreadsheets from running a formula that
came from input data (CSV/formula injection): a text cell starting with ``= + - @``, tab or
carriage return gets a leading apostrophe. Numbers stay numbers.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import logging
import math
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from famassign.models.errors import FamassignError

log = logging.getLogger(__name__)

TMP_PREFIX = ".famassign-tmp-"
"""Name prefix of the temporary sibling a write goes into; a stale one is removed later."""
OLD_PREFIX = ".famassign-old-"
"""Name prefix of the previous folder while it is moved aside (non-Linux fallback only)."""
MARKER = ".famassign-output"
"""File written into every output folder: such a folder may be replaced by the next write."""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A text cell starting with one of these is read as a formula (or a command) by spreadsheets."""

_NAME_IN_PREFIX = 100
_ILLEGAL_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


class OutputDirError(FamassignError):
    """The output folder cannot be written safely (a link, a file, or a folder of other files)."""


# --------------------------------------------------------------------------- atomic folders


@contextmanager
def atomic_output_dir(out_dir: Path | str, *, replace_foreign: bool = False) -> Iterator[Path]:
    """Yield a temporary folder; on success it replaces `out_dir` as a whole, atomically.

    - The temporary folder is a sibling of `out_dir` named ``.famassign-tmp-<name>-<pid>-*``,
      so the final rename stays on one filesystem.
    - On success the previous contents of `out_dir` are gone and the new ones are in place; on
      Linux the two folders are exchanged in one ``renameat2(RENAME_EXCHANGE)`` call, so at every
      instant `out_dir` is either the old folder or the new complete one.
    - On any exception (``KeyboardInterrupt`` included) the temporary folder is removed and
      `out_dir` is untouched. After a kill the temporary sibling may stay behind; the next write
      to the same `out_dir` removes it once its process is gone.
    - `out_dir` must not be a symbolic link or a file. An existing non-empty folder is replaced
      only when an earlier famassign write made it (it holds :data:`MARKER`), unless
      `replace_foreign` is true: this keeps ``--out`` from wiping a scenario or home folder.

    Raises :class:`OutputDirError` when `out_dir` cannot be written safely.
    """
    target = Path(os.path.abspath(out_dir))  # abspath, not resolve: never follow a link
    check_output_dir(target, replace_foreign=replace_foreign)
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(target)
    short = target.name[:_NAME_IN_PREFIX]
    tmp = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{short}-{os.getpid()}-", dir=target.parent))
    try:
        yield tmp
        (tmp / MARKER).write_text(
            "Written by famassign. The next famassign write to this folder replaces it whole.\n",
            encoding="utf-8",
        )
        _fsync_tree(tmp)
        # again, just before the swap; no probe: the temporary folder proves the parent writable,
        # and a kill while a probe file exists would leave it behind
        check_output_dir(target, replace_foreign=replace_foreign, probe=False)
        _swap_into_place(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _fsync_dir(target.parent)


def _check_parent_writable(target: Path) -> None:
    """Raise OutputDirError unless the nearest existing folder above `target` is a folder in which
    famassign can create its temporary sibling (probed by creating and removing a file)."""
    parent = Path(os.path.abspath(target)).parent
    while not parent.exists() and not parent.is_symlink() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise OutputDirError(
            f"{parent} is a file, not a folder, so the output folder {target} cannot be made "
            "inside it; choose another output folder"
        )
    try:
        fd, probe = tempfile.mkstemp(prefix=f"{TMP_PREFIX}probe-{os.getpid()}-", dir=parent)
    except OSError as exc:
        raise OutputDirError(
            f"cannot write in {parent} ({exc.strerror or exc}); choose an output folder you "
            "can write to"
        ) from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)


def check_output_dir(target: Path, *, replace_foreign: bool = False, probe: bool = True) -> None:
    """Raise OutputDirError unless `target` can be replaced as a whole (call before long work).

    With `probe`, the folder that will hold `target` is shown writable by creating and removing a
    file in it (named with this process's id, so :func:`clean_stale` can remove one a kill left).
    """
    if target.is_symlink():
        raise OutputDirError(
            f"{target} is a symbolic link; famassign neither writes through nor replaces links: "
            "give the real folder as the output folder"
        )
    if probe:
        _check_parent_writable(target)
    if not target.exists():
        return
    if not target.is_dir():
        raise OutputDirError(f"{target} exists and is not a folder; choose another output folder")
    if replace_foreign or (target / MARKER).is_file():
        return
    entries = sorted(p.name for p in target.iterdir())
    if entries:
        shown = ", ".join(entries[:5]) + (", ..." if len(entries) > 5 else "")
        raise OutputDirError(
            f"{target} already holds files famassign did not write ({shown}); the output folder "
            "is replaced as a whole, so choose a new or empty folder"
        )


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    except OSError:
        return False
    return True


_OWNER = re.compile(r"(\d+)-[a-z0-9_]+")  # "<pid>-<mkdtemp random part>"


def _owner_pid(entry: Path, stem: str) -> int | None:
    match = _OWNER.fullmatch(entry.name[len(stem) :])
    return int(match.group(1)) if match else None


def clean_stale(out_dir: Path | str) -> list[Path]:
    """Remove temporary siblings of `out_dir` left by killed writes; return what was removed.

    Only folders named after `out_dir` with the famassign prefixes, and writability probe files
    beside it, whose writing process is gone are touched. When `out_dir` itself is missing (a
    kill between the two renames of the non-Linux fallback), the previous folder moved aside is
    put back instead of removed.
    """
    target = Path(os.path.abspath(out_dir))
    parent = target.parent
    if not parent.is_dir():
        return []
    short = target.name[:_NAME_IN_PREFIX]
    removed: list[Path] = []
    probe_stem = f"{TMP_PREFIX}probe-"
    for entry in sorted(parent.iterdir()):  # writability probes a kill left behind
        pid = _owner_pid(entry, probe_stem) if entry.name.startswith(probe_stem) else None
        if pid is not None and entry.is_file() and not entry.is_symlink() and not _pid_alive(pid):
            entry.unlink(missing_ok=True)
            removed.append(entry)
    for prefix in (OLD_PREFIX, TMP_PREFIX):  # OLD first: it may be restored
        stem = f"{prefix}{short}-"
        for entry in sorted(parent.iterdir()):
            if not entry.name.startswith(stem) or entry.is_symlink() or not entry.is_dir():
                continue
            pid = _owner_pid(entry, stem)
            if pid is None or _pid_alive(pid):
                continue
            if prefix == OLD_PREFIX and not os.path.lexists(target):
                os.rename(entry, target)
                log.warning("restored %s from an interrupted write", target)
                continue
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
            log.info("removed %s left by an interrupted write", entry.name)
    return removed


def _swap_into_place(new: Path, target: Path) -> None:
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(new, 0o777 & ~umask)
    if not os.path.lexists(target):
        os.rename(new, target)
        return
    if _exchange(new, target):
        shutil.rmtree(new, ignore_errors=True)  # `new` now holds the previous contents
        return
    old = Path(
        tempfile.mkdtemp(
            prefix=f"{OLD_PREFIX}{target.name[:_NAME_IN_PREFIX]}-{os.getpid()}-", dir=target.parent
        )
    )
    os.rmdir(old)
    os.rename(target, old)
    try:
        os.rename(new, target)
    except BaseException:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths with Linux renameat2; False when it is not available."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    renameat2.restype = ctypes.c_int
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _fsync_tree(root: Path) -> None:
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(dirpath, name)
            if os.path.islink(path):
                continue
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())
        _fsync_dir(Path(dirpath))


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# --------------------------------------------------------------------------- cells and tables


def neutralise_cell(value: Any) -> Any:
    """A text value that a spreadsheet would run as a formula, prefixed with ``'``; else as is.

    Only ``str`` values are changed: a negative number stays a number.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _csv_cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if _is_missing(value):
        return None
    return neutralise_cell(value)


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` fit for a spreadsheet: text neutralised, booleans as ``true``/``false``.

    Numeric columns are left as numbers; missing values become empty cells.
    """
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_bool_dtype(series.dtype):
            out[column] = series.map(lambda v: "true" if v else "false").astype(object)
        elif pd.api.types.is_object_dtype(series.dtype) or pd.api.types.is_string_dtype(
            series.dtype
        ):
            values = series.tolist()
            if all(type(v) is str for v in values):  # the usual case, in one pass
                cells = ["'" + v if v.startswith(FORMULA_STARTS) else v for v in values]
            else:
                cells = [_csv_cell(v) for v in values]
            out[column] = pd.Series(cells, index=series.index, dtype=object)
    return out


def write_csv(frame: pd.DataFrame, path: Path | str) -> Path:
    """Write `frame` as UTF-8 CSV with a header and no index, every text cell neutralised."""
    path = Path(path)
    neutralise_frame(frame).to_csv(
        path, index=False, encoding="utf-8", lineterminator="\n", na_rep=""
    )
    return path


def xlsx_cell(value: Any) -> Any:
    """A value fit for a workbook cell: text neutralised, bad characters dropped, blank None."""
    if _is_missing(value):
        return None
    if isinstance(value, str):
        return neutralise_cell(_ILLEGAL_XLSX.sub("", value))
    if hasattr(value, "item") and not isinstance(value, bool | int | float):
        return value.item()  # numpy scalar
    return value


def xlsx_cells(values: Sequence[Any]) -> list[Any]:
    """:func:`xlsx_cell` of each value; a column of plain text without characters to drop (the
    usual case) is neutralised in one pass, without the per-value checks."""
    if all(type(v) is str for v in values) and not _ILLEGAL_XLSX.search("\n".join(values)):
        return ["'" + v if v.startswith(FORMULA_STARTS) else v for v in values]
    return [xlsx_cell(v) for v in values]


def sheet_title(name: str, used: set[str]) -> str:
    """A valid sheet title for `name` not yet in `used` (lower-cased titles); adds it to `used`."""
    title = re.sub(r"[\[\]:*?/\\]", "_", name).strip("'") or "sheet"
    title = title[:31]
    base, n = title, 2
    while title.lower() in used:
        suffix = f"_{n}"
        title = base[: 31 - len(suffix)] + suffix
        n += 1
    used.add(title.lower())
    return title


__all__ = [
    "FORMULA_STARTS",
    "MARKER",
    "OLD_PREFIX",
    "TMP_PREFIX",
    "OutputDirError",
    "atomic_output_dir",
    "clean_stale",
    "neutralise_cell",
    "neutralise_frame",
    "sheet_title",
    "write_csv",
    "xlsx_cell",
    "xlsx_cells",
]
