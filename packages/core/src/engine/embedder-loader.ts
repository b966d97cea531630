import type { Embedder } from '../embedder.js';
import type { ModelVariant } from '../clip/bundle.js';
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
      variant?: { vision?: ModelVariant; text?: ModelVariant };
      preprocess?: 'scaled' | 'exact';
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

/** The tower dtypes a model id names (`…#vision=int8,text=quantized`), if any. */
export function dtypesOfModelId(modelId: string | null | undefined): { vision?: ModelVariant; text?: ModelVariant } {
  const m = /#vision=([a-z0-9]+),text=([a-z0-9]+)$/.exec(modelId ?? '');
  return m ? { vision: m[1] as ModelVariant, text: m[2] as ModelVariant } : {};
}

/**
 * Creates the CLIP embedder for `model`. Tower dtypes not set in `options` are those of
 * `storedModelId` (the library's), so that a library embedded with int8 stays int8. The caller
 * owns the embedder and must `close()` it.
 */
export async function loadClipEmbedder(model: string, options: EngineOptions, storedModelId?: string | null): Promise<Embedder> {
  const { ClipEmbedder } = await clipModule();
  const stored = dtypesOfModelId(storedModelId);
  const vision = options.visionDtype ?? stored.vision;
  const text = options.textDtype ?? stored.text;
  const variant = { ...(vision !== undefined ? { vision } : {}), ...(text !== undefined ? { text } : {}) };
  return ClipEmbedder.create({
    model,
    ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
    ...(options.device !== undefined ? { device: options.device } : {}),
    ...(options.threads !== undefined ? { threads: options.threads } : {}),
    ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
    ...(options.onDownloadProgress !== undefined ? { onDownloadProgress: options.onDownloadProgress } : {}),
    ...(options.maxImagePixels !== undefined ? { limitInputPixels: options.maxImagePixels } : {}),
    ...(vision !== undefined || text !== undefined ? { variant } : {}),
    ...(options.preprocess !== undefined ? { preprocess: options.preprocess } : {}),
  });
}
