/** A minimal server-sent-events reader for tests (frames, comments, a timeout on every read). */
export interface SseFrame {
  event: string;
  data: string;
}

export interface SseReader {
  /** The next event (comments skipped). */
  next(timeoutMs?: number): Promise<SseFrame>;
  /** The text of the next comment line (`: ping` → `ping`); events in between are skipped. */
  nextComment(timeoutMs?: number): Promise<string>;
  cancel(): Promise<void>;
}

type Item = { kind: 'event'; frame: SseFrame } | { kind: 'comment'; text: string };

export function readSse(body: ReadableStream<Uint8Array>): SseReader {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const items: Item[] = [];

  const parse = (): void => {
    let idx: number;
    while ((idx = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, idx);
      buffer = buffer.slice(idx + 2);
      let event = 'message';
      const data: string[] = [];
      let sawField = false;
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) items.push({ kind: 'comment', text: line.slice(1).trim() });
        else if (line.startsWith('event:')) {
          event = line.slice(6).trim();
          sawField = true;
        } else if (line.startsWith('data:')) {
          data.push(line.slice(5).replace(/^ /, ''));
          sawField = true;
        } else if (line.startsWith('retry:') || line.startsWith('id:')) sawField = true;
      }
      if (sawField && data.length > 0) items.push({ kind: 'event', frame: { event, data: data.join('\n') } });
    }
  };

  async function take(kind: Item['kind'], timeoutMs: number): Promise<Item> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = items.findIndex((x) => x.kind === kind);
      if (i >= 0) return items.splice(0, i + 1).pop()!;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no SSE ${kind} within ${timeoutMs} ms`);
      let timer: NodeJS.Timeout | undefined;
      const chunk = await Promise.race([
        reader.read(),
        new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), left);
        }),
      ]);
      clearTimeout(timer);
      if (chunk === 'timeout') continue;
      if (chunk.done) throw new Error('SSE stream ended');
      buffer += decoder.decode(chunk.value, { stream: true });
      parse();
    }
  }

  return {
    next: async (timeoutMs = 30_000) => ((await take('event', timeoutMs)) as { frame: SseFrame }).frame,
    nextComment: async (timeoutMs = 30_000) => ((await take('comment', timeoutMs)) as { text: string }).text,
    cancel: () => reader.cancel(),
  };
}
