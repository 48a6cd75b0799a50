/** Model constructors with torchvision's structure and state-dict keys. */
export { lenet5, LeNet5 } from './lenet5';
export type { LeNet5Options } from './lenet5';
export { alexnet, AlexNet } from './alexnet';
export { resnet18, resnet34, ResNet, BasicBlock } from './resnet';
