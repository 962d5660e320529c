"""Fingerprint similarity and a similarity-based applicability domain.

A model's prediction for a molecule unlike anything it was trained on is an extrapolation,
and its error grows as similarity to the nearest training molecule falls (Sheridan et al.,
2004). The applicability domain turns that observation into a flag: a molecule is *inside*
when its nearest training neighbour is at least as similar as for 95% of the training
molecules themselves (leave-one-out). The flag says "the training data do not cover this
molecule"; it does not say the prediction is right when the molecule is inside.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from itertools import chain

import numpy as np
from rdkit import Chem
from rdkit.Chem import rdFingerprintGenerator
from rdkit.DataStructs import ExplicitBitVect
from scipy import sparse

from medora.areas.molecules.chem._mol import RDKIT_VERSION, as_mol

__all__ = [
    "APPLICABILITY_DOMAIN_SOURCE",
    "FINGERPRINT_SOURCE",
    "MORGAN_BITS",
    "MORGAN_RADIUS",
    "ApplicabilityDomain",
    "DomainAssessment",
    "morgan_fingerprint",
    "morgan_fingerprints",
    "nearest_neighbours",
]

#: Radius 2 (ECFP4-like) in 2048 bits: the common default for similarity search, with few
#: bit collisions for drug-sized molecules.
MORGAN_RADIUS = 2
MORGAN_BITS = 2048

FINGERPRINT_SOURCE = (
    f"Morgan fingerprint, radius {MORGAN_RADIUS}, {MORGAN_BITS} bits, Tanimoto similarity. "
    "Rogers D, Hahn M. Extended-connectivity fingerprints. J Chem Inf Model 50 (2010) 742-754. "
    "doi:10.1021/ci100050t"
)
APPLICABILITY_DOMAIN_SOURCE = (
    "Similarity to the nearest training molecule as a discriminator of prediction accuracy: "
    "Sheridan RP, Feuston BP, Maiorov VN, Kearsley SK. Similarity to molecules in the training "
    "set is a good discriminator for prediction accuracy in QSAR. J Chem Inf Comput Sci 44 "
    "(2004) 1912-1928. doi:10.1021/ci049782w. Threshold (a percentile of the training set's "
    "leave-one-out nearest-neighbour similarity) is medora's convention. " + FINGERPRINT_SOURCE
)


@cache
def _generator() -> rdFingerprintGenerator.FingerprintGenerator64:
    """One Morgan generator, reused: building it per molecule costs more than fingerprinting."""
    return rdFingerprintGenerator.GetMorganGenerator(radius=MORGAN_RADIUS, fpSize=MORGAN_BITS)


def morgan_fingerprint(mol: Chem.Mol | str) -> ExplicitBitVect:
    """The Morgan bit vector of one molecule."""
    return _generator().GetFingerprint(as_mol(mol))


def morgan_fingerprints(mols: Iterable[Chem.Mol | str]) -> list[ExplicitBitVect]:
    """Morgan bit vectors of many molecules, in order."""
    return [morgan_fingerprint(mol) for mol in mols]


#: Query molecules compared at once: bounds the similarity block to this many rows.
_QUERY_BLOCK = 1024


def _on_bits(fps: Sequence[ExplicitBitVect]) -> sparse.csr_matrix:
    """The fingerprints as a sparse (molecules, bits) matrix of ones."""
    on_bits = [fp.GetOnBits() for fp in fps]
    rows = np.zeros(len(on_bits) + 1, dtype=np.int64)
    np.cumsum([len(bits) for bits in on_bits], out=rows[1:])
    columns = np.fromiter(chain.from_iterable(on_bits), dtype=np.int64, count=int(rows[-1]))
    return sparse.csr_matrix((np.ones(len(columns)), columns, rows),
                             shape=(len(on_bits), MORGAN_BITS))


class FingerprintIndex:
    """Reference fingerprints ready for Tanimoto search: their bits as one dense matrix,
    built once however many queries follow (a prediction chunk by chunk searches the same
    training set dozens of times)."""

    def __init__(self, reference_fps: Sequence[ExplicitBitVect]) -> None:
        self.bits = _on_bits(reference_fps).T.toarray().astype(np.float32)  # (bits, refs)
        self.counts = self.bits.sum(axis=0)

    def __len__(self) -> int:
        return self.bits.shape[1]

    def similarity_blocks(self, query_fps: Sequence[ExplicitBitVect]) -> Iterator[np.ndarray]:
        """Tanimoto similarity of every query to every reference, ``_QUERY_BLOCK`` query rows
        at a time: RDKit's value exactly (the shared bits are small integers, exact in
        float32, counted by one sparse product per block instead of one RDKit call per
        query)."""
        for start in range(0, len(query_fps), _QUERY_BLOCK):
            queries = _on_bits(query_fps[start:start + _QUERY_BLOCK])
            common = (queries @ self.bits).astype(np.float64)
            union = np.diff(queries.indptr)[:, None] + self.counts[None, :] - common
            # RDKit's convention: 0 where both fingerprints are empty.
            yield np.divide(common, union, out=np.zeros_like(common), where=union > 0)

    def nearest(self, query_fps: Sequence[ExplicitBitVect], k: int = 1
                ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` most similar references of each query: ``(indices, similarities)``, both
        ``(len(query_fps), k)``, most similar first; ties go to the lower reference index so
        results are reproducible."""
        if not 1 <= k <= len(self):
            raise ValueError(f"k must be between 1 and {len(self)} reference molecules.")
        indices = np.empty((len(query_fps), k), dtype=np.int64)
        similarities = np.empty((len(query_fps), k), dtype=np.float64)
        start = 0
        for block in self.similarity_blocks(query_fps):
            # argmax, like the stable sort, picks the lowest index among ties
            order = (block.argmax(axis=1)[:, None] if k == 1
                     else np.argsort(-block, axis=1, kind="stable")[:, :k])
            indices[start:start + len(block)] = order
            similarities[start:start + len(block)] = np.take_along_axis(block, order, axis=1)
            start += len(block)
        return indices, similarities


