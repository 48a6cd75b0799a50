/**
 * LeNet-5's feature maps of a real digit: the network trained briefly on a subset of the MNIST
 * digits that ship in the `mnist` package, then forward hooks capture what conv1 and conv2 make of
 * one held-out digit.
 */
import * as path from 'path';
import { Tensor, evaluate, fit, keep, manualSeed, models, noGrad, optim, viz } from '../../lib/index';
import { loadMnist } from '../mnist-data';
import { Lesson, fmt, runAsScript } from './lesson';

export const lesson: Lesson = {
  name: '08-lenet5',
  title: "LeNet-5's feature maps of a trained digit",
  run(out, log) {
    manualSeed(16);
    const { train, test } = loadMnist({ perClass: 400 });
    const net = models.lenet5({ inputSize: 28 });
    const perLayer = net.summary([1, 28, 28]).rows.filter((r) => r.params > 0).map((r) => r.params);
    log(`LeNet-5 (28x28 input, padding 2): parameters per layer ${perLayer.map(fmt).join(' + ')} = ${fmt(net.numParameters())}`);
    const optimizer = new optim.SGD(net.parameters(), { lr: 0.02, momentum: 0.9 });
    const history = fit(net, train, { epochs: 3, batchSize: 32, optimizer, validation: test, progress: false });
    const acc = evaluate(net, test).accuracy;
    log(`trained 3 epochs on ${train.x.shape[0]} digits: held-out accuracy ${(100 * acc).toFixed(1)}% on ${test.x.shape[0]} digits`);
    // A held-out 7.
    const idx = Array.from(test.y).indexOf(7);
    const digit = Tensor.wrap(test.x.data.slice(idx * 784, (idx + 1) * 784), [1, 1, 28, 28]);
    net.eval();
    const maps: Record<string, Tensor> = {};
    const names: [number, string][] = [[0, 'conv1'], [1, 'relu1'], [2, 'pool1'], [3, 'conv2'], [5, 'pool2']];
    const handles = names.map(([i, n]) => net.features.at(i).registerForwardHook((_m, _x, y) => { maps[n] = keep(y); }));
    const logits = noGrad(() => net.forward(digit));
    for (const h of handles) h.remove();
    let pred = 0;
    for (let k = 1; k < 10; k++) if (logits.data[k] > logits.data[pred]) pred = k;
    const shapes = Object.fromEntries(Object.entries(maps).map(([k, t]) => [k, t.shape]));
    log(`the digit (label 7) is predicted as ${pred}; feature-map shapes: ${Object.entries(shapes).map(([k, s]) => `${k} ${JSON.stringify(s)}`).join(', ')}`);
    viz.image(digit, path.join(out, 'digit.png'), { scale: 8 });
    viz.featureMaps(maps.conv1, path.join(out, 'conv1.png'), { cols: 6, title: 'conv1: 6 maps 28x28', colormap: 'rdbu' });
    viz.featureMaps(maps.relu1, path.join(out, 'relu1.png'), { cols: 6, title: 'after ReLU: negatives are 0' });
    viz.featureMaps(maps.pool1, path.join(out, 'pool1.png'), { cols: 6, title: 'max pool: 6 maps 14x14' });
    viz.featureMaps(maps.conv2, path.join(out, 'conv2.png'), { cols: 8, title: 'conv2: 16 maps 10x10', colormap: 'rdbu' });
    viz.featureMaps(maps.pool2, path.join(out, 'pool2.png'), { cols: 8, title: 'max pool: 16 maps 5x5' });
    viz.filters(net.features.at(0) as never, path.join(out, 'conv1-filters.png'), { scale: 10 });
    viz.history(history, path.join(out, 'training.png'));
    for (const t of Object.values(maps)) t.dispose();
    return { params: net.numParameters(), perLayer, accuracy: acc, predicted: pred, shapes };
  },
};

if (require.main === module) runAsScript(lesson);
