// Everything the demo runs: the model server (vllm-sim, or a real vLLM), the proxy with its
// dashboard, the vector side (an embedded store, or shard servers), the JSON baseline, and the
// two pipelines the A/B compares.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ChatOpenAI, OpenAIEmbeddings } from '@langchain/openai';
import { ShardedCollection, closeEmbeddedStores, type QueryTiming } from '@ragwire/client';
import { ingest, type IngestReport } from '@ragwire/ingest';
import { RagwireVectorStore } from '@ragwire/langchain';
import { startProxy, type AbReport, type RunningProxy } from '@ragwire/proxy';
import { JsonSearchRetriever, startJsonSearchService } from './baseline';
import { cliOf, startServerProcess, type ServerProcess } from './processes';
import { RagPipeline, type Answer } from './rag-chain';
import { ServerSideRag } from './server-side';

export interface DemoOptions {
  /** 0: the embedded store in this process (the default); N: N shard servers as child processes. */
  shards: number;
  /** vLLM base URLs; none: start the simulator. */
  upstreams: string[];
  /** Simulator replicas when no upstream is given. */
  simReplicas: number;
  /** Where the store (or each shard's store) keeps its data. */
  dataDir: string;
  /** Files, directories or globs to ingest. */
  corpus: string[];
  /** Root the ingested sources are named relative to. */
  corpusRoot: string;
  collection: string;
  /** Proxy port; 0 picks one. */
  port: number;
  /** Chat model; default: the first model the upstreams list that is not the embedding model. */
  model?: string;
  embeddingModel: string;
  /** Documents per answer. */
  k: number;
  /** Tokens per answer. */
  maxTokens: number;
  /**
   * The proxy does the RAG: a model alias `rag/<model>` bound to the collection, asked with the plain
   * openai SDK; the A/B then compares the client-side LangChain chain (through the proxy) with it.
   */
  serverSide?: boolean;
  log: (line: string) => void;
}

export interface DemoStack {
  proxy: RunningProxy;
  dashboardUrl: string;
  upstreams: string[];
  shardUrls: string[];
  model: string;
  ingestReport: IngestReport;
  /** ragwire: the binary (or in-process) vector search, the model through the proxy. */
  ragwire: RagPipeline;
  /** The traditional path: HTTP/JSON vector search, the model called directly. */
  baseline: RagPipeline;
  /** With `serverSide`: the RAG done by the proxy, asked through `rag/<model>`. */
  serverSide: ServerSideRag | undefined;
  /** Asks with ragwire and records the stages on the dashboard. */
  ask(question: string): Promise<Answer>;
  abTest(question: string): Promise<AbReport>;
  close(): Promise<void>;
}

const API_KEY = 'ragwire-demo'; // the proxy and the simulator take any key unless configured otherwise

