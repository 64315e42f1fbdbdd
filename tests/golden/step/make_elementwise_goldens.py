#!/usr/bin/python3
"""Writes the PyTorch goldens of the elementwise, normalization and
regularization family for the `step` tests.

For each step_<op>.yaml of the family in this folder (leaky_relu, elu,
gelu, softplus, softmax, layernorm, dropout at rate 0, bce_with_logits) it
builds the equivalent torch.nn model, draws parameters and a batch, runs
one forward, backward and SGD step, and writes the files golden_common.py
describes. Rerun it (with Debian's python3-torch) only when those models
change:
  /usr/bin/python3 tests/golden/step/make_elementwise_goldens.py
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from golden_common import golden


def sgd(**settings):
    return lambda params: torch.optim.SGD(params, **settings)


def classes(count, number):
    return torch.randint(0, number, (count,), dtype=torch.int64)


def leaky_relu():
    layers = [("layer0", nn.Linear(6, 8)), ("layer0_act", nn.LeakyReLU(0.2)),
              ("layer1", nn.Linear(8, 5)), ("layer2", nn.LeakyReLU()),
              ("layer3", nn.Linear(5, 4))]
    golden("step_leaky_relu", layers, torch.randn(5, 6), classes(5, 4),
           F.cross_entropy, sgd(lr=0.1, momentum=0.9))


def elu():
    layers = [("layer0", nn.Linear(6, 8)), ("layer0_act", nn.ELU()),
              ("layer1", nn.Linear(8, 5)), ("layer2", nn.ELU(alpha=0.5)),
              ("layer3", nn.Linear(5, 4))]
    golden("step_elu", layers, torch.randn(5, 6), torch.randn(5, 4),
           F.mse_loss, sgd(lr=0.05))


def gelu():
    layers = [("layer0", nn.Linear(6, 8)), ("layer0_act", nn.GELU()),
              ("layer1", nn.Linear(8, 5)), ("layer2", nn.GELU()),
              ("layer3", nn.Linear(5, 4))]
    golden("step_gelu", layers, torch.randn(5, 6), classes(5, 4),
           F.cross_entropy, sgd(lr=0.1, momentum=0.5))


def softplus():
    layers = [("layer0", nn.Linear(6, 8)), ("layer0_act", nn.Softplus()),
              ("layer1", nn.Linear(8, 5)), ("layer2", nn.Softplus()),
              ("layer3", nn.Linear(5, 4))]
    # Large inputs put some of the first layer's outputs past the
    # threshold of 20, where softplus is x itself.
    x = 40 * torch.randn(5, 6)
    with torch.no_grad():
        pre = layers[0][1](x)
        above = int((pre > 20).sum())
    assert 0 < above < pre.numel(), "the batch must straddle the threshold"
    golden("step_softplus", layers, x, torch.randn(5, 4), F.mse_loss,
           sgd(lr=0.01))


def softmax():
    layers = [("layer0", nn.Linear(4, 5)), ("layer0_act", nn.Softmax(-1)),
              ("layer1", nn.Flatten()), ("layer2", nn.Linear(15, 6)),
              ("layer3", nn.Softmax(-1))]
    y = torch.softmax(torch.randn(4, 6), -1)
    golden("step_softmax", layers, 2 * torch.randn(4, 3, 4), y, F.mse_loss,
           sgd(lr=0.5))


def layernorm():
    layers = [("layer0", nn.LayerNorm(6)), ("layer1", nn.Linear(6, 8)),
              ("layer2", nn.LayerNorm(8, eps=1e-3)), ("layer3", nn.Tanh()),
              ("layer4", nn.Flatten()), ("layer5", nn.Linear(24, 4))]
    # PyTorch starts at weight 1 and bias 0, which would leave the
    # affine part of the layer untested.
    with torch.no_grad():
        for index in (0, 2):
            norm = layers[index][1]
            norm.weight.copy_(1 + 0.5 * torch.randn_like(norm.weight))
            norm.bias.copy_(0.5 * torch.randn_like(norm.bias))
    # A large common offset checks that the variance is taken around the
    # mean.
    x = 3 * torch.randn(5, 3, 6) + 10
    golden("step_layernorm", layers, x, classes(5, 4), F.cross_entropy,
           sgd(lr=0.1, momentum=0.9, weight_decay=0.01))


def dropout():
    layers = [("layer0", nn.Linear(6, 8)), ("layer0_act", nn.ReLU()),
              ("layer1", nn.Dropout(0.0)), ("layer2", nn.Linear(8, 4))]
    golden("step_dropout", layers, torch.randn(5, 6), classes(5, 4),
           F.cross_entropy, sgd(lr=0.1))


def bce_with_logits():
    layers = [("layer0", nn.Linear(6, 8)), ("layer0_act", nn.GELU()),
              ("layer1", nn.Linear(8, 5))]
    y = torch.rand(5, 5)
    y[0] = torch.tensor([0.0, 1.0, 1.0, 0.0, 1.0])
    golden("step_bce_with_logits", layers, 8 * torch.randn(5, 6), y,
           F.binary_cross_entropy_with_logits, sgd(lr=0.1, momentum=0.9))


def main():
    torch.manual_seed(23)
    for make in (leaky_relu, elu, gelu, softplus, softmax, layernorm,
                 dropout, bce_with_logits):
        make()


if __name__ == "__main__":
    main()
