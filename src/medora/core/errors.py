"""The error every reader and validator raises for input it cannot use: one message listing
every problem, each naming the input and the fix, so nothing is written until all are fixed."""

from __future__ import annotations

from collections.abc import Sequence


class InputValidationError(ValueError):
    """Input that cannot be used as it is (a file, a request's inputs, a bundle); ``problems``
    lists each one with its fix."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = list(problems)
        listed = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"{source}: {len(self.problems)} problem(s) found, nothing was written:\n"
                         f"{listed}")
