#!/usr/bin/python3
"""Writes data/training_references.json: what PyTorch 1.13 computes for the
optimizers, learning-rate schedules and initializers that the runtime
reimplements.

- "optimizers": several steps of torch.optim.Adam, AdamW and SGD on two
  small parameters from given gradients, with the learning rate changed
  between steps as a schedule would; the parameters after every step and
  the final optimizer state.
- "schedules": the learning rate of every epoch under StepLR and
  CosineAnnealingLR, stepped once per epoch.
- "initializers": statistics of a large weight drawn by each
  torch.nn.init function (and by nn.Linear's own reset_parameters for the
  default), with the bound or deviation PyTorch's helpers work out.

test_optimizers.cpp, test_schedule.cpp and test_init.cpp compare the
runtime with these values, so the tests need no PyTorch. Rerun this script
(with Debian's python3-torch) only when the cases change:
  /usr/bin/python3 tests/unit/make_training_references.py
"""
import json
import math
import os
import warnings

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
SHAPES = [(3, 4), (3,)]
STEPS = 6


def optimizer_case(name, make, settings, lrs):
    params = [torch.randn(shape) for shape in SHAPES]
    # Gradients of several magnitudes, with an exact zero and one near eps,
    # where the denominator of adam's update matters most.
    grads = []
    for _ in range(STEPS):
        step = [torch.randn(shape) * 10.0 ** torch.randint(-3, 1, shape)
                for shape in SHAPES]
        step[1][0] = 0.0
        step[1][1] = 1e-9
        grads.append(step)

    tensors = [p.clone().requires_grad_(True) for p in params]
    optimizer = make(tensors)
    after = []
    for lr, step in zip(lrs, grads):
        for group in optimizer.param_groups:
            group["lr"] = lr
        for tensor, grad in zip(tensors, step):
            tensor.grad = grad.clone()
        optimizer.step()
        after.append([t.detach().flatten().tolist() for t in tensors])

    state = {}
    for slot in ("exp_avg", "exp_avg_sq", "momentum_buffer"):
        if slot in optimizer.state[tensors[0]]:
            state[slot] = [optimizer.state[t][slot].flatten().tolist()
                           for t in tensors]
    return {"name": name, "settings": settings, "lrs": lrs,
            "shapes": [list(s) for s in SHAPES],
            "params": [p.flatten().tolist() for p in params],
            "grads": [[g.flatten().tolist() for g in step]
                      for step in grads],
            "after": after, "state": state}


def optimizers():
    halving = [0.01, 0.01, 0.005, 0.005, 0.0025, 0.0025]
    return [
        optimizer_case(
            "adam", lambda p: torch.optim.Adam(p, lr=1e-3),
            {"type": "adam", "lr": 1e-3, "beta1": 0.9, "beta2": 0.999,
             "eps": 1e-8, "weight_decay": 0.0}, [1e-3] * STEPS),
        optimizer_case(
            "adam with L2 weight decay and a schedule",
            lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.99),
                                       eps=1e-6, weight_decay=0.1),
            {"type": "adam", "lr": 0.01, "beta1": 0.8, "beta2": 0.99,
             "eps": 1e-6, "weight_decay": 0.1}, halving),
        optimizer_case(
            "adamw", lambda p: torch.optim.AdamW(p, lr=0.01),
            {"type": "adamw", "lr": 0.01, "beta1": 0.9, "beta2": 0.999,
             "eps": 1e-8, "weight_decay": 0.01}, [0.01] * STEPS),
        optimizer_case(
            "adamw with strong decay and a schedule",
            lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.5),
            {"type": "adamw", "lr": 0.01, "beta1": 0.9, "beta2": 0.999,
             "eps": 1e-8, "weight_decay": 0.5}, halving),
        optimizer_case(
            "sgd with nesterov momentum, weight decay and a schedule",
            lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9,
                                      nesterov=True, weight_decay=0.01),
            {"type": "sgd", "lr": 0.01, "momentum": 0.9, "nesterov": True,
             "weight_decay": 0.01}, halving),
    ]


