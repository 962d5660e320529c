"""FHIR R4 in: Bundle JSON files (one bundle per file, as Synthea writes them, or one bare
resource) and bulk-export NDJSON (one resource per line, ``.ndjson`` or ``.ndjson.gz``),
turned into events one resource at a time.

Memory holds one bundle file or one part of an NDJSON file (32 MB of whole lines), and the
cohort's patients (every reference form that points at each). The files and parts can be
read in several processes (:func:`read_fhir_parts`). A bundle is
parsed by simdjson into its own compact form, and only the resources of the types below
become Python objects: the billing resources (Claim, ExplanationOfBenefit) and the clinical
notes (DocumentReference) that fill a third of a Synthea bundle are counted by type and
never built. An NDJSON line is parsed only when its type is one of these. Patients are read
first, in a bundle (whatever its entry order) and across NDJSON files (a scan for their
lines), so a resource resolves its subject wherever its patient stands among the NDJSON
files or in its own bundle (a bundle does not point into another bundle).

Each resource gives a :class:`~medora.data.meds.SourceRecord`: its events, or why it gave
none. A resource whose subject is not a patient of the cohort is rejected, never guessed.
A patient's subject id is :func:`~medora.data.meds.stable_id` of its logical id, the same
whichever file, bundle or export it is read from.

========================  ===========================================  ====================
resource                  events                                       time
========================  ===========================================  ====================
Patient                   MEDS_BIRTH; GENDER/<gender>, RACE/<OMB       birthDate; none
                          code>, ETHNICITY/<OMB code> (the US Core     (static facts);
                          extensions); MEDS_DEATH                      deceasedDateTime
Encounter                 ENCOUNTER/<class> (IMP, AMB, EMER, ...) and  period.start,
                          ENCOUNTER_END/<class>, with its id           period.end
Condition                 code                                         onset, recordedDate
Observation               code with valueQuantity (number and unit),   effective, issued
                          or a coded or text value; one event per
                          component (the two of a blood pressure)
MedicationRequest         medicationCodeableConcept                    authoredOn
MedicationAdministration  medicationCodeableConcept                    effective
Procedure                 code                                         performed
Immunization              vaccineCode                                  occurrenceDateTime
========================  ===========================================  ====================

Other resource types are skipped and counted, not rejected.
"""

from __future__ import annotations

import gzip
import itertools
import mmap
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import orjson
import simdjson

from medora.data.meds import (
    BIRTH,
    DEATH,
    OMB_CATEGORIES,
    Event,
    Reason,
    RecordRejected,
    SourceRecord,
    convert_record,
    parse_timestamp,
    stable_id,
)

Resource = dict[str, Any]
_Digest = TypeVar("_Digest")

#: FHIR code system URIs and the vocabulary names medora (and OMOP) gives them; a code of any
#: other system keeps its URI as its vocabulary.
VOCABULARIES = {
    "http://snomed.info/sct": "SNOMED",
    "http://loinc.org": "LOINC",
    "http://www.nlm.nih.gov/research/umls/rxnorm": "RxNorm",
    "http://hl7.org/fhir/sid/icd-10-cm": "ICD10CM",
    "http://hl7.org/fhir/sid/icd-10": "ICD10",
    "http://hl7.org/fhir/sid/cvx": "CVX",
}
BUNDLE_SUFFIXES = (".json",)
NDJSON_SUFFIXES = (".ndjson", ".ndjson.gz")
_US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-"
_DEMOGRAPHICS = {f"{_US_CORE}race": "RACE", f"{_US_CORE}ethnicity": "ETHNICITY"}
_PATIENT_LINE = re.compile(rb'"resourceType"\s*:\s*"Patient"')
# A line's type, found without parsing it when it is the line's first key (as bulk exports
# write it); a later "resourceType" may be a contained resource's, so such a line is parsed.
_LEADING_TYPE = re.compile(rb'\s*\{\s*"resourceType"\s*:\s*"([A-Za-z]+)"')
_PARTIAL_DATE = {4: "-01-01", 7: "-01"}  # FHIR allows a year, or a year and month, alone


