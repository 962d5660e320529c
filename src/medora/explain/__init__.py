"""Explanations: per-patient attributions and their global summaries."""

from medora.explain.attributions import Contribution, global_importance, top_contributions

__all__ = ["Contribution", "global_importance", "top_contributions"]