def schedule_case(kind, base, epochs, length, every=None, gamma=None):
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)],
                                lr=base)
    if kind == "step":
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, every, gamma)
    else:
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer,
                                                               epochs)
    lrs = []
    for _ in range(length):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    case = {"type": kind, "base": base, "epochs": epochs, "lrs": lrs}
    if kind == "step":
        case.update({"every": every, "gamma": gamma})
    return case


def schedules():
    return [
        schedule_case("step", 0.1, 9, 9, every=2, gamma=0.5),
        schedule_case("step", 0.05, 10, 10, every=3, gamma=0.1),
        schedule_case("step", 1.0, 40, 40, every=1, gamma=0.9),
        schedule_case("cosine", 0.1, 10, 10),
        # Past T_max the rate climbs back, by PyTorch's third branch.
        schedule_case("cosine", 0.1, 10, 33),
        schedule_case("cosine", 0.05, 1, 5),
        schedule_case("cosine", 0.003, 7, 7),
    ]


FAN_IN, FAN_OUT = 300, 1000


def init_case(name, weight, spread):
    """Statistics of `weight`; `spread` is the uniform bound or the normal
    deviation that PyTorch's formulas give."""
    fan_in, fan_out = (weight.shape[1], weight.shape[0]) if weight.dim() == 2 \
        else (FAN_IN, FAN_OUT)
    std = weight.std().item()
    return {"name": name, "fan_in": fan_in, "fan_out": fan_out,
            "count": weight.numel(), "spread": spread,
            "mean": weight.mean().item(), "std": std,
            "min": weight.min().item(), "max": weight.max().item(),
            "within_one_std": (weight.abs() <= std).float().mean().item()}


def initializers():
    init = torch.nn.init
    fans = FAN_IN + FAN_OUT

    def drawn(fill):
        weight = torch.empty(FAN_OUT, FAN_IN)
        fill(weight)
        return weight

    # nn.Linear draws its weight with kaiming_uniform_(a=sqrt(5)) and its
    # bias from U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    linear = torch.nn.Linear(FAN_IN, FAN_OUT)
    default_bound = init.calculate_gain("leaky_relu", math.sqrt(5)) * \
        math.sqrt(3.0 / FAN_IN)
    biases = torch.cat([torch.nn.Linear(FAN_IN, FAN_OUT).bias.detach()
                        for _ in range(300)])
    relu = init.calculate_gain("relu")
    return [
        init_case("default", linear.weight.detach(), default_bound),
        init_case("default bias", biases, 1 / math.sqrt(FAN_IN)),
        init_case("he_uniform", drawn(lambda w: init.kaiming_uniform_(
            w, nonlinearity="relu")), relu * math.sqrt(3.0 / FAN_IN)),
        init_case("he_normal", drawn(lambda w: init.kaiming_normal_(
            w, nonlinearity="relu")), relu / math.sqrt(FAN_IN)),
        init_case("xavier_uniform", drawn(init.xavier_uniform_),
                  math.sqrt(6.0 / fans)),
        init_case("xavier_normal", drawn(init.xavier_normal_),
                  math.sqrt(2.0 / fans)),
        init_case("normal", drawn(lambda w: init.normal_(w, 0, 0.02)), 0.02),
        init_case("uniform", drawn(lambda w: init.uniform_(w, -0.1, 0.1)),
                  0.1),
        init_case("zeros", drawn(init.zeros_), 0.0),
    ]


def main():
    torch.manual_seed(11)
    warnings.simplefilter("ignore")
    references = {"torch": torch.__version__, "optimizers": optimizers(),
                  "schedules": schedules(), "initializers": initializers()}
    os.makedirs(os.path.join(HERE, "data"), exist_ok=True)
    path = os.path.join(HERE, "data", "training_references.json")
    with open(path, "w") as f:
        json.dump(references, f, indent=1)
        f.write("\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
