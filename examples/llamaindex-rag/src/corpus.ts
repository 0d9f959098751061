// The documents both versions of the app answer from.
export const DOCS = [
  { text: 'ragwire fans every query out to all shard servers and merges the top-k', source: 'architecture.md' },
  { text: 'the embedded mode runs the store in process with no server to start', source: 'embedded.md' },
  { text: 'LMDB keeps ids, payloads and vectors durable; the index is derived from it', source: 'store.md' },
  { text: 'the proxy speaks the OpenAI API and batches embedding requests', source: 'proxy.md' },
  { text: 'HNSW finds approximate neighbours; flat search is exact', source: 'engine.md' },
  { text: 'filters on metadata become an allow-list bitset inside the engine', source: 'filters.md' },
  { text: 'replicas of a shard get hedged reads when one is slow', source: 'client.md' },
  { text: 'snapshots let a restart load the index instead of rebuilding it', source: 'store.md' },
];
