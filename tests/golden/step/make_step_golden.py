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
import json
import os
import struct

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, value in tensors.items():
        data = np.ascontiguousarray(value.detach().numpy().astype(np.float32))
        blob = data.tobytes()
        header[name] = {"dtype": "F32", "shape": list(data.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def golden(name, layers, x, y, loss_fn, make_optimizer):
    model = nn.Sequential(*[module for _, module in layers])
    named = {}
    for layer_name, module in layers:
        for param_name, param in module.named_parameters():
            named[f"{layer_name}.{param_name}"] = param
    write_safetensors(os.path.join(HERE, f"{name}.params.safetensors"),
                      named)
    np.save(os.path.join(HERE, f"{name}.x.npy"), x.numpy())
    np.save(os.path.join(HERE, f"{name}.y.npy"), y.numpy())

    optimizer = make_optimizer(model.parameters())
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    expected = {"loss": loss.detach().reshape(1)}
    for param_name, param in named.items():
        expected[f"grad.{param_name}"] = param.grad.clone()
    optimizer.step()
    expected.update(named)
    write_safetensors(os.path.join(HERE, f"{name}.expected.safetensors"),
                      expected)
    print(f"{name}: loss {loss.item():.6f}")


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


if __name__ == "__main__":
    main()
