#!/usr/bin/python3
"""Writes the PyTorch goldens for the `step` tests.

For each small model in this folder it draws parameters and a batch,
runs one forward, backward and SGD step in PyTorch, and writes
  <model>.params.safetensors   the parameters before the step
  <model>.x.npy, <model>.y.npy the batch
  <model>.expected.safetensors loss, grad.<param> and the updated params
The tests compare gradc's `step` output with these files, so they pass
without PyTorch installed. Rerun this script (with Debian's python3-torch)
only when the models change:
  /usr/bin/python3 tests/golden/step/make_step_golden.py
"""
import torch
import torch.nn as nn

from golden_common import golden


def main():
    torch.manual_seed(7)

    # step_sce.yaml: flatten, dense 8 tanh, dense 7 sigmoid, dense 5, relu,
    # dense 4 named head; layers are named layer<i> by position.
    layers = [("layer0", nn.Flatten()),
              ("layer1", nn.Linear(6, 8)), ("layer1_act", nn.Tanh()),
              ("layer2", nn.Linear(8, 7)), ("layer2_act", nn.Sigmoid()),
              ("layer3", nn.Linear(7, 5)), ("layer4", nn.ReLU()),
              ("head", nn.Linear(5, 4))]
    x = torch.randn(5, 2, 3)
    y = torch.tensor([0, 3, 1, 3, 2], dtype=torch.int64)
    golden("step_sce", layers, x, y, nn.functional.cross_entropy,
           lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9,
                                     weight_decay=0.01))

    # step_mse.yaml: dense 9 relu, dense 4 sigmoid without bias, dense 3.
    layers = [("layer0", nn.Linear(6, 9)), ("layer0_act", nn.ReLU()),
              ("layer1", nn.Linear(9, 4, bias=False)),
              ("layer1_act", nn.Sigmoid()),
              ("layer2", nn.Linear(4, 3))]
    x = torch.randn(4, 6)
    y = torch.randn(4, 3)
    golden("step_mse", layers, x, y, nn.functional.mse_loss,
           lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8,
                                     nesterov=True))

    # step_parts.yaml: dense 16 sigmoid, 16 tanh, 16 sigmoid, dense 5 on a
    # batch of 33, which gradc cuts in two parts.
    layers = [("layer0", nn.Linear(12, 16)), ("layer0_act", nn.Sigmoid()),
              ("layer1", nn.Linear(16, 16)), ("layer1_act", nn.Tanh()),
              ("layer2", nn.Linear(16, 16)), ("layer2_act", nn.Sigmoid()),
              ("layer3", nn.Linear(16, 5))]
    x = torch.randn(33, 12)
    y = torch.randint(0, 5, (33,))
    golden("step_parts", layers, x, y, nn.functional.cross_entropy,
           lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9))


if __name__ == "__main__":
    main()
