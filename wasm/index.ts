// The module's exports: matrix products, fused gate nonlinearities and their backward loops, and the
// per-row work around them (bias sums, softmax cross-entropy, one-hot gather/scatter, sampling).
export { matmulABt, matmulAB, matmulAtB } from './matmul';
export { gruGates, lstmGates, tanhInPlace } from './gates';
export { gruBackward, lstmBackward, tanhBackward } from './backward';
export { addColumnSums, crossEntropyGradient, gatherColumnsAdd, sampleSoftmax, scatterColumnsAdd, softmaxCrossEntropy } from './rows';
export { stepModel } from './step';
export { adagradStep, adamStep, addInto, rmspropStep, scaleInPlace, sgdStep, sumSquares } from './optim';
