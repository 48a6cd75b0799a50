#!/usr/bin/env python3
"""PyTorch side of bench/train.ts: the same networks, batch and optimiser (SGD, momentum 0.9) as the
simdcnn side, on random data.

  torch_train.py --serve        a worker: the first line it prints is its environment (JSON); then, for
                                each request line {"model", "threads", "iters"} it runs that many steps
                                (the first request for a model and thread count also warms up) and prints
                                {"seconds": ...}
  torch_train.py THREADS ITERS REPEATS [MODEL]
                                on its own: medians of REPEATS blocks of ITERS steps, one JSON line

The environment line names the BLAS library torch resolved at run time (from /proc/self/maps):
Debian's python3-torch links libblas.so.3, which is the reference (netlib) BLAS unless OpenBLAS or BLIS
is installed as the alternative; LeNet-5's dense layers and the im2col convolutions of PyTorch's slow
path run in it, so the reference BLAS halves PyTorch's training speed (bench/train.ts warns)."""
import json
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

BATCH = {"lenet5": 64, "resnet18": 16}
SHAPE = {"lenet5": (1, 28, 28), "resnet18": (3, 64, 64)}


def make_model(name):
    torch.manual_seed(0)
    if name == "lenet5":
        # simdcnn's models.lenet5({ inputSize: 28 }).
        return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5),
                             nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(),
                             nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    if name == "resnet18":
        import torchvision
        return torchvision.models.resnet18(num_classes=10)
    raise ValueError(f"unknown model {name}")


class Trainer:
    def __init__(self, name, n_batches=8):
        self.model = make_model(name).train()
        self.opt = torch.optim.SGD(self.model.parameters(), lr=0.01, momentum=0.9)
        b = BATCH[name]
        self.batch = b
        self.x = torch.randn(n_batches, b, *SHAPE[name])
        self.y = torch.randint(0, 10, (n_batches, b))
        self.i = 0

    def steps(self, n):
        for _ in range(n):
            k = self.i % self.x.shape[0]
            self.i += 1
            self.opt.zero_grad()
            loss = F.cross_entropy(self.model(self.x[k]), self.y[k])
            loss.backward()
            self.opt.step()


def blas_library():
    """The BLAS shared object this process mapped (libblas.so.3 resolves through Debian's alternatives)."""
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if ".so" in line}
    except OSError:
        return "unknown"
    for lib in sorted(libs):
        base = os.path.basename(lib)
        if any(k in base for k in ("openblas", "blis", "mkl_rt", "libmkl")):
            return os.path.realpath(lib)
    for lib in sorted(libs):
        if os.path.basename(lib).startswith("libblas"):
            return os.path.realpath(lib)
    return "none mapped"


def environment():
    blas = blas_library()
    return {"torch": torch.__version__, "blas": blas,
            "referenceBlas": "/blas/libblas" in blas and "openblas" not in blas and "blis" not in blas,
            "mkldnn": torch.backends.mkldnn.is_available(), "cpuCapability": torch.backends.cpu.get_cpu_capability()
            if hasattr(torch.backends, "cpu") else "n/a",
            "interopThreads": torch.get_num_interop_threads(),
            "env": {k: v for k, v in os.environ.items() if k.startswith(("OMP_", "MKL_", "OPENBLAS_", "DNNL_", "KMP_"))}}


def serve():
    trainers = {}
    print(json.dumps(environment()), flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        torch.set_num_threads(int(req["threads"]))
        key = (req["model"], int(req["threads"]))
        if key not in trainers:
            trainers[key] = Trainer(req["model"])
            trainers[key].steps(2)  # warm-up: allocator, oneDNN primitives
        t0 = time.perf_counter()
        trainers[key].steps(int(req["iters"]))
        print(json.dumps({"seconds": time.perf_counter() - t0}), flush=True)


def alone(threads, iters, repeats, name):
    torch.set_num_threads(threads)
    tr = Trainer(name)
    tr.steps(2)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        tr.steps(iters)
        times.append(time.perf_counter() - t0)
    times.sort()
    med = times[len(times) // 2]
    print(json.dumps({"engine": "pytorch", "model": name, "threads": threads,
                      "samplesPerSecond": iters * tr.batch / med, "medianSeconds": med, **environment()}))


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        serve()
    else:
        alone(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else "lenet5")
