/**
 * AlexNet and ResNet-18 by their summaries: seed 000's AlexNet (227x227x3, one tower) layer by
 * layer with its errata, the original two-GPU (grouped) AlexNet, torchvision's alexnet() and
 * resnet18(), and their parameter counts.
 */
import * as path from 'path';
import { models, nn, receptiveField, viz } from '../../lib/index';
import { Lesson, fmt, runAsScript } from './lesson';

/** Seed 000's AlexNet (000 L184-242) with MaxPool-3 at stride 2; groups 2 where the two GPUs split. */
export function alexnetSeed000(grouped = false): nn.Sequential {
  const g = grouped ? 2 : 1;
  return new nn.Sequential({
    conv1: new nn.Conv2d(3, 96, 11, { stride: 4 }), relu1: new nn.ReLU(), pool1: new nn.MaxPool2d(3, { stride: 2 }),
    conv2: new nn.Conv2d(96, 256, 5, { padding: 2, groups: g }), relu2: new nn.ReLU(), pool2: new nn.MaxPool2d(3, { stride: 2 }),
    conv3: new nn.Conv2d(256, 384, 3, { padding: 1 }), relu3: new nn.ReLU(),
    conv4: new nn.Conv2d(384, 384, 3, { padding: 1, groups: g }), relu4: new nn.ReLU(),
    conv5: new nn.Conv2d(384, 256, 3, { padding: 1, groups: g }), relu5: new nn.ReLU(), pool3: new nn.MaxPool2d(3, { stride: 2 }),
    flatten: new nn.Flatten(),
    fc1: new nn.Linear(6 * 6 * 256, 4096), relu6: new nn.ReLU(),
    fc2: new nn.Linear(4096, 4096), relu7: new nn.ReLU(),
    fc3: new nn.Linear(4096, 1000),
  });
}

export const lesson: Lesson = {
  name: '09-architectures',
  title: 'AlexNet and ResNet-18: summaries and parameter counts',
  run(out, log) {
    const alex = alexnetSeed000();
    const s = alex.summary([3, 227, 227]);
    const layers = s.rows.filter((r) => /conv|pool|fc/.test(r.name)).map((r) => ({ name: r.name, shape: r.outputShape, params: r.params }));
    log("seed 000's AlexNet, 227x227x3 input:");
    for (const l of layers) log(`  ${l.name.padEnd(6)} ${JSON.stringify(l.shape).padEnd(18)} ${fmt(l.params).padStart(11)}`);
    log(`  total ${fmt(s.totalParams)}`);
    const fc1 = layers.find((l) => l.name === 'fc1')!.params;
    log(`errata: FC-1 has 6*6*256*4096 + 4096 = ${fmt(fc1)} parameters (seed: 91,152,832); MaxPool-3 must have stride 2: ` +
      `stride 3 gives floor((13 - 3)/3) + 1 = ${Math.floor((13 - 3) / 3) + 1}, not the 6x6x256 that FC-1 reads; CONV-5 is 13x13x256`);
    const fields = receptiveField(alex, [3, 227, 227]).map((r) => r.size);
    log(`receptive fields of the conv and pool layers: ${fields.join(', ')}`);
    viz.receptiveField(new nn.Sequential(...[...alex.children()].slice(0, 13)), [3, 227, 227], path.join(out, 'alexnet-receptive-field.png'),
      { title: "seed 000's AlexNet, 227x227" });
    alex.dispose();
    const grouped = alexnetSeed000(true);
    const groupedParams = grouped.numParameters();
    grouped.dispose();
    log(`the original two-GPU AlexNet (conv2, conv4, conv5 split in 2 groups): ${fmt(groupedParams)} parameters`);
    const tv = models.alexnet();
    const tvParams = tv.numParameters();
    tv.dispose();
    log(`torchvision's alexnet() (64/192/384/256/256 channels, 224 input): ${fmt(tvParams)}`);
    const r18 = models.resnet18();
    const rs = r18.summary([3, 224, 224]);
    const stages = ['conv1', 'maxpool', 'layer1.1.relu', 'layer2.1.relu', 'layer3.1.relu', 'layer4.1.relu', 'avgpool']
      .map((n) => rs.rows.filter((r) => r.name === n).pop()!.outputShape[2]);
    log(`ResNet-18, 224x224: spatial size ${stages.join(' -> ')}; ${fmt(rs.totalParams)} parameters`);
    viz.filters(r18.conv1, path.join(out, 'resnet18-conv1-init.png'), { title: 'ResNet-18 conv1 at init (kaiming normal)' });
    r18.dispose();
    return { layers, total: s.totalParams, fc1, fields, grouped: groupedParams, torchvision: tvParams, resnet18: rs.totalParams, resnetSizes: stages };
  },
};

if (require.main === module) runAsScript(lesson);
