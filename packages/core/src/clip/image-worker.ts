// Worker-thread side of the image pool: decodes and transforms images off the main thread.
import { parentPort } from 'node:worker_threads';
import { ImageDecodeError } from '../errors.js';
import { decodeImage, describeInput, transformRgb, type PreprocessConfig } from './preprocess.js';

export interface ImageJob {
  id: number;
  input: string | Uint8Array;
  config: PreprocessConfig;
  limitInputPixels: number | undefined;
  reducingGap: number | null | undefined;
}

export type ImageJobResult =
  | { id: number; ok: true; data: Float32Array; width: number; height: number; source: { width: number; height: number; format: string } }
  | { id: number; ok: false; source: string; reason: string; message: string };

/** Runs one job (also used in-thread when workers are off). */
export async function runImageJob(job: ImageJob): Promise<ImageJobResult> {
  try {
    const img = await decodeImage(job.input, job.limitInputPixels === undefined ? {} : { limitInputPixels: job.limitInputPixels });
    const t = transformRgb(img, job.config, undefined, 0, job.reducingGap === undefined ? {} : { reducingGap: job.reducingGap });
    return { id: job.id, ok: true, data: t.data, width: t.width, height: t.height, source: { width: img.width, height: img.height, format: img.format } };
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
