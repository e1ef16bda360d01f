#!/usr/bin/env python3
"""Compile the gettext catalogues of platform/locale to .mo files, in pure Python (polib).

    python infra/compile_messages.py          # (re)write every .mo that is missing or out of date
    python infra/compile_messages.py --check  # write nothing; exit 1 if a .mo is missing or out of date

Each ``<lang>/LC_MESSAGES/<domain>.po`` compiles to the ``.mo`` beside it. Fuzzy and untranslated
entries are left out, as ``msgfmt`` does. The .mo files are committed, so neither the project nor CI
needs GNU gettext.

A .mo is up to date when it holds the same catalogue as its .po compiles to: the same entries and the
same metadata, except the creation and revision dates that every ``makemessages`` run touches.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parents[1]
LOCALE_DIR = ROOT / "platform" / "locale"
VOLATILE_METADATA = frozenset({"POT-Creation-Date", "PO-Revision-Date"})

# (msgctxt, msgid, msgid_plural, translations): one translation, or one per plural form.
Entry = tuple[str, str, str, tuple[str, ...]]
Catalogue = tuple[frozenset[Entry], frozenset[tuple[str, str]]]


def po_files(locale_dir: Path = LOCALE_DIR) -> list[Path]:
    return sorted(locale_dir.glob("*/LC_MESSAGES/*.po"))


def _display(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _catalogue(mo_path: Path) -> Catalogue:
    """What a .mo file translates, read back with polib."""
    mo = polib.mofile(str(mo_path))
    entries = frozenset(
        (
            entry.msgctxt or "",
            entry.msgid,
            entry.msgid_plural or "",
            tuple(entry.msgstr_plural[index] for index in sorted(entry.msgstr_plural))
            if entry.msgid_plural
            else (entry.msgstr,),
        )
        for entry in mo
    )
    metadata = frozenset((key, value) for key, value in mo.metadata.items() if key not in VOLATILE_METADATA)
    return entries, metadata


def _compile(po_path: Path, mo_path: Path) -> None:
    # polib writes only translated_entries(): fuzzy, obsolete and untranslated entries stay out.
    polib.pofile(str(po_path)).save_as_mofile(str(mo_path))


def _stale(po_path: Path) -> str | None:
    """Why the .mo beside ``po_path`` is not what the .po compiles to, or None when it is."""
    mo_path = po_path.with_suffix(".mo")
    if not mo_path.exists():
        return f"{_display(mo_path)} is missing"
    with tempfile.TemporaryDirectory() as scratch:
        expected_path = Path(scratch) / mo_path.name
        _compile(po_path, expected_path)
        expected = _catalogue(expected_path)
    try:
        actual = _catalogue(mo_path)
    except (OSError, ValueError) as error:
        return f"{_display(mo_path)} cannot be read ({error})"
    if actual != expected:
        return f"{_display(mo_path)} is out of date with {_display(po_path)}"
    return None


def check(locale_dir: Path = LOCALE_DIR) -> list[str]:
    """Every problem with the compiled catalogues: missing, stale or orphaned .mo files."""
    problems = [reason for po_path in po_files(locale_dir) if (reason := _stale(po_path))]
    problems += [
        f"{_display(mo_path)} has no .po beside it"
        for mo_path in sorted(locale_dir.glob("*/LC_MESSAGES/*.mo"))
        if not mo_path.with_suffix(".po").exists()
    ]
    return problems


def compile_all(locale_dir: Path = LOCALE_DIR) -> list[Path]:
    """Write the .mo of every .po whose .mo is missing or out of date; return the files written."""
    written = []
    for po_path in po_files(locale_dir):
        if _stale(po_path) is not None:
            mo_path = po_path.with_suffix(".mo")
            _compile(po_path, mo_path)
            written.append(mo_path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a .mo is missing or out of date"
    )
    parser.add_argument("--locale-dir", type=Path, default=LOCALE_DIR, help="default: platform/locale")
    args = parser.parse_args(argv)
    locale_dir: Path = args.locale_dir.resolve()
    if not po_files(locale_dir):
        print(f"No .po files under {_display(locale_dir)}", file=sys.stderr)
        return 1
    if args.check:
        problems = check(locale_dir)
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print("Run: python infra/compile_messages.py", file=sys.stderr)
            return 1
        print(f"{len(po_files(locale_dir))} catalogue(s) up to date")
        return 0
    written = compile_all(locale_dir)
    for mo_path in written:
        print(f"compiled {_display(mo_path)}")
    print(f"{len(written)} compiled, {len(po_files(locale_dir)) - len(written)} already up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
