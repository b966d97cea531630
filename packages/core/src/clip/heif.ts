// HEIC/HEIF decoding with libheif compiled to WebAssembly (libheif-js, with libde265): sharp's
// prebuilt libvips reads HEIF containers but ships no HEVC decoder (it decodes AVIF only).
// Runs in the image workers like every other decode; the module loads on the first HEIC file.
import { createRequire } from 'node:module';

interface HeifImage {
  get_width(): number;
  get_height(): number;
  is_primary(): boolean;
  free(): void;
  display(target: { data: Uint8ClampedArray; width: number; height: number }, done: (result: unknown) => void): void;
}
interface LibHeif {
  ready?: Promise<unknown>;
  HeifDecoder: new () => { decoder: { delete?: () => void } | number | null; decode(bytes: Uint8Array): HeifImage[] };
  heif_context_free?: (ctx: unknown) => void;
}

let module: LibHeif | undefined;

function libheif(): LibHeif {
  // The bundle embeds the .wasm and instantiates synchronously.
  module ??= createRequire(import.meta.url)('libheif-js/wasm-bundle') as LibHeif;
  return module;
}

/** A decoded HEIF image: packed 8-bit RGB, transformations (irot/imir/clap) applied. */
export interface HeifDecoded {
  rgb: Uint8Array;
  width: number;
  height: number;
}

/** Thrown (as a plain Error) when the declared size exceeds the limit; `decodeError` maps it to `too-large`. */
export class HeifPixelLimitError extends Error {
  constructor(
    readonly width: number,
    readonly height: number,
    limit: number,
  ) {
    super(`image exceeds pixel limit: ${width}×${height} is more than ${limit} pixels`);
  }
}

/**
 * Decodes the primary image of a HEIC/HEIF file (not a burst frame, depth map or thumbnail) with
 * its rotation and mirroring applied, the way phones display it. Alpha is dropped. Rejects with
 * a plain Error for corrupt files and {@link HeifPixelLimitError} for images over `limitPixels`.
 */
export async function decodeHeif(bytes: Uint8Array, limitPixels: number): Promise<HeifDecoded> {
  const lib = libheif();
  if (lib.ready) await lib.ready;
  const decoder = new lib.HeifDecoder();
  const images = decoder.decode(bytes);
  try {
    if (images.length === 0) throw new Error('HEIF file holds no decodable image (corrupt, truncated, or not HEIF)');
    const image = images.find((i) => i.is_primary()) ?? images[0]!;
    const width = image.get_width();
    const height = image.get_height();
    if (!(width > 0 && height > 0)) throw new Error(`HEIF image declares an empty ${width}×${height} size`);
    if (width * height > limitPixels) throw new HeifPixelLimitError(width, height, limitPixels);
    const rgba = new Uint8ClampedArray(width * height * 4);
    const ok = await new Promise<boolean>((resolve) => image.display({ data: rgba, width, height }, (result) => resolve(Boolean(result))));
    if (!ok) throw new Error('HEIF decoding failed (damaged image data)');
    const n = width * height;
    const rgb = new Uint8Array(n * 3);
    for (let i = 0, s = 0, d = 0; i < n; i++, s += 4, d += 3) {
      rgb[d] = rgba[s]!;
      rgb[d + 1] = rgba[s + 1]!;
      rgb[d + 2] = rgba[s + 2]!;
    }
    return { rgb, width, height };
  } finally {
    for (const i of images) i.free();
    const ctx = decoder.decoder;
    if (ctx && typeof ctx === 'object' && typeof ctx.delete === 'function') ctx.delete();
    else if (ctx && lib.heif_context_free) lib.heif_context_free(ctx);
  }
}
