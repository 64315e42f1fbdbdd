#!/usr/bin/python3
"""bench/run.sh's driver: times gradc's trainers and PyTorch on the
reference models, measures the machine's FMA peak and gradc's matrix
kernels, and the peak memory of a full epoch; prints one table.

Standard library only (PyYAML when present); PyTorch runs in
bench/torch_side.py, in its own processes. Run it through bench/run.sh,
which builds gradc first; `bench/run.sh --help` lists the options.
"""
import argparse
import concurrent.futures
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import textwrap
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import datafiles  # noqa: E402

try:
    import yaml
except ImportError:  # the regular expressions in read_model do instead
    yaml = None


class Case:
    """One row of the table: a model file at a batch size."""

    def __init__(self, model, path, batch=None, synthetic=False):
        self.model, self.path, self.batch = model, path, batch
        # A timed epoch has at most as many samples as the model's data
        # (an epoch of Fashion-MNIST is 60000), or 2^19 synthetic ones.
        self.synthetic = synthetic
        self.spec = None  # read_model(path)
        self.gradc = {}   # backend -> result over the rounds, or None
        self.torch = None
        self.sized = {}   # backend -> (steps, opts, torch_opts)

    @property
    def label(self):
        return f"{self.model}@{self.batch}"


def cases():
    return [
        Case("mlp_fashion", "models/mlp_fashion.yaml"),
        Case("mlp_fashion", "models/mlp_fashion.yaml", 256),
        Case("deep_sigmoid", "models/deep_sigmoid.yaml"),
        Case("cnn_fashion", "models/cnn_fashion.yaml"),
        Case("rnn_adding", "models/rnn_adding.yaml"),
        Case("mlp_tiny", "bench/models/mlp_tiny.yaml", synthetic=True),
    ]


# ---------------------------------------------------------------- helpers

def say(text=""):
    """Prints text, wrapped at 79 columns; a wrapped line's continuation
    is indented two spaces past the line's own indentation."""
    indent = " " * (len(text) - len(text.lstrip()))
    print(textwrap.fill(text, 79, subsequent_indent=indent + "  ",
                        break_on_hyphens=False) if text else "", flush=True)


def read_model(path):
    """What the benchmark needs of a model file: batch, data files, input
    and dense widths."""
    with open(path) as f:
        text = f.read()
    if yaml is not None:
        doc = yaml.safe_load(text)
        data = doc.get("data", {})
        train = doc.get("train", {})
        return {"batch": train.get("batch", 1),
                "shuffle": train.get("shuffle", True),
                "optimizer": doc.get("optimizer"),
                "input": doc["input"],
                "units": [layer["units"] for layer in doc.get("layers", [])
                          if layer.get("op") == "dense"],
                "train": data.get("train", {}), "test": data.get("test", {})}
    # Without PyYAML: the flow-style files of models/ and bench/models/.
    optimizer = re.search(r"optimizer:\s*\{([^}]*)\}", text)
    spec = {"batch": int(re.search(r"batch:\s*(\d+)", text).group(1)),
            "shuffle": not re.search(r"shuffle:\s*false", text),
            "optimizer": optimizer and {
                k.strip(): yaml_scalar(v.strip()) for k, v in
                (pair.split(":", 1) for pair in
                 optimizer.group(1).split(","))},
            "input": [int(d) for d in re.search(
                r"^input:\s*\[([^\]]*)\]", text, re.M).group(1).split(",")],
            "units": [int(u) for u in re.findall(
                r"op:\s*dense,\s*units:\s*(\d+)", text)]}
    data = text[text.find("\ndata:"):]
    for split in ("train", "test"):
        block = re.search(split + r":\s*\n?((?:.*\n){0,3})", data)
        files = {}
        for key in ("images", "labels", "x", "y"):
            found = re.search(r"\b" + key + r":\s*([^,}\s]+)",
                              block.group(1) if block else "")
            if found:
                files[key] = found.group(1)
        spec[split] = files
    return spec


def yaml_scalar(text):
    if text in ("true", "false"):
        return text == "true"
    try:
        return float(text)
    except ValueError:
        return text


def busy_seconds():
    """CPU seconds the whole machine has spent busy since it booted
    (/proc/stat), or None where that cannot be read."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


class Child:
    """One finished child process: rc, out, err; wall and cpu seconds and
    peak resident memory in MiB (from its own rusage, by SPAWN); others:
    the CPUs that other processes kept busy, on average, while it ran."""


# Linux starts a process's ru_maxrss at the peak of the address space it
# had before exec. A child forked (or vforked) from this script would
# report this script's own peak, which the data it prepares can push far
# above the child's: mlp_fashion's trainer, at 62 MiB, read as 128 to
# 156. So every child is started by this small launcher, a fresh Python
# of about 8 MiB (the floor of any figure), which reports on a pipe the
# child's own peak RSS in KiB, CPU and wall seconds, and wait status.
SPAWN = r"""
import os, sys, time
report = int(sys.argv[1])
os.set_inheritable(report, False)
t0 = time.perf_counter()
try:
    pid = os.posix_spawnp(sys.argv[2], sys.argv[2:], os.environ)
except OSError as e:
    os.write(report, f"error {e.errno} {e.strerror}".encode())
    sys.exit(1)
_, status, u = os.wait4(pid, 0)
wall = time.perf_counter() - t0
os.write(report, f"{u.ru_maxrss} {u.ru_utime + u.ru_stime!r} {wall!r} "
         f"{status}".encode())