class Cohort:
    """The patients read so far, found by any reference that points at them: ``Patient/<id>``,
    the bundle entry's ``fullUrl`` (``urn:uuid:...``), or an absolute URL ending in
    ``Patient/<id>``. A :meth:`child` cohort sees its parent's patients and keeps its own
    apart: one bundle's patients, read in any process, joined to the source's afterwards."""

    def __init__(self, parent: Cohort | None = None) -> None:
        self._subjects: dict[str, int] = {}
        self._parent = parent

    def child(self) -> Cohort:
        return Cohort(self)

    @property
    def own(self) -> dict[str, int]:
        """The references added to this cohort itself, to each one's subject."""
        return self._subjects

    def update(self, references: Mapping[str, int]) -> None:
        self._subjects.update(references)

    def add(self, patient_id: str, full_url: str | None) -> int:
        subject = stable_id(patient_id)
        self._subjects[f"Patient/{patient_id}"] = subject
        if full_url:
            self._subjects[full_url] = subject
        return subject

    def _lookup(self, reference: str) -> int | None:
        subject = self._subjects.get(reference)
        if subject is None and self._parent is not None:
            return self._parent._lookup(reference)
        return subject

    def resolve(self, reference: str) -> int | None:
        subject = self._lookup(reference)
        if subject is None and "/Patient/" in reference:
            logical_id = reference.rsplit("/Patient/", 1)[1].split("/", 1)[0]
            subject = self._lookup(f"Patient/{logical_id}")
        return subject


# -- Fields ------------------------------------------------------------------------------------


def _time(text: object, field: str) -> datetime:
    if isinstance(text, str):
        text += _PARTIAL_DATE.get(len(text), "")
    return parse_timestamp(text, field)


def _first_time(resource: Resource, fields: Sequence[str]) -> datetime:
    """The first of ``fields`` present (``onsetPeriod.start`` names a nested field)."""
    for field in fields:
        value: Any = resource
        for part in field.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is not None:
            return _time(value, field)
    raise RecordRejected(Reason.MISSING_DATE, f"none of {', '.join(fields)} is given")


def _code(concept: object, field: str) -> str:
    """``VOCAB/code`` of the first coding of a CodeableConcept that has a code."""
    codings = concept.get("coding") if isinstance(concept, dict) else None
    for coding in codings or ():
        if isinstance(coding, dict) and coding.get("code"):
            system = str(coding.get("system", ""))
            return f"{VOCABULARIES.get(system, system or 'UNKNOWN')}/{coding['code']}"
    raise RecordRejected(Reason.MISSING_CODE, f"{field} has no coding with a code")


def _reference(resource: Resource, field: str) -> str | None:
    value = resource.get(field)
    return value.get("reference") if isinstance(value, dict) else None


def _encounter_id(resource: Resource) -> str | None:
    reference = _reference(resource, "encounter")
    return reference.removeprefix("urn:uuid:").rsplit("/", 1)[-1] if reference else None


def _value(element: Resource, field: str
           ) -> tuple[float | None, str | None, str | None]:
    """(number, unit, text) of an Observation's or component's value[x]."""
    if "valueQuantity" in element:
        quantity = element["valueQuantity"]
        number = quantity.get("value") if isinstance(quantity, dict) else None
        if not isinstance(number, int | float) or isinstance(number, bool):
            raise RecordRejected(Reason.BAD_VALUE, f"{field}.valueQuantity.value is "
                                                   f"{number!r}; expected a number")
        return float(number), quantity.get("unit") or quantity.get("code"), None
    if "valueCodeableConcept" in element:
        return None, None, _code(element["valueCodeableConcept"], f"{field}.valueCodeableConcept")
    if isinstance(element.get("valueInteger"), int):
        return float(element["valueInteger"]), None, None
    if isinstance(element.get("valueBoolean"), bool):
        return None, None, "true" if element["valueBoolean"] else "false"
    for name in ("valueString", "valueDateTime"):
        if isinstance(element.get(name), str):
            return None, None, element[name]
    return None, None, None


# -- Resources ---------------------------------------------------------------------------------


