"""Data files that ship inside installed packages, read without importing the packages.

The files are found from the distribution's metadata (its RECORD), so nothing of the package
runs: importing lifelines alone takes seconds, and scikit-survival is GPL-3, whose data files
medora reads but whose code it never imports. Each read records what a result needs to be
traced to its source: the package's version and declared licence and the bytes' SHA-256.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pandas as pd


class DatasetUnavailableError(RuntimeError):
    """The package that ships a dataset, or the dataset's file inside it, is not installed."""


@dataclass(frozen=True)
class PackagedFiles:
    """The bytes of files read from one installed package, and what identifies them."""

    package: str
    version: str
    licence: str
    paths: tuple[str, ...]
    locations: tuple[Path, ...]
    contents: tuple[bytes, ...]

    @property
    def sha256(self) -> str:
        """SHA-256 of the files concatenated in order (``cat a b | sha256sum``)."""
        return hashlib.sha256(b"".join(self.contents)).hexdigest()


def package_licence(distribution: metadata.Distribution) -> str:
    """The licence the installed package declares (SPDX expression, licence field or trove
    classifiers), read at run time so a re-licensed release is reported as it is."""
    meta = distribution.metadata
    declared = meta.get("License-Expression") or meta.get("License")
    # Some packages paste their whole licence text into the field; only a name is useful here.
    if declared and "\n" not in declared and len(declared) < 80:
        return str(declared)
    classifiers = [c.rsplit("::", 1)[-1].strip() for c in meta.get_all("Classifier") or ()
                   if c.startswith("License ::")]
    return " / ".join(classifiers) or "not stated in the package metadata"


def read_package_files(package: str, paths: Sequence[str], *, what: str,
                       install: str) -> PackagedFiles:
    """Read ``paths`` (as listed in the distribution's RECORD, e.g.
    ``lifelines/datasets/ACTG175.csv``) from the installed ``package``.

    ``what`` names the dataset and ``install`` the command that provides the package, for the
    :class:`DatasetUnavailableError` raised when the package or a file is missing.
    """
    try:
        distribution = metadata.distribution(package)
    except metadata.PackageNotFoundError:
        raise DatasetUnavailableError(
            f"{what} ships inside the Python package {package!r}, which is not installed; "
            f"install it with {install}") from None
    listed = {str(entry): entry for entry in distribution.files or ()}
    locations, contents = [], []
    for path in paths:
        if path not in listed:
            raise DatasetUnavailableError(
                f"{what}: {package} {distribution.version} is installed but lists no file "
                f"{path}; reinstall the version medora pins with {install}")
        location = Path(str(distribution.locate_file(listed[path])))
        locations.append(location)
        try:
            contents.append(location.read_bytes())
        except FileNotFoundError:
            raise DatasetUnavailableError(
                f"{what}: {path} of {package} {distribution.version} is missing on disk; "
                f"reinstall the package with {install}") from None
    return PackagedFiles(package=package, version=distribution.version,
                         licence=package_licence(distribution), paths=tuple(paths),
                         locations=tuple(locations), contents=tuple(contents))


def categorical(values: pd.Series, levels: Sequence[object], *, where: str,
                ordered: bool = False) -> pd.Categorical:
    """A categorical with its levels stated, not inferred, so a subset of patients missing a
    level encodes like the whole set; a value outside them is an error, not a silent missing
    value."""
    unknown = sorted(set(values.dropna().unique()) - set(levels), key=str)
    if unknown:
        raise ValueError(f"{where}: column {values.name!r} holds {unknown}, expected only "
                         f"{list(levels)}; the installed file differs from the one this loader "
                         "was written for")
    return pd.Categorical(values, categories=list(levels), ordered=ordered)
