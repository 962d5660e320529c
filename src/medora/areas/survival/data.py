"""Time-to-event datasets that ship inside installed packages, with their provenance.

A :class:`SurvivalDataset` keeps what a survival analysis needs apart: the covariates as they
are in the file (categorical columns stay categorical: how to encode them is a modelling
decision, taken by the task in :mod:`medora.areas.survival.tasks`), the follow-up time, the event
indicator and the unit of time. Nothing here downloads; each loader reads one file of an
installed package, hashes the bytes it parsed and records the package's licence as the
installed metadata states it.

- GSE7390 (TRANSBIG validation series of the 76-gene signature): 198 node-negative breast
  cancer patients, 4 clinical variables and 76 Affymetrix probe sets, time to distant
  metastasis. The ARFF file ships in scikit-survival's package data.
- GBSG2 (German Breast Cancer Study Group 2): 686 node-positive patients, 8 clinical
  variables, recurrence-free survival. The CSV file ships in lifelines.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from medora.data.bundled import DatasetProvenance
from medora.data.packaged import DatasetUnavailableError, categorical, read_package_files

__all__ = [
    "DatasetUnavailableError",
    "SurvivalDataset",
    "load_gbsg2",
    "load_gse7390",
]

#: The unit of every time in these datasets, as recorded in their source files.
TIME_UNIT = "days"


@dataclass(frozen=True)
class SurvivalDataset:
    """Right-censored time-to-event data and where it came from.

    ``time[i]`` is patient i's follow-up in ``time_unit``: until the event when ``event[i]``
    is True, until the last contact (censoring) when it is False. ``feature_groups`` splits the
    columns of ``features`` by origin (e.g. "clinical", "genes") so models on each group and on
    all of them can be compared on the same patients.
    """

    name: str
    features: pd.DataFrame
    time: np.ndarray
    event: np.ndarray
    feature_groups: dict[str, tuple[str, ...]]
    time_unit: str
    event_description: str
    provenance: DatasetProvenance
    file: Path
    column_units: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.features)
        if self.time.shape != (n,) or self.event.shape != (n,):
            raise ValueError(f"dataset {self.name}: time {self.time.shape} and event "
                             f"{self.event.shape} must both have one entry per row ({n})")
        if self.event.dtype != bool:
            raise ValueError(f"dataset {self.name}: event must be boolean, got "
                             f"{self.event.dtype}")
        if not np.isfinite(self.time).all() or (self.time < 0).any():
            raise ValueError(f"dataset {self.name}: times must be finite and non-negative")
        grouped = [column for columns in self.feature_groups.values() for column in columns]
        if sorted(grouped) != sorted(self.features.columns):
            raise ValueError(f"dataset {self.name}: feature groups must partition the feature "
                             "columns, each column in exactly one group")

    @property
    def n_events(self) -> int:
        return int(self.event.sum())

    def summary(self) -> dict[str, object]:
        """Size, events and follow-up, for listings and reports."""
        return {"name": self.name, "patients": len(self.features), "events": self.n_events,
                "censored": int((~self.event).sum()), "time_unit": self.time_unit,
                "max_follow_up": float(self.time.max()),
                "groups": {group: len(columns) for group, columns in self.feature_groups.items()}}


# -- GSE7390 ------------------------------------------------------------------------------------

_SKSURV = "scikit-survival"
_SKSURV_HINT = "pip install 'medora[gpl-baselines]'"
_GSE7390_FILE = "sksurv/datasets/data/breast_cancer_GSE7390-metastasis.arff"
# From the file's header: t.tdm / e.tdm are the time to and the indicator of distant
# metastasis ("tdm"); the four clinical attributes come first, the 76 probe sets after.
_GSE7390_TIME, _GSE7390_EVENT = "t.tdm", "e.tdm"
GSE7390_CLINICAL = ("age", "size", "grade", "er")
# The 76 probe sets in the file's order, spelled out so the task can declare its inputs
# without reading the file (and without scikit-survival installed); the loader checks them.
GSE7390_PROBES = (
    "X219340_s_at", "X217771_at", "X202418_at", "X206295_at", "X201091_s_at", "X204015_s_at",
    "X200726_at", "X200965_s_at", "X210314_x_at", "X221882_s_at", "X217767_at", "X219588_s_at",
    "X204073_s_at", "X212567_s_at", "X211382_s_at", "X201663_s_at", "X221344_at", "X210028_s_at",
    "X218782_s_at", "X201664_at", "X219724_s_at", "X204014_at", "X212014_x_at", "X202240_at",
    "X204740_at", "X208180_s_at", "X204768_s_at", "X203391_at", "X211762_s_at", "X218914_at",
    "X221028_s_at", "X211779_x_at", "X218883_s_at", "X204888_s_at", "X217815_at", "X201368_at",
    "X201288_at", "X201068_s_at", "X218478_s_at", "X214919_s_at", "X209835_x_at", "X217471_at",
    "X203306_s_at", "X205034_at", "X221816_s_at", "X219510_at", "X217102_at", "X208683_at",
    "X215510_at", "X218533_s_at", "X215633_x_at", "X221928_at", "X214806_at", "X204540_at",
    "X221916_at", "X216693_x_at", "X209500_x_at", "X209524_at", "X207118_s_at", "X211040_x_at",
    "X218430_s_at", "X217404_s_at", "X205848_at", "X214915_at", "X216010_x_at", "X204631_at",
    "X202687_s_at", "X221634_at", "X220886_at", "X202239_at", "X204218_at", "X221241_s_at",
    "X209862_s_at", "X217019_at", "X210593_at", "X216103_at",
)


def load_gse7390() -> SurvivalDataset:
    """GSE7390: 198 node-negative breast cancer patients, 51 distant metastases.

    Features as in the file: ``age`` (years), ``size`` (tumour diameter, cm), ``grade``
    (categorical, the file's levels "well differentiated", "intermediate", "poorly
    differentiated" and "unkown", sic, for 2 patients), ``er`` (oestrogen receptor status,
    categorical "negative"/"positive") and 76 probe sets of the Affymetrix HG-U133A array
    (log2 expression; ``X`` + probe set id, e.g. ``X219340_s_at``), the 76-gene signature of
    Wang et al. 2005. Time: days to distant metastasis or last follow-up.

    The file is read from scikit-survival's package data, located through the installed
    distribution's metadata; scikit-survival's code is never imported.
    """
    from scipy.io import arff  # only when loading: scipy.io adds 0.1 s to every CLI start

    files = read_package_files(_SKSURV, [_GSE7390_FILE], what="GSE7390", install=_SKSURV_HINT)
    (raw,), path = files.contents, files.locations[0]
    data, meta = arff.loadarff(io.StringIO(raw.decode("utf-8")))
    frame = pd.DataFrame(data)
    source = f"{_SKSURV}:{_GSE7390_FILE}"
    columns: dict[str, object] = {}
    for column in meta.names():
        kind, levels = meta[column]
        if kind == "nominal":
            # scipy returns nominal values as bytes; the header declares their levels in order.
            decoded = frame[column].str.decode("utf-8")
            columns[column] = categorical(decoded.rename(column), levels, where=source)
        else:
            columns[column] = frame[column].astype(np.float64)
    table = pd.DataFrame(columns)
    event_codes = table.pop(_GSE7390_EVENT)
    event = np.asarray(event_codes == "1", dtype=bool)
    time = table.pop(_GSE7390_TIME).to_numpy(dtype=np.float64)
    if tuple(table.columns) != GSE7390_CLINICAL + GSE7390_PROBES:
        raise ValueError(f"{source}: expected the columns {list(GSE7390_CLINICAL)} and the 76 "
                         f"probe sets of the Wang et al. signature, got {list(table.columns)}; "
                         "the file is not the one this loader was written for")
    provenance = DatasetProvenance(
        name="gse7390",
        title="Breast cancer GSE7390 (TRANSBIG), distant metastasis",
        package=_SKSURV,
        package_version=files.version,
        resource=_GSE7390_FILE,
        licence=f"file shipped in {_SKSURV} ({files.licence}); data: NCBI GEO series "
        "GSE7390, which states no restriction on the use of GEO data (submitters may hold "
        "rights); cite Desmedt et al. 2007",
        source_url="https://www.ncbi.nlm.nih.gov/geo/query/acc.cgi?acc=GSE7390",
        sha256=files.sha256,
        description="Desmedt C, et al. Strong time dependence of the 76-gene prognostic "
        "signature for node-negative breast cancer patients in the TRANSBIG multicenter "
        "independent validation series. Clin Cancer Res 2007;13:3207-3214. Untreated, "
        "node-negative patients; 76 probe sets of Wang et al. (Lancet 2005;365:671-679).",
    )
    return SurvivalDataset(
        name="gse7390", features=table, time=time, event=event,
        feature_groups={"clinical": GSE7390_CLINICAL, "genes": GSE7390_PROBES},
        time_unit=TIME_UNIT, event_description="distant metastasis",
        provenance=provenance, file=path,
        column_units={"age": "years", "size": "cm",
                      **{gene: "log2 expression" for gene in GSE7390_PROBES}},
    )


# -- GBSG2 --------------------------------------------------------------------------------------

_LIFELINES = "lifelines"
_LIFELINES_HINT = "pip install medora (lifelines is a core dependency)"
_GBSG2_FILE = "lifelines/datasets/gbsg2.csv"
_GBSG2_LEVELS = {"horTh": ("no", "yes"), "menostat": ("Pre", "Post"),
                 "tgrade": ("I", "II", "III")}
GBSG2_CLINICAL = ("age", "menostat", "tsize", "tgrade", "pnodes", "progrec", "estrec")


def load_gbsg2() -> SurvivalDataset:
    """GBSG2: 686 node-positive breast cancer patients, 299 recurrences or deaths.

    Features as in the file: ``horTh`` (hormonal therapy, "no"/"yes"; its own group
    "treatment", since it was assigned in the trial rather than measured), ``age`` (years),
    ``menostat`` ("Pre"/"Post"), ``tsize`` (tumour size, mm), ``tgrade`` ("I"/"II"/"III"),
    ``pnodes`` (positive lymph nodes), ``progrec`` and ``estrec`` (progesterone and oestrogen
    receptors, fmol/l). Time: days of recurrence-free survival; the event is recurrence or
    death (the file's ``cens`` = 1).
    """
    files = read_package_files(_LIFELINES, [_GBSG2_FILE], what="GBSG2", install=_LIFELINES_HINT)
    (raw,), path = files.contents, files.locations[0]
    frame = pd.read_csv(io.BytesIO(raw))
    source = f"{_LIFELINES}:{_GBSG2_FILE}"
    codes = set(frame["cens"].unique())
    if not codes <= {0, 1}:
        raise ValueError(f"{source}: column 'cens' holds {sorted(codes)}, expected 0/1")
    event = frame.pop("cens").to_numpy() == 1
    time = frame.pop("time").to_numpy(dtype=np.float64)
    for column, levels in _GBSG2_LEVELS.items():
        frame[column] = categorical(frame[column], levels, where=source,
                                    ordered=column == "tgrade")
    numeric = [c for c in frame.columns if c not in _GBSG2_LEVELS]
    frame[numeric] = frame[numeric].astype(np.float64)
    provenance = DatasetProvenance(
        name="gbsg2",
        title="German Breast Cancer Study Group 2 (GBSG2), recurrence-free survival",
        package=_LIFELINES,
        package_version=files.version,
        resource=_GBSG2_FILE,
        licence=f"file shipped in {_LIFELINES} ({files.licence}); data: published "
        "with Schumacher et al. 1994 and distributed in the R package TH.data",
        source_url="https://CRAN.R-project.org/package=TH.data",
        sha256=files.sha256,
        description="Schumacher M, et al. Randomized 2 x 2 trial evaluating hormonal "
        "treatment and the duration of chemotherapy in node-positive breast cancer patients. "
        "J Clin Oncol 1994;12:2086-2093. 686 patients with complete data.",
    )
    return SurvivalDataset(
        name="gbsg2", features=frame, time=time, event=event,
        feature_groups={"clinical": GBSG2_CLINICAL, "treatment": ("horTh",)},
        time_unit=TIME_UNIT, event_description="recurrence or death",
        provenance=provenance, file=path,
        column_units={"age": "years", "tsize": "mm", "pnodes": "nodes",
                      "progrec": "fmol/l", "estrec": "fmol/l"},
    )
