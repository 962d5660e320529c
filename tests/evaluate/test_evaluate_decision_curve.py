"""Net benefit and decision curves (Vickers & Elkin 2006)."""

from __future__ import annotations

import numpy as np
import pytest

from medora.evaluate import decision_curve, net_benefit, net_benefit_treat_all


def test_net_benefit_hand_computed() -> None:
    y = [1, 1, 0, 0, 1]
    p = [0.9, 0.4, 0.6, 0.2, 0.1]
    # t = 0.3 treats the first three patients: TP = 2, FP = 1, so 2/5 - 1/5 * 0.3/0.7.
    # t = 0.5 treats patients 1 and 3: TP = 1, FP = 1, so 1/5 - 1/5 * 1.
    np.testing.assert_allclose(net_benefit(y, p, [0.3, 0.5]), [2.2 / 7, 0.0], atol=1e-12)


def test_treat_all_is_zero_at_prevalence() -> None:
    y = np.r_[np.ones(3, int), np.zeros(7, int)]
    assert net_benefit_treat_all(y, [0.3])[0] == pytest.approx(0.0, abs=1e-12)
    assert net_benefit_treat_all(y, [0.01])[0] == pytest.approx(0.3 - 0.7 / 99)


def test_decision_curve_long_format(binary_data) -> None:
    y, p = binary_data
    curve = decision_curve(y, {"model": p, "flipped": 1 - p})
    assert list(curve.columns) == ["threshold", "strategy", "net_benefit"]
    assert list(dict.fromkeys(curve["strategy"])) == ["model", "flipped", "treat all", "treat none"]
    thresholds = curve.loc[curve["strategy"] == "model", "threshold"].to_numpy()
    np.testing.assert_allclose(thresholds, np.arange(1, 51) / 100)
    by_strategy = curve.groupby("strategy", sort=False)["net_benefit"].apply(np.asarray)
    np.testing.assert_allclose(by_strategy["model"], net_benefit(y, p, thresholds))
    np.testing.assert_allclose(by_strategy["treat all"], net_benefit_treat_all(y, thresholds))
    np.testing.assert_array_equal(by_strategy["treat none"], 0.0)


@pytest.mark.parametrize("thresholds", [[0.0, 0.2], [0.5, 1.0], []])
def test_thresholds_must_lie_strictly_inside_unit_interval(thresholds) -> None:
    with pytest.raises(ValueError, match="thresholds"):
        net_benefit([0, 1], [0.2, 0.8], thresholds)


def test_decision_curve_rejects_reserved_or_missing_models() -> None:
    with pytest.raises(ValueError, match="reserved"):
        decision_curve([0, 1], {"treat all": [0.2, 0.8]})
    with pytest.raises(ValueError, match="at least one"):
        decision_curve([0, 1], {})
