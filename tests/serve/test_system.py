"""Health for load balancers and Prometheus metrics for operators."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def samples(service) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = service.request("GET", "/metrics", "auditor")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples}


def test_health_needs_no_authentication(service) -> None:
    response = service.client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_metrics_count_requests_predictions_and_reviews(serving) -> None:
    prediction = serving.prediction()
    serving.prediction()
    serving.request("POST", f"/predictions/{prediction['id']}/reviews", "clinician",
                    json={"action": "escalate"})
    serving.request("GET", "/predictions/not-a-uuid")
    found = samples(serving)
    assert found["medora_predictions_total", (("task", "cardio.framingham_chd"),)] == 2
    assert found["medora_reviews_total", (("action", "escalate"),)] == 1
    assert found["medora_http_requests_total", (
        ("method", "POST"), ("route", "/predict/{task}"), ("status", "201"))] == 2
    assert found["medora_http_requests_total", (
        ("method", "GET"), ("route", "/predictions/{prediction_id}"), ("status", "422"))] == 1
    assert found["medora_http_request_duration_seconds_count", (
        ("method", "POST"), ("route", "/predict/{task}"))] == 2
    routes = {dict(labels).get("route") for _, labels in found}
    assert not any(prediction["id"] in str(route) for route in routes)


def test_unmatched_paths_share_one_label(serving) -> None:
    serving.client.get("/no/such/path/42")
    found = samples(serving)
    assert found["medora_http_requests_total", (
        ("method", "GET"), ("route", "<unmatched>"), ("status", "404"))] == 1


def test_api_docs_are_served_offline(service) -> None:
    page = service.client.get("/docs")
    assert page.status_code == 200
    assert "/docs/assets/swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower()
    script = service.client.get("/docs/assets/swagger-ui-bundle.js")
    assert script.status_code == 200 and len(script.content) > 100_000
    assert service.client.get("/openapi.json").json()["info"]["title"] == "medora"
