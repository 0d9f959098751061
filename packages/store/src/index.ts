/**
 * @ragwire/store: a durable collection on one machine. LMDB holds ids,
 * payloads and vectors; the engine index and the metadata filter index are
 * derived from it, snapshotted, and recovered on open.
 */
export { Store, openStore, DEFAULT_EXACT_SCAN_BYTES, type CreateCollectionInput, type RebuildEvent, type StoreOptions } from './store';
export type { RebuildReason } from './recovery';
export { Collection, type DeleteInput, type QueryInput, type QueryResult, type UpsertInput } from './collection';
export type { LogEntry, RefusedEntry } from './log-group';
export { FilterIndex, indexedFields } from './filter-index';
export { validateSettings, type CollectionSettings } from './settings';
export { answerRequest, type AnswerOptions, type StoreRequest } from './requests';
export type { QueryStage, QueryStageListener } from './query-stages';