def nearest_neighbours(
    query_fps: Sequence[ExplicitBitVect], reference_fps: Sequence[ExplicitBitVect], k: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` most Tanimoto-similar reference molecules of each query molecule
    (:meth:`FingerprintIndex.nearest`)."""
    return FingerprintIndex(reference_fps).nearest(query_fps, k)


@dataclass(frozen=True)
class DomainAssessment:
    """Where one molecule stands relative to the training set."""

    max_similarity: float
    nearest_index: int
    inside: bool


@dataclass(frozen=True)
class ApplicabilityDomain:
    """Tanimoto similarity to the training set, with a threshold learnt from that set.

    Build it with :meth:`fit`; ``threshold`` is the ``percentile``-th percentile (linear
    interpolation) of the training molecules' similarity to their nearest *other* training
    molecule.
    """

    training_fps: tuple[ExplicitBitVect, ...] = field(repr=False)
    threshold: float
    percentile: float
    source: str = APPLICABILITY_DOMAIN_SOURCE
    rdkit_version: str = RDKIT_VERSION

    @classmethod
    def fit(
        cls, training_fps: Sequence[ExplicitBitVect], percentile: float = 5.0
    ) -> ApplicabilityDomain:
        """Learn the threshold by leave-one-out nearest-neighbour similarity of the training set.

        Leave-one-out matters: every training molecule is its own nearest neighbour at
        similarity 1, which would make any threshold meaningless.
        """
        if len(training_fps) < 2:
            raise ValueError("An applicability domain needs at least 2 training molecules.")
        if not 0.0 <= percentile <= 100.0:
            raise ValueError(f"percentile must be within [0, 100], got {percentile}.")
        fps = list(training_fps)
        index = FingerprintIndex(fps)
        nearest_other, start = [], 0
        for block in index.similarity_blocks(fps):
            rows = np.arange(len(block))
            block[rows, start + rows] = -np.inf  # leave the molecule itself out
            nearest_other.extend(block.max(axis=1))
            start += len(block)
        domain = cls(
            training_fps=tuple(fps),
            threshold=float(np.percentile(nearest_other, percentile)),
            percentile=percentile,
        )
        domain.__dict__["index"] = index  # the cached property, so it is not built twice
        return domain

    @cached_property
    def index(self) -> FingerprintIndex:
        """The training fingerprints indexed for search; built on first use, not pickled."""
        return FingerprintIndex(self.training_fps)

    def __getstate__(self) -> dict[str, object]:
        return {name: value for name, value in self.__dict__.items() if name != "index"}

    def assess(self, fps: Sequence[ExplicitBitVect]) -> list[DomainAssessment]:
        """For each molecule: its highest similarity to training, that molecule, and the flag."""
        indices, similarities = self.index.nearest(fps, k=1)
        return [
            DomainAssessment(
                max_similarity=float(sim),
                nearest_index=int(idx),
                inside=bool(sim >= self.threshold),
            )
            for idx, sim in zip(indices[:, 0], similarities[:, 0], strict=True)
        ]
