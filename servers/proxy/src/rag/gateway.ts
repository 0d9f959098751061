import type { Cancellation } from '../upstream/cancellation';
import { UpstreamAnswerError } from '../batching/coalescer';
import type { ProxyConfig } from '../config';
import { ProxyError } from '../errors';
import type { UpstreamCaller } from '../upstream/upstream-call';
import type { EmbeddingsBatcher } from '../batching/embeddings-batcher';
import type { UpstreamSet } from '../upstream/upstream-set';
import { checkRagBinding, DEFAULT_RAG_TEMPLATE, RagSettingError, type RagBinding } from './rag-config';
import { CollectionRetriever, type RagSource, type SearchTiming } from './retriever';
import { traced } from '../tracing/spans';
import type { TraceSpan } from '@ragwire/tracing';
import type { QueryTrace } from '@ragwire/client';

type Body = Record<string, unknown>;

/** A retrieval with every default filled in. */
export interface RagPlan extends Required<Omit<RagBinding, 'filter' | 'rerank'>> {
  filter: RagBinding['filter'];
  rerank: RagBinding['rerank'];
}

/** What one retrieval found, and where its time went (ms). */
export interface Retrieval {
  sources: RagSource[];
  timings: { embedMs: number; retrieveMs: number; rerankMs?: number };
  /** Tokens the question's embedding cost (the caller's share of the batch's usage). */
  embedTokens: number;
}

/** The call context a retrieval's upstream calls (embedding, rerank) run under. */
export interface RetrievalCall {
  priority: number;
  requestId: string;
  cancellation: Cancellation;
  /** The request's span, when tracing is on: embed, retrieve (per shard, merge) and rerank are its children. */
  trace?: TraceSpan;
  /** The caller's own token for this collection's shard servers (its keys entry's `shardTokens`). */
  shardToken?: string;
}

/**
 * Retrieval-augmented chat: which requests ask for it (a model alias bound in
 * `rag.aliases`, or a `ragwire` field in the body), and the retrieval itself:
 * the last user turn embedded through the proxy's own embeddings batcher,
 * searched in the collection, optionally reranked through an upstream's
 * `/v1/rerank`.
 */
export class RagGateway {
  private readonly aliases: ReadonlyMap<string, RagBinding>;
  readonly retriever: CollectionRetriever;

  constructor(
    private readonly config: Readonly<ProxyConfig>,
    private readonly upstreams: UpstreamSet,
    private readonly batcher: EmbeddingsBatcher,
    private readonly caller: UpstreamCaller,
  ) {
    this.aliases = new Map(Object.entries(config.rag.aliases));
    this.retriever = new CollectionRetriever(config.rag, config.tracing.enabled);
  }

  /** Whether a chat body asks for retrieval (one property read and one lookup on the hot path). */
  wants(body: Body): boolean {
    return body.ragwire !== undefined || (typeof body.model === 'string' && this.aliases.has(body.model));
  }

  /** The configured model aliases, listed by /v1/models. */
  aliasNames(): string[] {
    return [...this.aliases.keys()];
  }

  /** The retrieval `body` asks for; throws the proxy's 400s naming the bad field (`ragwire.k`, ...). */
  plan(body: Body): RagPlan {
    const alias = typeof body.model === 'string' ? this.aliases.get(body.model) : undefined;
    const { rag } = this.config;
    let given: Partial<RagBinding> = {};
    try {
      if (body.ragwire !== undefined) given = checkRagBinding(body.ragwire, 'ragwire', rag.collections, rag.maxK, true);
    } catch (error) {
      if (!(error instanceof RagSettingError)) throw error;
      const code = error.kind === 'collection' ? 'unknown_collection' : error.kind === 'filter' ? 'invalid_filter' : 'invalid_request';
      throw new ProxyError(code, error.message, error.field);
    }
    const collection = given.collection ?? alias?.collection;
    if (collection === undefined)
      throw new ProxyError('invalid_request', 'ragwire.collection is required unless the model is a retrieval alias', 'ragwire.collection');
    const k = given.k ?? alias?.k ?? rag.defaultK;
    const rerank = given.rerank ?? alias?.rerank;
    return {
      model: alias?.model ?? (body.model as string),
      collection,
      k,
      filter: given.filter ?? alias?.filter,
      rerank: rerank && rerank.topN !== undefined && rerank.topN > k ? { ...rerank, topN: k } : rerank,
      template: given.template ?? alias?.template ?? DEFAULT_RAG_TEMPLATE,
    };
  }

