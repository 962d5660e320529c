"""Oncology tasks on real data that ships in installed packages."""

from __future__ import annotations

from medora.areas.risk.task import RiskTask
from medora.core.task import DecisionThreshold
from medora.data.bundled import load_wdbc
from medora.data.tabular import FeatureSpec

_NUCLEUS_MEASURES = (
    ("radius", "mean distance from centre to perimeter", "pixels"),
    ("texture", "standard deviation of grey-scale values", ""),
    ("perimeter", "nucleus perimeter", "pixels"),
    ("area", "nucleus area", "pixels^2"),
    ("smoothness", "local variation in radius lengths", ""),
    ("compactness", "perimeter^2 / area - 1.0", ""),
    ("concavity", "severity of concave portions of the contour", ""),
    ("concave points", "number of concave portions of the contour", ""),
    ("symmetry", "nucleus symmetry", ""),
    ("fractal dimension", "coastline approximation - 1", ""),
)
_STATISTICS = (("mean", "mean"), ("error", "standard error"), ("worst", "largest (mean of the "
                                                                         "three largest)"))


def _wdbc_features() -> tuple[FeatureSpec, ...]:
    specs = []
    for prefix, statistic in _STATISTICS:
        for measure, meaning, unit in _NUCLEUS_MEASURES:
            # scikit-learn's column names: "mean radius", "radius error", "worst radius"
            name = f"{measure} {prefix}" if prefix == "error" else f"{prefix} {measure}"
            specs.append(FeatureSpec(name, f"{statistic} of {meaning} over the cell nuclei",
                                     unit=unit, valid_range=(0.0, float("inf"))))
    return tuple(specs)


WDBC_MALIGNANCY = RiskTask(
    name="oncology.wdbc_malignancy",
    area="oncology",
    description="Malignancy of a breast mass from 30 nuclear features of its fine-needle "
    "aspirate image (Wisconsin Diagnostic Breast Cancer).",
    load=load_wdbc,
    features=_wdbc_features(),
    target="malignant",
    target_description="malignant (1) versus benign (0) on histology",
    threshold=DecisionThreshold(
        0.5, "no guideline threshold applies to these image features; 0.5 assumes equal costs "
        "(see the decision curve for lower thresholds, where a missed cancer costs more)"),
    intended_use="Research and teaching on cytology-based malignancy prediction; a "
    "pathologist reviews every estimate.",
    out_of_scope_use="Replacing cytological or histological diagnosis; images processed by a "
    "different segmentation pipeline than the original study's.",
    limitations=(
        "569 aspirates from one institution (University of Wisconsin, 1995).",
        "No demographic attributes are recorded, so no subgroup fairness audit is possible.",
    ),
)
