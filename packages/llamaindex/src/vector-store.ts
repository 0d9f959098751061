// RagwireVectorStore: LlamaIndex's BaseVectorStore over a ragwire collection (embedded or sharded).
import { getTopKMMREmbeddings } from '@llamaindex/core/embeddings';
import { MetadataMode, type BaseNode } from '@llamaindex/core/schema';
import {
  BaseVectorStore,
  VectorStoreQueryMode,
  metadataDictToNode,
  nodeToMetadata,
  type VectorStoreBaseParams,
  type VectorStoreQuery,
  type VectorStoreQueryResult,
} from '@llamaindex/core/vector-store';
import {
  CollectionHandle,
  checkK,
  checkSparseEncoder,
  encodeSparseDocuments,
  encodeSparseQuery,
  type CollectionHandleOptions,
  type ShardedCollection,
  type ShardedQuery,
  type SparseEncoder,
} from '@ragwire/client';
import { DEFAULT_LIMITS, InvalidArgumentError, type Fusion, type Payload } from '@ragwire/protocol';
import { planFilters } from './residual-filter';

/** The query modes ragwire answers, and what each sends (docs/search.md). */
const MODES = new Set<string>([
  VectorStoreQueryMode.DEFAULT,
  VectorStoreQueryMode.MMR,
  VectorStoreQueryMode.HYBRID,
  VectorStoreQueryMode.SEMANTIC_HYBRID,
  VectorStoreQueryMode.SPARSE,
]);

/**
 * Where the nodes live (exactly one of `path`, `shards`, `client`), how a new collection is indexed,
 * how searches run (exact, efSearch, batchSize; see SearchSettings).
 */
export interface RagwireVectorStoreParams extends CollectionHandleOptions, VectorStoreBaseParams {
  /** MMR mode fetches similarityTopK x this many candidates. Default 4. */
  mmrPrefetchFactor?: number;
  /**
   * A learned sparse encoder (SPLADE, bge-m3's lexical weights). LlamaIndex.TS has no sparse
   * embedding on nodes or queries, so the store encodes: each added node's text (as embedded,
   * MetadataMode.EMBED), and `queryStr` in the sparse and hybrid modes (see query).
   */
  sparseEmbedModel?: SparseEncoder;
}

/**
 * A LlamaIndex vector store on ragwire that stores the text (`storesText`): each node's text is the
 * payload text, and its metadata holds the node's own metadata plus LlamaIndex's serialised node
 * (`_node_content`, `ref_doc_id`, ...), so query results rebuild the same TextNodes. Similarities
 * are higher = more similar for every metric.
 */
export class RagwireVectorStore extends BaseVectorStore<ShardedCollection> {
  storesText = true;
  /** The underlying ragwire collection. */
  readonly collection: ShardedCollection;
  private readonly handle: CollectionHandle;
  private readonly mmrPrefetchFactor: number;
  private readonly sparseEmbedModel: SparseEncoder | undefined;

  constructor(params: RagwireVectorStoreParams) {
    super(params);
    this.mmrPrefetchFactor = params?.mmrPrefetchFactor ?? 4;
    if (!Number.isInteger(this.mmrPrefetchFactor) || this.mmrPrefetchFactor < 1) {
      throw new InvalidArgumentError(`mmrPrefetchFactor must be a positive integer, got ${params.mmrPrefetchFactor}`);
    }
    this.sparseEmbedModel = params?.sparseEmbedModel === undefined ? undefined : checkSparseEncoder(params.sparseEmbedModel, 'sparseEmbedModel');
    this.handle = new CollectionHandle(params, 'RagwireVectorStore');
    this.collection = this.handle.collection;
  }

  client(): ShardedCollection {
    return this.collection;
  }

  /** Stores embedded nodes under their own ids (a node id already stored is replaced), with sparseEmbedModel's vectors when given. */
  async add(nodes: BaseNode[]): Promise<string[]> {
    const ids = nodes.map((n) => n.id_);
    const payloads = nodes.map((node): Payload => ({ text: node.getContent(MetadataMode.NONE), metadata: nodeToMetadata(node, true, 'text', false) }));
    const sparse = this.sparseEmbedModel
      ? await encodeSparseDocuments(
          this.sparseEmbedModel,
          nodes.map((n) => n.getContent(MetadataMode.EMBED)),
        )
      : undefined;
    await this.handle.upsert(
      ids,
      nodes.map((n) => n.getEmbedding()),
      payloads,
      sparse,
    );
    return ids;
  }

