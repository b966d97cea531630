import type { Embedder } from '../embedder.js';
import type { EngineOptions } from './types.js';

/** Model used when neither the options nor the catalog name one. */
export const FALLBACK_DEFAULT_MODEL = 'Xenova/clip-vit-base-patch32';

interface ClipModule {
  ClipEmbedder: {
    create(options: {
      model: string;
      cacheDir?: string;
      device?: 'cpu' | 'cuda';
      threads?: number;
      batchSize?: number;
      onDownloadProgress?: EngineOptions['onDownloadProgress'];
      limitInputPixels?: number;
    }): Promise<Embedder>;
  };
  DEFAULT_MODEL?: string;
}

/** Imports `@pixsearch/core/clip` on first need, so that opening an engine loads no model runtime. */
async function clipModule(): Promise<ClipModule> {
  return (await import('../clip/index.js')) as unknown as ClipModule;
}

/** The default model id of the CLIP embedder. */
export async function defaultModel(): Promise<string> {
  return (await clipModule()).DEFAULT_MODEL ?? FALLBACK_DEFAULT_MODEL;
}

/** Creates the CLIP embedder for `model`. The caller owns it and must `close()` it. */
export async function loadClipEmbedder(model: string, options: EngineOptions): Promise<Embedder> {
  const { ClipEmbedder } = await clipModule();
  return ClipEmbedder.create({
    model,
    ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
    ...(options.device !== undefined ? { device: options.device } : {}),
    ...(options.threads !== undefined ? { threads: options.threads } : {}),
    ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
    ...(options.onDownloadProgress !== undefined ? { onDownloadProgress: options.onDownloadProgress } : {}),
    ...(options.maxImagePixels !== undefined ? { limitInputPixels: options.maxImagePixels } : {}),
  });
}