def _patient(resource: Resource, subject: int) -> list[Event]:
    events = []
    if "birthDate" in resource:
        events.append(Event(subject, _time(resource["birthDate"], "birthDate"), BIRTH, "person"))
    if resource.get("gender"):
        events.append(Event(subject, None, f"GENDER/{resource['gender']}", "person"))
    for extension in resource.get("extension", ()):
        prefix = _DEMOGRAPHICS.get(extension.get("url"))
        for part in extension.get("extension", ()) if prefix else ():
            coding = part.get("valueCoding") or {}
            if part.get("url") == "ombCategory" and coding.get("code"):
                events.append(Event(subject, None, f"{prefix}/{coding['code']}", "person",
                                    text_value=OMB_CATEGORIES.get(coding["code"],
                                                                  coding.get("display"))))
    if "deceasedDateTime" in resource:
        events.append(Event(subject, _time(resource["deceasedDateTime"], "deceasedDateTime"),
                            DEATH, "death"))
    return events


def _encounter(resource: Resource, subject: int) -> list[Event]:
    kind = resource.get("class")
    if not isinstance(kind, dict) or not kind.get("code"):
        raise RecordRejected(Reason.MISSING_CODE, "class has no code; expected an ActCode such "
                                                  "as IMP (inpatient) or AMB (ambulatory)")
    encounter = resource.get("id")
    events = [Event(subject, _first_time(resource, ("period.start",)),
                    f"ENCOUNTER/{kind['code']}", "visit", encounter_id=encounter)]
    # The end is an event of its own, at discharge: a model predicting at admission must not
    # see when (or whether) the stay ended.
    end = (resource.get("period") or {}).get("end")
    if end:
        events.append(Event(subject, _time(end, "period.end"), f"ENCOUNTER_END/{kind['code']}",
                            "visit", encounter_id=encounter))
    return events


def _observation(resource: Resource, subject: int) -> list[Event]:
    time = _first_time(resource, ("effectiveDateTime", "effectiveInstant",
                                  "effectivePeriod.start", "issued"))
    encounter = _encounter_id(resource)
    events = []
    components = resource.get("component") or ()
    # A panel (blood pressure) carries its values in its components; it is an event of its
    # own only where it has a value too.
    if not components or any(name.startswith("value") for name in resource):
        events.append(Event(subject, time, _code(resource.get("code"), "code"), "measurement",
                            *_value(resource, "Observation"), encounter_id=encounter))
    for index, component in enumerate(components):
        field = f"component[{index}]"
        events.append(Event(subject, time, _code(component.get("code"), f"{field}.code"),
                            "measurement", *_value(component, field), encounter_id=encounter))
    return events


def _coded(domain: str, code_field: str, time_fields: Sequence[str]
           ) -> Callable[[Resource, int], list[Event]]:
    """A resource that is one event: its code at its time, within its encounter."""

    def convert(resource: Resource, subject: int) -> list[Event]:
        if code_field not in resource and "medicationReference" in resource:
            raise RecordRejected(Reason.MISSING_CODE, "medicationReference is not followed; "
                                                      "give medicationCodeableConcept")
        return [Event(subject, _first_time(resource, time_fields),
                      _code(resource.get(code_field), code_field), domain,
                      encounter_id=_encounter_id(resource))]

    return convert


_CONVERTERS: dict[str, Callable[[Resource, int], list[Event]]] = {
    "Encounter": _encounter,
    "Observation": _observation,
    "Condition": _coded("condition", "code", ("onsetDateTime", "onsetPeriod.start",
                                              "recordedDate")),
    "MedicationRequest": _coded("drug", "medicationCodeableConcept", ("authoredOn",)),
    "MedicationAdministration": _coded("drug", "medicationCodeableConcept", (
        "effectiveDateTime", "effectivePeriod.start")),
    "Procedure": _coded("procedure", "code", ("performedDateTime", "performedPeriod.start")),
    "Immunization": _coded("drug", "vaccineCode", ("occurrenceDateTime",)),
}
SUPPORTED = ("Patient", *_CONVERTERS)


def _convert(resource: Resource, cohort: Cohort, full_url: str | None) -> list[Event]:
    kind = resource["resourceType"]
    if kind == "Patient":
        patient_id = resource.get("id") or (full_url or "").removeprefix("urn:uuid:")
        if not patient_id:
            raise RecordRejected(Reason.MISSING_ID, "the Patient has no id (nor a fullUrl)")
        events = _patient(resource, stable_id(patient_id))
        cohort.add(patient_id, full_url)  # only a patient read whole joins the cohort
        return events
    # Immunization names its subject "patient".
    reference = _reference(resource, "patient" if kind == "Immunization" else "subject")
    if not reference:
        raise RecordRejected(Reason.MISSING_SUBJECT, "no subject reference; expected e.g. "
                                                     "Patient/123 or urn:uuid:...")
    subject = cohort.resolve(reference)
    if subject is None:
        raise RecordRejected(Reason.UNKNOWN_REFERENCE, f"{reference} is no patient of this "
                                                       "source")
    return _CONVERTERS[kind](resource, subject)


