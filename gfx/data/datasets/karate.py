"""``KarateClub``: Zachary's karate club network, embedded."""
from __future__ import annotations

from typing import Callable, Optional

import torch

from ..data import Data
from .base import InMemoryDataset

# The 78 friendships of Zachary (1977), 0-based members, each pair listed once as
# (member, higher-numbered friends).
FRIENDS = {
    0: (1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 17, 19, 21, 31),
    1: (2, 3, 7, 13, 17, 19, 21, 30),
    2: (3, 7, 8, 9, 13, 27, 28, 32),
    3: (7, 12, 13),
    4: (6, 10),
    5: (6, 10, 16),
    6: (16,),
    8: (30, 32, 33),
    9: (33,),
    13: (33,),
    14: (32, 33),
    15: (32, 33),
    18: (32, 33),
    19: (33,),
    20: (32, 33),
    22: (32, 33),
    23: (25, 27, 29, 32, 33),
    24: (25, 27, 31),
    25: (31,),
    26: (29, 33),
    27: (33,),
    28: (31, 33),
    29: (32, 33),
    30: (32, 33),
    31: (32, 33),
    32: (33,),
}

# Members who sided with the club officer ("John A.") after the split; all others
# followed the instructor ("Mr. Hi", member 0).
OFFICER_FACTION = (9, 14, 15, 18, 20, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33)

NUM_MEMBERS = 34


class KarateClub(InMemoryDataset):
    r"""Zachary's karate club: 34 members, 78 friendships, and the split of the club.

    W. W. Zachary, "An Information Flow Model for Conflict and Fission in Small
    Groups", Journal of Anthropological Research 33 (1977).  The friendships are
    stored in both directions (156 directed edges), sorted by source then destination;
    ``x`` is the identity matrix (one-hot member ids, ``[34, 34]``).

    Labels: the two factions the club split into, as published by Zachary and as
    distributed with common network libraries: ``y = 0`` for the instructor's side
    (member 0, "Mr. Hi", 17 members) and ``y = 1`` for the officer's side (member 33,
    17 members).  This is the public two-club split, not a four-community clustering.
    ``train_mask`` holds one node per class: the two leaders, members 0 and 33.

    Args:
        transform (callable, optional): applied to the graph on access.
            (default: :obj:`None`)
    """

    def __init__(self, transform: Optional[Callable] = None):
        pairs = [(a, b) for a, friends in FRIENDS.items() for b in friends]
        edges = torch.tensor(pairs + [(b, a) for a, b in pairs]).t()
        order = torch.argsort(edges[0] * NUM_MEMBERS + edges[1])
        y = torch.zeros(NUM_MEMBERS, dtype=torch.long)
        y[list(OFFICER_FACTION)] = 1
        train_mask = torch.zeros(NUM_MEMBERS, dtype=torch.bool)
        train_mask[[0, 33]] = True
        data = Data(x=torch.eye(NUM_MEMBERS), edge_index=edges[:, order], y=y,
                    train_mask=train_mask)
        super().__init__([data], transform)

    @property
    def num_classes(self) -> int:
        return 2