  /** Embeds `question`, retrieves and (if asked) reranks. */
  async retrieve(plan: RagPlan, question: string, call: RetrievalCall): Promise<Retrieval> {
    const { embeddingModel } = this.retriever.collection(plan.collection);
    if (!this.upstreams.isServed(embeddingModel)) {
      throw new ProxyError(
        'model_not_found',
        `collection "${plan.collection}" is embedded with \`${embeddingModel}\`, which no upstream serves`,
        'ragwire.collection',
      );
    }
    const t0 = performance.now();
    let vector: Float32Array;
    let embedTokens = 0;
    // The question joins the embeddings batcher's shared call, traced under the first traced caller's span and linked to the others'.
    const embed = call.trace?.child('embed', { 'ragwire.model': embeddingModel });
    try {
      const share = await this.batcher.submit({
        model: embeddingModel,
        inputs: [question],
        priority: call.priority,
        requestId: call.requestId,
        ...(embed ? { trace: embed } : {}),
      });
      vector = asFloat32(share.embeddings[0]!);
      embedTokens = share.promptTokens;
      embed?.end();
    } catch (error) {
      embed?.end((error as Error).message);
      if (error instanceof UpstreamAnswerError)
        throw new ProxyError(
          'upstream_error',
          `embedding the question with ${embeddingModel} failed: upstream answered ${error.status}: ${error.body.toString('utf8').slice(0, 300)}`,
        );
      throw error;
    }
    const t1 = performance.now();
    const retrieve = call.trace?.child('retrieve', { 'ragwire.collection': plan.collection, 'ragwire.k': plan.k });
    const search = this.retriever.search(plan.collection, vector, plan.k, plan.filter, call.shardToken, retrieve && shardSpans(retrieve));
    const { sources, timing } = await traced(retrieve, search, true);
    if (retrieve) {
      retrieve.set({ 'ragwire.sources': sources.length });
      if (timing) traceMerge(retrieve, timing);
      retrieve.end();
    }
    const t2 = performance.now();
    const timings: Retrieval['timings'] = { embedMs: t1 - t0, retrieveMs: t2 - t1 };
    if (!plan.rerank || sources.length === 0) return { sources, timings, embedTokens };
    const span = call.trace?.child('rerank', { 'ragwire.model': plan.rerank.model });
    const reranked = await traced(span, this.rerank(plan.rerank.model, plan.rerank.topN ?? sources.length, question, sources, { ...call, trace: span }));
    timings.rerankMs = performance.now() - t2;
    return { sources: reranked, timings, embedTokens };
  }

  close(): Promise<void> {
    return this.retriever.close();
  }

  /** The sources reordered (and cut to `topN`) by an upstream reranker, vLLM's `/v1/rerank`. */
  private async rerank(model: string, topN: number, query: string, sources: RagSource[], call: RetrievalCall): Promise<RagSource[]> {
    if (!this.upstreams.isServed(model))
      throw new ProxyError('model_not_found', `The rerank model \`${model}\` is not served by this proxy`, 'ragwire.rerank.model');
    const body = JSON.stringify({ model, query, documents: sources.map((s) => s.text), top_n: topN });
    const answer = await this.caller.buffered({
      model,
      path: '/v1/rerank',
      body,
      priority: call.priority,
      requestId: call.requestId,
      cancellation: call.cancellation,
      ...(call.trace ? { trace: call.trace } : {}),
    });
    const text = answer.body.toString('utf8');
    if (answer.status !== 200) throw new ProxyError('rerank_failed', `reranker ${model} answered ${answer.status}: ${text.slice(0, 300)}`);
    let results: { index: number; relevance_score: number }[];
    try {
      results = (JSON.parse(text) as { results: { index: number; relevance_score: number }[] }).results;
      if (
        !Array.isArray(results) ||
        results.some((r) => !Number.isInteger(r.index) || r.index < 0 || r.index >= sources.length || typeof r.relevance_score !== 'number')
      )
        throw new Error('bad results');
    } catch {
      throw new ProxyError('rerank_failed', `reranker ${model} answered with no valid results list`);
    }
    return [...results]
      .sort((a, b) => b.relevance_score - a.relevance_score)
      .slice(0, topN)
      .map((r) => ({ ...sources[r.index]!, rerankScore: r.relevance_score }));
  }
}

/**
 * One span per shard, from sending to its answer, made as the client sends: its traceparent goes
 * in that shard's QUERY frames (docs/protocol.md §5.12), so the shard server's span is its child.
 */
function shardSpans(retrieve: TraceSpan): QueryTrace {
  return {
    shard(index) {
      const span = retrieve.child('retrieve.shard', { 'ragwire.shard': index });
      return { traceparent: span.traceparent(), end: (error) => span.end(error?.message) };
    },
  };
}

/** The merge's span, after the fact, from the client's timing. */
function traceMerge(retrieve: TraceSpan, timing: SearchTiming): void {
  retrieve.child('merge', { 'ragwire.shards': timing.shardMs.length }, timing.mergedAt - timing.mergeMs).end(undefined, timing.mergedAt);
}

/** An embedding as the upstream sent it (base64 little-endian float32, or a list of numbers). */
function asFloat32(embedding: string | number[]): Float32Array {
  if (typeof embedding !== 'string') return Float32Array.from(embedding);
  const bytes = Buffer.from(embedding, 'base64');
  return new Float32Array(new Uint8Array(bytes).buffer);
}