_JsonObject = dict | simdjson.Object  # parsed by orjson, or lazily by simdjson


_READ_TYPES = f"medora reads {', '.join(SUPPORTED)}"


def _unsupported(kind: str, location: str) -> SourceRecord:
    return SourceRecord(kind, location, reason=Reason.UNSUPPORTED, detail=_READ_TYPES)


def read_resource(resource: object, cohort: Cohort, location: str,
                  full_url: str | None = None) -> SourceRecord:
    """The events of one resource (a Patient joins ``cohort``), or why it gave none."""
    if not isinstance(resource, _JsonObject) or not isinstance(
            resource.get("resourceType"), str):
        return SourceRecord("unknown", location, reason=Reason.NOT_A_RESOURCE,
                            detail="expected a JSON object with a resourceType")
    kind = resource["resourceType"]
    if kind not in SUPPORTED:
        return _unsupported(kind, location)
    if isinstance(resource, simdjson.Object):
        resource = resource.as_dict()
    return convert_record(kind, location, lambda: _convert(resource, cohort, full_url))


# -- Files -------------------------------------------------------------------------------------


def _invalid_json(location: str, error: ValueError) -> SourceRecord:
    return SourceRecord("unknown", location, reason=Reason.INVALID_JSON, detail=str(error))


def read_bundle(path: Path, cohort: Cohort, name: str) -> Iterator[SourceRecord]:
    """The records of one Bundle JSON file (or of a file holding one bare resource), patients
    first; ``name`` is the file as locations show it."""
    try:
        # A parser per file: one holding a live document refuses to parse another.
        document = simdjson.Parser().parse(path.read_bytes())
    except ValueError as error:
        yield _invalid_json(name, error)
        return
    yield from read_document(document, cohort, name)


def read_document(document: object, cohort: Cohort, name: str) -> Iterator[SourceRecord]:
    """The records of one parsed JSON document: a Bundle's entries, patients first, or one
    bare resource. What :func:`read_bundle` reads from a file, and the service from a
    request."""
    if not (isinstance(document, _JsonObject) and document.get("resourceType") == "Bundle"):
        yield read_resource(document, cohort, name)
        return
    entries = [(f"{name}#entry[{index}]", entry if isinstance(entry, _JsonObject) else {})
               for index, entry in enumerate(document.get("entry") or ())]
    for patients in (True, False):
        for location, entry in entries:
            resource = entry.get("resource")
            if (isinstance(resource, _JsonObject) and resource.get("resourceType") == "Patient"
                    ) == patients:
                yield read_resource(resource, cohort, location, entry.get("fullUrl"))


def coding_displays(resources: Iterable[object]) -> dict[str, str]:
    """The display text of the codes in ``resources`` (the Codings of the types medora reads),
    by the code an event carries: ``{"LOINC/8302-2": "Body Height"}``. The event table keeps
    no display text; a page showing one patient's events can take it from that patient's
    bundle."""
    displays: dict[str, str] = {}
    stack = [resource for resource in resources
             if isinstance(resource, dict) and resource.get("resourceType") in SUPPORTED]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            code, display = item.get("code"), item.get("display")
            if isinstance(code, str) and code and isinstance(display, str) and display:
                system = item.get("system")
                system = system if isinstance(system, str) else ""
                displays.setdefault(f"{VOCABULARIES.get(system, system or 'UNKNOWN')}/{code}",
                                    display)
            stack.extend(value for value in item.values() if isinstance(value, dict | list))
    return displays


#: An NDJSON file is read in parts of about this many bytes (whole lines), so that one large
#: file (a bulk export's Observation.ndjson) spreads over several processes.
NDJSON_PART_BYTES = 32 << 20


