// @pixsearch/index-pgvector/distributed — one library, many machines: a scanner that queues
// embedding jobs (pg-boss) and workers that claim them, all on the library's PostgreSQL database.
export { EMBED_QUEUE, EmbedQueue, QUEUE_SCHEMA, type EmbedJobData, type EmbedQueueOptions } from './embed-queue.js';
export { checkDatabaseUrl, LIBRARY_INDEX_NAME, openVectorMirror, type VectorMirror } from './library.js';
export { scanLibrary, type ScanOptions } from './scanner.js';
export { runWorker, type WorkerOptions, type WorkerProgress } from './worker.js';
