"""The directed message-passing network (D-MPNN) as torch modules, for training and gradients.

D-MPNN (Yang et al., J Chem Inf Model 2019, the model behind chemprop) passes messages along
directed bonds, so a message never flows straight back to the atom it came from. The molecule
vector (mean over atoms) is joined by a compact set of RDKit descriptors, the way chemprop
combines learned and computed features, and read out by a feed-forward network.

:class:`medora.areas.molecules.graph.DMPNNRegressor` trains these modules and explains through them;
it predicts with the same arithmetic on arrays, so that prediction never imports torch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from medora.areas.molecules.featurizers import (
    ATOM_DIM,
    BOND_DIM,
    GraphBatch,
    GraphItem,
    batch_graphs,
)


@dataclass
class GraphTensors:
    """A :class:`~medora.areas.molecules.featurizers.GraphBatch` as tensors."""

    atoms: torch.Tensor        # (total_atoms, ATOM_DIM)
    edges: torch.Tensor        # (total_edges, BOND_DIM)
    edge_index: torch.Tensor   # (2, total_edges)
    reverse: torch.Tensor      # (total_edges,)
    molecule: torch.Tensor     # (total_atoms,)
    n_molecules: int
    descriptors: torch.Tensor | None = None

    @classmethod
    def of(cls, batch: GraphBatch) -> GraphTensors:
        return cls(atoms=torch.from_numpy(batch.atoms), edges=torch.from_numpy(batch.edges),
                   edge_index=torch.from_numpy(batch.edge_index),
                   reverse=torch.from_numpy(batch.reverse),
                   molecule=torch.from_numpy(batch.molecule), n_molecules=batch.n_molecules,
                   descriptors=None if batch.descriptors is None
                   else torch.from_numpy(batch.descriptors))

    def __len__(self) -> int:
        return self.n_molecules


def collate_graphs(items: list[GraphItem]) -> tuple[GraphTensors, torch.Tensor]:
    """The Trainer's collate for a :class:`~medora.areas.molecules.featurizers.GraphDataset`."""
    graphs, descriptors, targets = zip(*items, strict=True)
    stacked = None if descriptors[0] is None else np.stack(descriptors)
    return (GraphTensors.of(batch_graphs(graphs, stacked)),
            torch.tensor(targets, dtype=torch.float32))


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

    def forward(self, batch: GraphTensors, atoms: torch.Tensor | None = None,
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

    def forward(self, batch: GraphTensors, atoms: torch.Tensor | None = None,
                edges: torch.Tensor | None = None) -> torch.Tensor:
        atom_hidden = self.encoder(batch, atoms, edges)
        totals = atom_hidden.new_zeros(batch.n_molecules, atom_hidden.shape[1]).index_add_(
            0, batch.molecule, atom_hidden)
        counts = torch.bincount(batch.molecule, minlength=batch.n_molecules).clamp(min=1)
        molecule = totals / counts.unsqueeze(1).to(totals.dtype)
        if batch.descriptors is not None:
            molecule = torch.cat([molecule, batch.descriptors], dim=1)
        return self.head(molecule).squeeze(-1)
