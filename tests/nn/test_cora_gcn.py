"""The GCN paper's protocol on Cora's standard split reaches the published accuracy."""
import os

import pytest
import torch

from gfx.data import Planetoid
from gfx.data.transforms import NormalizeFeatures
from gfx.demo import TwoLayerGCN, train_node_classifier

PLANETOID = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data", "planetoid")


@pytest.mark.slow
@pytest.mark.skipif(not os.path.isdir(PLANETOID), reason="shared/data/planetoid not present")
def test_two_layer_gcn_on_cora_reaches_80_percent():
    dataset = Planetoid(PLANETOID, "Cora", transform=NormalizeFeatures())
    data = dataset[0]
    torch.manual_seed(0)
    model = TwoLayerGCN(dataset.num_features, 16, dataset.num_classes, dropout=0.5)
    result = train_node_classifier(model, data, epochs=200, lr=0.01, weight_decay=5e-4,
                                   progress=False)
    assert result.test_acc >= 0.80, result
