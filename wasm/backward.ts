// The backward gate loops of one time step in WebAssembly SIMD, twins of the reference loops in
// src/engine/gates.ts (which lstm.ts, gru.ts and rnn.ts state the equations of). Byte addresses.
//
// The gradient arriving at a step (dh, and the LSTM's dc) is flushed to zero below 2^-90. A gradient
// that vanishes through time (a classifier's loss at the last of 400 steps) otherwise decays into
// subnormal floats, which x86 computes about a hundred times slower, and WebAssembly has no
// flush-to-zero mode: one update on 400-character e-mails took 7 s instead of 0.2 s. Such a gradient
// is 10^-27 of the loss's and adds nothing any float32 weight could hold.

const TINY: f32 = 8.077936e-28; // 2^-90

@inline function ftz(v: v128): v128 {
  return v128.and(v, f32x4.ge(f32x4.abs(v), f32x4.splat(TINY)));
}

@inline function ftz1(x: f32): f32 {
  return abs<f32>(x) >= TINY ? x : 0;
}

/**
 * LSTM, b rows: act [b, 4H] holds i, f, g, o; tanhC, dh, cPrev [b, H]; dc [b, H] carries dL/dc_p in
 * and dL/dc_{p-1} out; dIn [b, 4H] receives dL/d(pre-activations).
 *   dc = dc + dh o (1 - tanh^2 c);  da_i = dc g i(1-i);  da_f = dc c_{p-1} f(1-f);
 *   da_g = dc i (1-g^2);  da_o = dh tanh(c) o(1-o);  dc_{p-1} = dc f
 */
export function lstmBackward(act: usize, tanhC: usize, dh: usize, cPrev: usize, dc: usize, dIn: usize, b: i32, H: i32): void {
  const rowA = <usize>H << 4;
  const rowH = <usize>H << 2;
  const gH = <usize>H << 2;
  const one = f32x4.splat(1);
  for (let r = 0; r < b; r++) {
    const a = act + <usize>r * rowA;
    const d = dIn + <usize>r * rowA;
    const o = <usize>r * rowH;
    let j = 0;
    for (; j + 4 <= H; j += 4) {
      const q = <usize>j << 2;
      const i = v128.load(a + q);
      const f = v128.load(a + gH + q);
      const g = v128.load(a + 2 * gH + q);
      const og = v128.load(a + 3 * gH + q);
      const tc = v128.load(tanhC + o + q);
      const dhv = ftz(v128.load(dh + o + q));
      const dcv = f32x4.add(ftz(v128.load(dc + o + q)), f32x4.mul(f32x4.mul(dhv, og), f32x4.sub(one, f32x4.mul(tc, tc))));
      v128.store(d + q, f32x4.mul(f32x4.mul(dcv, g), f32x4.mul(i, f32x4.sub(one, i))));
      v128.store(d + gH + q, f32x4.mul(f32x4.mul(dcv, v128.load(cPrev + o + q)), f32x4.mul(f, f32x4.sub(one, f))));
      v128.store(d + 2 * gH + q, f32x4.mul(f32x4.mul(dcv, i), f32x4.sub(one, f32x4.mul(g, g))));
      v128.store(d + 3 * gH + q, f32x4.mul(f32x4.mul(dhv, tc), f32x4.mul(og, f32x4.sub(one, og))));
      v128.store(dc + o + q, f32x4.mul(dcv, f));
    }
    for (; j < H; j++) {
      const q = <usize>j << 2;
      const i = load<f32>(a + q);
      const f = load<f32>(a + gH + q);
      const g = load<f32>(a + 2 * gH + q);
      const og = load<f32>(a + 3 * gH + q);
      const tc = load<f32>(tanhC + o + q);
      const dhv = ftz1(load<f32>(dh + o + q));
      const dcv = ftz1(load<f32>(dc + o + q)) + dhv * og * (1 - tc * tc);
      store<f32>(d + q, dcv * g * (i * (1 - i)));
      store<f32>(d + gH + q, dcv * load<f32>(cPrev + o + q) * (f * (1 - f)));
      store<f32>(d + 2 * gH + q, dcv * i * (1 - g * g));
      store<f32>(d + 3 * gH + q, dhv * tc * (og * (1 - og)));
      store<f32>(dc + o + q, dcv * f);
    }
  }
}

