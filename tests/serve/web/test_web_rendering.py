"""The pieces the pages are drawn from: chart geometry, model cards as HTML, form messages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import TypeAdapter, ValidationError

from medora.serve.db import utc_now
from medora.serve.schemas import Contribution, ReviewRequest
from medora.serve.web.cards import card_html
from medora.serve.web.charts import contribution_chart, risk_bar
from medora.serve.web.forms import field_errors
from medora.serve.web.pages import details_text, time_ago


def test_risk_bar_places_risk_interval_and_threshold_on_a_0_to_100_scale() -> None:
    bar = risk_bar(risk=0.25, lower=0.2, upper=0.3, threshold=0.5)
    span = bar.right - bar.left
    assert bar.risk == pytest.approx(bar.left + 0.25 * span, abs=0.1)
    assert bar.lower < bar.risk < bar.upper < bar.threshold
    assert [tick.label for tick in bar.ticks] == ["0%", "25%", "50%", "75%", "100%"]
    assert bar.threshold_anchor == "middle"
    assert risk_bar(0.01, 0.01, 0.01, 0.05).threshold_anchor == "start"  # label stays inside
    assert risk_bar(0.99, 0.98, 1.0, 0.97).threshold_anchor == "end"
    narrow = risk_bar(0.5, 0.5, 0.5, 0.2)
    assert narrow.upper - narrow.lower == 2  # a zero-width interval is still drawn


def test_contribution_chart_draws_raising_bars_right_and_lowering_bars_left() -> None:
    chart = contribution_chart([
        Contribution(feature="age", value=61.0, contribution=0.8),
        Contribution(feature="sysBP", value=None, contribution=-0.4),
    ], {"age": "years"})
    raising, lowering = chart.bars
    assert (raising.label, raising.amount, raising.raises_risk) == ("age = 61 years", "+0.80",
                                                                    True)
    assert (lowering.label, lowering.amount, lowering.raises_risk) == ("sysBP: missing",
                                                                       "-0.40", False)
    assert raising.x == chart.zero and lowering.x + lowering.width == pytest.approx(chart.zero)
    assert raising.width == pytest.approx(2 * lowering.width)  # to scale, largest fills a side
    assert lowering.y > raising.y and chart.height > lowering.y + chart.bar_height
    assert contribution_chart([], {}).bars == ()


def test_model_cards_render_markdown_and_escape_everything_else() -> None:
    html = card_html("# Card\n\n| a | b |\n|---|---|\n| **x** | `y` |\n\n"
                     "<script>alert(1)</script> [link](javascript:alert(1)) <img src=x>")
    assert "<h1>Card</h1>" in html and "<td><strong>x</strong></td>" in html
    assert "<code>y</code>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html and "<img" not in html
    assert 'href="javascript:' not in html


def test_form_messages_name_the_field_in_plain_words() -> None:
    with pytest.raises(ValidationError) as missing:
        TypeAdapter(ReviewRequest).validate_python({"action": "override",
                                                    "clinician_value": "two"})
    assert field_errors(missing.value, {"clinician_value": "0 to 100"}) == {
        "reason": "required", "clinician_value": "0 to 100"}
    with pytest.raises(ValidationError) as untagged:
        TypeAdapter(ReviewRequest).validate_python({})
    assert list(field_errors(untagged.value, root="action")) == ["action"]


def test_small_formats() -> None:
    now = utc_now()
    assert [time_ago(now - delta, now) for delta in (
        timedelta(seconds=5), timedelta(minutes=3), timedelta(hours=5), timedelta(days=2))] == [
        "just now", "3 min ago", "5 h ago", "2 d ago"]
    assert details_text({"from": "draft", "review_id": 3, "flagged": True}) == (
        "from: draft; review_id: 3; flagged: true")
