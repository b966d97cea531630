// Pillow's resampling (libImaging/Resample.c), ported so that resized pixels are bit-identical
// with PIL's Image.resize for 8-bit RGB: separable convolution (horizontal pass, then vertical),
// antialiased by widening the filter with the scale, fixed-point coefficients (22 bits) and
// rounding to 8 bits after each pass.

/** PIL resampling filters (the numbers are PIL's / preprocessor_config.json's `resample`). */
export type ResampleFilter = 'nearest' | 'box' | 'bilinear' | 'hamming' | 'bicubic' | 'lanczos';
export const PIL_RESAMPLE_CODES: Readonly<Record<number, ResampleFilter>> = {
  0: 'nearest',
  1: 'lanczos',
  2: 'bilinear',
  3: 'bicubic',
  4: 'box',
  5: 'hamming',
};

const PRECISION_BITS = 32 - 8 - 2;

function sinc(x: number): number {
  if (x === 0) return 1;
  x *= Math.PI;
  return Math.sin(x) / x;
}
const FILTERS: Record<Exclude<ResampleFilter, 'nearest'>, { fn: (x: number) => number; support: number }> = {
  box: { fn: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0), support: 0.5 },
  bilinear: { fn: (x) => (x < 0 ? (x > -1 ? 1 + x : 0) : x < 1 ? 1 - x : 0), support: 1 },
  hamming: {
    fn: (x) => {
      if (x < 0) x = -x;
      if (x === 0) return 1;
      if (x >= 1) return 0;
      x *= Math.PI;
      return (Math.sin(x) / x) * (0.54 + 0.46 * Math.cos(x));
    },
    support: 1,
  },
  bicubic: {
    fn: (x) => {
      const a = -0.5;
      if (x < 0) x = -x;
      if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
      if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
      return 0;
    },
    support: 2,
  },
  lanczos: { fn: (x) => (x > -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0), support: 3 },
};

interface Coeffs {
  ksize: number;
  bounds: Int32Array; // [xmin, count] per output pixel
  kk: Int32Array; // fixed-point weights, ksize per output pixel
}

