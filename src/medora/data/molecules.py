"""Molecule files: SMILES, CSV/TSV and SDF read into sanitised RDKit molecules at the boundary.

Every structure is parsed and sanitised by RDKit, and every problem is collected before anything
is raised, so a user fixes the file once rather than once per error. A problem names its place
as the user sees it (line of a SMILES/CSV file, header = line 1; record of an SDF file; position
in an in-memory list) and carries RDKit's own message, captured from RDKit's error log, so a
syntax error ("SMILES Parse Error: unclosed ring ...") and a chemistry error ("Explicit valence
for atom # 1 N, 4, is greater than permitted") are both reported as RDKit words them.

Salts and solvents: every model here describes one molecule, and a measured property belongs to
the parent compound (ChEMBL calls it the parent too), not to its counter-ion or to water of
crystallisation. So a structure of several fragments is reduced to one: first RDKit's standard
salt/solvent fragments are removed (``rdMolStandardize.FragmentRemover``, the MolVS list), then,
if several fragments remain, the largest is kept (``LargestFragmentChooser``, organic first).
The reduction is not silent: ``MoleculeTable.n_fragments`` keeps how many fragments each input
had, so a caller can list or refuse them. It is a heuristic: for a combination product or a
salt whose counter-ion is the larger organic part (piperazine citrate) the kept fragment is not
the active one; pass ``keep_largest_fragment=False`` to keep every input as written.
Charges, tautomers and stereochemistry are left as written.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd
from rdkit import Chem, rdBase

from medora.data.parallel import ordered_map, usable_processes
from medora.data.tabular import InputValidationError

SMILES_SUFFIXES = (".smi", ".smiles", ".txt")
TABLE_SEPARATORS = {".csv": ",", ".tsv": "\t"}
SDF_SUFFIXES = (".sdf",)
SMILES_COLUMN_CANDIDATES = ("smiles", "SMILES", "canonical_smiles", "Smiles")
SKIP_INVALID_FIX = "fix or remove them, or pass --skip-invalid to continue without them"
_SKIP_INVALID_FIX_API = "fix or remove them, or set skip_invalid to continue without them"
_MISSING_TOKENS = {"", "na", "nan", "null", "none", "?"}
_SHOWN_TEXT = 80  # characters of an invalid input quoted in a message


@dataclass(frozen=True)
class InvalidMolecule:
    """One input that is not a usable molecule, where it is and why (RDKit's words)."""

    row: int  # 1-based: line of a SMILES/CSV file, record of an SDF file, position in a list
    text: str
    reason: str
    unit: str = "line"

    def describe(self) -> str:
        text = self.text if len(self.text) <= _SHOWN_TEXT else self.text[:_SHOWN_TEXT] + "..."
        return f"{self.unit} {self.row} ({text!r}): {self.reason}"


class MoleculeValidationError(InputValidationError):
    """Molecules that cannot be used as they are: ``invalid`` holds every bad row, ``problems``
    every problem with the input as a whole; the message lists them all and ends with the fix."""

    def __init__(self, source: str, problems: Sequence[str] = (),
                 invalid: Sequence[InvalidMolecule] = (), fix: str = "") -> None:
        self.invalid = tuple(invalid)
        super().__init__(source, [*problems, *(item.describe() for item in self.invalid)])
        # InputValidationError's wording ("nothing was written") is about a prediction run; a
        # reader states how many molecules are bad and what to do instead.
        listed = "\n".join(f"  - {problem}" for problem in self.problems)
        what = (f"{len(self.invalid)} invalid molecule(s)" if self.invalid and not problems
                else f"{len(self.problems)} problem(s)")
        message = f"{source}: {what}:\n{listed}"
        self.args = (f"{message}\n{fix}" if fix else message,)


@dataclass(frozen=True)
class MoleculeTable:
    """Valid, sanitised molecules in input order, with what was left out and why.

    ``smiles`` are RDKit canonical SMILES of ``mols`` (after the salt/solvent reduction);
    ``rows`` the place of each molecule in the input (as in :class:`InvalidMolecule`);
    ``n_fragments`` how many fragments each input had (more than 1: reduced to one);
    ``values`` the target column as floats, if one was read.
    """

    mols: tuple[Chem.Mol, ...]
    smiles: tuple[str, ...]
    ids: tuple[str, ...]
    values: np.ndarray | None
    invalid: tuple[InvalidMolecule, ...]
    source: str
    rows: tuple[int, ...] = ()
    n_fragments: tuple[int, ...] = ()
    sha256: str = ""  # of the bytes read, when the molecules came from a file
    target: str | None = None

    def __len__(self) -> int:
        return len(self.mols)

    def to_frame(self) -> pd.DataFrame:
        """One row per valid molecule: id, canonical SMILES, input row, fragments, value."""
        frame = pd.DataFrame({"id": list(self.ids), "smiles": list(self.smiles),
                              "row": list(self.rows), "n_fragments": list(self.n_fragments)})
        if self.values is not None:
            frame[self.target or "value"] = self.values
        return frame


@dataclass
class _Entry:
    """One input before validation: where it is, what it says, and what was parsed so far."""

    row: int
    text: str
    ident: str
    value: object = None
    mol: Chem.Mol | None = None  # an unsanitised molecule when the reader parsed it (SDF)
    problems: list[str] = field(default_factory=list)


# -- RDKit parsing -----------------------------------------------------------------------------


def _rdkit_messages(log: str, text: str = "") -> list[str]:
    """RDKit's error-log lines without timestamps, the echo of the input and the caret line."""
    lines: list[str] = []
    for raw in log.splitlines():
        line = raw.split("] ", 1)[1] if raw.startswith("[") and "] " in raw else raw
        line = line.strip().rstrip(":")
        if not line or line == text.strip() or set(line) <= {"~", "^", " "}:
            continue
        if line.startswith("SMILES Parse Error: Failed parsing SMILES") and lines:
            continue  # repeats the input after a more precise message
        if line.startswith("ERROR: moving to the beginning of the next molecule"):
            continue
        prefix = "SMILES Parse Error: "
        if line.startswith(prefix) and any(seen.startswith(prefix) for seen in lines):
            line = line[len(prefix):]  # said once is enough
        if line not in lines:
            lines.append(line)
    return lines


def _parent_fragment(mol: Chem.Mol) -> Chem.Mol:
    """The molecule without RDKit's standard salt/solvent fragments, then its largest fragment
    if several remain (see the module docstring)."""
    from rdkit.Chem.MolStandardize import rdMolStandardize

    # Built per call (a third of a millisecond, multi-fragment inputs only) rather than shared,
    # so concurrent requests in a service never use one RDKit object at once.
    mol = rdMolStandardize.FragmentRemover().remove(mol)
    if len(Chem.GetMolFrags(mol)) > 1:
        mol = rdMolStandardize.LargestFragmentChooser(preferOrganic=True).choose(mol)
    # The standardisers return molecules without ring information; descriptors such as TPSA
    # then fail, so sanitise the parent again.
    Chem.SanitizeMol(mol)
    return mol


# An atom other than these non-metals. DetectChemistryProblems, unlike SanitizeMol, checks
# valences before RDKit's organometallic clean-up, so a molecule with a metal can sanitise and
# still be refused by _diagnose: such molecules always take the diagnostic path.
_NOT_PLAIN_NON_METAL = Chem.MolFromSmarts("[!#1;!#5;!#6;!#7;!#8;!#9;!#14;!#15;!#16;!#17;!#35;!#53]")


def _sanitised_or_none(mol: Chem.Mol, text: str | None = None) -> Chem.Mol | None:
    """The molecule sanitised and without explicit hydrogens where :func:`_diagnose` would
    accept it, with the same RDKit steps but without its diagnostics; None where RDKit refuses
    it or the molecule needs the diagnostic path (``mol`` may then be left half-sanitised:
    pass a copy, or parse again). ``text``, a SMILES, lets a molecule whose atoms are all
    unbracketed (so none is a metal) skip the check for metals."""
    try:
        with rdBase.CaptureErrorLog():  # RDKit's complaints: reported by _diagnose instead
            Chem.SanitizeMol(mol)
            # RemoveHs sanitises its copy again; with no hydrogen atom to remove that second
            # pass changes nothing (checked atom for atom on 9,000 molecules) but its cost.
            if mol.GetNumHeavyAtoms() != mol.GetNumAtoms():
                mol = Chem.RemoveHs(mol)
    except (Chem.rdchem.MolSanitizeException, RuntimeError, ValueError):
        return None
    if (text is None or "[" in text) and mol.HasSubstructMatch(_NOT_PLAIN_NON_METAL):
        return None
    return mol


def _diagnose(mol: Chem.Mol, text: str) -> tuple[Chem.Mol | None, str]:
    """Sanitise a molecule RDKit may refuse: (molecule, "") or (None, every problem)."""
    with rdBase.CaptureErrorLog() as log:
        # DetectChemistryProblems reports every bad atom, where SanitizeMol stops at the first.
        problems = [problem.Message() for problem in Chem.DetectChemistryProblems(mol)]
        if not problems:
            try:
                Chem.SanitizeMol(mol)
                mol = Chem.RemoveHs(mol)
            except (Chem.rdchem.MolSanitizeException, RuntimeError, ValueError) as error:
                problems = [str(error)]
    if problems:
        return None, "; ".join(dict.fromkeys(problems)) or "; ".join(
            _rdkit_messages(log.messages, text))
    return mol, ""


def _one_molecule(mol: Chem.Mol, keep_largest_fragment: bool) -> tuple[Chem.Mol, int, str]:
    """A sanitised molecule reduced to its parent fragment: (molecule, fragments in the input,
    no problem)."""
    n_fragments = len(Chem.GetMolFrags(mol))
    if n_fragments > 1 and keep_largest_fragment:
        mol = _parent_fragment(mol)
    return mol, n_fragments, ""


def _sanitise(mol: Chem.Mol, text: str, keep_largest_fragment: bool
              ) -> tuple[Chem.Mol | None, int, str]:
    """Sanitise an RDKit-parsed molecule: (molecule, fragments in the input, problem)."""
    if mol.GetNumAtoms() == 0:
        return None, 0, "no atoms"
    # Nearly every molecule sanitises: try that on a copy first, and gather the diagnostics
    # (every problem, in RDKit's words) only for the few that do not.
    sanitised = _sanitised_or_none(Chem.Mol(mol))
    if sanitised is None:
        sanitised, reason = _diagnose(mol, text)
        if sanitised is None:
            return None, 0, reason
    return _one_molecule(sanitised, keep_largest_fragment)


def _parse_smiles_text(text: str, keep_largest_fragment: bool
                       ) -> tuple[Chem.Mol | None, int, str]:
    text = text.strip()
    if not text:
        return None, 0, "empty SMILES"
    with rdBase.CaptureErrorLog() as log:
        mol = Chem.MolFromSmiles(text, sanitize=False)
    if mol is None:
        reason = "; ".join(_rdkit_messages(log.messages, text))
        return None, 0, reason or "RDKit could not parse the SMILES"
    if mol.GetNumAtoms() == 0:
        return None, 0, "no atoms"
    # The fast path sanitises this parse in place; should RDKit refuse, the diagnostics start
    # again from a fresh parse (cheaper than copying every molecule).
    sanitised = _sanitised_or_none(mol, text)
    if sanitised is None:
        with rdBase.CaptureErrorLog():
            fresh = Chem.MolFromSmiles(text, sanitize=False)
        sanitised, reason = _diagnose(fresh, text)
        if sanitised is None:
            return None, 0, reason
    return _one_molecule(sanitised, keep_largest_fragment)


def _parse_value(raw: object, column: str) -> tuple[float, str]:
    text = "" if raw is None else str(raw).strip()
    if text.lower() in _MISSING_TOKENS or (isinstance(raw, float) and math.isnan(raw)):
        return math.nan, f"missing value in target column {column!r}"
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    # "inf" parses as a float but is no measurement.
    if not math.isfinite(value):
        return math.nan, f"non-numeric value {text!r} in target column {column!r}; expected a " \
                         "number"
    return value, ""


# -- Work on many molecules in several processes -----------------------------------------------

#: Below this many molecules one process does the work: starting workers costs more.
PARALLEL_MINIMUM = 2000
_Result = TypeVar("_Result")


def worker_processes(n_items: int) -> int:
    """How many processes :func:`map_chunks` uses for ``n_items``: one for small inputs, else
    :func:`~medora.data.parallel.usable_processes`."""
    return 1 if n_items < PARALLEL_MINIMUM else usable_processes()


def map_chunks(work: Callable[[int, int], _Result], n_items: int, chunk: int) -> list[_Result]:
    """``[work(start, stop) for each chunk of range(n_items)]``, in order; for large inputs in
    forked worker processes (:func:`~medora.data.parallel.ordered_map`), each using one
    thread. Results must pickle (convert RDKit molecules to bytes)."""
    bounds = [(start, min(start + chunk, n_items)) for start in range(0, n_items, chunk)]
    return list(ordered_map(lambda bound: work(*bound), bounds, worker_processes(n_items)))


# A molecule comes back from a worker with every property but RDKit's computed caches.
_PICKLED_PROPERTIES = (Chem.PropertyPickleOptions.MolProps | Chem.PropertyPickleOptions.AtomProps
                       | Chem.PropertyPickleOptions.BondProps
                       | Chem.PropertyPickleOptions.PrivateProps)
_Parsed = tuple[Chem.Mol | bytes | None, int, str, str]


def _parse_entries(entries: Sequence[_Entry], keep_largest_fragment: bool, portable: bool
                   ) -> list[_Parsed | None]:
    """Per entry: (molecule, fragments in the input, problem, canonical SMILES), or None for
    an entry that is not a molecule row. ``portable``: molecules as bytes, to be pickled."""
    parsed: list[_Parsed | None] = []
    for entry in entries:
        if entry.problems:
            parsed.append(None)
            continue
        if entry.mol is not None:
            mol, n_fragments, reason = _sanitise(entry.mol, entry.text, keep_largest_fragment)
        else:
            mol, n_fragments, reason = _parse_smiles_text(entry.text, keep_largest_fragment)
        smiles = "" if mol is None else Chem.MolToSmiles(mol)
        if portable and mol is not None:
            mol = mol.ToBinary(_PICKLED_PROPERTIES)
        parsed.append((mol, n_fragments, reason, smiles))
    return parsed


def _parse_all(entries: Sequence[_Entry], keep_largest_fragment: bool) -> list[_Parsed | None]:
    """:func:`_parse_entries` of every entry; large inputs in several processes, in chunks."""
    n = len(entries)
    if worker_processes(n) < 2:
        return _parse_entries(entries, keep_largest_fragment, portable=False)
    chunk = max(250, -(-n // 16))
    parts = map_chunks(lambda start, stop: _parse_entries(
        entries[start:stop], keep_largest_fragment, portable=True), n, chunk)
    return [None if item is None else (
        None if item[0] is None else Chem.Mol(item[0]), *item[1:])
        for part in parts for item in part]


def _build_table(entries: Sequence[_Entry], source: str, *, unit: str, target: str | None,
                 skip_invalid: bool, keep_largest_fragment: bool, sha256: str = "",
                 fix: str = SKIP_INVALID_FIX) -> MoleculeTable:
    mols: list[Chem.Mol] = []
    smiles: list[str] = []
    ids: list[str] = []
    values: list[float] = []
    rows: list[int] = []
    fragments: list[int] = []
    invalid: list[InvalidMolecule] = []
    for entry, parsed in zip(entries, _parse_all(entries, keep_largest_fragment), strict=True):
        problems = list(entry.problems)
        mol, n_fragments, canonical = None, 0, ""
        if parsed is not None:
            mol, n_fragments, reason, canonical = parsed
            if reason:
                problems.append(reason)
        value = math.nan
        # A row that is not a row (a blank line, a broken record) has no target to check.
        if target is not None and not entry.problems:
            value, reason = _parse_value(entry.value, target)
            if reason:
                problems.append(reason)
        if problems or mol is None:
            invalid.append(InvalidMolecule(entry.row, entry.text, "; ".join(problems), unit))
            continue
        mols.append(mol)
        smiles.append(canonical)
        ids.append(entry.ident)
        values.append(value)
        rows.append(entry.row)
        fragments.append(n_fragments)
    if invalid and not mols:
        raise MoleculeValidationError(
            source, [f"none of the {len(entries)} molecule(s) is valid"], invalid,
            "fix them: skipping the invalid ones would leave nothing")
    if invalid and not skip_invalid:
        raise MoleculeValidationError(source, [], invalid, fix)
    return MoleculeTable(
        mols=tuple(mols), smiles=tuple(smiles), ids=tuple(ids),
        values=np.asarray(values, dtype=float) if target is not None else None,
        invalid=tuple(invalid), source=source, rows=tuple(rows), n_fragments=tuple(fragments),
        sha256=sha256, target=target,
    )


# -- Public API --------------------------------------------------------------------------------


def parse_smiles(smiles: Sequence[str], ids: Sequence[str] | None = None, source: str = "input",
                 skip_invalid: bool = False, *, values: Sequence[object] | None = None,
                 target: str = "value", keep_largest_fragment: bool = True) -> MoleculeTable:
    """Parse and sanitise in-memory SMILES (a request body, a dataset column).

    Invalid ones are named by 1-based position ("molecule 3"). ``values``, when given, are the
    targets (numbers or numeric text), checked like a file's target column under the name
    ``target``. Raises :class:`MoleculeValidationError` listing every invalid molecule unless
    ``skip_invalid``, which keeps the valid ones and reports the rest in ``table.invalid``.
    """
    if isinstance(smiles, str):
        raise TypeError("parse_smiles expects a sequence of SMILES, not one string; wrap it in "
                        "a list")
    if len(smiles) == 0:
        raise MoleculeValidationError(source, ["no SMILES given; expected at least one"])
    for name, other in (("ids", ids), ("values", values)):
        if other is not None and len(other) != len(smiles):
            raise ValueError(f"{name} has {len(other)} entries for {len(smiles)} SMILES; give "
                             "one per SMILES")
    entries = [
        _Entry(row=index + 1, text="" if text is None else str(text),
               ident=str(ids[index]) if ids is not None else str(index + 1),
               value=values[index] if values is not None else None)
        for index, text in enumerate(smiles)
    ]
    return _build_table(entries, source, unit="molecule",
                        target=target if values is not None else None,
                        skip_invalid=skip_invalid, keep_largest_fragment=keep_largest_fragment,
                        fix=_SKIP_INVALID_FIX_API)


def read_molecules(path: str | Path, *, smiles_column: str | None = None,
                   id_column: str | None = None, target_column: str | None = None,
                   skip_invalid: bool = False, keep_largest_fragment: bool = True
                   ) -> MoleculeTable:
    """Read a molecule file; the format follows the suffix.

    * ``.smi``/``.smiles``/``.txt``: one SMILES per line, optionally followed by whitespace and
      a name (the id; default the line number). A first line ``smiles``/``SMILES`` is a header.
    * ``.csv``/``.tsv``: a header row; the SMILES column is ``smiles_column`` or the first of
      ``smiles``, ``SMILES``, ``canonical_smiles``, ``Smiles``; ids from ``id_column`` (default
      the line number), numeric targets from ``target_column``.
    * ``.sdf``: structures from the mol blocks; ids from ``id_column`` (an SD property; default
      the record's title line, else the record number); targets from the SD property
      ``target_column``.

    Raises :class:`MoleculeValidationError` for a missing, empty or unreadable file, a missing
    column, and (unless ``skip_invalid``) every invalid molecule, missing or non-numeric target.
    """
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise MoleculeValidationError(source, ["file not found; pass the path of a molecule file "
                                               "(.smi, .csv, .tsv or .sdf)"])
    suffix = path.suffix.lower()
    data = path.read_bytes()
    return read_molecule_bytes(data, suffix, source, smiles_column=smiles_column,
                               id_column=id_column, target_column=target_column,
                               skip_invalid=skip_invalid,
                               keep_largest_fragment=keep_largest_fragment)


def read_molecule_bytes(data: bytes, suffix: str, source: str, *,
                        smiles_column: str | None = None, id_column: str | None = None,
                        target_column: str | None = None, skip_invalid: bool = False,
                        keep_largest_fragment: bool = True) -> MoleculeTable:
    """:func:`read_molecules` on bytes already read (an upload, a packaged resource);
    ``suffix`` (".csv", ".sdf", ...) names the format."""
    suffix = suffix.lower()
    known = (*SMILES_SUFFIXES, *TABLE_SEPARATORS, *SDF_SUFFIXES)
    if suffix not in known:
        raise MoleculeValidationError(source, [
            f"unsupported file type {suffix or '(no suffix)'!r}; expected one of "
            f"{', '.join(known)}"])
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        text = data.decode("utf-8-sig")  # -sig: spreadsheet programs write a byte-order mark
    except UnicodeDecodeError as error:
        raise MoleculeValidationError(source, [f"not UTF-8 text ({error}); save the file as "
                                               "UTF-8"]) from error
    if not text.strip():
        raise MoleculeValidationError(source, ["the file is empty; expected at least one "
                                               "molecule"])
    options = {"skip_invalid": skip_invalid, "keep_largest_fragment": keep_largest_fragment,
               "sha256": sha256}
    if suffix in SMILES_SUFFIXES:
        for name, given in (("smiles_column", smiles_column), ("id_column", id_column),
                            ("target_column", target_column)):
            if given is not None:
                raise MoleculeValidationError(source, [
                    f"{name} {given!r} given, but a SMILES file has no named columns (one SMILES "
                    "and an optional name per line); use a CSV/TSV or SDF file for targets"])
        entries = list(_smiles_file_entries(text))
        if not entries:
            raise MoleculeValidationError(source, ["the file has a header but no molecules"])
        return _build_table(entries, source, unit="line", target=None, **options)
    if suffix in SDF_SUFFIXES:
        if smiles_column is not None:
            raise MoleculeValidationError(source, [
                f"smiles_column {smiles_column!r} given, but an SDF file carries its structures "
                "as mol blocks; leave smiles_column out"])
        entries = _sdf_entries(text, source, id_column, target_column)
        return _build_table(entries, source, unit="record", target=target_column, **options)
    entries = _table_entries(text, TABLE_SEPARATORS[suffix], source, smiles_column, id_column,
                             target_column)
    return _build_table(entries, source, unit="line", target=target_column, **options)


# -- Formats -----------------------------------------------------------------------------------


def _smiles_file_entries(text: str) -> Iterator[_Entry]:
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()  # trailing blank lines are layout, not missing molecules
    for number, line in enumerate(lines, start=1):
        parts = line.strip().split(None, 1)
        if number == 1 and parts and parts[0].lower() == "smiles":
            continue
        if not parts:
            yield _Entry(number, "", str(number), problems=["empty line; expected a SMILES"])
            continue
        name = parts[1].strip() if len(parts) > 1 else ""
        yield _Entry(number, parts[0], name or str(number))


def _table_entries(text: str, separator: str, source: str, smiles_column: str | None,
                   id_column: str | None, target_column: str | None) -> list[_Entry]:
    reader = csv.reader(io.StringIO(text), delimiter=separator)
    try:
        header = [name.strip() for name in next(reader)]
        records = [(reader.line_num, row) for row in reader]
    except csv.Error as error:
        kind = "CSV" if separator == "," else "TSV"
        raise MoleculeValidationError(source, [f"not a readable {kind} file ({error})"]) from error
    while records and not any(cell.strip() for cell in records[-1][1]):
        records.pop()  # trailing blank lines
    columns = ", ".join(header)
    if smiles_column is None:
        smiles_column = next((c for c in SMILES_COLUMN_CANDIDATES if c in header), None)
        if smiles_column is None:
            raise MoleculeValidationError(source, [
                f"no SMILES column: expected one named {', '.join(SMILES_COLUMN_CANDIDATES)}, "
                f"or name it with --smiles-column. Columns in the file: {columns}"])
    missing = [f"{role} {name!r}" for role, name in (
        ("SMILES column", smiles_column), ("id column", id_column),
        ("target column", target_column)) if name is not None and name not in header]
    if missing:
        raise MoleculeValidationError(source, [
            f"{', '.join(missing)} not in the file. Columns in the file: {columns}"])
    if not records:
        raise MoleculeValidationError(source, ["the file has a header but no molecule rows"])
    position = {name: header.index(name) for name in {smiles_column, id_column, target_column}
                if name is not None}

    def cell(row: list[str], name: str | None) -> str:
        index = position.get(name, -1) if name is not None else -1
        return row[index].strip() if 0 <= index < len(row) else ""

    entries = []
    for line, row in records:
        problems = []
        if not row:
            problems.append("empty line; expected a molecule row")
        elif len(row) != len(header):
            problems.append(f"{len(row)} field(s) where the header has {len(header)}")
        ident = cell(row, id_column) or str(line)
        text_value = cell(row, smiles_column)
        entries.append(_Entry(line, text_value, ident, value=cell(row, target_column),
                              problems=problems))
    return entries


def _sdf_blocks(text: str) -> Iterator[tuple[int, int, str]]:
    """(record number, first file line, record text) of an SD file; "$$$$" ends a record."""
    current: list[str] = []
    number, first = 0, 1
    for line_number, line in enumerate(text.splitlines(keepends=True), start=1):
        current.append(line)
        if line.strip() == "$$$$":
            number += 1
            yield number, first, "".join(current)
            current, first = [], line_number + 1
    if "".join(current).strip():
        yield number + 1, first, "".join(current)  # a last record without its "$$$$"


def _sdf_entries(text: str, source: str, id_column: str | None,
                 target_column: str | None) -> list[_Entry]:
    entries = []
    seen: set[str] = set()
    parsed = False
    for number, first, block in _sdf_blocks(text):
        title = block.splitlines()[0].strip() if block.strip() else ""
        if not block.replace("$$$$", "").strip():
            entries.append(_Entry(number, "", str(number), problems=["empty record"]))
            continue
        with rdBase.CaptureErrorLog() as log:
            supplier = Chem.SDMolSupplier()
            # Parsed unsanitised, so the sanitisation problems are reported like a SMILES's.
            supplier.SetData(block, sanitize=False, removeHs=False)
            mol = next(supplier, None)
        if mol is None:
            # RDKit counts lines within the record; a user looks for them in the file.
            messages = [re.sub(r"on line (\d+)", lambda m, first=first: (
                f"on line {m.group(1)} of the record (line {first + int(m.group(1)) - 1} of the "
                "file)"), message.removeprefix("ERROR: "))
                for message in _rdkit_messages(log.messages)]
            reason = "; ".join(messages) or "RDKit could not read the mol block"
            entries.append(_Entry(number, title, title or str(number), problems=[reason]))
            continue
        parsed = True
        properties = {name: mol.GetProp(name) for name in mol.GetPropNames()}
        seen.update(properties)
        ident = properties.get(id_column, "").strip() if id_column else ""
        entries.append(_Entry(number, title, ident or title or str(number),
                              value=properties.get(target_column), mol=mol))
    missing = [f"{role} {name!r}" for role, name in (("id property", id_column),
                                                     ("target property", target_column))
               if name is not None and name not in seen]
    # When no record parsed, their problems say more than a property that could not be seen.
    if missing and parsed:
        found = ", ".join(sorted(seen)) or "(none)"
        raise MoleculeValidationError(source, [
            f"{', '.join(missing)} not in any record. Properties in the file: {found}"])
    return entries
