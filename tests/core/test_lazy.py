"""Package exports loaded on first use stay the objects they name, however the submodules are
imported."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from medora.core.lazy import lazy_exports


def test_an_export_named_like_its_submodule_is_refused() -> None:
    with pytest.raises(ValueError, match=r"\['decision_curve'\] name both an export and a "
                                         "submodule"):
        lazy_exports("medora.evaluate", {"decision_curve": "decision_curve"})


def test_exports_are_the_functions_after_a_direct_submodule_import() -> None:
    # In a fresh interpreter: the submodule first, as a run module imports it, then the export.
    code = ("import medora.evaluate.decision_analysis\n"
            "from medora.evaluate import decision_curve\n"
            "assert callable(decision_curve) and decision_curve.__module__ == "
            "'medora.evaluate.decision_analysis'\n")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("package", ["medora.evaluate", "medora.models"])
def test_every_export_resolves(package: str) -> None:
    module = importlib.import_module(package)
    for name in dir(module):
        assert getattr(module, name) is not None, name
