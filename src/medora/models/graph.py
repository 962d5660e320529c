"""Graph neural networks for molecules: a directed message-passing network (D-MPNN) ensemble.

D-MPNN (Yang et al., J Chem Inf Model 2019, the model behind chemprop) passes messages along
directed bonds, so a message never flows straight back to the atom it came from. The molecule
vector (mean over atoms) is joined by a compact set of RDKit descriptors, the way chemprop
combines learned and computed features, and read out by a feed-forward network. Five members
from different seeds form a deep ensemble (Lakshminarayanan et al. 2017) whose disagreement is
the spread the conformal intervals scale with.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
from rdkit import Chem
from torch import nn

from medora.featurizers.descriptors import COMPACT_DESCRIPTORS, descriptor_matrix
from medora.featurizers.graph import (
    ATOM_DIM,
    BOND_DIM,
    GraphBatch,
    GraphDataset,
    MessageOperators,
    batch_graphs,
    collate_graphs,
    featurize,
    featurize_batch,
    featurize_many,
    message_operators,
)
from medora.models.base import ModelKind
from medora.models.regression import MoleculeRegressor
from medora.train.trainer import Trainer, TrainerConfig

#: Molecules per forward pass at prediction time: large enough that per-operation overhead
#: vanishes, small enough that a member's hidden states stay in cache.
PREDICTION_BATCH = 512


class DirectedMessagePassing(nn.Module):
    """Bond-centred message passing; returns one hidden vector per atom."""

    def __init__(self, hidden_size: int = 128, depth: int = 3, dropout: float = 0.0) -> None:
        super().__init__()
        if depth < 1:
            raise ValueError(f"depth must be at least 1, got {depth}")
        self.depth = depth
        self.edge_input = nn.Linear(ATOM_DIM + BOND_DIM, hidden_size, bias=False)
        self.edge_update = nn.Linear(hidden_size, hidden_size, bias=False)
        self.atom_output = nn.Linear(ATOM_DIM + hidden_size, hidden_size)
        self.dropout = nn.Dropout(dropout)

    def forward(self, batch: GraphBatch, atoms: torch.Tensor | None = None,
                edges: torch.Tensor | None = None) -> torch.Tensor:
        """``atoms`` and ``edges`` replace the batch's features (for path integrals)."""
        atoms = batch.atoms if atoms is None else atoms
        edges = batch.edges if edges is None else edges
        source, destination = batch.edge_index
        initial = torch.relu(self.edge_input(torch.cat([atoms[source], edges], dim=1)))
        hidden = initial
        for _ in range(self.depth - 1):
            # Message into edge u->v: everything arriving at u, minus what came from v.
            arriving = self._sum_into_atoms(hidden, destination, len(atoms))
            message = arriving[source] - hidden[batch.reverse]
            hidden = self.dropout(torch.relu(initial + self.edge_update(message)))
        arriving = self._sum_into_atoms(hidden, destination, len(atoms))
        return self.dropout(torch.relu(self.atom_output(torch.cat([atoms, arriving], dim=1))))

    @staticmethod
    def _sum_into_atoms(hidden: torch.Tensor, destination: torch.Tensor,
                        n_atoms: int) -> torch.Tensor:
        return hidden.new_zeros(n_atoms, hidden.shape[1]).index_add_(0, destination, hidden)


class DMPNN(nn.Module):
    """Message passing, mean readout per molecule, descriptors appended, feed-forward output."""

    def __init__(self, n_descriptors: int, hidden_size: int = 128, depth: int = 3,
                 ffn_hidden_size: int = 128, dropout: float = 0.0) -> None:
        super().__init__()
        self.encoder = DirectedMessagePassing(hidden_size, depth, dropout)
        self.head = nn.Sequential(
            nn.Linear(hidden_size + n_descriptors, ffn_hidden_size), nn.ReLU(),
            nn.Dropout(dropout), nn.Linear(ffn_hidden_size, 1))

    def forward(self, batch: GraphBatch, atoms: torch.Tensor | None = None,
                edges: torch.Tensor | None = None) -> torch.Tensor:
        atom_hidden = self.encoder(batch, atoms, edges)
        totals = atom_hidden.new_zeros(batch.n_molecules, atom_hidden.shape[1]).index_add_(
            0, batch.molecule, atom_hidden)
        counts = torch.bincount(batch.molecule, minlength=batch.n_molecules).clamp(min=1)
        molecule = totals / counts.unsqueeze(1).to(totals.dtype)
        if batch.descriptors is not None:
            molecule = torch.cat([molecule, batch.descriptors], dim=1)
        return self.head(molecule).squeeze(-1)


