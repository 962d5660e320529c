"""Files shipped inside installed packages: read through the distribution's metadata (never by
importing the package), with version, licence and hash, and clear errors naming the fix."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pandas as pd
import pytest

from medora.data import packaged
from medora.data.packaged import DatasetUnavailableError, categorical, read_package_files

ACTG175 = "lifelines/datasets/ACTG175.csv"


def test_a_file_is_read_with_its_provenance() -> None:
    files = read_package_files("lifelines", [ACTG175], what="ACTG175", install="pip install x")
    assert files.version == metadata.version("lifelines")
    assert files.licence and "\n" not in files.licence
    assert files.locations[0].read_bytes() == files.contents[0]
    assert files.sha256 == hashlib.sha256(files.contents[0]).hexdigest()


def test_several_files_hash_as_their_concatenation() -> None:
    paths = ["lifelines/datasets/ACTG175.csv", "lifelines/datasets/gbsg2.csv"]
    files = read_package_files("lifelines", paths, what="two files", install="-")
    assert files.sha256 == hashlib.sha256(b"".join(files.contents)).hexdigest()
    assert files.paths == tuple(paths)


def test_reading_never_imports_the_package() -> None:
    code = ("import sys; from medora.data.packaged import read_package_files; "
            f"read_package_files('lifelines', ['{ACTG175}'], what='x', install='-'); "
            "print('lifelines' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "False"


def test_a_missing_package_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    def not_installed(name: str) -> metadata.Distribution:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(packaged.metadata, "distribution", not_installed)
    with pytest.raises(DatasetUnavailableError,
                       match=r"GBSG2 ships inside .*'lifelines', which is not installed; "
                             r"install it with pip install medora"):
        read_package_files("lifelines", ["lifelines/datasets/gbsg2.csv"], what="GBSG2",
                           install="pip install medora")


def test_a_file_the_package_does_not_list_is_refused() -> None:
    with pytest.raises(DatasetUnavailableError, match=r"lists no file lifelines/nope\.csv; "
                                                      r"reinstall"):
        read_package_files("lifelines", ["lifelines/nope.csv"], what="x", install="-")


def test_a_listed_file_missing_on_disk_is_refused(monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    real = metadata.distribution("lifelines")

    class Emptied(metadata.PathDistribution):  # installed, but its data files deleted
        def locate_file(self, path: str | Path) -> Path:
            return tmp_path / str(path)

    monkeypatch.setattr(packaged.metadata, "distribution",
                        lambda name: Emptied(Path(str(real._path))))  # type: ignore[attr-defined]
    with pytest.raises(DatasetUnavailableError, match="missing on disk; reinstall"):
        read_package_files("lifelines", [ACTG175], what="ACTG175", install="-")


def test_categorical_levels_are_stated_not_inferred() -> None:
    subset = categorical(pd.Series(["b", "b"], name="grade"), ["a", "b", "c"], where="t")
    assert list(subset.categories) == ["a", "b", "c"] and not subset.ordered
    with pytest.raises(ValueError, match=r"'grade' holds \['z'\], expected only"):
        categorical(pd.Series(["a", "z"], name="grade"), ["a", "b"], where="t")
