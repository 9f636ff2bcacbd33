// a * b + c on f32x4 lanes. The kernels are compiled twice (scripts/buildWasm.mjs): with relaxed SIMD
// this is f32x4.relaxed_madd, one fused multiply-add instruction on x86 with FMA3 (rounded once, so
// results differ from the other build in the last bits); without, a multiplication and an addition,
// each rounded. The engine runs the relaxed build where the runtime validates it (src/engine/wasmKernels.ts).
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}