@dataclass(frozen=True)
class _InferenceWeights:
    """One trained :class:`DMPNN`'s weights, transposed and split for inference: the input
    layers' atom and bond parts, the output layer's atom and message parts, the head's
    molecule and descriptor parts, so no concatenated input is ever built."""

    edge_atoms: torch.Tensor        # (ATOM_DIM, hidden)
    edge_bonds: torch.Tensor        # (BOND_DIM, hidden)
    update: torch.Tensor            # (hidden, hidden)
    out_atoms: torch.Tensor         # (ATOM_DIM, hidden)
    out_messages: torch.Tensor      # (hidden, hidden)
    out_bias: torch.Tensor          # (hidden,)
    head_molecule: torch.Tensor     # (hidden, ffn)
    head_descriptors: torch.Tensor  # (descriptors, ffn)
    head_bias: torch.Tensor         # (ffn,)
    final: torch.Tensor             # (ffn, 1)
    final_bias: torch.Tensor        # (1,)
    depth: int

    @classmethod
    def of(cls, model: DMPNN) -> _InferenceWeights:
        encoder, first, last = model.encoder, model.head[0], model.head[3]
        hidden = encoder.edge_update.weight.shape[0]

        def part(weight: torch.Tensor, columns: slice) -> torch.Tensor:
            return weight.detach()[:, columns].t().contiguous()

        return cls(
            edge_atoms=part(encoder.edge_input.weight, slice(0, ATOM_DIM)),
            edge_bonds=part(encoder.edge_input.weight, slice(ATOM_DIM, None)),
            update=part(encoder.edge_update.weight, slice(None)),
            out_atoms=part(encoder.atom_output.weight, slice(0, ATOM_DIM)),
            out_messages=part(encoder.atom_output.weight, slice(ATOM_DIM, None)),
            out_bias=encoder.atom_output.bias.detach(),
            head_molecule=part(first.weight, slice(0, hidden)),
            head_descriptors=part(first.weight, slice(hidden, None)),
            head_bias=first.bias.detach(),
            final=part(last.weight, slice(None)),
            final_bias=last.bias.detach(),
            depth=encoder.depth)

    def __call__(self, batch: GraphBatch, operators: MessageOperators) -> torch.Tensor:
        """:meth:`DMPNN.forward` in evaluation mode, with sparse products for the sums."""
        # edge_input(cat(atoms[source], edges)) as the atoms' part gathered plus the bonds'.
        initial = (batch.atoms @ self.edge_atoms).index_select(0, batch.edge_index[0])
        initial = initial.addmm_(batch.edges, self.edge_bonds).relu_()
        hidden = initial
        for _ in range(self.depth - 1):
            hidden = torch.addmm(initial, operators.incoming @ hidden, self.update).relu_()
        arriving = operators.into_atoms @ hidden
        atoms = torch.addmm(self.out_bias, batch.atoms, self.out_atoms)
        atoms = atoms.addmm_(arriving, self.out_messages).relu_()
        molecule = torch.addmm(self.head_bias, operators.readout @ atoms, self.head_molecule)
        if batch.descriptors is not None:
            molecule = molecule.addmm_(batch.descriptors, self.head_descriptors)
        return torch.addmm(self.final_bias, molecule.relu_(), self.final).squeeze(1)


