#!/usr/bin/env python3
"""The model zoo of `npm run bench:zoo` (bench/zoo.ts): torchvision classification CNNs exported to
ONNX with PyTorch's own outputs beside them. Runs on Debian's python3-torch / python3-torchvision /
python3-onnx (torch 1.13, torchvision 0.14, onnx 1.12) and downloads nothing: every model is built
with weights=None and random weights.

  /usr/bin/python3 scripts/zoo-export.py [OUT_DIR] [--only resnet18,mobilenet_v2] [--force] [--list]

OUT_DIR (default build-fixtures/zoo, gitignored) receives, per model:

  <name>.onnx                 opset 13, dynamic batch ('input' / 'output', dim 0 named 'batch'),
                              constant folding on, BatchNormalization nodes kept (not folded by
                              the exporter)
  <name>.input.b1.bin         input batch 1, raw float32 little-endian, NCHW
  <name>.input.b8.bin         input batch 8 (its first image is the batch-1 input)
  <name>.output.b1.bin        PyTorch's eval-mode output for each input
  <name>.output.b8.bin

and manifest.json (names, shapes, files, sizes, the torch / torchvision / onnx versions). A model
whose files and manifest entry exist is skipped unless --force; the manifest is rewritten after
each model, so an interrupted run keeps what it finished.

Weights: torchvision's own initialisation under a per-model seed (crc32 of the name, so a model's
files do not depend on which others were selected), then every batch norm's running_mean ~
N(0, 0.1), running_var ~ U(0.5, 2), weight ~ U(0.5, 1.5), bias ~ N(0, 0.1): with the constructors'
identity statistics a wrong batch-norm fold (mean and variance swapped, epsilon dropped, scale
applied twice) would produce the right numbers and go unnoticed.
"""
import argparse
import json
import os
import sys
import time
import warnings
import zlib

import onnx
import torch
import torch.nn as nn
import torchvision

OPSET = 13
BATCHES = (1, 8)
MANIFEST_FORMAT = 1


def tv(name, **kw):
    """A torchvision builder with no weights (nothing is downloaded)."""
    return lambda: getattr(torchvision.models, name)(weights=None, **kw)


# name -> (builder, input height = width). Inception-style models as torchvision builds them:
# GoogLeNet runs at 224, Inception-v3 needs 299 (its stem and pools are sized for it).
MODELS = {
    "squeezenet1_1": (tv("squeezenet1_1"), 224),
    "squeezenet1_0": (tv("squeezenet1_0"), 224),
    "resnet18": (tv("resnet18"), 224),
    "resnet34": (tv("resnet34"), 224),
    "resnet50": (tv("resnet50"), 224),
    "resnext50_32x4d": (tv("resnext50_32x4d"), 224),
    "mobilenet_v2": (tv("mobilenet_v2"), 224),
    "mobilenet_v3_small": (tv("mobilenet_v3_small"), 224),
    "mobilenet_v3_large": (tv("mobilenet_v3_large"), 224),
    "efficientnet_b0": (tv("efficientnet_b0"), 224),
    "mnasnet0_5": (tv("mnasnet0_5"), 224),
    "mnasnet1_0": (tv("mnasnet1_0"), 224),
    "shufflenet_v2_x0_5": (tv("shufflenet_v2_x0_5"), 224),
    "shufflenet_v2_x1_0": (tv("shufflenet_v2_x1_0"), 224),
    "regnet_x_400mf": (tv("regnet_x_400mf"), 224),
    "regnet_y_400mf": (tv("regnet_y_400mf"), 224),
    "densenet121": (tv("densenet121"), 224),
    "googlenet": (tv("googlenet", aux_logits=False, init_weights=True), 224),
    "inception_v3": (tv("inception_v3", aux_logits=False, init_weights=True), 299),
    "convnext_tiny": (tv("convnext_tiny"), 224),
    "alexnet": (tv("alexnet"), 224),
    "vgg11_bn": (tv("vgg11_bn"), 224),
}


def seed_of(name):
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


