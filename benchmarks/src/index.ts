// @pixsearch/benchmarks — the benchmark suite as a library (the CLI is src/cli.ts).
export { generateSynthetic, syntheticSet, defaultClusters, GENERATOR_VERSION, type SyntheticSpec } from './datasets/synthetic.js';
export { readFvecs, readIvecs, readBvecs, writeFvecs, writeIvecs, type VecsData } from './datasets/vecs.js';
export { readAnnBenchmarksHdf5, writeAnnBenchmarksHdf5, type AnnBenchmarksData } from './datasets/hdf5.js';
export {
  DEFAULT_DATA_DIR,
  ensureImported,
  ensureSynthetic,
  loadDataset,
  loadGroundTruth,
  parseSize,
  formatSize,
  type Dataset,
  type DatasetInfo,
  type GroundTruth,
} from './datasets/store.js';
export { exactGroundTruth } from './ground-truth.js';
export { recallAtK, percentile, summarizeLatencies, RECALL_EPSILON } from './metrics.js';
export { paretoFrontier, bestQpsAtRecall, type FrontierPoint } from './pareto.js';
export { planConfigs, ivfNlist, type RunMode } from './plan.js';
export { runSuite, modeDefaults, type SuiteOptions } from './runner.js';
export { evaluateTargets } from './targets.js';
export { writeReport, type ReportFiles } from './report/write.js';
export { renderMarkdown } from './report/markdown.js';
export { recallQpsSvg, type PlotSeries } from './report/svg.js';
export type * from './results.js';
