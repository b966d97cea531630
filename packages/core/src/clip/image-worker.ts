// Worker-thread side of the image pool: decodes and transforms images off the main thread.
import { parentPort } from 'node:worker_threads';
import { ImageDecodeError } from '../errors.js';
import { describeInput, preprocessImage, type PreprocessConfig, type PreprocessMode } from './preprocess.js';

export interface ImageJob {
  id: number;
  input: string | Uint8Array;
  config: PreprocessConfig;
  limitInputPixels: number | undefined;
  reducingGap: number | null | undefined;
  preprocess: PreprocessMode | undefined;
}

export type ImageJobResult =
  | { id: number; ok: true; data: Float32Array; width: number; height: number; source: { width: number; height: number; format: string } }
  | { id: number; ok: false; source: string; reason: string; message: string };

/** Runs one job (also used in-thread when workers are off). */
export async function runImageJob(job: ImageJob): Promise<ImageJobResult> {
  try {
    const t = await preprocessImage(job.input, job.config, {
      ...(job.limitInputPixels === undefined ? {} : { limitInputPixels: job.limitInputPixels }),
      ...(job.reducingGap === undefined ? {} : { reducingGap: job.reducingGap }),
      ...(job.preprocess === undefined ? {} : { preprocess: job.preprocess }),
    });
    return { id: job.id, ok: true, data: t.data, width: t.width, height: t.height, source: t.source };
  } catch (err) {
    const source = describeInput(job.input);
    if (err instanceof ImageDecodeError) return { id: job.id, ok: false, source, reason: err.reason, message: err.message.startsWith(`${source}: `) ? err.message.slice(source.length + 2) : err.message };
    return { id: job.id, ok: false, source, reason: 'corrupt', message: err instanceof Error ? err.message : String(err) };
  }
}

if (parentPort) {
  const port = parentPort;
  port.on('message', (job: ImageJob) => {
    void runImageJob(job).then((res) => port.postMessage(res, res.ok ? [res.data.buffer as ArrayBuffer] : []));
  });
}