export async function startDemoStack(o: DemoOptions): Promise<DemoStack> {
  const children: ServerProcess[] = [];
  const closers: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    await Promise.all(children.map((c) => c.stop()));
  };
  try {
    let upstreams = o.upstreams;
    if (upstreams.length === 0) {
      const sim = await startServerProcess(
        'vllm-sim',
        cliOf('@ragwire/vllm-sim'),
        ['--port', '0', '--replicas', String(o.simReplicas), '--embedding-model', o.embeddingModel],
        'listening',
      );
      children.push(sim);
      upstreams = sim.listening.urls as string[];
      o.log(`vllm-sim (a simulator: no GPU, deterministic text) at ${upstreams.join(', ')}`);
    }

    const shardUrls: string[] = [];
    if (o.shards > 0) {
      const shards = await Promise.all(
        Array.from({ length: o.shards }, (_, i) => {
          const dir = join(o.dataDir, `shards-${o.shards}`, `shard-${i}`);
          mkdirSync(dir, { recursive: true });
          return startServerProcess(
            `shard-${i}`,
            cliOf('@ragwire/shard-server'),
            ['--listen', 'tcp://127.0.0.1:0', '--data', dir, '--log-level', 'warn'],
            'ragwire-shard listening',
          );
        }),
      );
      children.push(...shards);
      for (const s of shards) shardUrls.push((s.listening.addresses as string[])[0]!);
      o.log(`${o.shards} shard servers at ${shardUrls.join(', ')}`);
    } else {
      const dir = join(o.dataDir, 'embedded');
      mkdirSync(dir, { recursive: true });
      shardUrls.push(`embedded://${encodeURI(dir)}`);
      o.log(`embedded store in this process at ${dir}`);
    }

    // The ragwire pipeline's handle reports each query's per-shard timing to the answer in progress;
    // the JSON baseline's service has a handle of its own (an embedded store is opened once and shared).
    let ragwire: RagPipeline | undefined;
    const shards = shardUrls.map((u) => [u]);
    const collection = new ShardedCollection({ shards, collection: o.collection, onQuery: (t: QueryTiming) => ragwire?.noteQuery(t) });
    const baselineCollection = new ShardedCollection({ shards, collection: o.collection });
    closers.push(() => closeEmbeddedStores());
    closers.push(() => Promise.all([collection.close(), baselineCollection.close()]));

    let stack: DemoStack | undefined;
    // The chat model, from the first upstream's list, before the proxy starts: a server-side alias names it.
    const listed = (await (await fetch(`${upstreams[0]}/v1/models`)).json()) as { data: { id: string }[] };
    const chatModel = o.model ?? listed.data.map((m) => m.id).find((m) => m !== o.embeddingModel);
    const alias = `rag/${chatModel}`;
    const rag =
      o.serverSide && chatModel
        ? {
            collections: { [o.collection]: { ...(o.shards > 0 ? { shards: shards } : { path: shardUrls[0]! }), embeddingModel: o.embeddingModel } },
            aliases: { [alias]: { model: chatModel, collection: o.collection, k: o.k } },
          }
        : undefined;
    const proxy = await startProxy({ host: '127.0.0.1', port: o.port, upstreams, logLevel: 'warn', ...(rag ? { rag } : {}) }, undefined, {
      dashboard: { runAb: (question) => stack!.abTest(question) },
    });
    closers.push(() => proxy.close());
    const proxyV1 = `${proxy.url}/v1`;
    const models = proxy.context.upstreams.models();
    const model = chatModel ?? models.find((m) => m !== o.embeddingModel);
    if (!model) throw new Error(`the upstreams list no chat model (models: ${models.join(', ') || 'none'}); pass --model`);
    o.log(`ragwire-proxy at ${proxy.url} (model ${model}, embeddings ${o.embeddingModel})`);

    const ingestReport = await ingest({
      inputs: o.corpus,
      baseDir: o.corpusRoot,
      collection: o.collection,
      client: collection,
      embeddings: { baseURL: proxyV1, apiKey: API_KEY, model: o.embeddingModel },
    });
    o.log(
      `ingested ${ingestReport.files} files: ${ingestReport.ingested} new or changed, ${ingestReport.skipped} unchanged, ` +
        `${ingestReport.failed.length} failed; ${ingestReport.vectors} vectors upserted in ${Math.round(ingestReport.elapsedMs)} ms`,
    );

    const search = await startJsonSearchService(baselineCollection);
    closers.push(() => search.close());

    const embeddingsVia = (baseURL: string) => new OpenAIEmbeddings({ model: o.embeddingModel, apiKey: API_KEY, configuration: { baseURL } });
    const chatVia = (baseURL: string) =>
      new ChatOpenAI({ model, apiKey: API_KEY, configuration: { baseURL }, temperature: 0, maxTokens: o.maxTokens, streaming: true, maxRetries: 2 });
    ragwire = new RagPipeline(
      'ragwire',
      embeddingsVia(proxyV1),
      (embeddings) => new RagwireVectorStore(embeddings, { client: collection }).asRetriever({ k: o.k }),
      chatVia(proxyV1),
    );
    // The baseline calls the model servers directly: the first upstream serving each model.
    const direct = (m: string) => `${proxy.context.upstreams.serving(m)[0]?.url ?? upstreams[0]}/v1`;
    const baseline = new RagPipeline(
      'HTTP/JSON baseline',
      embeddingsVia(direct(o.embeddingModel)),
      (embeddings) => new JsonSearchRetriever(search.url, embeddings, o.k),
      chatVia(direct(model)),
    );

    const serverSide = rag ? new ServerSideRag(proxyV1, API_KEY, alias, o.maxTokens) : undefined;
    if (serverSide) o.log(`server-side RAG: the proxy retrieves for model ${alias} (collection ${o.collection}, k=${o.k})`);

    const record = (a: Answer) => {
      const { stages } = proxy.context;
      stages.record({ stage: 'retrieve', ms: a.stages.retrieve });
      if (a.stages.merge !== undefined) stages.record({ stage: 'merge', ms: a.stages.merge });
      a.stages.shards?.forEach((ms, i) => {
        if (!Number.isNaN(ms)) stages.record({ stage: 'shard', ms, shard: o.shards > 0 ? `shard-${i} ${shardUrls[i]}` : 'embedded' });
      });
      stages.record({ stage: 'rag_total', ms: a.stages.total });
    };

    stack = {
      proxy,
      dashboardUrl: `${proxy.url}/dashboard`,
      upstreams,
      shardUrls,
      model,
      ingestReport,
      ragwire,
      baseline,
      serverSide,
      async ask(question) {
        // Server-side answers are charted by the proxy itself (rag_embed, rag_retrieve, rag_ttft).
        if (serverSide) return serverSide.ask(question);
        const answer = await ragwire!.ask(question);
        record(answer);
        return answer;
      },
      async abTest(question) {
        // Server-side: the client-side chain through the proxy against the RAG the proxy does.
        const b = serverSide ? await stack!.ragwire.ask(question) : await baseline.ask(question);
        const r = await stack!.ask(question);
        const asRun = (label: string, a: Answer) => ({
          label,
          totalMs: a.stages.total,
          stages: { embed: a.stages.embed, retrieve: a.stages.retrieve, ttft: a.stages.ttft, generate: a.stages.generate },
          answer: a.answer,
        });
        const labels = serverSide ? ['client-side chain (ragwire)', serverSide.label] : [baseline.label, ragwire!.label];
        return { question, baseline: asRun(labels[0]!, b), ragwire: asRun(labels[1]!, r), speedup: b.stages.total / r.stages.total };
      },
      close,
    };
    return stack;
  } catch (error) {
    await close();
    throw error;
  }
}
