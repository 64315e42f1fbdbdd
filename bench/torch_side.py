#!/usr/bin/python3
"""The PyTorch side of bench/run.sh: the reference models trained in
PyTorch on the same files the gradc trainers read, timed the same way.

Each model mirrors its YAML file (layers, loss, optimizer, batch, shuffle;
see MODELS). Subcommands, each printing one JSON object on stdout:
  info                    torch version, threads, the BLAS torch loaded
  time MODEL DATA...      samples/s: warm-up epoch, then --reps epochs of
                          --steps steps each, timed one by one
  epoch MODEL DATA...     one full epoch and a test evaluation (bench.py
                          reads the process's peak memory)
  idle                    imports torch and exits (baseline memory)
The models and the loop are the reference benchmarks', without numpy.
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import datafiles  # noqa: E402


class CNN(nn.Module):
    """models/cnn_fashion.yaml: conv 3x3 32 relu, maxpool 2, conv 3x3 64
    relu, maxpool 2, flatten, dense 128 relu, dense 10."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 32, 3)
        self.c2 = nn.Conv2d(32, 64, 3)
        self.f1 = nn.Linear(1600, 128)
        self.f2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.max_pool2d(torch.relu(self.c1(x)), 2)
        x = F.max_pool2d(torch.relu(self.c2(x)), 2)
        return self.f2(torch.relu(self.f1(x.flatten(1))))


