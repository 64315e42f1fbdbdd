"""Shared by the scripts that write PyTorch goldens for the `step` tests.

golden() takes a model as a list of (name, module) pairs named the way
gradc names the layers of the matching YAML file, draws nothing itself,
runs one forward, backward and optimizer step, and writes
  <model>.params.safetensors   the parameters (and buffers) before the step
  <model>.x.npy, <model>.y.npy the batch
  <model>.expected.safetensors loss, grad.<param> and the updated tensors
"""
import json
import os
import struct

import numpy as np
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


def golden(name, layers, x, y, loss_fn, make_optimizer, model=None):
    model = model or nn.Sequential(*[module for _, module in layers])
    named = {}
    for layer_name, module in layers:
        for param_name, param in module.named_parameters():
            named[f"{layer_name}.{param_name}"] = param
        # BatchNorm's running statistics are checkpointed and updated by
        # the step too; PyTorch's step counter has no gradc counterpart.
        for buffer_name, buffer in module.named_buffers():
            if buffer_name != "num_batches_tracked":
                named[f"{layer_name}.{buffer_name}"] = buffer
    write_safetensors(os.path.join(HERE, f"{name}.params.safetensors"),
                      named)
    model.train()
    np.save(os.path.join(HERE, f"{name}.x.npy"), x.numpy())
    np.save(os.path.join(HERE, f"{name}.y.npy"), y.numpy())

    optimizer = make_optimizer(model.parameters())
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    expected = {"loss": loss.detach().reshape(1)}
    for param_name, param in named.items():
        if param.grad is not None:
            expected[f"grad.{param_name}"] = param.grad.clone()
    optimizer.step()
    expected.update({key: value.detach() for key, value in named.items()})
    write_safetensors(os.path.join(HERE, f"{name}.expected.safetensors"),
                      expected)
    print(f"{name}: loss {loss.item():.6f}")
