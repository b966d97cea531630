import type { ImageDecodeError } from './errors.js';

/** An image to embed: a file path or the encoded bytes (JPEG, PNG, …). */
export type ImageInput = string | Uint8Array;

/** Result of {@link Embedder.embedImages}: one entry per input, in input order. */
export interface ImageEmbeddings {
  /** `inputs.length × dimension` floats, row-major, each row L2-normalised. Failed rows are zeros. */
  vectors: Float32Array;
  /** Per-input error (undefined where the image embedded fine). */
  errors: (ImageDecodeError | undefined)[];
  /** Decoded size of each input (0×0 on failure), pixels, after EXIF orientation. */
  sizes: { width: number; height: number; format: string }[];
}

/** Options for one embedding call. */
export interface EmbedOptions {
  /** Aborts between batches. */
  signal?: AbortSignal;
  /**
   * Called after each batch with the number of inputs done so far, and (embedders that can tell)
   * each time an image has been decoded, with the count decoded so far as `decoded`.
   */
  onProgress?: (done: number, total: number, decoded?: number) => void;
}

/**
 * Turns images and texts into vectors in one space. Implementations batch internally and
 * bound their memory for any number of inputs. The caller owns the embedder and must
 * `close()` it to release the model sessions.
 */
export interface Embedder {
  /** Stable model identifier (hub id or bundle folder name + variant), stored with the index. */
  readonly modelId: string;
  /** Embedding dimension (the projection dimension). */
  readonly dimension: number;
  /** Embeds images. Undecodable inputs yield per-item errors, never a rejected batch. */
  embedImages(inputs: readonly ImageInput[], options?: EmbedOptions): Promise<ImageEmbeddings>;
  /** Embeds texts: `texts.length × dimension`, rows L2-normalised. */
  embedTexts(texts: readonly string[], options?: EmbedOptions): Promise<Float32Array>;
  /** Loads the model sessions now (optional; they load on first use otherwise). */
  load?(towers?: readonly ('vision' | 'text')[]): Promise<void>;
  /** Releases the model sessions. Idempotent. */
  close(): Promise<void>;
}
