"""The `medora` command."""

from medora.cli.app import app

__all__ = ["app"]
