"""Where output goes, checked before any work starts: a file or folder that cannot be written
is refused with what is wrong and how to fix it, so no training or prediction runs only to
fail at its last step and leave half its output behind."""

from __future__ import annotations

import os
from pathlib import Path


class UnwritablePathError(ValueError):
    """An output path that cannot be written; the message names it and the fix."""


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path.cwd()


def check_output_file(path: Path, what: str) -> None:
    """Refuse a file ``path`` (``what`` names it, e.g. "--out") that cannot be written: a
    folder, a file without write permission, or a parent folder missing or not writable."""
    if path.is_dir():
        raise UnwritablePathError(f"{what} {path} is a folder; give the path of a file in it, "
                                  f"e.g. {path / 'predictions.csv'}")
    parent = path.absolute().parent
    if not parent.is_dir():
        raise UnwritablePathError(f"{what} {path}: the folder {parent} does not exist; create "
                                  "it or write elsewhere")
    if path.exists() and not os.access(path, os.W_OK):
        raise UnwritablePathError(f"{what} {path} exists and cannot be overwritten (permission "
                                  "denied); choose another path")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UnwritablePathError(f"{what} {path}: cannot write in {parent} (permission "
                                  "denied); choose a folder you can write to")


def check_output_folder(path: Path, what: str) -> None:
    """Refuse a folder ``path`` that cannot be created or written in: a file of that name, or a
    nearest existing ancestor that is not a writable folder."""
    if path.exists() and not path.is_dir():
        raise UnwritablePathError(f"{what} {path} is a file, not a folder; give a folder path")
    existing = _nearest_existing(path.absolute())
    if not existing.is_dir():
        raise UnwritablePathError(f"{what} {path}: {existing} is a file, so the folder cannot "
                                  "be created; give another path")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UnwritablePathError(f"{what} {path}: cannot write in {existing} (permission "
                                  "denied); choose a folder you can write to, or for the "
                                  "model registry set MEDORA_HOME to one")