  /** Removes every node of the source document `refDocId`. */
  async delete(refDocId: string): Promise<void> {
    await this.handle.delete({ filter: { must: [{ key: 'ref_doc_id', eq: refDocId }] } });
  }

  /**
   * DEFAULT: the similarityTopK nearest nodes; MMR: that many picked among a larger candidate set;
   * HYBRID: BM25 of queryStr fused with the dense search (weighted by `alpha` when given: 1 = dense
   * only, 0 = text only; RRF otherwise); SEMANTIC_HYBRID: the same fused by RRF; SPARSE: BM25 of
   * queryStr alone. With sparseEmbedModel, SPARSE ranks by the sparse vector of queryStr instead of
   * BM25, and the hybrid modes add it as a third branch. Filters ragwire's index cannot express (text_match, negations inside OR) run on
   * the fetched candidates (docs/search.md).
   */
  async query(query: VectorStoreQuery): Promise<VectorStoreQueryResult> {
    const mode = query.mode ?? VectorStoreQueryMode.DEFAULT;
    if (!MODES.has(mode)) throw new InvalidArgumentError(`query mode ${mode} is not supported by ragwire (default, mmr, hybrid, semantic_hybrid, sparse)`);
    const lexical = mode === VectorStoreQueryMode.HYBRID || mode === VectorStoreQueryMode.SEMANTIC_HYBRID || mode === VectorStoreQueryMode.SPARSE;
    const dense = mode !== VectorStoreQueryMode.SPARSE;
    if (dense && !query.queryEmbedding) throw new InvalidArgumentError(`query mode ${mode} needs a queryEmbedding`);
    if (lexical && (typeof query.queryStr !== 'string' || query.queryStr === '')) throw new InvalidArgumentError(`query mode ${mode} needs a queryStr`);
    const topK = checkK(query.similarityTopK, 'similarityTopK');
    const mmr = mode === VectorStoreQueryMode.MMR;
    const { filter, predicate } = planFilters(query.filters, query.docIds);
    const fusion: Fusion = mode === VectorStoreQueryMode.HYBRID && query.alpha !== undefined ? { method: 'weighted', alpha: query.alpha } : { method: 'rrf' };
    const sparse = lexical && this.sparseEmbedModel ? await encodeSparseQuery(this.sparseEmbedModel, query.queryStr!) : undefined;
    const bm25 = lexical && !(sparse && !dense);
    const q: ShardedQuery = {
      vectors: dense ? Float32Array.from(query.queryEmbedding!) : new Float32Array(0),
      k: mmr ? Math.min(DEFAULT_LIMITS.maxK, topK * this.mmrPrefetchFactor) : topK,
      ...(bm25 ? { text: [query.queryStr!] } : {}),
      ...(sparse ? { sparse: [sparse] } : {}),
      ...(lexical ? { fusion } : {}),
      ...(filter ? { filter } : {}),
      options: { withPayload: true, ...(mmr ? { withVectors: true } : {}) },
    };
    const r = await this.handle.query(q, predicate ? (_id, p) => predicate(p) : undefined);
    let order = r.ids.map((_, i) => i);
    if (mmr && order.length > 0) {
      const embedding = query.queryEmbedding!;
      const dim = embedding.length;
      const vectors = order.map((i) => Array.from(r.vectors!.subarray(i * dim, (i + 1) * dim)));
      const [, picked] = getTopKMMREmbeddings(embedding, vectors, null, topK, order, null, query.mmrThreshold ?? 0.5);
      order = picked as number[];
    }
    return {
      ids: order.map((i) => r.ids[i]!),
      similarities: order.map((i) => r.scores[i]!),
      nodes: order.map((i) => toNode(r.ids[i]!, r.payloads?.[i] ?? null)),
    };
  }

  /** Closes the connections (or the embedded store) this store opened; an injected client stays open. */
  async close(): Promise<void> {
    await this.handle.close();
  }
}

/** Keys nodeToMetadata adds beside the node's own metadata. */
const NODE_KEYS = new Set(['_node_content', '_node_type', 'document_id', 'doc_id', 'ref_doc_id']);

function toNode(id: string, payload: Payload | null): BaseNode {
  const stored = payload?.metadata ?? {};
  // A document written without LlamaIndex (no _node_content) becomes a TextNode of its text and metadata.
  const metadata = Object.fromEntries(Object.entries(stored).filter(([k]) => !NODE_KEYS.has(k)));
  const node = metadataDictToNode(stored, { fallback: { id_: id, text: payload?.text ?? '', metadata } });
  node.setContent(payload?.text ?? '');
  return node;
}