def perturb_batch_norms(model, gen):
    """Moves every batch norm's statistics and affine parameters away from 0 / 1 (see the top)."""
    count = 0
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                n = m.num_features
                m.running_mean.copy_(torch.randn(n, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(n, generator=gen) * 1.5 + 0.5)
                if m.affine:
                    m.weight.copy_(torch.rand(n, generator=gen) + 0.5)
                    m.bias.copy_(torch.randn(n, generator=gen) * 0.1)
                count += 1
    return count


def write_f32(t, path):
    # numpy's float32 '<f4' is little-endian whatever the host; .tobytes() is C order (NCHW).
    a = t.detach().contiguous().cpu().numpy().astype("<f4", copy=False)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(a.tobytes())
    os.replace(tmp, path)


def files_of(name):
    f = {"onnx": f"{name}.onnx"}
    for b in BATCHES:
        f[f"input.b{b}"] = f"{name}.input.b{b}.bin"
        f[f"output.b{b}"] = f"{name}.output.b{b}.bin"
    return f


def export_one(name, out):
    build, size = MODELS[name]
    seed = seed_of(name)
    t0 = time.time()
    torch.manual_seed(seed)
    model = build()
    gen = torch.Generator().manual_seed(seed)
    n_bn = perturb_batch_norms(model, gen)
    model.eval()
    params = sum(p.numel() for p in model.parameters())

    x8 = torch.randn(max(BATCHES), 3, size, size, generator=gen)
    inputs = {b: x8[:b].clone() for b in BATCHES}
    with torch.no_grad():
        outputs = {b: model(inputs[b]) for b in BATCHES}
    for b in BATCHES:
        if not torch.isfinite(outputs[b]).all():
            raise RuntimeError(f"{name}: PyTorch's output for batch {b} is not finite")

    files = files_of(name)
    onnx_path = os.path.join(out, files["onnx"])
    tmp = onnx_path + ".tmp"
    with torch.no_grad(), warnings.catch_warnings():
        # torch 1.13 warns that constant folding with PRESERVE could fold learnable parameters of a
        # model in training mode (ours is in eval mode, so nothing learnable changes), and about
        # tracer internals; the checker below is the real gate.
        warnings.simplefilter("ignore")
        # training=PRESERVE on a model in eval() exports inference semantics (Dropout an identity,
        # BatchNormalization with running statistics) but skips the exporter's eval peephole pass,
        # which would fold every Conv+BatchNorm pair into the Conv's weights in PyTorch: the graph
        # keeps its BatchNormalization nodes, so the engine under test does the folding and the
        # perturbed statistics above check it.
        torch.onnx.export(
            model, inputs[1], tmp, opset_version=OPSET, input_names=["input"], output_names=["output"],
            dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, do_constant_folding=True,
            training=torch.onnx.TrainingMode.PRESERVE,
        )
    # The path form of check_model also handles files over protobuf's 2 GB message limit.
    onnx.checker.check_model(tmp, full_check=True)
    os.replace(tmp, onnx_path)
    for b in BATCHES:
        write_f32(inputs[b], os.path.join(out, files[f"input.b{b}"]))
        write_f32(outputs[b], os.path.join(out, files[f"output.b{b}"]))

    nodes = onnx.load(onnx_path, load_external_data=False).graph.node
    ops = sorted({n.op_type for n in nodes})
    bn_nodes = sum(1 for n in nodes if n.op_type == "BatchNormalization")
    if bn_nodes != n_bn:
        raise RuntimeError(f"{name}: the model has {n_bn} batch norms but the ONNX graph {bn_nodes} BatchNormalization nodes")
    return {
        "name": name,
        "input_name": "input",
        "output_name": "output",
        # Shapes at batch 1; dim 0 is the dynamic 'batch' axis, the batch-8 files have 8 there.
        "input_shape": list(inputs[1].shape),
        "output_shape": list(outputs[1].shape),
        "batches": list(BATCHES),
        "files": files,
        "onnx_bytes": os.path.getsize(onnx_path),
        "parameters": params,
        "batch_norms": n_bn,
        "onnx_ops": ops,
        "seed": seed,
        "opset": OPSET,
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "onnx": onnx.__version__,
        "export_seconds": round(time.time() - t0, 2),
    }


def load_manifest(path):
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        m = json.load(f)
    return {e["name"]: e for e in m.get("models", [])}


def write_manifest(path, entries):
    m = {
        "format": MANIFEST_FORMAT,
        "generator": "scripts/zoo-export.py",
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "onnx": onnx.__version__,
        "opset": OPSET,
        "updated": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        # Registry order, whatever order the models were exported in.
        "models": [entries[n] for n in MODELS if n in entries],
    }
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(m, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description="Export torchvision CNNs (random weights) to ONNX with PyTorch's outputs.")
    ap.add_argument("out", nargs="?", default="build-fixtures/zoo", help="output directory (default build-fixtures/zoo)")
    ap.add_argument("--only", help="comma-separated model names (default: all)")
    ap.add_argument("--force", action="store_true", help="re-export models that are already there")
    ap.add_argument("--list", action="store_true", help="print the model names and exit")
    args = ap.parse_args()
    if args.list:
        print("\n".join(f"{n} ({s}x{s})" for n, (_, s) in MODELS.items()))
        return 0
    names = list(MODELS)
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in MODELS]
        if unknown:
            print(f"zoo-export: unknown model(s) {', '.join(unknown)}; known: {', '.join(MODELS)}", file=sys.stderr)
            return 2

    os.makedirs(args.out, exist_ok=True)
    manifest_path = os.path.join(args.out, "manifest.json")
    entries = load_manifest(manifest_path)
    # Each forward here is a reference, not a benchmark: one thread leaves the other core to
    # whoever else shares the machine, and the export takes seconds per model either way.
    torch.set_num_threads(1)
    print(f"zoo-export: torch {torch.__version__}, torchvision {torchvision.__version__}, onnx {onnx.__version__}, "
          f"opset {OPSET}, {len(names)} model(s) into {args.out}", flush=True)
    t_all = time.time()
    failed = []
    for i, name in enumerate(names, 1):
        tag = f"[{i}/{len(names)}] {name}"
        have = name in entries and all(os.path.exists(os.path.join(args.out, f)) for f in files_of(name).values())
        if have and not args.force:
            print(f"{tag}: already exported, skipped (--force to redo)", flush=True)
            continue
        print(f"{tag}: building, running PyTorch at batch {' and '.join(map(str, BATCHES))}, exporting ...", end=" ", flush=True)
        try:
            e = export_one(name, args.out)
        except Exception as ex:  # one model's failure must not lose the others
            print(f"FAILED: {type(ex).__name__}: {str(ex).splitlines()[0] if str(ex) else ''}", flush=True)
            failed.append(name)
            continue
        entries[name] = e
        write_manifest(manifest_path, entries)
        print(f"{e['onnx_bytes'] / 2**20:.1f} MiB, {e['parameters'] / 1e6:.2f} M params, {e['batch_norms']} batch norms, "
              f"{e['export_seconds']:.1f} s", flush=True)
    write_manifest(manifest_path, entries)
    print(f"zoo-export: done in {time.time() - t_all:.1f} s; manifest {manifest_path} lists {len(entries)} model(s)"
          + (f"; FAILED: {', '.join(failed)}" if failed else ""), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
