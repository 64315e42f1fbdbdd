#!/usr/bin/python3
"""Writes the PyTorch goldens for the `step` tests of the convolutional ops.

  /usr/bin/python3 tests/golden/step/make_conv_goldens.py

Each model matches a step_conv_*.yaml or step_*pool.yaml file here, layer
by layer. PyTorch's padding='same' is limited to stride 1, so the golden
pads with ZeroPad2d exactly as gradc's `same` does (Keras's rule).
"""
import torch
import torch.nn as nn

from golden_common import golden


def same_padding(extent, kernel, stride):
    """Keras's `same` along one axis: (before, after)."""
    positions = -(-extent // stride)
    total = max((positions - 1) * stride + kernel - extent, 0)
    return total // 2, total - total // 2


def same_pad(height, width, kernel, stride):
    top, bottom = same_padding(height, kernel, stride)
    left, right = same_padding(width, kernel, stride)
    return nn.ZeroPad2d((left, right, top, bottom))


def labels(*values):
    return torch.tensor(values, dtype=torch.int64)


def conv_valid():
    # [2,6,7] -> conv 4 k3 relu [4,4,5] -> conv 3 k2 s2 tanh [3,2,2]
    layers = [("layer0", nn.Conv2d(2, 4, 3)), ("layer0_act", nn.ReLU()),
              ("layer1", nn.Conv2d(4, 3, 2, stride=2)),
              ("layer1_act", nn.Tanh()),
              ("layer2", nn.Flatten()), ("layer3", nn.Linear(12, 5))]
    golden("step_conv_valid", layers, torch.randn(3, 2, 6, 7),
           labels(4, 0, 2), nn.functional.cross_entropy,
           lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9))


def conv_same():
    # [2,7,6] -> conv 4 k4 same tanh [4,7,6] -> conv 3 k3 s2 same [3,4,3]
    layers = [("layer0_pad", same_pad(7, 6, 4, 1)),
              ("layer0", nn.Conv2d(2, 4, 4)), ("layer0_act", nn.Tanh()),
              ("layer1_pad", same_pad(7, 6, 3, 2)),
              ("layer1", nn.Conv2d(4, 3, 3, stride=2)),
              ("layer2", nn.Flatten()), ("layer3", nn.Linear(36, 4))]
    golden("step_conv_same", layers, torch.randn(4, 2, 7, 6),
           torch.randn(4, 4), nn.functional.mse_loss,
           lambda p: torch.optim.SGD(p, lr=0.05, weight_decay=0.01))


def conv_padding():
    # [3,5,5] -> conv 4 k3 s2 p2 no bias sigmoid [4,4,4] -> conv 2 k3 p1
    layers = [("layer0", nn.Conv2d(3, 4, 3, stride=2, padding=2, bias=False)),
              ("layer0_act", nn.Sigmoid()),
              ("layer1", nn.Conv2d(4, 2, 3, padding=1)),
              ("layer2", nn.Flatten()), ("layer3", nn.Linear(32, 3))]
    golden("step_conv_padding", layers, torch.randn(3, 3, 5, 5),
           labels(1, 2, 0), nn.functional.cross_entropy,
           lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8,
                                     nesterov=True))


def maxpool():
    # [2,8,8] -> conv 3 k1 [3,8,8] -> maxpool 2 [3,4,4] -> conv 4 k2 tanh
    # [4,3,3] -> maxpool 2 s1 [4,2,2]
    first = nn.Conv2d(2, 3, 1)
    with torch.no_grad():
        first.weight.zero_()
    x = torch.randn(3, 2, 8, 8)
    # Zero weights make the first convolution's output its bias at every
    # position: every window of the first pool is all ties, whatever x.
    assert (first(x) == first.bias.view(1, 3, 1, 1)).all()
    layers = [("layer0", first), ("layer1", nn.MaxPool2d(2)),
              ("layer2", nn.Conv2d(3, 4, 2)), ("layer2_act", nn.Tanh()),
              ("layer3", nn.MaxPool2d(2, stride=1)),
              ("layer4", nn.Flatten()), ("layer5", nn.Linear(16, 3))]
    golden("step_maxpool", layers, x, labels(2, 1, 0),
           nn.functional.cross_entropy,
           lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9))


def avgpool():
    # [2,9,8] -> conv 3 k2 relu [3,8,7] -> avgpool 2 [3,4,3] -> conv 4 k2
    # [4,3,2] -> avgpool 2 s1 [4,2,1]
    layers = [("layer0", nn.Conv2d(2, 3, 2)), ("layer0_act", nn.ReLU()),
              ("layer1", nn.AvgPool2d(2)), ("layer2", nn.Conv2d(3, 4, 2)),
              ("layer3", nn.AvgPool2d(2, stride=1)),
              ("layer4", nn.Flatten()), ("layer5", nn.Linear(8, 3))]
    golden("step_avgpool", layers, torch.randn(3, 2, 9, 8), labels(0, 2, 1),
           nn.functional.cross_entropy,
           lambda p: torch.optim.SGD(p, lr=0.1))


def main():
    torch.manual_seed(5)
    conv_valid()
    conv_same()
    conv_padding()
    maxpool()
    avgpool()


if __name__ == "__main__":
    main()
