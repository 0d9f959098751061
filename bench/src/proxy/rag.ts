/**
 * RAG in the proxy against the same RAG done by the client, on the simulator, same questions. Client
 * side, twice: the demo's chain (LangChain: OpenAIEmbeddings and a streaming ChatOpenAI through the
 * proxy, RagwireVectorStore's retriever over the shard server, one LCEL chain), and the same calls
 * made by hand (fetch + @ragwire/client, tcp://: no LangChain overhead, a lower bound on what any
 * client-side chain costs). Server side: one streamed chat to the alias `rag/<model>` with the plain
 * openai wire format. Reported: time to the first content token (all the work before generation), end
 * to end, and CPU per request (proxy + client process).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StringOutputParser } from '@langchain/core/output_parsers';
import { ChatPromptTemplate } from '@langchain/core/prompts';
import { RunnablePassthrough, RunnableSequence } from '@langchain/core/runnables';
import type { Document } from '@langchain/core/documents';
import { ChatOpenAI, OpenAIEmbeddings } from '@langchain/openai';
import { ShardedCollection } from '@ragwire/client';
import { RagwireVectorStore } from '@ragwire/langchain';
import { summarize, type Sample } from './load';
import { cpuSeconds, startProxy, startShard, startSim } from './processes';
import type { Options, Row } from './scenarios';

const MODEL = 'ragwire/sim-8b';
const EMBED = 'ragwire/sim-embed';
const ALIAS = `rag/${MODEL}`;
const TEMPLATE = 'Answer the question from the sources below. Cite the sources you use by their number, like [1].\n\nSources:\n{context}';
const TOPICS = [
  'shard',
  'proxy',
  'vector',
  'index',
  'cache',
  'queue',
  'replica',
  'prefix',
  'stream',
  'batch',
  'merge',
  'filter',
  'snapshot',
  'token',
  'engine',
  'graph',
];

function doc(i: number): string {
  const a = TOPICS[i % TOPICS.length]!;
  const b = TOPICS[(i * 7 + 3) % TOPICS.length]!;
  return `Document ${i} explains how the ${a} works with the ${b}: the ${a} keeps its state, the ${b} answers requests, and both report latency.`;
}

async function post(url: string, body: unknown): Promise<any> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${url} answered ${res.status}: ${await res.text()}`);
  return res.json();
}

/** Streams a chat and resolves with the time to the first content token and to the end (ms from `start`). */
async function streamChat(url: string, body: unknown, start: number): Promise<{ ttftMs: number; e2eMs: number; tokens: number }> {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...(body as object), stream: true }),
  });
  if (!res.ok || !res.body) throw new Error(`chat answered ${res.status}`);
  let ttftMs: number | undefined;
  let tokens = 0;
  const decoder = new TextDecoder();
  for await (const chunk of res.body) {
    const text = decoder.decode(chunk as Uint8Array, { stream: true });
    if (text.includes('"content":"') && !/"content":""/.test(text)) {
      ttftMs ??= performance.now() - start;
      tokens++;
    }
  }
  const e2eMs = performance.now() - start;
  return { ttftMs: ttftMs ?? e2eMs, e2eMs, tokens };
}

/**
 * Twice: on the simulator's default step times (the model's own steps dominate the time to the first
 * token, and both variants pay them) and on a near-instant simulator (only the hops remain: what RAG in
 * the proxy can save).
 */
export async function ragInProxy(o: Options): Promise<Row[]> {
  return [
    ...(await ragRun(o, 'default sim steps', ['--frontend-per-request-ms', '0'])),
    ...(await ragRun(o, 'instant sim', ['--step-base-ms', '0', '--step-per-seq-ms', '0', '--prefill-per-token-ms', '0', '--frontend-per-request-ms', '0'])),
  ];
}

