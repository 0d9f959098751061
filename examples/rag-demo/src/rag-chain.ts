// A LangChain (LCEL) retrieval chain that records where each answer's time went.
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import type { Document } from '@langchain/core/documents';
import { Embeddings, type EmbeddingsInterface } from '@langchain/core/embeddings';
import { StringOutputParser } from '@langchain/core/output_parsers';
import { ChatPromptTemplate } from '@langchain/core/prompts';
import type { BaseRetriever } from '@langchain/core/retrievers';
import { RunnableLambda, RunnablePassthrough, RunnableSequence } from '@langchain/core/runnables';
import type { QueryTiming } from '@ragwire/client';

/** Milliseconds per stage of one answer. */
export interface StageTimes {
  /** Embedding the question (an embeddings call). */
  embed: number;
  /** From the question's vector to the merged documents (the vector search, transport included). */
  retrieve: number;
  /** Per shard, as the client saw it (NaN: did not answer); absent when the search ran behind another service. */
  shards?: number[];
  /** Merging the shards' top-k. */
  merge?: number;
  /** From the prompt sent to the first generated token. */
  ttft: number;
  /** From the prompt sent to the last token. */
  generate: number;
  total: number;
}

export interface Answer {
  question: string;
  answer: string;
  sources: string[];
  stages: StageTimes;
}

/** The marks of the answer in progress. */
class StageClock {
  readonly start = performance.now();
  embedMs = 0;
  embeddedAt = this.start;
  retrievedAt = this.start;
  query: QueryTiming | undefined;
  sources: string[] = [];
}

/** Embeddings that time each question's embedding into the clock of the answer in progress. */
class TimedEmbeddings extends Embeddings {
  constructor(
    private readonly inner: EmbeddingsInterface,
    private readonly clock: () => StageClock | undefined,
  ) {
    super({});
  }

  async embedQuery(text: string): Promise<number[]> {
    const t0 = performance.now();
    const vector = await this.inner.embedQuery(text);
    const clock = this.clock();
    if (clock) {
      clock.embeddedAt = performance.now();
      clock.embedMs += clock.embeddedAt - t0;
    }
    return vector;
  }

  embedDocuments(texts: string[]): Promise<number[][]> {
    return this.inner.embedDocuments(texts);
  }
}

const PROMPT = ChatPromptTemplate.fromMessages([
  ['system', 'You answer questions about the ragwire project from the context below. Name the source files you used.\n\nContext:\n{context}'],
  ['human', '{question}'],
]);

function formatContext(docs: Document[]): string {
  return docs.map((d) => `[${String(d.metadata.source ?? d.id ?? '?')}]\n${d.pageContent}`).join('\n\n');
}

/**
 * One way of answering: a retriever and a chat model joined by an LCEL chain. Answers run one at a
 * time (the clock is per answer), in the order asked.
 */
export class RagPipeline {
  private current: StageClock | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly chain: RunnableSequence<string, string>;
  /** The embeddings to hand the retriever's store: they time each question into this pipeline. */
  readonly embeddings: Embeddings;

  constructor(
    readonly label: string,
    embeddings: EmbeddingsInterface,
    private readonly makeRetriever: (embeddings: Embeddings) => BaseRetriever,
    llm: BaseChatModel,
  ) {
    this.embeddings = new TimedEmbeddings(embeddings, () => this.current);
    const retrieved = RunnableLambda.from((docs: Document[]) => {
      const clock = this.current!;
      clock.retrievedAt = performance.now();
      clock.sources = docs.map((d) => String(d.metadata.source ?? d.id));
      return formatContext(docs);
    });
    this.chain = RunnableSequence.from([
      { context: this.makeRetriever(this.embeddings).pipe(retrieved), question: new RunnablePassthrough() },
      PROMPT,
      llm,
      new StringOutputParser(),
    ]) as RunnableSequence<string, string>;
  }

  /** The client's timing of the vector search of the answer in progress (see ShardedCollection's onQuery). */
  noteQuery(timing: QueryTiming): void {
    if (this.current) this.current.query = timing;
  }

  ask(question: string): Promise<Answer> {
    const run = this.queue.then(() => this.answer(question));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async answer(question: string): Promise<Answer> {
    const clock = (this.current = new StageClock());
    try {
      let answer = '';
      let firstTokenAt: number | undefined;
      for await (const chunk of await this.chain.stream(question)) {
        firstTokenAt ??= performance.now();
        answer += chunk;
      }
      const end = performance.now();
      firstTokenAt ??= end;
      const stages: StageTimes = {
        embed: clock.embedMs,
        retrieve: clock.retrievedAt - clock.embeddedAt,
        ttft: firstTokenAt - clock.retrievedAt,
        generate: end - clock.retrievedAt,
        total: end - clock.start,
      };
      if (clock.query) {
        stages.shards = clock.query.shardMs;
        stages.merge = clock.query.mergeMs;
      }
      return { question, answer, sources: clock.sources, stages };
    } finally {
      this.current = undefined;
    }
  }
}
