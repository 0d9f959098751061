/**
 * @ragwire/native: the C++ vector engine. Batch in, columnar typed arrays out;
 * every add and search runs on the engine's own threads and returns a Promise.
 */
export * from './vector-index';
export { buildIndex, type BuildBatch, type BuildOptions, type BuildProgress, type BuildSource } from './build';
