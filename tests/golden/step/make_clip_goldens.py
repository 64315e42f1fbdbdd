#!/usr/bin/python3
"""Writes the PyTorch goldens of one `step` with gradient clipping.

step_clip_norm.yaml clips with torch.nn.utils.clip_grad_norm_ and
step_clip_value.yaml with clip_grad_value_, each between backward() and
the optimizer's step, as the trainer does. golden_common.golden() records
the gradients before the step, so grad.<param> is the unclipped gradient
(as `step` reports it) while the updated parameters show the clipping.
The thresholds are well inside what the drawn gradients reach, so that
clipping acts. Rerun (with Debian's python3-torch) only when the models
change:
  /usr/bin/python3 tests/golden/step/make_clip_goldens.py
"""
import torch
import torch.nn as nn

from golden_common import golden


class Clipped:
    """An optimizer whose step() clips the gradients first."""

    def __init__(self, optimizer, params, clip):
        self.optimizer = optimizer
        self.params = list(params)
        self.clip = clip

    def zero_grad(self):
        self.optimizer.zero_grad()

    def step(self):
        norm = torch.sqrt(sum((p.grad ** 2).sum() for p in self.params))
        print(f"  global gradient norm before clipping {norm.item():.6f}")
        self.clip(self.params)
        self.optimizer.step()


def clipped_sgd(clip, **settings):
    def make(params):
        params = list(params)
        return Clipped(torch.optim.SGD(params, **settings), params, clip)
    return make


def main():
    torch.manual_seed(31)

    # step_clip_norm.yaml: dense 8 tanh, dense 4; SGD with momentum; the
    # global norm clipped to 0.5.
    layers = [("layer0", nn.Linear(6, 8)), ("layer0_act", nn.Tanh()),
              ("layer1", nn.Linear(8, 4))]
    x = torch.randn(5, 6) * 3
    y = torch.tensor([2, 0, 3, 1, 3], dtype=torch.int64)
    golden("step_clip_norm", layers, x, y, nn.functional.cross_entropy,
           clipped_sgd(lambda p: nn.utils.clip_grad_norm_(p, 0.5),
                       lr=0.1, momentum=0.9))

    # step_clip_value.yaml: dense 7 relu, dense 3; mse; every gradient
    # element clamped to [-0.05, 0.05].
    layers = [("layer0", nn.Linear(6, 7)), ("layer0_act", nn.ReLU()),
              ("layer1", nn.Linear(7, 3))]
    x = torch.randn(4, 6)
    y = torch.randn(4, 3)
    golden("step_clip_value", layers, x, y, nn.functional.mse_loss,
           clipped_sgd(lambda p: nn.utils.clip_grad_value_(p, 0.05),
                       lr=0.2))


if __name__ == "__main__":
    main()
