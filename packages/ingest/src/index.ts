export { ingest } from './ingest';
export { resolveIngestOptions, INGEST_DEFAULTS, type IngestOptions, type ResolvedIngestOptions } from './options';
export type { FailedFile, IngestEvent, IngestReport, IngestStats } from './report';
export { IngestError, isIngestError, ingestErrors, type IngestErrorCode } from './errors';
export {
  openAIEmbeddings,
  decodeEmbedding,
  DEFAULT_EMBEDDINGS_MODEL,
  DEFAULT_EMBEDDINGS_URL,
  type EmbedFunction,
  type OpenAIEmbeddingsOptions,
} from './embeddings';
export { discoverFiles, kindOf, sourceOf, type DiscoveredFile, type DocumentKind } from './discover';
export { readDocument, decodeDocument, sha256Hex, type DocumentText } from './document-file';
export {
  chunkDocument,
  chunkId,
  chunkPayload,
  ingestKey,
  splitterFor,
  type Chunk,
  type ChunkMetadata,
  type ChunkingIdentity,
  type SplitterOptions,
} from './chunks';
export { planFile, deleteStale, sourceFilter, staleFilter, type FilePlan } from './reconcile';
