/**
 * Checks against PyTorch (run by `npm run test:torch`, which first runs scripts/torch-fixtures.py
 * with Debian's python3-torch; the fixtures are generated, never committed).
 */
import * as fs from 'fs';
import * as path from 'path';
import { beforeAll, describe, expect, it } from 'vitest';
import { io, models, noGrad, ops, optim, setBackend, Tensor, tidy } from '../../lib/index';

const dir = process.env.SIMDCNN_TORCH_FIXTURES ?? path.resolve(__dirname, '../../build-fixtures/torch');

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

/** max |got - want| relative to max |want|. */
function relErr(got: Tensor | Float32Array, want: Tensor | Float32Array): number {
  const g = got instanceof Tensor ? got.toArray() : got;
  const w = want instanceof Tensor ? want.toArray() : want;
  expect(g.length).toBe(w.length);
  let m = 0;
  for (let i = 0; i < g.length; i++) m = Math.max(m, Math.abs(g[i] - w[i]));
  return m / maxAbs(w);
}

describe.each(['native', 'js'] as const)('PyTorch reference (%s backend)', (backend) => {
  let sd: Record<string, Tensor>;
  let fx: Record<string, Tensor>;
  beforeAll(() => {
    if (!fs.existsSync(path.join(dir, 'resnet18.safetensors'))) {
      throw new Error(`fixtures missing in ${dir}: run /usr/bin/python3 scripts/torch-fixtures.py ${dir}`);
    }
    sd = io.loadSafetensors(path.join(dir, 'resnet18.safetensors'));
    fx = io.loadSafetensors(path.join(dir, 'resnet18-io.safetensors'));
    setBackend(backend);
  });

  it('resnet18 with torchvision weights reproduces eval logits, train logits, loss, grads and BN stats', () => {
    setBackend(backend);
    const model = models.resnet18();
    model.loadStateDict(sd);
    model.eval();
    const x = fx.x;
    // Planned inference (batch norm folded into the convolutions, fused ReLU): within 1e-4 of the
    // exact result relative to the largest output, as API.md promises.
    const planned = noGrad(() => model.forward(x));
    expect(relErr(planned, fx.eval_logits)).toBeLessThan(1e-4);
    // The exact algorithm (float32, reductions up to 4608 long): far inside that.
    model.setFastInference(false);
    const evalLogits = noGrad(() => model.forward(x));
    expect(relErr(evalLogits, fx.eval_logits)).toBeLessThan(2e-5);
    model.setFastInference(true);

    model.train();
    for (const p of model.parameters()) p.grad = null;
    const logits = model.forward(x);
    expect(relErr(logits, fx.train_logits)).toBeLessThan(2e-5);
    const targets = Int32Array.from(fx.targets.toArray());
    const loss = ops.crossEntropy(logits, targets);
    expect(Math.abs(loss.item() - fx.loss.item())).toBeLessThan(1e-5 * Math.abs(fx.loss.item()) + 1e-6);
    loss.backward();
    const named = Object.fromEntries(model.namedParameters());
    for (const k of ['fc.weight', 'layer4.1.bn2.weight', 'layer4.1.conv1.weight', 'layer1.0.conv2.weight', 'conv1.weight']) {
      expect(relErr(named[k].grad!, fx[`grad.${k}`]), k).toBeLessThan(1e-4);
    }
    const state = model.stateDict();
    expect(relErr(state['bn1.running_mean'], fx['after.bn1.running_mean'])).toBeLessThan(1e-5);
    expect(relErr(state['bn1.running_var'], fx['after.bn1.running_var'])).toBeLessThan(1e-5);
    model.dispose();
  }, 120_000);

  it('lenet5: logits, loss, every parameter gradient and one SGD step match PyTorch', () => {
    setBackend(backend);
    const f = io.loadSafetensors(path.join(dir, 'lenet5.safetensors'));
    const model = models.lenet5({ inputSize: 28 });
    const weights: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(f)) if (!k.includes('.') || /^(features|classifier)\./.test(k)) weights[k] = v;
    model.loadStateDict(weights);
    const logits = model.forward(f['io.x']);
    expect(relErr(logits, f['io.logits'])).toBeLessThan(1e-5);
    const loss = ops.crossEntropy(logits, Int32Array.from(f['io.targets'].toArray()));
    expect(Math.abs(loss.item() - f['io.loss'].item())).toBeLessThan(1e-5);
    const opt = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 1e-4 });
    opt.zeroGrad();
    loss.backward();
    for (const [k, p] of model.namedParameters()) {
      expect(relErr(p.grad!, f[`grad.${k}`]), k).toBeLessThan(1e-4);
    }
    opt.step();
    for (const [k, p] of model.namedParameters()) {
      expect(relErr(p, f[`step1.${k}`]), k).toBeLessThan(1e-5);
    }
    tidy(() => undefined);
    model.dispose();
  });
});
