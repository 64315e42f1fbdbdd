#!/usr/bin/python3
"""Writes the PyTorch goldens of the sequence family for the `step` tests.

For each step_<model>.yaml of the family in this folder (rnn with tanh and
relu, lstm, each returning the last hidden state or the sequence; an
embedding with repeated ids; the three stacked) it builds the equivalent
model from torch.nn.RNN, torch.nn.LSTM and torch.nn.Embedding, keeps
PyTorch's own initialization, draws a batch, runs one forward, backward and
SGD step, and writes the files golden_common.py describes. Rerun it (with
Debian's python3-torch) only when those models change:
  /usr/bin/python3 tests/golden/step/make_sequence_goldens.py
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from golden_common import golden


class Recurrent(nn.Module):
    """One layer of nn.RNN or nn.LSTM over batch-first input, returning the
    last step's hidden state or every step's, as gradc's `return` says.

    PyTorch names the parameters weight_ih_l0 and so on; gradc drops the
    layer suffix. Registering the same tensors again under gradc's names
    makes named_parameters() list them under those, since it lists each
    tensor once, under the first name it meets, and a module's own
    parameters come before its children's.
    """

    def __init__(self, core, sequence):
        super().__init__()
        self.core = core
        self.sequence = sequence
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            setattr(self, name, getattr(core, name + "_l0"))

    def forward(self, x):
        out, _ = self.core(x)
        return out if self.sequence else out[:, -1, :]


class Ids(nn.Embedding):
    """nn.Embedding fed the float ids that gradc's input carries."""

    def forward(self, x):
        return super().forward(x.long())


def rnn(features, hidden, nonlinearity, sequence):
    core = nn.RNN(features, hidden, nonlinearity=nonlinearity,
                  batch_first=True)
    return Recurrent(core, sequence)


def lstm(features, hidden, sequence):
    return Recurrent(nn.LSTM(features, hidden, batch_first=True), sequence)


def sgd(**settings):
    return lambda params: torch.optim.SGD(params, **settings)


def classes(count, number):
    return torch.randint(0, number, (count,), dtype=torch.int64)


def recurrent_goldens():
    for nonlinearity in ("tanh", "relu"):
        layers = [("layer0", rnn(3, 6, nonlinearity, False)),
                  ("layer1", nn.Linear(6, 3))]
        golden(f"step_rnn_{nonlinearity}_last", layers, torch.randn(4, 5, 3),
               classes(4, 3), F.cross_entropy, sgd(lr=0.1, momentum=0.9))

        layers = [("layer0", rnn(3, 4, nonlinearity, True)),
                  ("layer1", nn.Linear(4, 2))]
        golden(f"step_rnn_{nonlinearity}_sequence", layers,
               torch.randn(4, 5, 3), torch.randn(4, 5, 2), F.mse_loss,
               sgd(lr=0.05))

    layers = [("layer0", lstm(3, 5, False)), ("layer1", nn.Linear(5, 3))]
    golden("step_lstm_last", layers, torch.randn(4, 5, 3), classes(4, 3),
           F.cross_entropy, sgd(lr=0.1, momentum=0.9, weight_decay=0.01))

    layers = [("layer0", lstm(3, 4, True)), ("layer1", nn.Linear(4, 2))]
    golden("step_lstm_sequence", layers, torch.randn(4, 5, 3),
           torch.randn(4, 5, 2), F.mse_loss, sgd(lr=0.05))


def embedding_goldens():
    # 24 ids from {0, 1, 2, 4}: every id used repeats, and id 3 is never
    # used, so its gradient must stay zero.
    ids = torch.tensor([[0, 1, 1, 2, 4, 0], [4, 4, 4, 2, 1, 0],
                        [2, 2, 0, 1, 4, 4], [1, 0, 4, 2, 2, 1]],
                       dtype=torch.float32)
    layers = [("layer0", Ids(5, 3)), ("layer1", nn.Flatten()),
              ("layer2", nn.Linear(18, 4))]
    golden("step_embedding", layers, ids, classes(4, 4), F.cross_entropy,
           sgd(lr=0.1, momentum=0.9))

    ids = torch.randint(0, 7, (4, 5)).to(torch.float32)
    layers = [("layer0", Ids(7, 3)), ("layer1", rnn(3, 4, "tanh", True)),
              ("layer2", lstm(4, 3, False)), ("layer3", nn.Linear(3, 2))]
    golden("step_sequence_stack", layers, ids, classes(4, 2),
           F.cross_entropy, sgd(lr=0.1))


def main():
    torch.manual_seed(11)
    recurrent_goldens()
    embedding_goldens()


if __name__ == "__main__":
    main()
