"""Morgan similarity, nearest neighbours and the applicability domain on NSAIDs."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from rdkit import DataStructs

from medora.areas.molecules.chem import (
    MORGAN_BITS,
    ApplicabilityDomain,
    morgan_fingerprint,
    morgan_fingerprints,
    nearest_neighbours,
)

NSAIDS = [
    "CC(C)Cc1ccc(cc1)C(C)C(=O)O",  # ibuprofen
    "COc1ccc2cc(ccc2c1)C(C)C(=O)O",  # naproxen
    "CC(C(=O)O)c1cccc(c1)C(=O)c1ccccc1",  # ketoprofen
    "CC(C(=O)O)c1ccc(c(F)c1)-c1ccccc1",  # flurbiprofen
    "CC(C(=O)O)c1cccc(Oc2ccccc2)c1",  # fenoprofen
    "OC(=O)Cc1ccccc1Nc1c(Cl)cccc1Cl",  # diclofenac
    "CC(=O)Oc1ccccc1C(=O)O",  # aspirin
    "COc1ccc2n(C(=O)c3ccc(Cl)cc3)c(C)c(CC(=O)O)c2c1",  # indomethacin
]
IBUPROFEN_METHYL_ESTER = "CC(C)Cc1ccc(cc1)C(C)C(=O)OC"
CAFFEINE = "Cn1cnc2c1c(=O)n(C)c(=O)n2C"


def test_fingerprints_are_2048_bit_vectors() -> None:
    fp = morgan_fingerprint(NSAIDS[0])
    assert isinstance(fp, DataStructs.ExplicitBitVect) and fp.GetNumBits() == MORGAN_BITS


def test_nearest_neighbours_are_sorted_and_find_the_molecule_itself() -> None:
    reference = morgan_fingerprints(NSAIDS)
    indices, similarities = nearest_neighbours(reference[:2], reference, k=3)
    assert indices.shape == similarities.shape == (2, 3)
    assert indices[:, 0].tolist() == [0, 1] and np.all(similarities[:, 0] == 1.0)
    assert np.all(np.diff(similarities, axis=1) <= 0)
    expected = DataStructs.BulkTanimotoSimilarity(reference[0], reference)
    assert similarities[0].tolist() == sorted(expected, reverse=True)[:3]
    with pytest.raises(ValueError, match="k must be"):
        nearest_neighbours(reference[:1], reference, k=len(NSAIDS) + 1)


def test_threshold_is_the_leave_one_out_percentile() -> None:
    fps = morgan_fingerprints(NSAIDS)
    domain = ApplicabilityDomain.fit(fps, percentile=5.0)
    nearest_other = [
        max(DataStructs.BulkTanimotoSimilarity(fp, fps[:i] + fps[i + 1 :]))
        for i, fp in enumerate(fps)
    ]
    assert domain.threshold == pytest.approx(np.percentile(nearest_other, 5.0))
    assert domain.threshold < 1.0  # leave-one-out: a molecule never counts as its own neighbour
    assert "Sheridan" in domain.source and domain.rdkit_version


def test_domain_accepts_a_near_duplicate_and_flags_a_dissimilar_molecule() -> None:
    domain = ApplicabilityDomain.fit(morgan_fingerprints(NSAIDS))
    ester, caffeine = domain.assess(morgan_fingerprints([IBUPROFEN_METHYL_ESTER, CAFFEINE]))
    assert ester.inside and ester.nearest_index == 0  # ibuprofen
    assert ester.max_similarity > domain.threshold
    assert not caffeine.inside and caffeine.max_similarity < domain.threshold


def test_domain_needs_two_training_molecules() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        ApplicabilityDomain.fit(morgan_fingerprints(NSAIDS[:1]))


def test_similarities_are_rdkits_for_every_pair_across_query_blocks(monkeypatch) -> None:
    from rdkit import RDConfig

    from medora.areas.molecules.chem import similarity
    from medora.data.molecules import read_molecules

    nci = read_molecules(f"{RDConfig.RDDataDir}/NCI/first_5K.smi", skip_invalid=True)
    # with an empty fingerprint, similar to nothing (RDKit: 0)
    queries = [*morgan_fingerprints([*NSAIDS, *nci.mols[:300]]),
               DataStructs.ExplicitBitVect(MORGAN_BITS)]
    references = morgan_fingerprints([*NSAIDS, *nci.mols[300:500]])
    monkeypatch.setattr(similarity, "_QUERY_BLOCK", 100)
    indices, similarities = nearest_neighbours(queries, references, k=2)
    for row, fp in enumerate(queries):
        expected = np.asarray(DataStructs.BulkTanimotoSimilarity(fp, references))
        order = np.argsort(-expected, kind="stable")[:2]
        assert indices[row].tolist() == order.tolist()
        assert similarities[row].tolist() == expected[order].tolist()
    first, best = nearest_neighbours(queries, references, k=1)
    assert first[:, 0].tolist() == indices[:, 0].tolist()
    assert best[:, 0].tolist() == similarities[:, 0].tolist()


def test_domain_searches_the_index_it_fitted_and_pickles_without_it(monkeypatch) -> None:
    from medora.areas.molecules.chem import similarity

    built: list[int] = []

    class CountedIndex(similarity.FingerprintIndex):
        def __init__(self, reference_fps) -> None:
            built.append(len(reference_fps))
            super().__init__(reference_fps)

    monkeypatch.setattr(similarity, "FingerprintIndex", CountedIndex)
    domain = ApplicabilityDomain.fit(morgan_fingerprints(NSAIDS))
    queries = morgan_fingerprints([IBUPROFEN_METHYL_ESTER, CAFFEINE])
    fitted = domain.assess(queries)
    assert built == [len(NSAIDS)]  # one index serves the threshold and the searches
    restored = pickle.loads(pickle.dumps(domain))
    assert "index" not in restored.__dict__  # the index is rebuilt, not stored
    assert restored.assess(queries) == fitted and built == [len(NSAIDS)] * 2
