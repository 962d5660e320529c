"""Package exports imported on first use (PEP 562).

A package's ``__init__`` that imports every submodule makes any import of the package pay for
all of them: `medora predict` on molecules would load scikit-learn and matplotlib, a second of
start-up per call, for names it never touches.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str]
                 ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``: each name of ``exports`` comes from the
    submodule it maps to (relative to ``package``), imported when the name is first read.

    An exported name may not also be a submodule's: importing that submodule from anywhere
    binds its name in the package to the module, and the export would never be looked up.
    """
    shadowed = sorted(set(exports) & set(exports.values()))
    if shadowed:
        raise ValueError(f"{package}: {shadowed} name both an export and a submodule; rename "
                         "the submodule")

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{exports[name]}"), name)
        globals_of_package = importlib.import_module(package).__dict__
        globals_of_package[name] = value  # later reads skip this function
        return value

    def __dir__() -> list[str]:
        return sorted(exports)

    return __getattr__, __dir__
