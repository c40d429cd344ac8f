"""Hostile input to the loaders ends in ScenarioError (exit 2), never another exception."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from famassign.cli import app
from famassign.models import ScenarioError
from famassign.models.loading import ReadLimits, read_scenario_files

MAX_CELL_CHARS = ReadLimits().max_cell_chars

FAST = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@contextmanager
def folder_with(good: dict[str, str | bytes], **replace: str | bytes) -> Iterator[Path]:
    """A temporary copy of the good scenario with some files replaced (name dots as '__')."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = dict(good)
        files.update({k.replace("__", "."): v for k, v in replace.items()})
        for name, content in files.items():
            data = content if isinstance(content, bytes) else content.encode("utf-8")
            (folder / name).write_bytes(data)
        yield folder


def loads_or_scenario_error(folder: Path) -> list[str]:
    """Load; return the problems ([] when valid). Any other exception fails the test."""
    try:
        read_scenario_files(folder)
    except ScenarioError as exc:
        assert exc.problems
        return [str(p) for p in exc.problems]
    return []


@FAST
@given(data=st.binary(max_size=2000))
def test_random_bytes_as_families(good_files: dict[str, str | bytes], data: bytes) -> None:
    with folder_with(good_files, families__csv=data) as folder:
        problems = loads_or_scenario_error(folder)
    assert problems  # random bytes are never a valid families table


@FAST
@given(text=st.text(max_size=500))
def test_random_text_as_staff(good_files: dict[str, str | bytes], text: str) -> None:
    with folder_with(good_files, staff__csv=text) as folder:
        loads_or_scenario_error(folder)


@FAST
@given(
    cut=st.integers(min_value=0, max_value=2000),
    name=st.sampled_from(
        ["families.csv", "staff.csv", "exceptions.csv", "conflicts.csv", "scenario.yaml"]
    ),
)
def test_truncated_files(good_files: dict[str, str | bytes], cut: int, name: str) -> None:
    content = good_files[name]
    assert isinstance(content, str)
    raw = content.encode()
    with folder_with(good_files, **{name.replace(".", "__"): raw[: cut % (len(raw) + 1)]}) as f:
        loads_or_scenario_error(f)


@FAST
@given(
    row=st.integers(min_value=0, max_value=6),
    extra=st.integers(min_value=1, max_value=50_000),
    char=st.sampled_from(["x", "é", ",", '"']),
)
def test_huge_cells(good_files: dict[str, str | bytes], row: int, extra: int, char: str) -> None:
    families = good_files["families.csv"]
    assert isinstance(families, str)
    lines = families.splitlines()
    cell = '"' + (char * (MAX_CELL_CHARS + extra)).replace('"', '""') + '"'
    lines[row + 1] = lines[row + 1].replace(",North,", f",{cell},").replace(",South,", f",{cell},")
    with folder_with(good_files, families__csv="\n".join(lines) + "\n") as folder:
        problems = loads_or_scenario_error(folder)
    assert any(f"more than {MAX_CELL_CHARS}" in p for p in problems), problems


@FAST
@given(
    sep=st.sampled_from([";", "\t", "|"]),
    name=st.sampled_from(["families.csv", "staff.csv", "exceptions.csv", "conflicts.csv"]),
)
def test_wrong_delimiter(good_files: dict[str, str | bytes], sep: str, name: str) -> None:
    content = good_files[name]
    assert isinstance(content, str)
    with folder_with(good_files, **{name.replace(".", "__"): content.replace(",", sep)}) as f:
        problems = loads_or_scenario_error(f)
    assert any(p.startswith(f"{name}:1:") and "use commas" in p for p in problems), problems


_yaml_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20)
)
_yaml_values = st.recursive(
    _yaml_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@FAST
@given(
    config=st.dictionaries(
        st.sampled_from(["name", "as_of", "policy", "weights", "exceptions", "variants", "x"]),
        _yaml_values,
        max_size=6,
    )
)
def test_random_yaml_structures(
    good_files: dict[str, str | bytes], config: dict[str, object]
) -> None:
    import yaml

    with folder_with(good_files, scenario__yaml=yaml.safe_dump(config)) as folder:
        loads_or_scenario_error(folder)


@FAST
@given(text=st.text(alphabet=":-[]{}&*!|>'\"#%@`, \n\tab01", max_size=300))
def test_random_yaml_text(good_files: dict[str, str | bytes], text: str) -> None:
    with folder_with(good_files, scenario__yaml=text) as folder:
        loads_or_scenario_error(folder)


BILLION_LAUGHS = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]" for i in range(8)]
    + ["variants: [*i]"]
)

HOSTILE_YAML = {
    "billion_laughs": BILLION_LAUGHS,
    "deep_lists": "variants: " + "[" * 5000 + "]" * 5000,
    "deep_maps": "variants:\n  - " + "{a: " * 3000 + "1" + "}" * 3000,
    "recursive_alias": "variants: &x [*x]",
    "python_object": "name: !!python/object/apply:os.system ['echo hi']",
    "custom_tag": "name: !secret foo",
    "scalar_top": "just a string",
    "two_documents": "name: a\n---\nname: b\n",
    "duplicate_anchor_bad_alias": "name: *nowhere",
}


@pytest.mark.parametrize("case", sorted(HOSTILE_YAML))
def test_hostile_yaml_is_refused_quickly(good_files: dict[str, str | bytes], case: str) -> None:
    start = time.perf_counter()
    with folder_with(good_files, scenario__yaml=HOSTILE_YAML[case]) as folder:
        problems = loads_or_scenario_error(folder)
        result = CliRunner().invoke(app, ["validate", str(folder)])
    assert problems and all(p.startswith("scenario.yaml") for p in problems), problems
    assert result.exit_code == 2 and "Traceback" not in result.stderr + result.stdout
    assert time.perf_counter() - start < 10


@FAST
@given(data=st.binary(max_size=3000), prefix=st.sampled_from([b"", b"PK\x03\x04"]))
def test_random_bytes_as_xlsx(
    good_files: dict[str, str | bytes], data: bytes, prefix: bytes
) -> None:
    files = dict(good_files)
    del files["staff.csv"]
    with folder_with(files, staff__xlsx=prefix + data) as folder:
        problems = loads_or_scenario_error(folder)
    assert any(p.startswith("staff.xlsx") for p in problems), problems


def test_truncated_xlsx(good_files: dict[str, str | bytes], tmp_path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "staff"
    staff = good_files["staff.csv"]
    assert isinstance(staff, str)
    for line in staff.splitlines():
        sheet.append(line.split(","))
    workbook.save(tmp_path / "w.xlsx")
    raw = (tmp_path / "w.xlsx").read_bytes()
    files = dict(good_files)
    del files["staff.csv"]
    for cut in (10, len(raw) // 3, len(raw) // 2, len(raw) - 20):
        with folder_with(files, staff__xlsx=raw[:cut]) as folder:
            assert loads_or_scenario_error(folder)
    with folder_with(files, staff__xlsx=raw) as folder:
        assert loads_or_scenario_error(folder) == []
