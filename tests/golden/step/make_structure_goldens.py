#!/usr/bin/python3
"""Writes the PyTorch goldens for the `step` tests of models that are not
plain chains: residual blocks and the graph: form.

  /usr/bin/python3 tests/golden/step/make_structure_goldens.py
"""
import torch
import torch.nn as nn

from golden_common import golden


class Residual(nn.Sequential):
    """x + f(x), with f the Sequential of the nested layers."""

    def forward(self, x):
        return x + super().forward(x)


class GraphModel(nn.Module):
    """step_graph.yaml, node for node."""

    def __init__(self):
        super().__init__()
        self.h1 = nn.Linear(4, 5)
        self.h2 = nn.Linear(5, 5)
        self.gate = nn.Linear(4, 5)
        self.out = nn.Linear(14, 3)

    def forward(self, x):
        h1 = torch.tanh(self.h1(x))
        s = self.h2(h1) + h1
        m = s * torch.sigmoid(self.gate(x))
        return self.out(torch.cat([m, h1, x], dim=-1))


def main():
    torch.manual_seed(5)

    # step_residual.yaml: dense 6 tanh; residual [dense 6, relu, dense 6];
    # residual [dense 6, sigmoid]; dense 3.
    layers = [("layer0", nn.Linear(5, 6)), ("layer0_act", nn.Tanh()),
              ("layer1", Residual(nn.Linear(6, 6), nn.ReLU(),
                                  nn.Linear(6, 6))),
              ("layer2", Residual(nn.Linear(6, 6), nn.Sigmoid())),
              ("layer3", nn.Linear(6, 3))]
    x = torch.randn(6, 5)
    y = torch.tensor([0, 2, 1, 1, 0, 2], dtype=torch.int64)
    golden("step_residual", layers, x, y, nn.functional.cross_entropy,
           lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9))

    model = GraphModel()
    layers = [(name, getattr(model, name)) for name in
              ("h1", "h2", "gate", "out")]
    x = torch.randn(6, 4)
    y = torch.tensor([2, 0, 1, 1, 2, 0], dtype=torch.int64)
    golden("step_graph", layers, x, y, nn.functional.cross_entropy,
           lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.5), model=model)


if __name__ == "__main__":
    main()
