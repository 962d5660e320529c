"""Model artifacts pickled before their classes moved: loaded under the modules' new names.

A registered artifact names each class by the module it was defined in when it was pickled.
When an area's code moves (medora 0.1's ``medora.predict_effects`` is now
``medora.areas.effects.predictor``), the area lists the move in ``Area.moved_modules``, and
:func:`moved_modules_importable` makes each old name import the new module while an artifact
loads, so versions registered before the move still load and predict.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import ModuleType

from medora.core.registry import areas


class _MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds each old module name and hands back the module that lives under the new one; an
    old package that no longer exists at all (``medora.featurizers``) is an empty package, so
    its moved modules can be imported beneath it. Asked only after the real finders."""

    def __init__(self, moved: Mapping[str, str]) -> None:
        self.moved = moved
        self._own_specs: dict[str, importlib.machinery.ModuleSpec | None] = {}
        self.parents = {old.rsplit(".", depth)[0] for old in moved
                        for depth in range(1, old.count("."))}

    def find_spec(self, fullname: str, path: object, target: object = None
                  ) -> importlib.machinery.ModuleSpec | None:
        if fullname in self.moved:
            return importlib.util.spec_from_loader(fullname, self)
        if fullname in self.parents:
            return importlib.util.spec_from_loader(fullname, self, is_package=True)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        if spec.name in self.moved:
            module = importlib.import_module(self.moved[spec.name])
            self._own_specs[module.__name__] = module.__spec__
            return module
        package = ModuleType(spec.name, "a package that held modules since moved")
        package.__path__ = []
        return package

    def exec_module(self, module: ModuleType) -> None:
        """The module is the new one, already executed; the import system has just set its
        ``__spec__`` to the old name's, so it gets its own back."""
        if module.__name__ in self._own_specs:
            module.__spec__ = self._own_specs[module.__name__]


def moved_modules() -> dict[str, str]:
    """Every installed area's moved modules, old name to new."""
    return {old: new for area in areas() for old, new in area.moved_modules.items()}


@contextmanager
def moved_modules_importable() -> Iterator[None]:
    finder = _MovedModuleFinder(moved_modules())
    sys.meta_path.append(finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