function precompute(inSize: number, outSize: number, filter: (typeof FILTERS)[keyof typeof FILTERS], in1 = inSize): Coeffs {
  const scale = in1 / outSize;
  const filterscale = Math.max(scale, 1);
  const support = filter.support * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const kk = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  const ss = 1 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = filter.fn((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < ksize; x++) {
      const v = x < xmax && ww !== 0 ? k[x]! / ww : x < xmax ? k[x]! : 0;
      kk[xx * ksize + x] = v < 0 ? Math.trunc(-0.5 + v * (1 << PRECISION_BITS)) : Math.trunc(0.5 + v * (1 << PRECISION_BITS));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, kk };
}

const HALF = 1 << (PRECISION_BITS - 1);
function clip8(v: number): number {
  const r = v >> PRECISION_BITS;
  return r < 0 ? 0 : r > 255 ? 255 : r;
}

// The sums below stay in int32 (|0, Math.imul): weights are ≤ ~1.2 × 2^22 in total and pixels
// ≤ 255, so no partial sum reaches 2^31, and V8 keeps the loops in integer registers.
function horizontal(src: Uint8Array, srcW: number, rowOffset: number, rows: number, x0: number, x1: number, c: Coeffs): Uint8Array {
  const outW = x1 - x0;
  const out = new Uint8Array(outW * rows * 3);
  const { ksize, bounds, kk } = c;
  for (let y = 0; y < rows; y++) {
    const rowBase = (y + rowOffset) * srcW * 3;
    let o = y * outW * 3;
    for (let xx = x0; xx < x1; xx++, o += 3) {
      const n = bounds[xx * 2 + 1]! | 0;
      let k = (xx * ksize) | 0;
      let p = (rowBase + bounds[xx * 2]! * 3) | 0;
      let s0 = HALF;
      let s1 = HALF;
      let s2 = HALF;
      for (let x = 0; x < n; x++, p += 3, k++) {
        const w = kk[k]!;
        s0 = (s0 + Math.imul(src[p]!, w)) | 0;
        s1 = (s1 + Math.imul(src[p + 1]!, w)) | 0;
        s2 = (s2 + Math.imul(src[p + 2]!, w)) | 0;
      }
      out[o] = clip8(s0);
      out[o + 1] = clip8(s1);
      out[o + 2] = clip8(s2);
    }
  }
  return out;
}

function vertical(src: Uint8Array, width: number, y0: number, y1: number, c: Coeffs, shift: number): Uint8Array {
  const out = new Uint8Array(width * (y1 - y0) * 3);
  const { ksize, bounds, kk } = c;
  const stride = width * 3;
  const rows = src.length / stride;
  const acc = new Int32Array(stride);
  for (let yy = y0; yy < y1; yy++) {
    const n = bounds[yy * 2 + 1]! | 0;
    const kb = (yy * ksize) | 0;
    const ymin = bounds[yy * 2]! - shift;
    const outBase = ((yy - y0) * stride) | 0;
    if (n <= 8 && rows >= 8) {
      // Up to 8 taps (every downscale by less than ~2.5×): weights and row offsets in locals, the
      // window moved up to stay inside the image with zero weights for the rows it adds.
      const top = Math.min(ymin, rows - 8);
      const d = ymin - top;
      const w = (k: number) => (k >= d && k - d < n ? kk[kb + k - d]! : 0);
      const w0 = w(0), w1 = w(1), w2 = w(2), w3 = w(3), w4 = w(4), w5 = w(5), w6 = w(6), w7 = w(7);
      const r0 = top * stride;
      const r1 = r0 + stride, r2 = r1 + stride, r3 = r2 + stride, r4 = r3 + stride, r5 = r4 + stride, r6 = r5 + stride, r7 = r6 + stride;
      for (let i = 0; i < stride; i++) {
        const s =
          (HALF +
            Math.imul(src[r0 + i]!, w0) +
            Math.imul(src[r1 + i]!, w1) +
            Math.imul(src[r2 + i]!, w2) +
            Math.imul(src[r3 + i]!, w3) +
            Math.imul(src[r4 + i]!, w4) +
            Math.imul(src[r5 + i]!, w5) +
            Math.imul(src[r6 + i]!, w6) +
            Math.imul(src[r7 + i]!, w7)) |
          0;
        out[outBase + i] = clip8(s);
      }
      continue;
    }
    // Many taps: row by row, sequential reads of each source row, one weight per row.
    acc.fill(HALF);
    for (let y = 0; y < n; y++) {
      const w = kk[kb + y]!;
      const row = (ymin + y) * stride;
      for (let i = 0; i < stride; i++) acc[i] = (acc[i]! + Math.imul(src[row + i]!, w)) | 0;
    }
    for (let i = 0; i < stride; i++) out[outBase + i] = clip8(acc[i]!);
  }
  return out;
}

function nearest(src: Uint8Array, w: number, h: number, outW: number, outH: number): Uint8Array {
  // PIL's affine nearest: source = floor((x + 0.5) * scale).
  const out = new Uint8Array(outW * outH * 3);
  for (let y = 0; y < outH; y++) {
    const sy = Math.min(h - 1, Math.floor((y + 0.5) * (h / outH)));
    for (let x = 0; x < outW; x++) {
      const sx = Math.min(w - 1, Math.floor((x + 0.5) * (w / outW)));
      const s = (sy * w + sx) * 3;
      const o = (y * outW + x) * 3;
      out[o] = src[s]!;
      out[o + 1] = src[s + 1]!;
      out[o + 2] = src[s + 2]!;
    }
  }
  return out;
}

/**
 * Box-averages packed RGB by integer factors (PIL's Image.reduce): each output pixel is the
 * rounded mean of its `fx × fy` block; blocks at the right/bottom edge average what they cover.
 */
export function reduceRgb(src: Uint8Array, w: number, h: number, fx: number, fy: number): { rgb: Uint8Array; width: number; height: number } {
  const ow = Math.ceil(w / fx);
  const oh = Math.ceil(h / fy);
  const out = new Uint8Array(ow * oh * 3);
  const acc = new Uint32Array(ow * 3);
  for (let oy = 0; oy < oh; oy++) {
    acc.fill(0);
    const y0 = oy * fy;
    const y1 = Math.min(h, y0 + fy);
    for (let y = y0; y < y1; y++) {
      let p = y * w * 3;
      for (let ox = 0, x0 = 0; ox < ow; ox++, x0 += fx) {
        const xe = Math.min(w, x0 + fx);
        let a0 = 0;
        let a1 = 0;
        let a2 = 0;
        for (let x = x0; x < xe; x++, p += 3) {
          a0 += src[p]!;
          a1 += src[p + 1]!;
          a2 += src[p + 2]!;
        }
        const o = ox * 3;
        acc[o]! += a0;
        acc[o + 1]! += a1;
        acc[o + 2]! += a2;
      }
    }
    const rows = y1 - y0;
    for (let ox = 0; ox < ow; ox++) {
      const n = rows * (Math.min(w, (ox + 1) * fx) - ox * fx);
      const o = (oy * ow + ox) * 3;
      out[o] = Math.round(acc[ox * 3]! / n);
      out[o + 1] = Math.round(acc[ox * 3 + 1]! / n);
      out[o + 2] = Math.round(acc[ox * 3 + 2]! / n);
    }
  }
  return { rgb: out, width: ow, height: oh };
}

/**
 * Resizes packed 8-bit RGB (`w × h × 3`) to `outW × outH` exactly as PIL's `Image.resize(size, filter)`.
 * Returns the input unchanged when the size does not change. Cost: O(outW·h·taps + outW·outH·taps).
 *
 * `reducingGap` (PIL's parameter of the same name, default off): when the image is more than
 * `reducingGap` times larger than needed, it is first box-reduced by an integer factor, keeping
 * at least `reducingGap` times the output size, then resampled. Much faster for large photos;
 * with a gap of 3 the result differs from the exact resize by well under one level on average.
 */
export function resampleRgb(
  src: Uint8Array,
  w: number,
  h: number,
  outW: number,
  outH: number,
  filter: ResampleFilter = 'bicubic',
  reducingGap?: number,
  box?: { width: number; height: number },
  window?: Window,
): Uint8Array {
  // `box`: the extent of the source area in `src` pixels (PIL's `box`), when `src` is an already
  // reduced image whose last row/column covers only part of a block (e.g. a DCT-scaled JPEG).
  // `window`: only this part of the output is computed and returned (a center crop's pixels).
  let in1W = box?.width ?? w;
  let in1H = box?.height ?? h;
  const win = window ?? { left: 0, top: 0, width: outW, height: outH };
  const x0 = Math.max(0, win.left);
  const x1 = Math.min(outW, win.left + win.width);
  const y0 = Math.max(0, win.top);
  const y1 = Math.min(outH, win.top + win.height);
  const full = x0 === 0 && y0 === 0 && x1 === outW && y1 === outH;
  if (outW === w && outH === h && in1W === w && in1H === h) return full ? src : cropRgb(src, w, x0, y0, x1, y1);
  if (filter === 'nearest') {
    const out = nearest(src, w, h, outW, outH);
    return full ? out : cropRgb(out, outW, x0, y0, x1, y1);
  }
  const f = FILTERS[filter];
  if (reducingGap !== undefined && reducingGap >= 1) {
    const fx = Math.max(1, Math.trunc(in1W / outW / reducingGap));
    const fy = Math.max(1, Math.trunc(in1H / outH / reducingGap));
    if (fx > 1 || fy > 1) {
      const reduced = reduceRgb(src, w, h, fx, fy);
      src = reduced.rgb;
      in1W /= fx;
      in1H /= fy;
      w = reduced.width;
      h = reduced.height;
    }
  }
  const needH = outW !== w || in1W !== w;
  const needV = outH !== h || in1H !== h;
  if (!needH) {
    // Same width: the vertical pass alone, on the window's columns.
    if (!full) src = cropRgb(src, w, x0, 0, x1, h);
    const cv = precompute(h, outH, f, in1H);
    return vertical(src, x1 - x0, y0, y1, cv, 0);
  }
  const ch = precompute(w, outW, f, in1W);
  if (!needV) return horizontal(src, w, y0, y1 - y0, x0, x1, ch);
  const cv = precompute(h, outH, f, in1H);
  // Source rows the window's output rows read.
  const first = cv.bounds[y0 * 2]!;
  const last = cv.bounds[(y1 - 1) * 2]! + cv.bounds[(y1 - 1) * 2 + 1]!;
  const img = horizontal(src, w, first, last - first, x0, x1, ch);
  return vertical(img, x1 - x0, y0, y1, cv, first);
}

/** A rectangle of an image, in pixels. */
export interface Window {
  left: number;
  top: number;
  width: number;
  height: number;
}

function cropRgb(src: Uint8Array, w: number, x0: number, y0: number, x1: number, y1: number): Uint8Array {
  const cw = x1 - x0;
  const out = new Uint8Array(cw * (y1 - y0) * 3);
  for (let y = y0; y < y1; y++) out.set(src.subarray((y * w + x0) * 3, (y * w + x1) * 3), (y - y0) * cw * 3);
  return out;
}