"""


def run_child(argv, env=None, cwd=None):
    child = Child()
    busy0 = busy_seconds()
    t0 = time.perf_counter()
    report_r, report_w = os.pipe()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", SPAWN, str(report_w),
             *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=env, cwd=cwd, pass_fds=(report_w,))
    except BaseException:
        os.close(report_r)
        raise
    finally:
        os.close(report_w)
    out, err = [], []
    # Drain both pipes without blocking the child, then reap it by hand
    # so that its rusage is ours to read.
    readers = [threading.Thread(target=lambda s=s, b=b: b.append(s.read()))
               for s, b in ((proc.stdout, out), (proc.stderr, err))]
    for r in readers:
        r.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    busy1 = busy_seconds()
    for r in readers:
        r.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    with os.fdopen(report_r, "rb") as f:
        report = f.read().decode().split()
    if report[:1] == ["error"]:
        raise OSError(int(report[1]), " ".join(report[2:]), argv[0])
    if len(report) != 4:
        raise RuntimeError(f"{argv[0]}: its launcher failed: "
                           f"{first_line(err[0].decode(errors='replace'))}")
    child.rc = os.waitstatus_to_exitcode(int(report[3]))
    child.out = out[0].decode(errors="replace")
    child.err = err[0].decode(errors="replace")
    child.cpu = float(report[1])
    child.wall = float(report[2])
    child.rss = int(report[0]) / 1024.0
    child.others = None
    if busy0 is not None and busy1 is not None:
        # The launcher's own CPU time is not another process's.
        launched = usage.ru_utime + usage.ru_stime
        child.others = max(0.0, busy1 - busy0 - launched) / wall
    return child


def wait_idle(limit):
    """Waits, up to `limit` seconds, for a second in which other
    processes keep less than a quarter of a CPU busy. Returns how long
    it waited, or None if the machine stayed busy."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < limit:
        b0 = busy_seconds()
        if b0 is None:
            return 0.0
        time.sleep(1)
        if busy_seconds() - b0 < 0.25:
            return time.perf_counter() - t0
    return None if limit > 0 else 0.0


def over_rounds(results, torch=None):
    """One side's timings over the rounds: the median of their medians
    and, given PyTorch's rounds, the median of the ratios of the rounds
    both sides completed. None when no round completed."""
    done = [r for r in results if r]
    if not done:
        return None
    ratios = []
    for mine, theirs in zip(results, torch or []):
        if mine and theirs:
            ratios.append(mine["median"] / theirs["median"])
    return {"median": statistics.median(r["median"] for r in done),
            "ratio": statistics.median(ratios) if ratios else None,
            "ratios": ratios,
            "rounds": done}


def median_rows(rounds):
    """The kernels' rows of several rounds (the same products in the same
    order) as one: each figure the median of the rounds'."""
    rows = []
    for same in zip(*rounds):
        row = dict(same[0])
        for key in ("gflops", "cpu_gflops", "share", "cpu_share"):
            values = [r[key] for r in same if r[key] is not None]
            row[key] = statistics.median(values) if values else None
        rows.append(row)
    return rows


