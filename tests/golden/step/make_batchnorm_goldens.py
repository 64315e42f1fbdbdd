#!/usr/bin/python3
"""Writes the PyTorch goldens for the BatchNorm `step` tests.

  /usr/bin/python3 tests/golden/step/make_batchnorm_goldens.py

The running statistics start away from their defaults, so that the step
shows they are blended with the batch's rather than replaced.
"""
import torch
import torch.nn as nn

from golden_common import golden


def perturb_running_stats(batchnorm):
    with torch.no_grad():
        batchnorm.running_mean.uniform_(-0.5, 0.5)
        batchnorm.running_var.uniform_(0.5, 1.5)
        batchnorm.weight.uniform_(0.5, 1.5)
        batchnorm.bias.uniform_(-0.5, 0.5)


def main():
    torch.manual_seed(11)

    # step_batchnorm1d.yaml: dense 6, batchnorm, relu, dense 3.
    batchnorm = nn.BatchNorm1d(6)
    perturb_running_stats(batchnorm)
    layers = [("layer0", nn.Linear(4, 6)), ("layer1", batchnorm),
              ("layer2", nn.ReLU()), ("layer3", nn.Linear(6, 3))]
    x = torch.randn(8, 4)
    y = torch.tensor([0, 1, 2, 1, 0, 2, 2, 1], dtype=torch.int64)
    golden("step_batchnorm1d", layers, x, y, nn.functional.cross_entropy,
           lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9))

    # step_batchnorm2d.yaml: batchnorm (momentum 0.2, eps 0.001), tanh,
    # flatten, dense 3.
    batchnorm = nn.BatchNorm2d(2, eps=0.001, momentum=0.2)
    perturb_running_stats(batchnorm)
    layers = [("layer0", batchnorm), ("layer1", nn.Tanh()),
              ("layer2", nn.Flatten()), ("layer3", nn.Linear(18, 3))]
    x = torch.randn(5, 2, 3, 3) * 2 + 0.5
    y = torch.randn(5, 3)
    golden("step_batchnorm2d", layers, x, y, nn.functional.mse_loss,
           lambda p: torch.optim.SGD(p, lr=0.05))


if __name__ == "__main__":
    main()
