// faiss-node has no nprobe setter, but FAISS stores nprobe in the IVF header (uint64 LE at byte
// 45, after the IwFl tag, the index header and nlist). Changing it = write the index to a file,
// patch those 8 bytes (after checking the tag and nlist), read it back. Files, not
// toBuffer/fromBuffer: those leak one full copy of the index per call in faiss-node 0.5.1.
import { rm } from 'node:fs/promises';
import { ivfFileBytes, patchIvfNprobe } from './faiss-file.js';
import { loadFaiss, type NativeIndex } from './faiss-native.js';
import { prepareNativeWrite, type ScratchDir } from './native-write.js';
import { IndexCorruptError } from '@pixsearch/core';

/**
 * A copy of the IVF index `native` whose nprobe is `nprobe` (1..nlist). Costs one write and one
 * read of the whole index through `scratch`; the old instance is garbage once dropped.
 */
export async function withNprobe(native: NativeIndex, nprobe: number, nlist: number, scratch: ScratchDir): Promise<NativeIndex> {
  const file = scratch.file(`nprobe-${nprobe}.faiss`);
  try {
    await prepareNativeWrite(file, ivfFileBytes(native.getDimension(), nlist, native.ntotal()));
    native.write(file);
    await patchIvfNprobe(file, nprobe, nlist);
    let next: NativeIndex;
    try {
      next = loadFaiss().Index.read(file);
    } catch (cause) {
      throw new IndexCorruptError(file, 'FAISS cannot read back the index it wrote', { cause });
    }
    if (next.ntotal() !== native.ntotal()) throw new IndexCorruptError(file, 'round trip changed ntotal');
    return next;
  } finally {
    await rm(file, { force: true });
  }
}
