#!/usr/bin/python3
"""Writes the PyTorch goldens of one `step` with adam and adamw.

Each model in step_adam*.yaml is drawn in PyTorch, run through one
forward, backward and torch.optim.Adam or AdamW step, and written by
golden_common.golden(): the parameters before the step, the batch, and the
loss, gradients and updated parameters. Adam's weight decay joins the
gradient (L2); AdamW's shrinks the parameters (decoupled), so each appears
with and without it. Rerun (with Debian's python3-torch) only when the
models change:
  /usr/bin/python3 tests/golden/step/make_optimizer_goldens.py
"""
import torch
import torch.nn as nn

from golden_common import golden


def main():
    torch.manual_seed(23)

    # step_adam.yaml: dense 8 tanh, dense 4; Adam with its defaults.
    layers = [("layer0", nn.Linear(6, 8)), ("layer0_act", nn.Tanh()),
              ("layer1", nn.Linear(8, 4))]
    x = torch.randn(5, 6)
    y = torch.tensor([0, 3, 1, 2, 3], dtype=torch.int64)
    golden("step_adam", layers, x, y, nn.functional.cross_entropy,
           lambda p: torch.optim.Adam(p, lr=0.01))

    # step_adam_wd.yaml: dense 8 sigmoid, dense 3; mse; L2 decay 0.1.
    layers = [("layer0", nn.Linear(6, 8)), ("layer0_act", nn.Sigmoid()),
              ("layer1", nn.Linear(8, 3))]
    x = torch.randn(4, 6)
    y = torch.randn(4, 3)
    golden("step_adam_wd", layers, x, y, nn.functional.mse_loss,
           lambda p: torch.optim.Adam(p, lr=0.05, betas=(0.8, 0.99),
                                      eps=1e-6, weight_decay=0.1))

    # step_adamw.yaml: flatten, dense 7 relu, dense 4; AdamW's default
    # decay of 0.01.
    layers = [("layer0", nn.Flatten()),
              ("layer1", nn.Linear(6, 7)), ("layer1_act", nn.ReLU()),
              ("layer2", nn.Linear(7, 4))]
    x = torch.randn(5, 2, 3)
    y = torch.tensor([1, 0, 3, 3, 2], dtype=torch.int64)
    golden("step_adamw", layers, x, y, nn.functional.cross_entropy,
           lambda p: torch.optim.AdamW(p, lr=0.02))

    # step_adamw_nowd.yaml: dense 5 tanh, dense 2 without bias; mse; no
    # decay.
    layers = [("layer0", nn.Linear(6, 5)), ("layer0_act", nn.Tanh()),
              ("layer1", nn.Linear(5, 2, bias=False))]
    x = torch.randn(3, 6)
    y = torch.randn(3, 2)
    golden("step_adamw_nowd", layers, x, y, nn.functional.mse_loss,
           lambda p: torch.optim.AdamW(p, lr=0.003, betas=(0.9, 0.9),
                                       weight_decay=0))


if __name__ == "__main__":
    main()