class DMPNNRegressor(MoleculeRegressor):
    """A deep ensemble of D-MPNNs with descriptors, trained by the shared Trainer.

    Targets are standardised on the training molecules (so one learning rate suits logS and
    kcal/mol alike) and predictions returned in the original units. Explained by integrated
    gradients over each atom's and bond's input features, from an all-zero-feature graph,
    with the descriptors held at the molecule's own values; bond shares are split between
    their two atoms, so a molecule's atom weights sum to the prediction's difference from
    that baseline.
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
        members, self.histories_ = [], []
        for index in range(self.n_members):
            config = replace(
                self.trainer, seed=self.seed * 1000 + index,
                description=f"dmpnn member {index + 1}/{self.n_members}",
                checkpoint_dir=(Path(self.trainer.checkpoint_dir) / f"member-{index}"
                                if self.trainer.checkpoint_dir is not None else None))
            torch.manual_seed(config.seed)
            member = DMPNN(len(self.descriptors), self.hidden_size, self.depth,
                           self.ffn_hidden_size, self.dropout)
            history = Trainer(config, collate=collate_graphs).fit(
                member, nn.functional.mse_loss, train, held_out)
            self.histories_.append(history)
            members.append(member.eval())
        self.members_ = nn.ModuleList(members).eval()

    # -- prediction -----------------------------------------------------------------------
    @torch.no_grad()
    def member_predictions(self, mols: Sequence[Chem.Mol]) -> np.ndarray:
        """Each member's prediction in the target's units, shape (n_members, n).

        Evaluated by :class:`_InferenceWeights` (the trained modules' arithmetic with sparse
        sums), one batch of :data:`PREDICTION_BATCH` molecules at a time."""
        mols = list(mols)
        members = [_InferenceWeights.of(member) for member in self.members_]
        outputs = [np.zeros((len(members), 0), dtype=np.float32)]
        for start in range(0, len(mols), PREDICTION_BATCH):
            chunk = mols[start:start + PREDICTION_BATCH]
            batch = featurize_batch(chunk, self._descriptors(chunk))
            operators = message_operators(batch)
            outputs.append(torch.stack([member(batch, operators) for member in members]).numpy())
        standardised = np.concatenate(outputs, axis=1)
        return standardised.astype(np.float64) * self.target_scale_ + self.target_mean_

    def predict_spread(self, mols: Sequence[Chem.Mol]) -> tuple[np.ndarray, np.ndarray]:
        members = self.member_predictions(list(mols))
        return members.mean(axis=0), members.std(axis=0)

    # -- explanation ----------------------------------------------------------------------
    def explain(self, mols: Sequence[Chem.Mol]) -> list[np.ndarray]:
        return [self._atom_attributions(mol) for mol in mols]

    def _atom_attributions(self, mol: Chem.Mol) -> np.ndarray:
        graph = featurize(mol)
        descriptors = self._descriptors([mol])
        steps = self.ig_steps
        # Midpoint rule along the straight path from the zero-feature graph to the molecule,
        # all steps in one batch of copies of the molecule.
        alphas = (torch.arange(steps, dtype=torch.float32) + 0.5) / steps
        batch = batch_graphs([graph] * steps,
                             None if descriptors is None else np.repeat(descriptors, steps, 0))
        atoms = torch.from_numpy(graph.atoms)
        edges = torch.from_numpy(graph.edges)
        path_atoms = (alphas[:, None, None] * atoms).reshape(-1, ATOM_DIM).requires_grad_(True)
        path_edges = (alphas[:, None, None] * edges).reshape(-1, BOND_DIM).requires_grad_(True)
        output = torch.stack([member(batch, path_atoms, path_edges)
                              for member in self.members_]).mean(dim=0).sum()
        atom_grad, edge_grad = torch.autograd.grad(output, (path_atoms, path_edges))
        atom_part = (atoms * atom_grad.reshape(steps, *atoms.shape).mean(0)).sum(1)
        edge_part = (edges * edge_grad.reshape(steps, *edges.shape).mean(0)).sum(1)
        weights = atom_part.detach().numpy().astype(np.float64)
        if len(edge_part):
            source, destination = graph.edge_index
            np.add.at(weights, source, 0.5 * edge_part.detach().numpy())
            np.add.at(weights, destination, 0.5 * edge_part.detach().numpy())
        return weights * self.target_scale_
