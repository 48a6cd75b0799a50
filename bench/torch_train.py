#!/usr/bin/env python3
"""PyTorch side of bench/train.ts: LeNet-5 (simdcnn's models.lenet5 structure) training samples/s,
batch 64, SGD momentum 0.9, on random MNIST-shaped data. Prints one JSON line.
usage: torch_train.py THREADS ITERS REPEATS"""
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

threads, iters, repeats = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
torch.manual_seed(0)
model = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                      nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                      nn.Linear(84, 10))
opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
x = torch.randn(iters, 64, 1, 28, 28)
y = torch.randint(0, 10, (iters, 64))


def epoch():
    for i in range(iters):
        opt.zero_grad()
        loss = F.cross_entropy(model(x[i]), y[i])
        loss.backward()
        opt.step()


epoch()  # warm-up
times = []
for _ in range(repeats):
    t0 = time.perf_counter()
    epoch()
    times.append(time.perf_counter() - t0)
times.sort()
med = times[len(times) // 2]
print(json.dumps({"engine": "pytorch", "version": torch.__version__, "threads": threads,
                  "samplesPerSecond": iters * 64 / med, "medianSeconds": med}))
