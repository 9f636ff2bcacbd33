// The module's exports: matrix products and fused gate nonlinearities.
export { matmulABt, matmulAB, matmulAtB } from './matmul';
export { gruGates, lstmGates, tanhInPlace } from './gates';
