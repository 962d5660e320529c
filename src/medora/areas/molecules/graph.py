"""A deep ensemble of directed message-passing networks (D-MPNN) for molecular properties.

Five members from different seeds form a deep ensemble (Lakshminarayanan et al. 2017) whose
disagreement is the spread the conformal intervals scale with. The networks
(:mod:`medora.areas.molecules.dmpnn`) are torch modules, for training and for gradients; a fitted
ensemble keeps each member's weights as arrays and predicts with the same arithmetic in numpy,
with scipy's sparse products for the sums over neighbours. Loading a registered model and
predicting therefore never imports torch, which alone took over a second of every
``medora predict`` call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import numpy as np
from rdkit import Chem

from medora.areas.molecules.descriptors import COMPACT_DESCRIPTORS, descriptor_matrix
from medora.areas.molecules.featurizers import (
    ATOM_DIM,
    BOND_DIM,
    GraphBatch,
    GraphDataset,
    MessageOperators,
    batch_graphs,
    featurize,
    featurize_batch,
    featurize_many,
    message_operators,
)
from medora.areas.molecules.regression import MoleculeRegressor
from medora.models.base import ModelKind
from medora.train.config import TrainerConfig

if TYPE_CHECKING:
    from torch import nn

    from medora.areas.molecules.dmpnn import DMPNN

#: Molecules per forward pass at prediction time: large enough that per-operation overhead
#: vanishes, small enough that a member's hidden states stay in a core's cache (2 MiB of L2
#: here, where the members' passes took about 30% less time than in batches of 512).
PREDICTION_BATCH = 128

#: One member's trained weights, by the name its torch module gives them.
MemberWeights = dict[str, np.ndarray]


@dataclass(frozen=True)
class _MemberArithmetic:
    """One member's forward pass in evaluation mode, on arrays: the weights transposed and
    split (the input layer's atom and bond parts, the output layer's atom and message parts,
    the head's molecule and descriptor parts), so no concatenated input is ever built, and
    the sums over neighbours as sparse products."""

    edge_atoms: np.ndarray        # (ATOM_DIM, hidden)
    edge_bonds: np.ndarray        # (BOND_DIM, hidden)
    update: np.ndarray            # (hidden, hidden)
    out_atoms: np.ndarray         # (ATOM_DIM, hidden)
    out_messages: np.ndarray      # (hidden, hidden)
    out_bias: np.ndarray          # (hidden,)
    head_molecule: np.ndarray     # (hidden, ffn)
    head_descriptors: np.ndarray  # (descriptors, ffn)
    head_bias: np.ndarray         # (ffn,)
    final: np.ndarray             # (ffn, 1)
    final_bias: np.ndarray        # (1,)
    depth: int

    @classmethod
    def of(cls, weights: Mapping[str, np.ndarray], depth: int) -> _MemberArithmetic:
        hidden = weights["encoder.edge_update.weight"].shape[0]

        def part(name: str, columns: slice = slice(None)) -> np.ndarray:
            return np.ascontiguousarray(weights[name][:, columns].T)

        return cls(
            edge_atoms=part("encoder.edge_input.weight", slice(0, ATOM_DIM)),
            edge_bonds=part("encoder.edge_input.weight", slice(ATOM_DIM, None)),
            update=part("encoder.edge_update.weight"),
            out_atoms=part("encoder.atom_output.weight", slice(0, ATOM_DIM)),
            out_messages=part("encoder.atom_output.weight", slice(ATOM_DIM, None)),
            out_bias=weights["encoder.atom_output.bias"],
            head_molecule=part("head.0.weight", slice(0, hidden)),
            head_descriptors=part("head.0.weight", slice(hidden, None)),
            head_bias=weights["head.0.bias"],
            final=part("head.3.weight"),
            final_bias=weights["head.3.bias"],
            depth=depth)

    def __call__(self, batch: GraphBatch, operators: MessageOperators) -> np.ndarray:
        """:meth:`DMPNN.forward <medora.areas.molecules.dmpnn.DMPNN.forward>` without dropout."""
        # edge_input(cat(atoms[source], edges)) as the atoms' part gathered plus the bonds'.
        initial = (batch.atoms @ self.edge_atoms)[batch.edge_index[0]]
        initial += batch.edges @ self.edge_bonds
        np.maximum(initial, 0.0, out=initial)
        hidden = initial
        for _ in range(self.depth - 1):
            hidden = (operators.incoming @ hidden) @ self.update
            hidden += initial
            np.maximum(hidden, 0.0, out=hidden)
        atoms = batch.atoms @ self.out_atoms
        atoms += (operators.into_atoms @ hidden) @ self.out_messages
        atoms += self.out_bias
        np.maximum(atoms, 0.0, out=atoms)
        molecule = (operators.readout @ atoms) @ self.head_molecule
        molecule += self.head_bias
        if batch.descriptors is not None:
            molecule += batch.descriptors @ self.head_descriptors
        np.maximum(molecule, 0.0, out=molecule)
        return (molecule @ self.final)[:, 0] + self.final_bias[0]


def _weights_of(network: nn.Module) -> MemberWeights:
    return {name: value.detach().numpy().copy() for name, value in network.state_dict().items()}


class DMPNNRegressor(MoleculeRegressor):
    """A deep ensemble of D-MPNNs with descriptors, trained by the shared Trainer.

    Targets are standardised on the training molecules (so one learning rate suits logS and
    kcal/mol alike) and predictions returned in the original units. Explained by integrated
    gradients over each atom's and bond's input features, from an all-zero-feature graph,
    with the descriptors held at the molecule's own values; bond shares are split between
    their two atoms, so a molecule's atom weights sum to the prediction's difference from
    that baseline.

    Fitted, it holds ``member_weights_`` (each member's weights as arrays) and predicts on
    arrays; :meth:`member_networks` rebuilds the torch modules.
    """

    name: ClassVar[str] = "dmpnn"
    kind: ClassVar[ModelKind] = "deep"
    display_name: ClassVar[str] = "D-MPNN ensemble with RDKit descriptors"
    explanation_method: ClassVar[str] = ("integrated gradients over atom and bond features "
                                         "(32 steps, zero-feature baseline)")

    def __init__(self, hidden_size: int = 128, depth: int = 3, ffn_hidden_size: int = 128,
                 dropout: float = 0.0, n_members: int = 5,
                 descriptors: Sequence[str] = COMPACT_DESCRIPTORS,
                 trainer: TrainerConfig | None = None, seed: int = 0,
                 ig_steps: int = 32) -> None:
        if n_members < 1:
            raise ValueError(f"n_members must be at least 1, got {n_members}")
        self.hidden_size = hidden_size
        self.depth = depth
        self.ffn_hidden_size = ffn_hidden_size
        self.dropout = dropout
        self.n_members = n_members
        self.descriptors = tuple(descriptors)
        self.trainer = trainer or TrainerConfig(max_epochs=150, patience=25, batch_size=50,
                                                learning_rate=1e-3, weight_decay=0.0)
        self.seed = seed
        self.ig_steps = ig_steps

    # -- features -------------------------------------------------------------------------
    def _descriptors(self, mols: Sequence[Chem.Mol], fit: bool = False) -> np.ndarray | None:
        if not self.descriptors:
            return None
        raw = descriptor_matrix(mols, self.descriptors).astype(np.float64)
        if fit:
            self.descriptor_median_ = np.nan_to_num(np.nanmedian(raw, axis=0))
            filled = np.where(np.isnan(raw), self.descriptor_median_, raw)
            self.descriptor_mean_ = filled.mean(axis=0)
            self.descriptor_scale_ = np.where(filled.std(axis=0) > 0, filled.std(axis=0), 1.0)
        filled = np.where(np.isnan(raw), self.descriptor_median_, raw)
        return ((filled - self.descriptor_mean_) / self.descriptor_scale_).astype(np.float32)

    def _dataset(self, mols: Sequence[Chem.Mol], y: np.ndarray,
                 fit: bool = False) -> GraphDataset:
        return GraphDataset(featurize_many(mols), y, self._descriptors(mols, fit))

    # -- training -------------------------------------------------------------------------
    def _fit(self, mols: list[Chem.Mol], y: np.ndarray,
             validation: tuple[list[Chem.Mol], np.ndarray] | None) -> None:
        # torch only here and in explanation: prediction runs on arrays (module docstring).
        from torch import manual_seed, nn

        from medora.areas.molecules.dmpnn import DMPNN, collate_graphs
        from medora.train.trainer import Trainer

        if validation is None:
            rng = np.random.default_rng(self.seed)
            order = rng.permutation(len(mols))
            cut = max(1, len(mols) // 10)
            validation = ([mols[i] for i in order[:cut]], y[order[:cut]])
            mols, y = [mols[i] for i in order[cut:]], y[order[cut:]]
        self.target_mean_, self.target_scale_ = float(y.mean()), float(y.std() or 1.0)
        train = self._dataset(mols, (y - self.target_mean_) / self.target_scale_, fit=True)
        held_out = self._dataset(validation[0],
                                 (validation[1] - self.target_mean_) / self.target_scale_)
        self.member_weights_: list[MemberWeights] = []
        self.histories_ = []
        for index in range(self.n_members):
            config = replace(
                self.trainer, seed=self.seed * 1000 + index,
                description=f"dmpnn member {index + 1}/{self.n_members}",
                checkpoint_dir=(Path(self.trainer.checkpoint_dir) / f"member-{index}"
                                if self.trainer.checkpoint_dir is not None else None))
            manual_seed(config.seed)
            member = DMPNN(len(self.descriptors), self.hidden_size, self.depth,
                           self.ffn_hidden_size, self.dropout)
            self.histories_.append(Trainer(config, collate=collate_graphs).fit(
                member, nn.functional.mse_loss, train, held_out))
            self.member_weights_.append(_weights_of(member))

    def member_networks(self) -> list[DMPNN]:
        """The trained members as torch modules in evaluation mode, for gradients."""
        import torch

        from medora.areas.molecules.dmpnn import DMPNN

        networks = []
        for weights in self.member_weights_:
            network = DMPNN(len(self.descriptors), self.hidden_size, self.depth,
                            self.ffn_hidden_size, self.dropout)
            network.load_state_dict({name: torch.from_numpy(value)
                                     for name, value in weights.items()})
            networks.append(network.eval())
        return networks

    # -- prediction -----------------------------------------------------------------------
    def member_predictions(self, mols: Sequence[Chem.Mol]) -> np.ndarray:
        """Each member's prediction in the target's units, shape (n_members, n).

        Evaluated on arrays by :class:`_MemberArithmetic` (the trained modules' arithmetic
        with sparse sums), one batch of :data:`PREDICTION_BATCH` molecules at a time."""
        mols = list(mols)
        members = [_MemberArithmetic.of(weights, self.depth) for weights in self.member_weights_]
        outputs = [np.zeros((len(members), 0), dtype=np.float32)]
        for start in range(0, len(mols), PREDICTION_BATCH):
            chunk = mols[start:start + PREDICTION_BATCH]
            batch = featurize_batch(chunk, self._descriptors(chunk))
            operators = message_operators(batch)
            outputs.append(np.stack([member(batch, operators) for member in members]))
        standardised = np.concatenate(outputs, axis=1)
        return standardised.astype(np.float64) * self.target_scale_ + self.target_mean_

    def predict_spread(self, mols: Sequence[Chem.Mol]) -> tuple[np.ndarray, np.ndarray]:
        members = self.member_predictions(list(mols))
        return members.mean(axis=0), members.std(axis=0)

    # -- explanation ----------------------------------------------------------------------
    def explain(self, mols: Sequence[Chem.Mol]) -> list[np.ndarray]:
        networks = self.member_networks()
        return [self._atom_attributions(mol, networks) for mol in mols]

    def _atom_attributions(self, mol: Chem.Mol, networks: list[DMPNN]) -> np.ndarray:
        import torch

        from medora.areas.molecules.dmpnn import GraphTensors

        graph = featurize(mol)
        descriptors = self._descriptors([mol])
        steps = self.ig_steps
        # Midpoint rule along the straight path from the zero-feature graph to the molecule,
        # all steps in one batch of copies of the molecule.
        alphas = (torch.arange(steps, dtype=torch.float32) + 0.5) / steps
        batch = GraphTensors.of(batch_graphs(
            [graph] * steps, None if descriptors is None else np.repeat(descriptors, steps, 0)))
        atoms = torch.from_numpy(graph.atoms)
        edges = torch.from_numpy(graph.edges)
        path_atoms = (alphas[:, None, None] * atoms).reshape(-1, ATOM_DIM).requires_grad_(True)
        path_edges = (alphas[:, None, None] * edges).reshape(-1, BOND_DIM).requires_grad_(True)
        output = torch.stack([member(batch, path_atoms, path_edges)
                              for member in networks]).mean(dim=0).sum()
        atom_grad, edge_grad = torch.autograd.grad(output, (path_atoms, path_edges))
        atom_part = (atoms * atom_grad.reshape(steps, *atoms.shape).mean(0)).sum(1)
        edge_part = (edges * edge_grad.reshape(steps, *edges.shape).mean(0)).sum(1)
        weights = atom_part.detach().numpy().astype(np.float64)
        if len(edge_part):
            source, destination = graph.edge_index
            np.add.at(weights, source, 0.5 * edge_part.detach().numpy())
            np.add.at(weights, destination, 0.5 * edge_part.detach().numpy())
        return weights * self.target_scale_