def first_line(text):
    """The first error line of a message, else its first line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        if "error" in line:
            return line
    return lines[0] if lines else "(no message)"


def fmt_rate(x):
    return "-" if x is None else f"{x:,.0f}"


# ------------------------------------------------------------- the bench

class Bench:
    def __init__(self, args):
        self.args = args
        self.build = os.path.abspath(args.build)
        self.gradc = os.path.join(self.build, "compiler", "gradc")
        self.work = os.path.abspath(args.work or
                                    os.path.join(self.build, "bench"))
        self.threads = args.threads
        self.backends = (["cpp", "llvm"] if args.backend == "both"
                         else [args.backend])
        self.unavailable = {}  # backend -> why
        self.trainers = {}     # (backend, model) -> path or None
        self.compile_errors = {}
        self.notes = set()     # thread notes the trainers printed
        self.fma = {}
        self.fma_rounds = {}   # threads -> peaks measured beside the kernels
        self.gemm = {}
        self.memory = []
        self.memory_what = "one full epoch"
        self.torch_info = None
        self.torch_why_not = args.torch_why_not

    # ---- building

    def compile_all(self, todo):
        """Compiles every model once per backend, nproc at a time."""
        models = {}
        for case in todo:
            models.setdefault(case.model, case.path)
        for path in models.values():
            shutil.copyfile(os.path.join(ROOT, path), self.model_copy(path))
        jobs = [(b, m, p) for b in self.backends for m, p in models.items()]
        say(f"compiling {len(jobs)} trainers with {self.gradc} "
            f"(backends: {', '.join(self.backends)})...")
        t0 = time.perf_counter()
        workers = max(1, os.cpu_count() or 1)
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            results = pool.map(lambda job: self.compile_one(*job), jobs)
            for (backend, model, _), (path, err, secs) in zip(jobs,
                                                             results):
                self.trainers[(backend, model)] = path
                if path:
                    say(f"  {backend:4} {model:14} built in {secs:.1f} s")
                else:
                    self.compile_errors[(backend, model)] = err
                    say(f"  {backend:4} {model:14} FAILED: {err}")
        for backend in self.backends:
            built = [m for m in models if self.trainers[(backend, m)]]
            if not built:
                why = {self.compile_errors[(backend, m)] for m in models}
                self.unavailable[backend] = "; ".join(sorted(why))
        say(f"  ({time.perf_counter() - t0:.1f} s)")

    def model_copy(self, path):
        """Where the copy of a model file goes: WORK/models, so that the
        data paths it names relative to itself resolve inside the work
        folder, where prepare_named_data() writes them."""
        return os.path.join(self.work, "models", os.path.basename(path))

    def compile_one(self, backend, model, path):
        copy = self.model_copy(path)
        out_dir = os.path.join(self.work, backend)
        os.makedirs(out_dir, exist_ok=True)
        out = os.path.join(out_dir, model)
        t0 = time.perf_counter()
        proc = subprocess.run([self.gradc, copy, "--backend", backend,
                               "-o", out], capture_output=True, text=True)
        secs = time.perf_counter() - t0
        if proc.returncode != 0 or not os.access(out, os.X_OK):
            return None, first_line(proc.stderr + proc.stdout), secs
        return out, None, secs

    def prepare_named_data(self):
        """Writes the data that the copied model files name relative to
        themselves: the adding problem (by the project's own generator,
        as examples/adding_problem.sh does) and the tiny MLP's."""
        models = os.path.join(self.work, "models")
        os.makedirs(models, exist_ok=True)
        adding = os.path.join(self.work, "runs", "adding_problem")
        tool = os.path.join(self.build, "tests", "e2e", "make_adding_problem")
        if not os.path.exists(os.path.join(adding, "test_y.npy")):
            if os.access(tool, os.X_OK):
                subprocess.run([tool, adding], check=True,
                               stdout=subprocess.DEVNULL)
            else:
                say(f"warning: {tool} is missing; rnn_adding has no data")
        tiny = os.path.join(models, "tiny_train_x.npy")
        if not os.path.exists(tiny):
            datafiles.write_classes(tiny, tiny.replace("_x", "_y"),
                                    4096, 32, 10)
            test = tiny.replace("train", "test")
            datafiles.write_classes(test, test.replace("_x", "_y"),
                                    256, 32, 10, seed=2)

    # ---- data for one case

    def model_files(self, case):
        """The model's own train and test files, as paths."""
        base = os.path.join(self.work, "models")
        files = {}
        for split in ("train", "test"):
            for key, name in case.spec[split].items():
                files[f"{split}_{key}"] = os.path.join(base, str(name))
        return files

    def subset(self, case, train_samples, tag):
        """Training data of exactly train_samples samples (the model's
        own, cycled if it has fewer) and a test set of one batch, so that
        the evaluation after each epoch costs little. Returns the trainer
        options and the torch side's --x/--y."""
        own = self.model_files(case)
        out = os.path.join(self.work, "data", f"{case.model}-{tag}")
        os.makedirs(out, exist_ok=True)
        opts, torch_opts = [], []
        for split, count in (("train", train_samples),
                             ("test", case.batch)):
            if f"{split}_images" in own:
                pairs = (("images", "x"), ("labels", "y"))
                write, ext = datafiles.write_idx_subset, ".idx"
            else:
                pairs = (("x", "x"), ("y", "y"))
                write, ext = datafiles.write_npy_subset, ".npy"
            for key, side in pairs:
                dst = os.path.join(out, f"{split}_{key}{ext}")
                write(own[f"{split}_{key}"], dst, count)
                opts += [f"--{split}-{key}", dst]
                if split == "train":
                    torch_opts += [f"--{side}", dst]
        return opts, torch_opts

    # ---- gradc timing

    def trainer_run(self, trainer, opts, epochs, tag, batch):
        metrics = os.path.join(self.work, "data", f"{tag}.metrics.jsonl")
        grads = os.path.join(self.work, "data", f"{tag}.grads.csv")
        for stale in (metrics, grads):
            if os.path.exists(stale):
                os.remove(stale)
        argv = [trainer, "train", "--epochs", str(epochs), "--batch",
                str(batch), "--threads", str(self.threads), "--quiet", "-v",
                "--metrics", metrics, "--grad-log", grads] + opts
        child = run_child(argv)
        if child.rc != 0:
            raise RuntimeError(first_line(child.err + child.out))
        for line in child.err.splitlines():
            if "thread" in line:
                self.notes.add(line.strip())
        with open(metrics) as f:
            epochs = [json.loads(line) for line in f if line.strip()]
        return epochs, child

    def time_gradc(self, case, backend, label):
        trainer = self.trainers.get((backend, case.model))
        if not trainer:
            return None
        a = self.args
        batch = case.batch
        tag = f"{backend}-{case.model}-{batch}"
        if backend not in case.sized:
            case.sized[backend] = self.size_epochs(case, backend, trainer)
        steps, opts, torch_opts = case.sized[backend]

        def measure():
            epochs, child = self.trainer_run(trainer, opts, 1 + a.reps, tag,
                                             batch)
            # Each timed epoch must be the steps asked for: a trainer that
            # ignored the batch would time another case.
            if any(e["step"] != (i + 1) * steps
                   for i, e in enumerate(epochs)):
                raise RuntimeError(f"the trainer ran {epochs[0]['step']} "
                                   f"steps an epoch, not {steps}")
            rates = [e["samples_per_s"] for e in epochs[1:]]
            return {"rates": rates, "median": statistics.median(rates),
                    "steps": steps, "loss": epochs[-1]["loss"],
                    "child": child, "torch_opts": torch_opts}

        result = self.quietly(measure)
        self.show(f"gradc {backend}", case, result, label)
        return result

    def size_epochs(self, case, backend, trainer):
        """The steps of a timed epoch, and the data files of that many
        steps for both sides."""
        a = self.args
        batch = case.batch
        tag = f"{backend}-{case.model}-{batch}"
        # Calibration, to size the timed epochs to about --target seconds:
        # short epochs, longer ones while an epoch takes under 1/10 of the
        # target (4 runs at most; the sizes grow 16 times or more). Each
        # run has 3 epochs, and the fastest counts: one that other
        # processes slowed down would make the timed epochs short.
        cap = a.max_samples
        if not case.synthetic:
            own = self.model_files(case)
            cap = datafiles.count(own.get("train_images") or own["train_x"])
        calib = max(4, 1024 // batch)
        for _ in range(4):
            opts, _ = self.subset(case, calib * batch,
                                  f"{backend}-b{batch}-calib")
            epochs, _ = self.trainer_run(trainer, opts, 3, tag + "-calib",
                                         batch)
            seconds = min(e["seconds"] for e in epochs)
            if seconds >= a.target / 10 or calib * batch >= cap:
                break
            calib *= max(16, round(a.target / 5 / max(seconds, 1e-4)))
            calib = min(calib, cap // batch)
        rate = max(e["samples_per_s"] for e in epochs) or 1
        steps = max(a.min_steps, round(a.target * rate / batch))
        steps = min(steps, max(a.min_steps, cap // batch))
        opts, torch_opts = self.subset(case, steps * batch,
                                       f"{backend}-b{batch}")
        return steps, opts, torch_opts

    def quietly(self, measure):
        """Runs measure() after waiting for a quiet machine; with
        --wait-idle, measures again (twice at most) while other processes
        took CPU during it, and keeps the least disturbed result."""
        results = []
        tries = 3 if self.args.wait_idle > 0 else 1
        for _ in range(tries):
            self.settle()
            results.append(measure())
            if not self.contended(results[-1]["child"]):
                break
            if len(results) < tries:
                say("  (other processes took CPU during that measurement: "
                    "measuring again)")
        return min(results, key=lambda r: r["child"].others or 0)

    def settle(self):
        """--wait-idle: waits for the other processes to quiet down."""
        waited = wait_idle(self.args.wait_idle)
        if waited is None:
            say(f"  (the machine stayed busy for {self.args.wait_idle:g} "
                f"s: measuring anyway)")
        elif waited >= 2:
            say(f"  (waited {waited:.0f} s for the machine to quiet "
                f"down)")

    def contended(self, child):
        """Whether other processes took enough CPU during a measurement
        to skew it: a quarter of a CPU or more, on average."""
        return child is not None and child.others is not None and \
            child.others >= 0.25

    def show(self, side, case, result, label=""):
        """Two lines on one timing: the median, the spread, the mean loss
        of the last timed epoch (both sides should train, not blow up)
        and the CPU the process got (under 100%: other processes took
        the rest)."""
        rates, child = result["rates"], result["child"]
        say(f"  {side:10} {case.label:17}"
            f"{fmt_rate(result['median']):>10} samples/s  (median of "
            f"{len(rates)} x {result['steps']} steps{label})")
        others = ("" if child.others is None else
                  f", other processes {child.others:.2f}")
        say(f"{'':13}range {fmt_rate(min(rates))} to "
            f"{fmt_rate(max(rates))}; mean loss {result['loss']:.4f}; "
            f"CPUs busy: this process {child.cpu / child.wall:.2f}"
            f"{others}")

    # ---- torch

    def torch_arrangements(self):
        """The (torch threads, OpenBLAS threads) pairs PyTorch is timed
        with. torch's own threads and OpenBLAS's pool do not share one
        another's CPUs well: with both at --threads they oversubscribe
        the machine, and on this kind of two-core machine that made
        mlp_fashion three times slower than one OpenBLAS thread did. So
        each arrangement that uses --threads CPUs is timed and the
        fastest is compared, unless --torch-blas-threads fixes it."""
        t = self.threads
        if self.args.torch_blas_threads or t == 1:
            return [(t, self.args.torch_blas_threads or t)]
        return [(t, 1), (1, t), (t, t)]

    def torch_env(self, blas_threads=None):
        env = dict(os.environ)
        env["OMP_NUM_THREADS"] = str(self.threads)
        env["OPENBLAS_NUM_THREADS"] = str(
            blas_threads or self.torch_arrangements()[0][1])
        return env

    def torch_call(self, *argv, arrangement=None):
        threads, blas = arrangement or self.torch_arrangements()[0]
        cmd = [self.args.python, os.path.join(HERE, "torch_side.py")]
        cmd += list(argv) + ["--threads", str(threads)]
        env = self.torch_env(blas)
        env["OMP_NUM_THREADS"] = str(threads)
        child = run_child(cmd, env=env)
        if child.rc != 0:
            lines = [x for x in (child.err + child.out).splitlines()
                     if x.strip()]
            raise RuntimeError(lines[-1] if lines else
                               f"exit status {child.rc}")
        return json.loads(child.out.strip().splitlines()[-1]), child

    def check_torch(self):
        if self.torch_why_not:
            return
        try:
            info, _ = self.torch_call("info")
        except Exception as e:  # no torch, or it does not start
            self.torch_why_not = f"torch does not run: {e}"
            return
        self.torch_info = info
        if not any("openblas" in p for p in info["loaded_blas"]):
            self.torch_why_not = (
                "torch did not load OpenBLAS (loaded: "
                f"{', '.join(info['loaded_blas']) or 'no BLAS'}); the "
                "libblas.so.3 alternative must point at openblas-pthread")

    def time_torch(self, case, torch_opts, label, arrangements):
        if self.torch_why_not:
            return None
        a = self.args
        try:
            same = ["--shuffle", str(int(bool(case.spec["shuffle"])))]
            if case.spec["optimizer"]:
                same += ["--optimizer", json.dumps(case.spec["optimizer"])]

            def measure(arrangement):
                res, child = self.torch_call(
                    "time", case.model, "--batch", str(case.batch),
                    "--reps", str(a.reps), "--target", str(a.target),
                    "--min-steps", str(a.min_steps), *same, *torch_opts,
                    arrangement=arrangement)
                rates = res["samples_per_s"]
                return {"rates": rates, "median": statistics.median(rates),
                        "steps": res["steps"], "loss": res["mean_loss"],
                        "child": child, "res": res,
                        "arrangement": arrangement}

            tried = [self.quietly(lambda: measure(arrangement))
                     for arrangement in arrangements]
            result = max(tried, key=lambda r: r["median"])
        except Exception as e:
            say(f"  PyTorch    {case.label:17} FAILED: {e}")
            return None
        if len(tried) > 1:
            say(f"{'':13}PyTorch by (torch threads, OpenBLAS threads): " +
                ", ".join(f"{r['arrangement']} {fmt_rate(r['median'])}"
                          for r in tried) + "; the fastest is compared")
        self.show("PyTorch", case, result, label)
        say(f"{'':13}{result['res']['optimizer']}, shuffle "
            f"{'on' if result['res']['shuffle'] else 'off'}")
        return result

    # ---- machine limits and kernels

    def compile_tool(self, source, name, extra=()):
        """c++ -O3 -march=native, with -fopenmp where the compiler takes
        it. Returns (path, whether OpenMP is on)."""
        out = os.path.join(self.work, name)
        cxx = os.environ.get("CXX", "c++")
        base = [cxx, "-std=c++20", "-O3", "-march=native", *extra,
                "-o", out, os.path.join(HERE, source)]
        for flags in (["-fopenmp"], []):
            proc = subprocess.run(base[:1] + flags + base[1:],
                                  capture_output=True, text=True)
            if proc.returncode == 0:
                return out, bool(flags)
            error = first_line(proc.stderr)
        raise RuntimeError(f"{source} does not build: {error}")

    def measure_fma(self, report=True):
        a = self.args
        try:
            tool, omp = self.compile_tool("fma_peak.cpp", "fma_peak")
        except RuntimeError as e:
            say(f"  FMA peak: {e}")
            return
        self.settle()
        child = run_child([tool, str(a.fma_reps), str(a.fma_iters)])
        best = {}
        for line in child.out.splitlines():
            m = re.search(r"isa=(\S+) chains=(\d+) threads=(\d+) "
                          r"gflops=([\d.]+).*percore=([\d.]+) "
                          r"share=([\d.]+)", line)
            if not m:
                continue
            t = int(m.group(3))
            g, core = float(m.group(4)), float(m.group(5))
            if core > best.get(t, {}).get("percore", 0):
                best[t] = {"gflops": g, "isa": m.group(1),
                           "chains": int(m.group(2)), "percore": core,
                           "share": float(m.group(6))}
        self.fma = best
        for t, b in sorted(best.items() if report else ()):
            say(f"  FMA peak, {t} thread{'s' if t > 1 else ''}: "
                f"{b['percore']:.1f} GFLOP/s per core by the threads' CPU "
                f"time, so {t * b['percore']:.1f} on {t} ({b['isa']}, "
                f"{b['chains']} chains); {b['gflops']:.1f} by the wall "
                f"clock, where the threads got {b['share']:.0%} of "
                f"their cores")
        if not best:
            say(f"  FMA peak: no result ({first_line(child.err)})")

    def fma_peak(self, threads):
        """The peak of `threads` cores: the per-core rate measured on that
        many threads (by their CPU time, which other processes disturb
        least) times the count; for a count not measured, the one-thread
        rate times the count. Once the kernels are timed, the median of
        the peaks measured beside them."""
        if self.fma_rounds.get(threads):
            return statistics.median(self.fma_rounds[threads])
        return self.measured_peak(threads)

    def measured_peak(self, threads):
        """The peak of `threads` cores by the last FMA measurement."""
        b = self.fma.get(threads) or self.fma.get(1)
        return b["percore"] * threads if b else None

    def measure_gemm(self):
        a = self.args
        spec = read_model(os.path.join(ROOT, "models/mlp_fashion.yaml"))
        dims = [256] + [int(spec["input"][-1])] + spec["units"]
        try:
            tool, omp = self.compile_tool(
                "gemm_kernels.cpp", "gemm_kernels",
                ["-I", os.path.join(ROOT, "runtime", "include")])
        except RuntimeError as e:
            say(f"  gradc kernels: {e}")
            return
        say(f"  gradc kernels at mlp_fashion's products, batch 256 "
            f"(widths {'-'.join(map(str, dims[1:]))}; OpenMP "
            f"{'on' if omp else 'off'})")
        # The machine's speed drifts over minutes, so each timing of the
        # kernels comes right after a measurement of the FMA peak, in
        # rounds; a product's share of the peak is the median of the
        # rounds' shares, as the models' ratios are.
        for t in sorted({1, self.threads}):
            env = dict(os.environ, OMP_NUM_THREADS=str(t))
            rounds = []
            for _ in range(a.rounds):
                self.settle()
                self.measure_fma(report=False)
                peak = self.measured_peak(t)
                core = self.measured_peak(1)
                child = run_child(
                    [tool, "-s", str(a.gemm_seconds), "-r",
                     str(a.gemm_reps), *map(str, dims)], env=env)
                rows = self.gemm_rows(child, peak, core)
                if child.rc != 0 and not rows:
                    say(f"    failed: {first_line(child.err + child.out)}")
                    break
                if peak:
                    self.fma_rounds.setdefault(t, []).append(peak)
                rounds.append(rows)
            if not rounds:
                continue
            if child.others is not None:
                say(f"    {t} thread{'s' if t > 1 else ''}: CPUs busy: "
                    f"this process {child.cpu / child.wall:.2f}, other "
                    f"processes {child.others:.2f} (the last round)")
            self.gemm[t] = (median_rows(rounds), child)

    def gemm_rows(self, child, peak, core):
        """gemm_kernels' lines, each with its share of the `peak` of the
        threads it ran on and, by CPU time, of the one-core `core`."""
        rows = []
        for line in child.out.splitlines():
            m = re.search(r"kernel=(\S+) M=(\d+) N=(\d+) K=(\d+) "
                          r"gflops=([\d.]+).*cpu_gflops=([\d.]+) "
                          r"threads=(\d+)", line)
            if m:
                gflops, cpu = float(m.group(5)), float(m.group(6))
                rows.append({"kernel": m.group(1),
                             "shape": tuple(map(int, m.group(2, 3, 4))),
                             "gflops": gflops, "cpu_gflops": cpu,
                             "share": gflops / peak if peak else None,
                             "cpu_share": cpu / core if core else None,
                             "threads": int(m.group(7))})
            elif "WRONG" in line:
                say(f"    {line}")
        return rows

    def measure_memory(self):
        """Peak resident memory over one full epoch of mlp_fashion (the
        model file's data, its test evaluation included); --quick stops
        after 200 steps."""
        limit = ["--steps", "200"] if self.args.quick else []
        self.memory_what = ("the first 200 steps of an epoch"
                            if limit else "one full epoch")
        case = Case("mlp_fashion", "models/mlp_fashion.yaml")
        case.spec = read_model(os.path.join(ROOT, case.path))
        case.batch = case.spec["batch"]
        files = self.model_files(case)
        for backend in self.backends:
            trainer = self.trainers.get((backend, "mlp_fashion"))
            if not trainer:
                continue
            grads = os.path.join(self.work, "data", "memory.grads.csv")
            child = run_child(
                [trainer, "train", "--epochs", "1", "--threads",
                 str(self.threads), "--quiet", "--grad-log", grads,
                 *limit])
            if child.rc != 0:
                say(f"  gradc {backend:4} FAILED: {first_line(child.err)}")
                continue
            self.memory.append((f"gradc {backend}", child.rss))
            say(f"  gradc {backend:4} mlp_fashion, {self.memory_what}: "
                f"peak RSS {child.rss:.0f} MiB, {child.wall:.1f} s for "
                f"the whole process")
        if self.torch_why_not:
            return
        try:
            _, idle = self.torch_call("idle")
            res, child = self.torch_call(
                "epoch", "mlp_fashion", "--batch", str(case.batch),
                "--x", files["train_images"], "--y", files["train_labels"],
                "--test-x", files["test_images"],
                "--test-y", files["test_labels"], *limit)
        except Exception as e:
            say(f"  PyTorch    FAILED: {e}")
            return
        self.memory.append(("PyTorch", child.rss))
        say(f"  PyTorch    mlp_fashion, {self.memory_what}: peak RSS "
            f"{child.rss:.0f} MiB, {child.wall:.1f} s for the whole "
            f"process (import torch alone: {idle.rss:.0f} MiB; test "
            f"accuracy {res['test_acc']:.4f})")

    # ---- the report

    def time_case(self, case):
        """Times one case in rounds, each gradc's backends and then
        PyTorch, back to back: on a machine whose speed drifts (a virtual
        machine beside busy neighbours), each round's ratio compares the
        two sides at one speed, and the table gives the median over the
        rounds. PyTorch's thread arrangements are all tried in the first
        round; later rounds time the fastest."""
        rounds = self.args.rounds
        gradc = {b: [] for b in self.backends if b not in self.unavailable}
        torch = []
        arrangements = self.torch_arrangements()
        for r in range(rounds):
            label = f", round {r + 1} of {rounds}" if rounds > 1 else ""
            for backend in gradc:
                try:
                    result = self.time_gradc(case, backend, label)
                except Exception as e:
                    say(f"  gradc {backend:4} {case.label:17} FAILED: {e}")
                    result = None
                gradc[backend].append(result)
            if self.torch_why_not:
                continue
            opts = next((v[2] for v in case.sized.values()), None)
            try:
                if opts is None:  # no gradc timing made the data
                    opts = self.subset(case, max(64 * case.batch, 8192),
                                       f"b{case.batch}-torch")[1]
            except OSError as e:
                say(f"  PyTorch    {case.label:17} FAILED: {e}")
                break
            result = self.time_torch(case, opts, label, arrangements)
            torch.append(result)
            if result:
                arrangements = [result["arrangement"]]
        case.torch = over_rounds(torch)
        for backend, results in gradc.items():
            case.gradc[backend] = over_rounds(results, torch)

    def report(self, todo):
        a = self.args
        say()
        say("=" * 78)
        say(f"gradc vs PyTorch, training samples/s, {self.threads} "
            f"thread{'s' if self.threads > 1 else ''} on both sides "
            f"({'quick' if a.quick else 'full'} mode)")
        say(f"Timing: per model, one warm-up epoch, then {a.reps} timed "
            f"epochs of a fixed number of steps (sized to about "
            f"{a.target:g} s); the median. gradc: the trainer's own "
            f"per-epoch samples/s (its training loop: batch copy, step "
            f"with gradient norms, optimizer, the gradient log the model "
            f"file asks for; not data loading or evaluation), every epoch "
            f"in one process (train --epochs {a.reps + 1} on a data "
            f"set of exactly that many steps). PyTorch: the same loop in "
            f"Python (index the batch, zero_grad, forward, loss, "
            f"backward, step), on the same files.")
        if a.rounds > 1:
            say(f"Each side was timed in {a.rounds} rounds, gradc and "
                f"PyTorch back to back in each; samples/s is the median "
                f"of the rounds' medians, and ratio the median of the "
                f"rounds' ratios.")
        say("ratio = gradc samples/s / PyTorch samples/s (above 1: "
            "gradc is faster)")
        say()
        live = [b for b in self.backends if b not in self.unavailable]
        head = f"{'model':14}{'batch':>6}"
        for b in live:
            head += f"{'gradc ' + b:>13}"
        head += f"{'PyTorch':>11}"
        for b in live:
            head += f"{'ratio ' + b:>11}" if len(live) > 1 else \
                f"{'ratio':>8}"
        say(head)
        say("-" * len(head))
        flagged = False

        def cell(res, width):
            nonlocal flagged
            if not res:
                return f"{'-':>{width}}"
            mark = "*" if any(self.contended(r["child"])
                              for r in res["rounds"]) else " "
            flagged = flagged or mark == "*"
            return f"{fmt_rate(res['median']):>{width - 1}}{mark}"

        for case in todo:
            row = f"{case.model:14}{case.batch:>6}"
            for b in live:
                row += cell(case.gradc.get(b), 13)
            row += cell(case.torch, 11)
            for b in live:
                res = case.gradc.get(b)
                w = 11 if len(live) > 1 else 8
                if res and res["ratio"]:
                    row += f"{res['ratio']:>{w}.2f}"
                else:
                    row += f"{'-':>{w}}"
            say(row)
        if flagged:
            self.footnote()
        self.round_ratios(todo, live)
        for b, why in self.unavailable.items():
            say(f"gradc {b}: unavailable ({why})")
        if self.torch_why_not:
            say(f"PyTorch: not run ({self.torch_why_not})")

        tiny = [c for c in todo if c.model == "mlp_tiny"]
        if tiny:
            c = tiny[0]
            say()
            say("fixed cost of one training step, 32-32-10 MLP at batch "
                "1 (us/step,")
            say("median; ratio = PyTorch us / gradc us):")
            t = c.torch and 1e6 / c.torch["median"]
            for b in live:
                res = c.gradc.get(b)
                g = res and 1e6 / res["median"]
                line = f"  gradc {b}: " + (f"{g:.2f} us" if g else "-")
                line += "   PyTorch: " + (f"{t:.1f} us" if t else "-")
                if res and res["ratio"]:
                    line += f"   ratio: {res['ratio']:.1f}"
                say(line)

        say()
        if self.fma:
            peaks = ", ".join(
                f"{self.fma_peak(t):.1f} on {t} core{'s' if t > 1 else ''}"
                for t in sorted(self.fma))
            isa = next(iter(self.fma.values()))["isa"]
            say(f"FMA peak (float32, {isa}), measured in this run: "
                f"{peaks} GFLOP/s (per-core rate by CPU time x cores)")
        for t, (rows, child) in sorted(self.gemm.items()):
            mark = "*" if self.contended(child) else ""
            if mark and not flagged:
                flagged = True
                self.footnote()
            say(f"gradc kernels{mark}, {t} thread{'s' if t > 1 else ''} "
                f"(GFLOP/s by the wall clock; % of the {t}-core FMA "
                f"peak):")
            line = ""
            for r in rows:
                m, n, k = r["shape"]
                name = r["kernel"].replace("matmul", "")
                cell = (f"all ({m} rows)" if name == "step"
                        else f"{name} {m}x{n}x{k}")
                pct = f" {100 * r['share']:3.0f}%" if r["share"] else ""
                cell = f"{cell:>17} {r['gflops']:6.1f}{pct}"
                if len(line) + len(cell) > 76:
                    say(line)
                    line = ""
                line += cell
            if line:
                say(line)
            step = [r for r in rows if r["kernel"] == "step"]
            core = self.fma_peak(1)
            if t == 1 and step and step[0]["cpu_share"]:
                cpu = step[0]["cpu_gflops"]
                say(f"  by CPU time instead of the wall clock (less "
                    f"disturbed by other processes): all {cpu:.1f} "
                    f"GFLOP/s, {100 * step[0]['cpu_share']:.0f}% of the "
                    f"{core:.1f} one core does")
        if self.memory:
            say(f"peak memory (max RSS), {self.memory_what} of "
                "mlp_fashion: " +
                ", ".join(f"{name} {rss:.0f} MiB" for name, rss in
                          self.memory))
        used = sorted({r["arrangement"] for c in todo if c.torch
                       for r in c.torch["rounds"]})
        torch_threads = (
            "; PyTorch's fastest of (torch threads, OpenBLAS threads) " +
            ", ".join(str(x) for x in self.torch_arrangements()) +
            f", used: {', '.join(str(x) for x in used)} "
            "(torch.set_num_threads, OPENBLAS_NUM_THREADS)" if used else "")
        say(f"threads: {self.threads} (trainer --threads {self.threads})" +
            torch_threads)
        for note in sorted(self.notes):
            say(f"gradc trainer says: {note}")

    def round_ratios(self, todo, live):
        """Each round's ratio, in the order of the rounds, where there was
        more than one: on a machine whose speed drifts, their spread says
        how far the median can be trusted."""
        lines = []
        for case in todo:
            for b in live:
                res = case.gradc.get(b)
                if res and len(res["ratios"]) > 1:
                    each = " ".join(f"{r:.2f}" for r in res["ratios"])
                    lines.append(f"  {case.model}@{case.batch} {b}: {each}")
        if lines:
            say("each round's ratio, in order:")
            for line in lines:
                say(line)

    def footnote(self):
        say("* other processes kept a quarter of a CPU or more busy "
            "during this measurement (see 'CPUs busy' above; --wait-idle "
            "waits for a quiet machine): with every CPU in use, a thread "
            "that loses its CPU holds up the others at each "
            "synchronization, and figures can fall far below this "
            "machine's")

    # ---- the whole run

    def run(self):
        a = self.args
        t0 = time.perf_counter()
        os.makedirs(self.work, exist_ok=True)
        todo = [c for c in cases()
                if not a.models or c.model in a.models]
        for case in todo:
            case.spec = read_model(os.path.join(ROOT, case.path))
            case.batch = case.batch or case.spec["batch"]
        say(f"machine: {cpu_name()}, {os.cpu_count()} CPUs; "
            f"load average {load()} at the start")
        say(f"work folder: {self.work}")
        self.prepare_named_data()
        self.compile_all(todo)
        self.check_torch()
        if self.torch_info:
            i = self.torch_info
            say(f"PyTorch {i['torch']} ({a.python}), "
                f"{i['config_blas'] or 'BLAS_INFO not reported'}; "
                f"loaded: {', '.join(i['loaded_blas']) or 'no BLAS'}")
        elif self.torch_why_not:
            say(f"PyTorch: not run ({self.torch_why_not})")

        say()
        say(f"training throughput ({a.reps} timed epochs each, after a "
            f"warm-up epoch):")
        for case in todo:
            self.time_case(case)

        say()
        say("machine limits and kernels:")
        self.measure_fma()
        self.measure_gemm()
        say()
        say("peak memory:")
        self.measure_memory()
        self.report(todo)
        say(f"load average at the end: {load()}")
        say(f"bench.py took {time.perf_counter() - t0:.0f} s")


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def load():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "unknown"


def main():
    ap = argparse.ArgumentParser(
        prog="bench/run.sh",
        description="gradc's trainers against PyTorch on this machine")
    ap.add_argument("--build", default=os.path.join(ROOT, "build-bench"),
                    help="gradc's build folder (run.sh passes $BUILD, "
                    "default build-bench; set BUILD=DIR instead)")
    ap.add_argument("--work", help="where trainers and data go "
                    "(default BUILD/bench)")
    ap.add_argument("--backend", default="cpp",
                    choices=["cpp", "llvm", "both"])
    ap.add_argument("--threads", type=int, default=os.cpu_count(),
                    help="threads for both sides (default: all CPUs)")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run, under a minute: 3 short repeats, "
                    "no PyTorch unless --torch")
    ap.add_argument("--torch", dest="use_torch", action="store_true",
                    default=None, help="run the PyTorch side")
    ap.add_argument("--no-torch", dest="use_torch", action="store_false",
                    help="do not (the default with --quick)")
    ap.add_argument("--python", default="/usr/bin/python3"
                    if os.path.exists("/usr/bin/python3") else "python3",
                    help="the Python that has torch")
    ap.add_argument("--torch-blas-threads", type=int, metavar="N",
                    help="OPENBLAS_NUM_THREADS for PyTorch, with torch at "
                    "--threads (default: PyTorch is timed with (torch, "
                    "OpenBLAS) threads at (N, 1), (1, N) and (N, N), and "
                    "the fastest is compared)")
    ap.add_argument("--reps", type=int, help="timed epochs per model "
                    "(default 5, quick 3)")
    ap.add_argument("--rounds", type=int, help="rounds of timing, gradc "
                    "and PyTorch back to back in each (default 3, quick "
                    "1); the ratio is the median of the rounds'")
    ap.add_argument("--target", type=float, help="seconds per timed "
                    "epoch (default 1, quick 0.1)")
    ap.add_argument("--wait-idle", type=float, default=0, metavar="S",
                    help="before each measurement, wait up to S seconds "
                    "for other processes to leave the CPUs idle (default "
                    "0: measure at once)")
    ap.add_argument("--models", nargs="+", metavar="MODEL",
                    choices=sorted({c.model for c in cases()}),
                    help="only these: %(choices)s")
    ap.add_argument("--torch-why-not", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.reps is None:
        a.reps = 3 if a.quick else 5
    if a.rounds is None:
        a.rounds = 1 if a.quick else 3
    if a.target is None:
        a.target = 0.1 if a.quick else 1.0
    if a.use_torch is None:
        a.use_torch = not a.quick
    if not a.use_torch and not a.torch_why_not:
        a.torch_why_not = "--no-torch" if not a.quick else \
            "--quick without --torch"
    a.min_steps = 3 if a.quick else 10
    a.max_samples = 1 << 19
    a.fma_reps, a.fma_iters = (2, 10) if a.quick else (5, 50)
    a.gemm_seconds, a.gemm_reps = (0.03, 3) if a.quick else (0.2, 5)
    if a.reps < 1 or a.rounds < 1 or a.threads < 1 or a.target <= 0:
        ap.error("--reps, --rounds, --threads and --target must be "
                 "positive")
    Bench(a).run()


if __name__ == "__main__":
    main()
