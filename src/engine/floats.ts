// Kernels are written once over both float widths: Float32Array for training and sampling,
// Float64Array so finite-difference gradient checks can use tolerances near 1e-6.
export type Floats = Float32Array | Float64Array;
export type FloatsConstructor = Float32ArrayConstructor | Float64ArrayConstructor;