@dataclass(frozen=True)
class SourcePart:
    """A piece of a FHIR source read on its own: a bundle file, or a run of whole lines of an
    NDJSON file (a gzipped file is one part)."""

    path: Path
    name: str  # the file as locations show it
    start: int = 0  # NDJSON: the byte offset of the part's first line
    stop: int | None = None  # NDJSON: the offset after its last line; None: gzipped, whole
    first_line: int = 1  # the number of its first line in the file (0: not yet known)

    @contextmanager
    def mapped(self) -> Iterator[mmap.mmap]:
        """An NDJSON part's bytes mapped read-only, positioned at its first line and ending
        after its last: a part is searched, counted and split into lines where it lies in the
        page cache, without a copy. (A file cut short while it is read ends the process
        reading it, as a reader of a file changing under it should stop; no table is written
        then.)"""
        assert self.stop is not None, "a gzipped part is streamed, not mapped"
        # A mapping starts at a multiple of the allocation granularity.
        offset = self.start - self.start % mmap.ALLOCATIONGRANULARITY
        with self.path.open("rb") as handle, mmap.mmap(
                handle.fileno(), self.stop - offset, access=mmap.ACCESS_READ,
                offset=offset) as mapped:
            mapped.seek(self.start - offset)
            yield mapped

    def lines(self) -> Iterator[bytes]:
        """The lines of an NDJSON part."""
        if self.stop is None:
            with gzip.open(self.path, "rb") as lines:
                yield from lines
            return
        with self.mapped() as mapped:
            yield from iter(mapped.readline, b"")


def _ndjson_parts(path: Path, name: str, part_bytes: int) -> list[SourcePart]:
    """The file in parts of about ``part_bytes`` of whole lines, each boundary found by one
    seek and one line read; their first lines are numbered by :func:`_find_patients`. A
    gzipped file is one part, read as a stream; any other is mapped (:meth:`SourcePart.mapped`),
    a file smaller than a part as one part."""
    if path.name.endswith(".gz"):
        return [SourcePart(path, name)]
    size = path.stat().st_size
    bounds = [0]
    with path.open("rb") as handle:
        while bounds[-1] + part_bytes < size:
            handle.seek(bounds[-1] + part_bytes)
            handle.readline()  # to the start of the next line
            bounds.append(handle.tell())
    bounds.append(size)
    return [SourcePart(path, name, start, stop, first_line=0)
            for start, stop in itertools.pairwise(bounds) if stop > start]


def plan_fhir(paths: Iterable[Path], root: Path) -> tuple[list[SourcePart], list[SourcePart]]:
    """The NDJSON parts (of about :data:`NDJSON_PART_BYTES`) and the bundle files of
    ``paths``, in name order, named relative to ``root`` in their locations."""
    paths = sorted(paths)

    def name(path: Path) -> str:
        return str(path.relative_to(root)) if path != root else path.name

    ndjson = [part for path in paths if path.name.endswith(NDJSON_SUFFIXES)
              for part in _ndjson_parts(path, name(path), NDJSON_PART_BYTES)]
    bundles = [SourcePart(path, name(path)) for path in paths
               if path.name.endswith(BUNDLE_SUFFIXES)]
    return ndjson, bundles


def _line_type(line: bytes) -> tuple[str | None, bool] | None:
    """(resourceType, whether a Patient) of an NDJSON line, without parsing it where its type
    leads (the type is None where it does not); None for a blank line."""
    leading = _LEADING_TYPE.match(line)
    if leading is not None:
        kind = leading[1].decode()
        return kind, kind == "Patient"
    if line.isspace() or not line:
        return None
    return None, bool(_PATIENT_LINE.search(line))


def _line_record(line: bytes, kind: str | None, cohort: Cohort, location: str
                 ) -> SourceRecord:
    if kind is not None and kind not in SUPPORTED:
        return _unsupported(kind, location)
    try:
        resource = orjson.loads(line)
    except orjson.JSONDecodeError as error:
        return _invalid_json(location, error)
    return read_resource(resource, cohort, location)


def _count_lines(mapped: mmap.mmap) -> int:
    """Lines from a part's mapping's position to its end (a part is never empty), a last one
    without its newline included."""
    newlines = np.count_nonzero(np.frombuffer(mapped, np.uint8, offset=mapped.tell()) == ord("\n"))
    return int(newlines) + (mapped[-1] != ord("\n"))


