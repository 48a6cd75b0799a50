#!/usr/bin/env python3
"""Reference fixtures computed by PyTorch (Debian's python3-torch / python3-torchvision), for
`npm run test:torch`. Writes safetensors files (format written by hand below, so nothing beyond
torch is needed) into the directory given as argv[1]:

  resnet18.safetensors   torchvision resnet18 state dict (random init, randomised BN statistics)
  resnet18-io.safetensors  input x [2,3,96,96], eval logits, train-mode logits, targets, loss and
                           the gradients of conv1.weight, layer4.1.bn2.weight and fc.weight
  lenet5.safetensors     a LeNet-5 (simdcnn's models.lenet5 structure) state dict plus input,
                         logits, and parameter gradients of a cross-entropy loss

Large generated files are not committed; .ci/run runs this script before the torch tests.
"""
import json
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


def save_safetensors(tensors, path):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        if t.dtype == torch.int64:
            dtype = "I64"
        else:
            t = t.to(torch.float32)
            dtype = "F32"
        data = t.numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * ((8 - len(raw) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)


def resnet18_fixtures(out):
    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.num_batches_tracked.fill_(3)
    save_safetensors(model.state_dict(), os.path.join(out, "resnet18.safetensors"))
    torch.save(model.state_dict(), os.path.join(out, "resnet18.pt"))
    # At 96x96 input, layer4 sees 3x3 maps: 18 values per channel in a training-mode batch norm. A
    # ReLU input within float32 rounding of zero there flips between engines and moves that
    # channel's gradient by several percent, so draw an input whose layer4 ReLU inputs all keep a
    # margin from the kink (the same reason finite-difference tests avoid kinks).
    margin = []
    hooks = [m.register_forward_hook(lambda mod, inp, out: margin.append(inp[0].abs().min().item()))
             for m in model.layer4.modules() if isinstance(m, nn.ReLU)]
    for _ in range(50):
        x = torch.randn(2, 3, 96, 96)
        margin.clear()
        model.train()
        with torch.no_grad():
            model(x)
        if min(margin) > 1e-4:
            break
    for h in hooks:
        h.remove()
    # Undo the running-stat updates of the probe passes.
    model.load_state_dict(torch.load(os.path.join(out, "resnet18.pt")))
    model.eval()
    with torch.no_grad():
        eval_logits = model(x)
    model.train()
    targets = torch.tensor([3, 917])
    train_logits = model(x)
    loss = F.cross_entropy(train_logits, targets)
    model.zero_grad()
    loss.backward()
    sd_after = {k: v for k, v in model.state_dict().items() if "running" in k}
    save_safetensors({
        "x": x, "eval_logits": eval_logits, "train_logits": train_logits, "targets": targets,
        "loss": loss.reshape(1),
        "grad.conv1.weight": model.conv1.weight.grad,
        "grad.layer4.1.bn2.weight": model.layer4[1].bn2.weight.grad,
        "grad.fc.weight": model.fc.weight.grad,
        "grad.layer4.1.conv1.weight": model.layer4[1].conv1.weight.grad,
        "grad.layer1.0.conv2.weight": model.layer1[0].conv2.weight.grad,
        "after.bn1.running_mean": sd_after["bn1.running_mean"],
        "after.bn1.running_var": sd_after["bn1.running_var"],
    }, os.path.join(out, "resnet18-io.safetensors"))


class LeNet5(nn.Module):
    """simdcnn's models.lenet5({ inputSize: 28 }): conv5x5(1->6, pad 2), relu, maxpool2,
    conv5x5(6->16), relu, maxpool2, flatten, linear 400->120->84->10 with relu."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                                        nn.Linear(84, 10))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


def lenet5_fixtures(out):
    torch.manual_seed(1)
    model = LeNet5()
    x = torch.randn(8, 1, 28, 28)
    targets = torch.arange(8) % 10
    logits = model(x)
    loss = F.cross_entropy(logits, targets)
    loss.backward()
    tensors = {k: v.detach().clone() for k, v in model.state_dict().items()}
    tensors.update({"io.x": x, "io.logits": logits, "io.targets": targets, "io.loss": loss.reshape(1)})
    for k, p in model.named_parameters():
        tensors["grad." + k] = p.grad
    # One SGD step (momentum 0.9, nesterov off, weight decay 1e-4) from the same weights.
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    opt.step()
    for k, p in model.named_parameters():
        tensors["step1." + k] = p.detach().clone()
    save_safetensors(tensors, os.path.join(out, "lenet5.safetensors"))


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "build-fixtures/torch"
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    resnet18_fixtures(out)
    lenet5_fixtures(out)
    print("torch", torch.__version__, "torchvision", torchvision.__version__, "fixtures in", out)