class RNNAdd(nn.Module):
    """models/rnn_adding.yaml: tanh RNN, hidden 128, last step, dense 1."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(2, 128, nonlinearity="tanh", batch_first=True)
        self.out = nn.Linear(128, 1)

    def forward(self, x):
        h, _ = self.rnn(x)
        return self.out(h[:, -1, :])


def mlp(*sizes, act=nn.ReLU):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


def sgd(lr):
    return lambda p: torch.optim.SGD(p, lr=lr, momentum=0.9)


def optimizer_from(spec):
    """The optimizer of a model file's `optimizer:` mapping, with gradc's
    defaults for the keys it leaves out (compiler/frontend/
    TrainingSections.cpp)."""
    kind, lr = spec["type"], float(spec["lr"])
    if kind == "sgd":
        return lambda p: torch.optim.SGD(
            p, lr=lr, momentum=float(spec.get("momentum", 0)),
            nesterov=bool(spec.get("nesterov", False)),
            weight_decay=float(spec.get("weight_decay", 0)))
    betas = (float(spec.get("beta1", 0.9)), float(spec.get("beta2", 0.999)))
    eps = float(spec.get("eps", 1e-8))
    if kind == "adam":
        return lambda p: torch.optim.Adam(
            p, lr=lr, betas=betas, eps=eps,
            weight_decay=float(spec.get("weight_decay", 0)))
    return lambda p: torch.optim.AdamW(
        p, lr=lr, betas=betas, eps=eps,
        weight_decay=float(spec.get("weight_decay", 0.01)))


# name: (model, optimizer, loss, shuffle, input shape of one sample). The
# optimizer and shuffle here are the model files'; bench.py passes those
# it reads with --optimizer and --shuffle, which take precedence.
MODELS = {
    "mlp_fashion": (lambda: mlp(784, 256, 128, 10), sgd(0.05),
                    F.cross_entropy, True, (784,)),
    "deep_sigmoid": (lambda: mlp(784, *[64] * 20, 10, act=nn.Sigmoid),
                     sgd(0.05), F.cross_entropy, True, (784,)),
    "cnn_fashion": (CNN, sgd(0.02), F.cross_entropy, True, (1, 28, 28)),
    "rnn_adding": (RNNAdd, lambda p: torch.optim.Adam(p, lr=0.001),
                   F.mse_loss, True, (50, 2)),
    "mlp_tiny": (lambda: mlp(32, 32, 10), sgd(0.01), F.cross_entropy,
                 False, (32,)),
}

FASHION = {"scale": 1 / 255.0}
CNN_NORMALIZE = (0.2860, 0.3530)


def load(model, x_path, y_path):
    """The inputs as the trainer prepares them, and the targets."""
    if x_path.endswith(".npy"):
        descr, shape, payload = datafiles.read_npy(x_path)
        x = torch.frombuffer(bytearray(payload), dtype=torch.float32)
        descr, yshape, ypayload = datafiles.read_npy(y_path)
        dtype = torch.int64 if descr.endswith("i8") else torch.float32
        y = torch.frombuffer(bytearray(ypayload), dtype=dtype)
        y = y.reshape(yshape)
    else:
        dims, payload = datafiles.read_idx(x_path)
        x = torch.frombuffer(bytearray(payload), dtype=torch.uint8)
        x = x.to(torch.float32) * FASHION["scale"]
        if model == "cnn_fashion":
            x = (x - CNN_NORMALIZE[0]) / CNN_NORMALIZE[1]
        _, labels = datafiles.read_idx(y_path)
        y = torch.frombuffer(bytearray(labels), dtype=torch.uint8)
        y = y.to(torch.int64)
    shape = MODELS[model][4]
    return x.reshape((-1,) + shape).contiguous(), y


class Run:
    def __init__(self, args, x, y, seed=0):
        build, make_opt, lossf, shuffle, _ = MODELS[args.model]
        if args.optimizer:
            make_opt = optimizer_from(json.loads(args.optimizer))
        if args.shuffle is not None:
            shuffle = bool(args.shuffle)
        torch.manual_seed(seed)
        self.net = build()
        self.opt = make_opt(self.net.parameters())
        group = self.opt.param_groups[0]
        keys = ("lr", "momentum", "nesterov", "betas", "eps",
                "weight_decay")
        self.describe = type(self.opt).__name__ + "(" + ", ".join(
            f"{k}={group[k]}" for k in keys if k in group) + ")"
        self.lossf, self.shuffle = lossf, shuffle
        self.batch, self.x, self.y = args.batch, x, y
        self.order = None
        self.pos = 0

    def next_indices(self):
        n, b = self.x.shape[0], self.batch
        if self.order is None or self.pos + b > self.order.numel():
            self.order = torch.randperm(n) if self.shuffle else None
            if self.order is None:
                self.order = torch.arange(n)
            self.pos = 0
        idx = self.order[self.pos:self.pos + b]
        self.pos += b
        return idx

    def step(self):
        idx = self.next_indices()
        if self.shuffle:
            xb, yb = self.x[idx], self.y[idx]
        else:
            i = int(idx[0])
            xb, yb = self.x[i:i + self.batch], self.y[i:i + self.batch]
        self.opt.zero_grad(set_to_none=True)
        loss = self.lossf(self.net(xb), yb)
        loss.backward()
        self.opt.step()
        return loss

    def timed(self, steps):
        """Runs `steps` steps; returns their seconds and mean loss (the
        loss is summed every step, as gradc's trainer does for its epoch
        line)."""
        total = 0.0
        t0 = time.perf_counter()
        for _ in range(steps):
            total += self.step().item()
        seconds = time.perf_counter() - t0
        return seconds, total / steps


def loaded_blas():
    """Paths of the BLAS libraries mapped into this process."""
    found = []
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            name = os.path.basename(path).lower()
            if "blas" in name and path not in found:
                found.append(path)
    return found


def cmd_info(args):
    a = torch.randn(64, 64)
    (a @ a).sum()  # makes sure the BLAS is loaded
    config = torch.__config__.show()
    blas_info = ""
    for part in config.replace("\n", ",").split(","):
        if "BLAS_INFO" in part:
            blas_info = part[part.index("BLAS_INFO"):].strip()
    return {"torch": torch.__version__, "threads": torch.get_num_threads(),
            "interop_threads": torch.get_num_interop_threads(),
            "config_blas": blas_info, "loaded_blas": loaded_blas(),
            "openblas_num_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS")}


def cmd_time(args):
    x, y = load(args.model, args.x, args.y)
    run = Run(args, x, y)
    # Calibrate: steps per timed epoch so that one lasts about --target
    # s, from the fastest of three rounds of at least 0.05 s (a round
    # that other processes slowed down would make the epochs short).
    for _ in range(5):
        run.step()
    calib = 1
    while True:
        seconds, _ = run.timed(calib)
        if seconds >= 0.05 or calib >= 1 << 20:
            break
        calib *= 2
    per_step = min([seconds] + [run.timed(calib)[0] for _ in range(2)])
    per_step /= calib
    steps = args.steps or max(args.min_steps, round(args.target / per_step))
    run.timed(steps)  # the warm-up epoch
    results = []
    for _ in range(args.reps):
        seconds, loss = run.timed(steps)
        results.append(steps * args.batch / seconds)
    return {"model": args.model, "batch": args.batch, "steps": steps,
            "samples_per_s": results, "mean_loss": loss,
            "threads": torch.get_num_threads(), "optimizer": run.describe,
            "shuffle": run.shuffle}


def cmd_epoch(args):
    t0 = time.perf_counter()
    x, y = load(args.model, args.x, args.y)
    tx, ty = load(args.model, args.test_x, args.test_y)
    t1 = time.perf_counter()
    run = Run(args, x, y)
    steps = (x.shape[0] + args.batch - 1) // args.batch
    steps = min(steps, args.steps or steps)
    seconds, loss = run.timed(steps)
    with torch.no_grad():
        correct = sum(int((run.net(tx[i:i + 1000]).argmax(1) ==
                           ty[i:i + 1000]).sum())
                      for i in range(0, tx.shape[0], 1000))
    return {"model": args.model, "load_s": t1 - t0, "train_s": seconds,
            "samples_per_s": steps * args.batch / seconds, "loss": loss,
            "test_acc": correct / tx.shape[0]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("command", choices=["info", "time", "epoch", "idle"])
    ap.add_argument("model", nargs="?", choices=list(MODELS))
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--x")
    ap.add_argument("--y")
    ap.add_argument("--test-x")
    ap.add_argument("--test-y")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--steps", type=int, default=0,
                    help="time: steps per timed epoch (0: calibrate to "
                    "--target); epoch: stop after this many")
    ap.add_argument("--target", type=float, default=1.0,
                    help="seconds a timed epoch should last")
    ap.add_argument("--min-steps", type=int, default=10)
    ap.add_argument("--optimizer", help="the model file's optimizer: "
                    "mapping, as JSON")
    ap.add_argument("--shuffle", type=int, choices=[0, 1])
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.command == "idle":
        result = {"threads": torch.get_num_threads()}
    else:
        result = {"info": cmd_info, "time": cmd_time,
                  "epoch": cmd_epoch}[args.command](args)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