def _is_patient_line(line: bytes) -> bool:
    typed = _line_type(line)
    return typed is not None and typed[1]


def _find_patients(part: SourcePart) -> tuple[list[tuple[int, bytes]], int]:
    """The Patient lines of an NDJSON part (their index in the part, the line) and how many
    lines it has."""
    if part.stop is None:  # gzipped: its lines are counted as they are searched
        found, count = [], 0
        for count, line in enumerate(part.lines(), start=1):
            if _is_patient_line(line):
                found.append((count - 1, line))
        return found, count
    with part.mapped() as mapped:
        count = _count_lines(mapped)
        # A Patient line holds '"Patient"' (its resourceType): a part without it anywhere
        # (one of a bulk export's other files) is passed over by one search (backward:
        # CPython's search for a short needle runs twice as fast that way).
        if mapped.rfind(b'"Patient"', mapped.tell()) < 0:
            return [], count
        return [(index, line) for index, line in enumerate(iter(mapped.readline, b""))
                if _is_patient_line(line)], count


def _numbered(parts: list[SourcePart], counts: list[int]) -> list[SourcePart]:
    """``parts`` with the number of each one's first line in its file."""
    numbered, line, previous = [], 1, None
    for part, count in zip(parts, counts, strict=True):
        line = 1 if part.path != previous else line
        numbered.append(replace(part, first_line=line))
        line, previous = line + count, part.path
    return numbered


def read_part(part: SourcePart, cohort: Cohort) -> Iterator[SourceRecord]:
    """The records of a bundle file (patients first), or of the lines of an NDJSON part that
    are not a Patient's (see :func:`read_fhir_parts` for those); a line's leading
    ``resourceType`` (else a text search) tells them apart, so only lines read are parsed."""
    if part.path.name.endswith(BUNDLE_SUFFIXES):
        yield from read_bundle(part.path, cohort, part.name)
        return
    for number, line in enumerate(part.lines(), start=part.first_line):
        typed = _line_type(line)
        if typed is not None and not typed[1]:
            yield _line_record(line, typed[0], cohort, f"{part.name}:{number}")


#: Maps a function over source parts, results in order (the builtin ``map``, or
#: :func:`medora.data.parallel.ordered_map` with a process count).
PartMap = Callable[[Callable[[SourcePart], Any], list[SourcePart]], Iterable[Any]]


def read_fhir_parts(paths: Iterable[Path], root: Path,
                    digest: Callable[[Iterator[SourceRecord]], _Digest],
                    map_parts: PartMap = map) -> Iterator[_Digest]:
    """``digest`` of the records of each part of a FHIR source, in the order
    :func:`read_fhir` reads them; ``digest`` runs where the part is read (``map_parts`` may
    read parts in other processes), so what comes back can be smaller than the records.

    Three phases, each part in a phase reading the patients of the phases before: the NDJSON
    patients (found by ``map_parts``, which also counts each part's lines; read here, being
    few); the bundles, each also resolving its own patients (a bundle does not see
    another's); the other NDJSON lines, which resolve every patient of the source.
    """
    ndjson, bundles = plan_fhir(paths, root)
    found_patients = list(map_parts(_find_patients, ndjson))
    ndjson = _numbered(ndjson, [count for _, count in found_patients])
    cohort = Cohort()
    for part, (lines, _) in zip(ndjson, found_patients, strict=True):
        yield digest(_line_record(line, "Patient", cohort,
                                  f"{part.name}:{part.first_line + index}")
                     for index, line in lines)
    for parts in (bundles, ndjson):
        found: list[dict[str, int]] = []

        def read(part: SourcePart) -> tuple[_Digest, dict[str, int]]:
            own = cohort.child()
            return digest(read_part(part, own)), own.own

        for result, references in map_parts(read, parts):
            found.append(references)
            yield result
        for references in found:
            cohort.update(references)


def read_fhir(paths: Iterable[Path], root: Path) -> Iterator[SourceRecord]:
    """The records of FHIR files (bundles and NDJSON; see :func:`read_fhir_parts` for the
    order and which patients each resource may point at), in one process."""
    for records in read_fhir_parts(paths, root, list):
        yield from records


def is_fhir_file(path: Path) -> bool:
    return path.name.endswith(BUNDLE_SUFFIXES + NDJSON_SUFFIXES)
