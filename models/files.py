"""Reading input files within limits: the one place a CSV file or an XLSX workbook is read.

The scenario loader (:mod:`famassign.models.sources`) and the export importer
(:mod:`famassign.models.importing`) read through here, so the command line, the library and the
server refuse the same files the same way. Every limit of :class:`ReadLimits` is checked while
reading, before anything large is built:

* the bytes of the file, before it is opened;
* for a workbook, the uncompressed size and the compression ratio of every zip part: first as the
  zip directory states them, then counted while each part is unzipped (a directory may lie);
* rows, columns, cells and the characters of a cell, counted row by row as the file streams. A
  CSV record too long for the column and cell limits is refused before it is split into cells; a
  sheet's stated dimension is not used (rows are as wide as the cells they store).

A crossed limit raises :class:`ScenarioError` with one :class:`LocatedProblem` naming the file,
the limit and how to raise it.
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
import os
import zipfile
import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, TextIO
from xml.parsers import expat

from famassign.models.errors import FamassignError
from famassign.models.problems import LocatedProblem, ScenarioError

ENV_PREFIX = "FAMASSIGN_"
"""A limit is set from the environment as ``FAMASSIGN_`` and its name in capitals."""
RATIO_FLOOR = 1024 * 1024
"""Zip parts that unzip to at most this many bytes are not held to the compression ratio."""
SHEET_COLUMNS = 16_384
"""The columns of a sheet (A to XFD): a row storing more cells is not a sheet Excel can open."""
"""Zip parts that unzip to at most this many bytes are not held to the compression ratio."""
ENCODING_NAMES = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 with byte-order mark",
    "cp1252": "Windows-1252",
}
"""How problems and notes name the encodings a CSV file is read in."""
_CHUNK = 1024 * 1024
_NUL = "contains NUL bytes: not a text file (save it as CSV UTF-8)"


class LimitsError(FamassignError, ValueError):
    """A limit that cannot be used (not a whole number of at least 1, or out of range)."""


def env_name(limit: str) -> str:
    """The environment variable that sets `limit` (``max_rows`` -> ``FAMASSIGN_MAX_ROWS``)."""
    return ENV_PREFIX + limit.upper()


@dataclass(frozen=True)
class ReadLimits:
    """How much one input file may hold; a file crossing a limit is refused as it is read.

    The defaults leave a 30,000-family program (and its exports, a row per child) far inside.
    Each limit is set from the environment by :meth:`from_env` (``FAMASSIGN_MAX_ROWS``, ...) or
    passed by a library caller. Raises :class:`LimitsError` for a value that is not a whole
    number of at least 1, or a cell limit above the csv module's field limit.
    """

    max_file_bytes: int = 100 * 1024 * 1024
    """Bytes of one CSV or XLSX file."""
    max_unzipped_bytes: int = 256 * 1024 * 1024
    """Bytes a workbook unzips to, each zip part and all of them together."""
    max_compression_ratio: int = 100
    """Unzipped bytes per compressed byte of a zip part (parts above :data:`RATIO_FLOOR`)."""
    max_rows: int = 300_000
    """Rows of one CSV file or sheet, header, title and blank rows included (above the solver's
    250,000 families)."""
    max_columns: int = 200
    """Cells of one row (of a sheet: up to the last cell holding a value)."""
    max_cells: int = 5_000_000
    """Cells of one CSV file or sheet (of a sheet: every cell it stores, empty or not; and the
    shared strings of a workbook)."""
    max_cell_chars: int = 10_000
    """Characters of one cell."""

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise LimitsError(f"{item.name}={value!r}: a limit is a whole number of at least 1")
        if self.max_cell_chars > csv.field_size_limit():
            raise LimitsError(
                f"max_cell_chars={self.max_cell_chars}: at most {csv.field_size_limit()} "
                "(the csv module's field limit)"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ReadLimits:
        """The defaults, each replaced by its environment variable when set (see :func:`env_name`).

        Raises :class:`LimitsError` naming the variable when its value is not a valid limit.
        """
        env = os.environ if environ is None else environ
        given: dict[str, int] = {}
        for item in fields(cls):
            text = env.get(env_name(item.name), "").strip()
            if not text:
                continue
            try:
                given[item.name] = int(text)
                cls(**{item.name: given[item.name]})
            except LimitsError as exc:
                raise LimitsError(f"{env_name(item.name)}: {exc}") from None
            except ValueError:
                raise LimitsError(
                    f"{env_name(item.name)}={text[:40]!r}: a limit is a whole number of at least 1"
                ) from None
        return cls(**given)

    def crossed(self, limit: str, what: str) -> str:
        """The message of a file crossing `limit`: `what`, the limit and how to raise it."""
        return (
            f"{what} (limit {limit}={getattr(self, limit)}; set {env_name(limit)} "
            f"or pass ReadLimits({limit}=...) to raise it)"
        )

    @property
    def record_chars(self) -> int:
        """The most characters a CSV record within the column and cell limits can take (every
        cell quoted, every character a doubled quote, and a separator)."""
        return self.max_columns * (2 * self.max_cell_chars + 3)


def given_or_env(limits: ReadLimits | None) -> ReadLimits:
    """`limits`, or when None the limits the environment sets (:meth:`ReadLimits.from_env`)."""
    return ReadLimits.from_env() if limits is None else limits


class LimitCrossed(ScenarioError):
    """A file refused for crossing a limit of :class:`ReadLimits` (one located problem)."""


def refused(file: str, line: int | None, message: str) -> ScenarioError:
    """The error refusing a file that cannot be read: one located problem."""
    return ScenarioError([LocatedProblem(file, line, None, message)])


def crossed(
    file: str,
    line: int | None,
    limits: ReadLimits,
    limit: str,
    what: str,
    column: str | None = None,
) -> LimitCrossed:
    """The error refusing a file crossing `limit`: `what`, the limit and how to raise it."""
    return LimitCrossed([LocatedProblem(file, line, column, limits.crossed(limit, what))])


def long_cell(limits: ReadLimits) -> str:
    """The message of a cell longer than ``max_cell_chars``."""
    return limits.crossed(
        "max_cell_chars", f"a cell of more than {limits.max_cell_chars} characters"
    )


class Tally:
    """Rows and cells of one table as they are read, refused the moment they cross a limit."""

    def __init__(self, file: str, limits: ReadLimits) -> None:
        self.file, self.limits = file, limits
        self.rows = self.cells = 0

    def columns_crossed(self, line: int) -> LimitCrossed:
        """The error for a row at `line` wider than ``max_columns``."""
        what = f"more than {self.limits.max_columns} columns"
        return crossed(self.file, line, self.limits, "max_columns", what)

    def cell_crossed(self, line: int, column: int | None) -> LimitCrossed:
        """The error for a cell at `line` (and 0-based `column`, when known) too long."""
        shown = None if column is None else f"column {column + 1}"
        return LimitCrossed([LocatedProblem(self.file, line, shown, long_cell(self.limits))])

    def count(self, line: int, values: Sequence[object], stored: int | None = None) -> None:
        """Count one row (its cell values; `stored`: the cells the reader built for it, when
        more). Raises ScenarioError when the table crosses a limit."""
        limits = self.limits
        self.rows += 1
        if self.rows > limits.max_rows:
            what = f"more than {limits.max_rows} rows"
            raise crossed(self.file, line, limits, "max_rows", what)
        if len(values) > limits.max_columns:
            raise self.columns_crossed(line)
        self.cells += len(values) if stored is None else stored
        if self.cells > limits.max_cells:
            what = f"more than {limits.max_cells} cells"
            raise crossed(self.file, line, limits, "max_cells", what)
        for index, value in enumerate(values):
            if isinstance(value, str) and len(value) > limits.max_cell_chars:
                raise self.cell_crossed(line, index)


def check_file_bytes(path: Path, limits: ReadLimits) -> None:
    """Raise ScenarioError when the file at `path` holds more than ``max_file_bytes``."""
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        what = f"the file has {size} bytes, more than {limits.max_file_bytes}"
        raise crossed(path.name, None, limits, "max_file_bytes", what)


# ------------------------------------------------------------------------------------- CSV


@dataclass(frozen=True)
class TextRows:
    """The records of a CSV file as text cells, the line each starts on, the encoding read."""

    rows: list[list[str]]
    lines: list[int]
    encoding: str


class _TooLong(Exception):
    """A record longer than any within the column and cell limits."""


class _Lines:
    """The lines of a text file for csv.reader, keeping those of the record being read.

    No record may exceed `bound` characters (:class:`_TooLong`); a line with a NUL refuses the
    file. `ended` is set once the reader asks past the end of the file.
    """

    def __init__(self, handle: TextIO, file: str, bound: int) -> None:
        self.handle, self.file, self.bound = handle, file, bound
        self.record: list[str] = []
        self.size = self.line = 0
        self.start = 1
        self.ended = False

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        text = self.handle.readline(self.bound + 1 - self.size)
        if not text:
            self.ended = True
            raise StopIteration
        self.line += 1
        self.record.append(text)
        self.size += len(text)
        if self.size > self.bound:
            raise _TooLong
        if "\x00" in text:
            raise refused(self.file, self.line, _NUL)
        return text

    def next_record(self) -> None:
        """The record read so far is complete; the next one starts on the next line."""
        self.record.clear()
        self.size = 0
        self.start = self.line + 1


def read_csv(path: Path, limits: ReadLimits, encodings: Sequence[str] = ("utf-8",)) -> TextRows:
    """The records of the CSV file at `path`, read in the first of `encodings` that decodes it
    (``utf-8`` with a byte-order mark is read as ``utf-8-sig``), streaming and counted.

    Raises ScenarioError (one located problem): too large, UTF-16 or not in any of `encodings`,
    NUL bytes, a quote never closed, or a limit crossed.
    """
    file = path.name
    check_file_bytes(path, limits)
    with path.open("rb") as handle:
        head = handle.read(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise refused(file, None, "UTF-16 text, not UTF-8: save it as CSV UTF-8")
    for encoding in encodings:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise refused(file, None, f"unknown encoding {encoding!r}") from None
        if encoding == "utf-8" and head.startswith(codecs.BOM_UTF8):
            encoding = "utf-8-sig"
        try:
            return _csv_records(path, encoding, limits)
        except UnicodeDecodeError:
            continue
    raise _undecodable(path, encodings)


def _csv_records(path: Path, encoding: str, limits: ReadLimits) -> TextRows:
    file = path.name
    tally = Tally(file, limits)
    rows: list[list[str]] = []
    lines: list[int] = []
    with path.open(encoding=encoding, newline="") as handle:
        feed = _Lines(handle, file, limits.record_chars)
        try:
            for row in csv.reader(feed):
                if feed.ended:
                    raise refused(
                        file,
                        feed.start,
                        "cannot read as CSV: a quote opened in this record is never closed: "
                        "check the quotes",
                    )
                tally.count(feed.start, row)
                rows.append(row)
                lines.append(feed.start)
                feed.next_record()
        except _TooLong:
            raise _too_long(tally, feed) from None
        except csv.Error as exc:
            if "field limit" in str(exc):  # a cell longer than the csv module's field limit
                raise tally.cell_crossed(feed.start, None) from None
            raise refused(
                file, feed.start, f"cannot read as CSV ({exc}): check the quotes"
            ) from None
    return TextRows(rows, lines, encoding)


def _too_long(tally: Tally, feed: _Lines) -> ScenarioError:
    """The limit a record too long for any within limits crosses: its first characters hold
    more cells than ``max_columns``, or else one of them is longer than ``max_cell_chars``."""
    prefix = "".join(feed.record)[: tally.limits.record_chars]
    try:
        cells = next(csv.reader(io.StringIO(prefix, newline="")), [])
    except csv.Error:
        cells = []
    if len(cells) > tally.limits.max_columns:
        return tally.columns_crossed(feed.start)
    return tally.cell_crossed(feed.start, None)


def _undecodable(path: Path, encodings: Sequence[str]) -> ScenarioError:
    names = " or ".join(dict.fromkeys(ENCODING_NAMES.get(e, e) for e in encodings))
    raw = path.read_bytes()  # within max_file_bytes: checked before
    try:
        raw.decode(encodings[-1])
    except UnicodeDecodeError as exc:
        return refused(
            path.name,
            raw[: exc.start].count(b"\n") + 1,
            f"not {names} text (byte {raw[exc.start]:#04x} at offset {exc.start}): "
            "save it as CSV UTF-8",
        )
    return refused(path.name, None, f"not {names} text: save it as CSV UTF-8")


# ------------------------------------------------------------------------------------ XLSX


def _unreadable(file: str, exc: BaseException) -> ScenarioError:
    return refused(file, None, f"not a readable Excel workbook (.xlsx): {str(exc).strip()[:200]}")


def _check_part(
    file: str, part: str, size: int, compressed: int, total: int, limits: ReadLimits
) -> None:
    """Raise ScenarioError when a zip part of `size` bytes (`compressed` in the zip), or the
    `total` of the parts so far, crosses a limit."""
    name = repr(part[:100])
    if size > limits.max_unzipped_bytes:
        what = f"the zip part {name} unzips to more than {limits.max_unzipped_bytes} bytes"
        raise crossed(file, None, limits, "max_unzipped_bytes", what)
    if total > limits.max_unzipped_bytes:
        what = f"the zip parts unzip to more than {limits.max_unzipped_bytes} bytes in all"
        raise crossed(file, None, limits, "max_unzipped_bytes", what)
    ratio = limits.max_compression_ratio
    if size > RATIO_FLOOR and size > ratio * max(compressed, 1):
        what = f"the zip part {name} is compressed more than {ratio} to 1"
        raise crossed(file, None, limits, "max_compression_ratio", what)


class _XmlCells:
    """Counts the cells of a zip part's XML as it unzips, before openpyxl builds any of them:
    the cells of each row (at most :data:`SHEET_COLUMNS`), the cells of the part and its shared
    strings (each at most ``max_cells``). A part that is not XML is left to openpyxl."""

    def __init__(self, file: str, part: str, limits: ReadLimits) -> None:
        self.file, self.part, self.limits = file, part, limits
        self.parser = expat.ParserCreate(namespace_separator="}")
        self.parser.StartElementHandler = self._start
        self.row = self.cells = self.strings = 0
        self.xml = True

    def _start(self, name: str, _attributes: object) -> None:
        local = name.rpartition("}")[2]
        if local == "c":
            self.row += 1
            self.cells += 1
            if self.row > SHEET_COLUMNS:
                raise refused(
                    self.file,
                    None,
                    f"a row of the zip part {self.part[:100]!r} stores more than "
                    f"{SHEET_COLUMNS} cells, more than a sheet has columns",
                )
        elif local == "row":
            self.row = 0
        elif local == "si":
            self.strings += 1
        if max(self.cells, self.strings) > self.limits.max_cells:
            what = f"the zip part {self.part[:100]!r} holds more than {self.limits.max_cells} cells"
            raise crossed(self.file, None, self.limits, "max_cells", what)

    def feed(self, chunk: bytes) -> None:
        """Count the cells in the next `chunk` of the part."""
        if self.xml:
            try:
                self.parser.Parse(chunk, False)
            except expat.ExpatError:
                self.xml = False


def check_zip(path: Path, limits: ReadLimits) -> None:
    """Raise ScenarioError unless the workbook at `path` is a zip whose parts keep within the
    limits: as its directory states them, then as counted while unzipping each part.

    A workbook found within the limits is not counted again while it is unchanged (a program
    workbook is opened once per table).
    """
    found = path.stat()
    _check_zip(str(path), (found.st_ino, found.st_size, found.st_mtime_ns), limits)


@functools.lru_cache(maxsize=16)
def _check_zip(name: str, _version: tuple[int, int, int], limits: ReadLimits) -> None:
    path = Path(name)
    file = path.name
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
            total = 0
            for part in parts:
                total += part.file_size
                _check_part(file, part.filename, part.file_size, part.compress_size, total, limits)
            total = 0
            for part in parts:
                size = 0
                cells = _XmlCells(file, part.filename, limits)
                with archive.open(part) as stream:
                    while chunk := stream.read(_CHUNK):
                        size += len(chunk)
                        _check_part(
                            file, part.filename, size, part.compress_size, total + size, limits
                        )
                        cells.feed(chunk)
                total += size
    except (
        zipfile.BadZipFile,
        zlib.error,
        NotImplementedError,
        RuntimeError,
        EOFError,
        OSError,
        ValueError,
    ) as exc:
        raise _unreadable(file, exc) from None


@contextmanager
def open_workbook(path: Path, limits: ReadLimits, *, data_only: bool) -> Iterator[Any]:
    """The workbook at `path`, opened read-only (streaming) once its bytes and zip parts are
    checked; closed on leaving. Raises ScenarioError when refused or unreadable."""
    check_file_bytes(path, limits)
    check_zip(path, limits)
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=data_only)
    except Exception as exc:  # openpyxl raises many kinds on hostile input
        raise _unreadable(path.name, exc) from None
    try:
        yield workbook
    finally:
        workbook.close()


def sheet_rows(sheet: Any, tally: Tally) -> Iterator[tuple[int, Sequence[Any]]]:
    """(row number, cells) of a read-only worksheet, each row counted by `tally` before it is
    given. The sheet's stated dimension is ignored; cells past ``max_columns`` that hold no value
    are dropped (they count as cells)."""
    sheet.reset_dimensions()
    limit = tally.limits.max_columns
    for number, row in enumerate(sheet.iter_rows(), start=1):
        stored = len(row)
        width = stored
        while width > limit and row[width - 1].value in (None, ""):
            width -= 1
        cells = row[:width] if width < stored else row
        tally.count(number, [cell.value for cell in cells], stored)
        yield number, cells


__all__ = [
    "ENCODING_NAMES",
    "LimitCrossed",
    "LimitsError",
    "ReadLimits",
    "Tally",
    "TextRows",
    "check_file_bytes",
    "check_zip",
    "crossed",
    "env_name",
    "given_or_env",
    "long_cell",
    "open_workbook",
    "read_csv",
    "refused",
    "sheet_rows",
]
