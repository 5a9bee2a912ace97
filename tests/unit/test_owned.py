"""``daglab._owned``: where daglab may write a file of its own, checked over generated paths."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daglab import _manifest
from daglab._errors import ConflictError, DaglabError, ValidationError
from daglab._owned import check_destination, write_owned

#: Path parts that have escaped or broken confinement before, mixed with arbitrary text.
TRICKY = st.sampled_from(
    ["..", ".", "", "link", "sub", "a" * 300, "x\x00y", "new\nline", "\x1b[31m", "~", "…", "é"]
)
PARTS = st.lists(st.one_of(TRICKY, st.text(min_size=1, max_size=30)), min_size=1, max_size=5)


def listing(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")}


@pytest.fixture(scope="module")
def layout() -> Iterator[tuple[Path, Path]]:
    """A project (with ``sub/``, ``link`` -> a folder outside) and that outside folder."""
    with tempfile.TemporaryDirectory() as base:
        root = Path(base) / "proj"
        outside = Path(base) / "outside"
        (root / "sub").mkdir(parents=True)
        outside.mkdir()
        (outside / "theirs.html").write_text("theirs")
        (root / "link").symlink_to(outside, target_is_directory=True)
        (root / "sub" / "users.html").write_text("mine")
        yield root, outside


def candidate(root: Path, parts: list[str], absolute: bool) -> Path:
    text = "/".join(parts)
    return Path("/" + text) if absolute else root / text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parts=PARTS, absolute=st.booleans())
def test_unnamed_destinations_stay_in_the_project(
    layout: tuple[Path, Path], parts: list[str], absolute: bool
) -> None:
    root, _ = layout
    path = candidate(root, parts, absolute)
    try:
        checked = check_destination(root, path, explicit=False)
    except (ValidationError, ConflictError):
        return  # refused with daglab's own error: exit 7 or 8, never a traceback
    where = checked.parent.resolve() / checked.name
    assert where.is_relative_to(root.resolve()), where
    assert not checked.is_symlink() and not checked.is_dir()
    assert not checked.exists()  # nothing here is daglab's, so nothing existing is allowed


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parts=PARTS, absolute=st.booleans())
def test_named_destinations_outside_need_an_existing_folder(
    layout: tuple[Path, Path], parts: list[str], absolute: bool
) -> None:
    root, _ = layout
    path = candidate(root, parts, absolute)
    try:
        checked = check_destination(root, path, explicit=True)
    except DaglabError as exc:
        assert exc.exit_code in (7, 8)
        return
    inside = (checked.parent.resolve() / checked.name).is_relative_to(root.resolve())
    assert inside or checked.parent.is_dir()
    assert not checked.exists()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parts=PARTS)
def test_writes_never_land_outside_or_over_foreign_files(
    layout: tuple[Path, Path], parts: list[str]
) -> None:
    root, outside = layout
    before_outside = listing(outside)
    path = candidate(root, parts, absolute=False)
    try:
        written = write_owned(root, path, "<html></html>", generator="test", kind="export")
    except DaglabError:
        assert listing(outside) == before_outside
        return
    assert listing(outside) == before_outside
    assert (root / "sub" / "users.html").read_text() == "mine"
    assert _manifest.owns(root, written.path)
    written.path.unlink()
    _manifest.forget(root, [_manifest.key_for(root, written.path)])


def test_the_rule_in_examples(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    mine = root / "report.html"
    mine.write_text("mine")
    with pytest.raises(ConflictError, match="did not write it"):
        write_owned(root, mine, "new", generator="test", kind="report")
    assert mine.read_text() == "mine"
    write_owned(root, mine, "new", generator="test", kind="report", force=True)
    write_owned(root, mine, "newer", generator="test", kind="report")  # now daglab's
    assert mine.read_text() == "newer"
    with pytest.raises(ValidationError, match="outside the project"):
        write_owned(root, tmp_path / "x.html", "x", generator="test", kind="report")
    with pytest.raises(ValidationError, match="does not exist"):
        write_owned(
            root, tmp_path / "a" / "b" / "x.html", "x", generator="t", kind="r", explicit=True
        )
    assert not (tmp_path / "a").exists()
    deep = root / "a" / "b" / "x.html"  # inside the project, folders are made
    write_owned(root, deep, "x", generator="test", kind="report")
    assert deep.read_text() == "x"