/**
 * GRU, b rows: act [b, 3H] holds r, z, n; dh, hPrev, hn [b, H]; dIn and dHid [b, 3H] receive the
 * input-side and hidden-side pre-activation gradients; dL/dh_{p-1} through the direct path z h_{p-1}
 * is added to (accumulate = 1) or written into dPrev [b, H].
 *   dn = dh (1-z);  dz = dh (h_{p-1} - n);  da_n = dn (1-n^2);  da_r = da_n hn r(1-r);  da_z = dz z(1-z)
 *   dIn = [da_r, da_z, da_n];  dHid = [da_r, da_z, da_n r];  dh_{p-1} (+)= dh z
 */
export function gruBackward(act: usize, dh: usize, hPrev: usize, hn: usize, dIn: usize, dHid: usize, dPrev: usize, accumulate: i32, b: i32, H: i32): void {
  const rowA = <usize>H * 12;
  const rowH = <usize>H << 2;
  const gH = <usize>H << 2;
  const one = f32x4.splat(1);
  for (let r = 0; r < b; r++) {
    const a = act + <usize>r * rowA;
    const di = dIn + <usize>r * rowA;
    const dd = dHid + <usize>r * rowA;
    const o = <usize>r * rowH;
    let j = 0;
    for (; j + 4 <= H; j += 4) {
      const q = <usize>j << 2;
      const rg = v128.load(a + q);
      const z = v128.load(a + gH + q);
      const nv = v128.load(a + 2 * gH + q);
      const dhv = ftz(v128.load(dh + o + q));
      const hp = v128.load(hPrev + o + q);
      const dn = f32x4.mul(dhv, f32x4.sub(one, z));
      const dz = f32x4.mul(dhv, f32x4.sub(hp, nv));
      const dan = f32x4.mul(dn, f32x4.sub(one, f32x4.mul(nv, nv)));
      const dar = f32x4.mul(f32x4.mul(dan, v128.load(hn + o + q)), f32x4.mul(rg, f32x4.sub(one, rg)));
      const daz = f32x4.mul(dz, f32x4.mul(z, f32x4.sub(one, z)));
      v128.store(di + q, dar); v128.store(di + gH + q, daz); v128.store(di + 2 * gH + q, dan);
      v128.store(dd + q, dar); v128.store(dd + gH + q, daz); v128.store(dd + 2 * gH + q, f32x4.mul(dan, rg));
      const direct = f32x4.mul(dhv, z);
      v128.store(dPrev + o + q, accumulate != 0 ? f32x4.add(v128.load(dPrev + o + q), direct) : direct);
    }
    for (; j < H; j++) {
      const q = <usize>j << 2;
      const rg = load<f32>(a + q);
      const z = load<f32>(a + gH + q);
      const nv = load<f32>(a + 2 * gH + q);
      const dhv = ftz1(load<f32>(dh + o + q));
      const hp = load<f32>(hPrev + o + q);
      const dn = dhv * (1 - z);
      const dz = dhv * (hp - nv);
      const dan = dn * (1 - nv * nv);
      const dar = dan * load<f32>(hn + o + q) * (rg * (1 - rg));
      const daz = dz * (z * (1 - z));
      store<f32>(di + q, dar); store<f32>(di + gH + q, daz); store<f32>(di + 2 * gH + q, dan);
      store<f32>(dd + q, dar); store<f32>(dd + gH + q, daz); store<f32>(dd + 2 * gH + q, dan * rg);
      const direct = dhv * z;
      store<f32>(dPrev + o + q, accumulate != 0 ? load<f32>(dPrev + o + q) + direct : direct);
    }
  }
}

/** Vanilla RNN, n floats: da = dh (1 - h^2), since h = tanh(a). */
export function tanhBackward(h: usize, dh: usize, da: usize, n: i32): void {
  const one = f32x4.splat(1);
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const q = <usize>j << 2;
    const hv = v128.load(h + q);
    v128.store(da + q, f32x4.mul(ftz(v128.load(dh + q)), f32x4.sub(one, f32x4.mul(hv, hv))));
  }
  for (; j < n; j++) {
    const q = <usize>j << 2;
    const hv = load<f32>(h + q);
    store<f32>(da + q, ftz1(load<f32>(dh + q)) * (1 - hv * hv));
  }
}