async function ragRun(o: Options, label: string, simArgs: string[]): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'ragwire-bench-rag-'));
  try {
    const sim = await startSim(simArgs);
    const shard = await startShard(join(dir, 'shard'));
    const collection = new ShardedCollection({ shards: [[shard.url]], collection: 'docs' });
    const docs = Array.from({ length: 400 }, (_, i) => doc(i));
    await collection.createCollection({ dim: 384, metric: 'cosine', kind: 'hnsw', storage: 'f32' });
    for (let i = 0; i < docs.length; i += 100) {
      const batch = docs.slice(i, i + 100);
      const answer = await post(`${sim.url}/v1/embeddings`, { model: EMBED, input: batch });
      const vectors = Float32Array.from((answer.data as { embedding: number[] }[]).flatMap((d) => d.embedding));
      await collection.upsert({
        ids: batch.map((_, j) => `doc-${i + j}`),
        vectors,
        payloads: batch.map((text, j) => ({ text, metadata: { source: `doc-${i + j}` } })),
      });
    }
    const config = join(dir, 'proxy.yaml');
    writeFileSync(
      config,
      JSON.stringify({
        rag: { collections: { docs: { shards: [[shard.url]], embeddingModel: EMBED } }, aliases: { [ALIAS]: { model: MODEL, collection: 'docs', k: 4 } } },
      }),
    );
    const proxy = await startProxy(['--config', config, '--upstream', sim.url]);
    const questions = Array.from({ length: 24 }, (_, i) => `How does the ${TOPICS[i % TOPICS.length]} work with the ${TOPICS[(i * 5 + 1) % TOPICS.length]}?`);

    const clientSide = async (question: string) => {
      const start = performance.now();
      const e = await post(`${proxy.url}/v1/embeddings`, { model: EMBED, input: question });
      const hits = await collection.query({ vectors: Float32Array.from(e.data[0].embedding as number[]), k: 4, options: { withPayload: true } });
      const context = hits.ids
        .map((id, i) => `[${i + 1}] ${String(hits.payloads?.[i]?.metadata?.source ?? id)}\n${hits.payloads?.[i]?.text ?? ''}`)
        .join('\n\n');
      const messages = [
        { role: 'system', content: TEMPLATE.replace('{context}', context) },
        { role: 'user', content: question },
      ];
      return streamChat(proxy.url, { model: MODEL, messages, max_tokens: 16 }, start);
    };
    // The demo's chain (examples/rag-demo/src/rag-chain.ts): the same prompt, through LangChain's classes.
    const prompt = ChatPromptTemplate.fromMessages([
      ['system', TEMPLATE],
      ['human', '{question}'],
    ]);
    const format = (docs: Document[]) => docs.map((d, i) => `[${i + 1}] ${String(d.metadata.source ?? d.id)}\n${d.pageContent}`).join('\n\n');
    const embeddings = new OpenAIEmbeddings({ model: EMBED, apiKey: 'x', configuration: { baseURL: `${proxy.url}/v1` } });
    const llm = new ChatOpenAI({ model: MODEL, apiKey: 'x', configuration: { baseURL: `${proxy.url}/v1` }, maxTokens: 16, streaming: true, maxRetries: 0 });
    const retriever = new RagwireVectorStore(embeddings, { client: collection }).asRetriever({ k: 4 });
    const chain = RunnableSequence.from([{ context: retriever.pipe(format), question: new RunnablePassthrough() }, prompt, llm, new StringOutputParser()]);
    const langchainSide = async (question: string) => {
      const start = performance.now();
      let ttftMs: number | undefined;
      let tokens = 0;
      for await (const piece of await chain.stream(question)) {
        if (piece.length === 0) continue;
        ttftMs ??= performance.now() - start;
        tokens++;
      }
      const e2eMs = performance.now() - start;
      return { ttftMs: ttftMs ?? e2eMs, e2eMs, tokens };
    };
    const serverSide = (question: string) =>
      streamChat(proxy.url, { model: ALIAS, messages: [{ role: 'user', content: question }], max_tokens: 16 }, performance.now());
    const variants = [
      { variant: "client-side RAG, the demo's LangChain chain", ask: langchainSide },
      { variant: 'client-side RAG by hand (embed, query shards, chat)', ask: clientSide },
      { variant: 'RAG in the proxy (one call, rag/<model>)', ask: serverSide },
    ];
    for (const v of variants) for (const q of questions.slice(0, 4)) await v.ask(q); // warm-up, discarded

    const pooled = variants.map(() => ({ samples: [] as Sample[], elapsedS: 0, cpuS: 0 }));
    const rounds = Math.max(2, Math.round(6 * o.scale));
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < variants.length; k++) {
        const t = (k + round) % variants.length;
        const started = performance.now();
        const proxyCpu = cpuSeconds(proxy.child.pid!);
        const selfCpu = process.cpuUsage();
        for (const q of questions) {
          const sentAt = performance.now() - started;
          const r = await variants[t]!.ask(q);
          pooled[t]!.samples.push({ status: 200, sentAt, lagMs: 0, e2eMs: r.e2eMs, ttftMs: r.ttftMs, itlMs: [], tokens: r.tokens });
        }
        const self = process.cpuUsage(selfCpu);
        pooled[t]!.cpuS += cpuSeconds(proxy.child.pid!) - proxyCpu + (self.user + self.system) / 1e6;
        pooled[t]!.elapsedS += (performance.now() - started) / 1000;
      }
    }
    await collection.close();
    await Promise.all([proxy.stop(), shard.stop(), sim.stop()]);
    return variants.map((v, t) => {
      const p = pooled[t]!;
      const report = summarize({ arrival: 'constant', rate: 1, durationS: p.elapsedS }, p.samples, p.elapsedS);
      const cpuUs = (p.cpuS * 1e6) / p.samples.length;
      o.log(
        `  rag (${label}): ${v.variant}: before first token p50 ${report.ttft.p50.toFixed(2)} ms, e2e p50 ${report.e2eOk.p50.toFixed(2)} ms, CPU ${cpuUs.toFixed(0)} us/req (proxy + client)`,
      );
      return { scenario: `rag, ${label} (1 client, sequential)`, variant: v.variant, report, extra: { cpuUsPerRequest: cpuUs, rounds } };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
