/**
 * The ragwire RAG demo, end to end on one machine with no GPU: the simulator (or a real vLLM with
 * --upstream), the proxy, the embedded store (or --shards N servers); ingest this repository's docs;
 * answer questions through a LangChain retrieval chain; print where the time went; then serve the
 * live dashboard (or exit with --once).
 */
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { abTable, answerList, stageTable } from './report';
import { startDemoStack } from './stack';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

const QUESTIONS = [
  'How does the shard server authenticate clients?',
  'What does the proxy do when it is overloaded?',
  'How are vectors laid out in a protocol frame?',
  'When is a write to the store acknowledged, and what survives kill -9?',
  'How does the client merge results from several shards?',
  'What does recall@10 mean in the benchmark tables?',
];

const int = (min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`must be an integer >= ${min}`);
  return n;
};
const num = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be a number >= 0');
  return n;
};
const collect = (v: string, all: string[]) => [...all, v];

const program = new Command('ragwire-demo')
  .description('ragwire end to end: ingest, retrieve, generate, measure')
  .option('--shards <n>', 'shard servers to start; 0 runs the embedded store in this process', int(0), 0)
  .option('--upstream <url>', 'a vLLM (OpenAI-compatible) server to use instead of the simulator; repeat for replicas', collect, [])
  .option('--sim-replicas <n>', 'simulator replicas when no --upstream is given', int(1), 2)
  .option('--data <dir>', 'where the stores keep their data (kept between runs: unchanged files are skipped)', join(tmpdir(), 'ragwire-demo'))
  .option('--corpus <path>', "file, directory or glob to ingest; repeat (default: this repository's docs/ and README.md)", collect, [])
  .option('--collection <name>', 'collection name', 'ragwire-docs')
  .option('--port <n>', 'proxy port (0 picks one)', int(0), 8080)
  .option('--model <id>', 'chat model (default: the first the upstreams list)')
  .option('--embedding-model <id>', 'embedding model', 'ragwire/sim-embed')
  .option('--k <n>', 'documents per answer', int(1), 4)
  .option('--max-tokens <n>', 'tokens per answer', int(1), 48)
  .option('--question <text>', 'a question to ask; repeat (default: six about this project)', collect, [])
  .option('--load <qps>', 'questions per second kept flowing while the dashboard runs (0: none)', num, 1)
  .option('--server-side', 'the proxy does the RAG: ask the model alias rag/<model> with the plain openai SDK')
  .option('--once', 'exit after the questions instead of serving the dashboard')
  // `pnpm demo -- --once` hands the script a literal `--` first: options follow it.
  .parse(process.argv[2] === '--' ? [...process.argv.slice(0, 2), ...process.argv.slice(3)] : process.argv);

const opts = program.opts<{
  shards: number;
  upstream: string[];
  simReplicas: number;
  data: string;
  corpus: string[];
  collection: string;
  port: number;
  model?: string;
  embeddingModel: string;
  k: number;
  maxTokens: number;
  question: string[];
  load: number;
  once?: boolean;
  serverSide?: boolean;
}>();

const say = (line: string) => process.stdout.write(`${line}\n`);
const questions = opts.question.length > 0 ? opts.question : QUESTIONS;

const stack = await startDemoStack({
  shards: opts.shards,
  upstreams: opts.upstream,
  simReplicas: opts.simReplicas,
  dataDir: opts.data,
  corpus: opts.corpus.length > 0 ? opts.corpus : [join(REPO_ROOT, 'docs'), join(REPO_ROOT, 'README.md')],
  corpusRoot: opts.corpus.length > 0 ? process.cwd() : REPO_ROOT,
  collection: opts.collection,
  port: opts.port,
  ...(opts.model ? { model: opts.model } : {}),
  embeddingModel: opts.embeddingModel,
  k: opts.k,
  maxTokens: opts.maxTokens,
  serverSide: opts.serverSide === true,
  log: say,
}).catch((error: unknown) => {
  const e = error as NodeJS.ErrnoException;
  const why = e.code === 'EADDRINUSE' ? `port ${opts.port} is in use: pass --port with a free port (0 picks one)` : (e.stack ?? String(error));
  process.stderr.write(`demo could not start: ${why}\n`);
  process.exit(1);
});

let stopping = false;
const shutdown = async (code: number) => {
  if (stopping) return;
  stopping = true;
  await stack.close();
  process.exit(code);
};
process.once('SIGINT', () => void shutdown(0));
process.once('SIGTERM', () => void shutdown(0));

try {
  await stack.ask(questions[0]!); // warm-up: connections, JIT
  const answers = [];
  for (const q of questions) answers.push(await stack.ask(q));
  say(`\n${stack.shardUrls[0]!.startsWith('embedded://') ? 'embedded store' : `${stack.shardUrls.length} shards`}, model ${stack.model}, k=${opts.k}`);
  say(answerList(answers));
  const where = opts.serverSide ? 'in the proxy, as it reports them in the first chunk' : "from the question's vector to merged documents";
  say(`\nper-stage latency (ms; retrieve = vector search ${where})\n${stageTable(answers)}`);
  // One A/B run is noisy (the model's timing dominates the total): show the median of three.
  const runs = [];
  for (let i = 0; i < 3; i++) runs.push(await stack.abTest(questions[i % questions.length]!));
  runs.sort((a, b) => a.ragwire.totalMs - b.ragwire.totalMs);
  say(`\nthe traditional path against ragwire, the same question (the median of 3 runs by ragwire total):\n${abTable(runs[1]!)}`);
} catch (error) {
  process.stderr.write(`demo failed: ${(error as Error).stack ?? String(error)}\n`);
  await shutdown(1);
}

if (opts.once) {
  await shutdown(0);
} else {
  say(`\ndashboard: ${stack.dashboardUrl}  (Ctrl-C to stop)`);
  if (opts.load > 0) {
    let i = 0;
    let inFlight = 0;
    const timer = setInterval(() => {
      if (stopping || inFlight >= 4) return; // a slow model does not pile questions up
      inFlight++;
      stack
        .ask(questions[i++ % questions.length]!)
        .catch((error: unknown) => say(`question failed: ${(error as Error).message}`))
        .finally(() => inFlight--);
    }, 1000 / opts.load);
    timer.unref();
  }
}
