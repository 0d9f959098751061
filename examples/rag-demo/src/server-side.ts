// RAG done by the proxy: one chat call to a model alias bound to the collection (`rag/<model>`), with
// the plain openai SDK; the sources and the retrieval's timings come back in the stream's first chunk.
import OpenAI from 'openai';
import type { Answer } from './rag-chain';

interface RagwireField {
  sources: { id: string; metadata: Record<string, unknown> }[];
  timings: { embedMs?: number; retrieveMs?: number; rerankMs?: number };
}

export class ServerSideRag {
  readonly label = 'RAG in the proxy';
  private readonly client: OpenAI;

  constructor(
    baseURL: string,
    apiKey: string,
    private readonly alias: string,
    private readonly maxTokens: number,
  ) {
    this.client = new OpenAI({ baseURL, apiKey, maxRetries: 2 });
  }

  async ask(question: string): Promise<Answer> {
    const start = performance.now();
    const stream = await this.client.chat.completions.create({
      model: this.alias,
      messages: [{ role: 'user', content: question }],
      max_tokens: this.maxTokens,
      temperature: 0,
      stream: true,
    });
    let answer = '';
    let ragwire: RagwireField | undefined;
    let firstTokenAt: number | undefined;
    for await (const chunk of stream) {
      ragwire ??= (chunk as { ragwire?: RagwireField }).ragwire;
      const text = chunk.choices[0]?.delta?.content;
      if (text) {
        firstTokenAt ??= performance.now();
        answer += text;
      }
    }
    const end = performance.now();
    const embed = ragwire?.timings.embedMs ?? 0;
    const retrieve = (ragwire?.timings.retrieveMs ?? 0) + (ragwire?.timings.rerankMs ?? 0);
    // The proxy's retrieval ran before its model call: the generation stages start after it.
    const promptSentAt = start + embed + retrieve;
    return {
      question,
      answer,
      sources: (ragwire?.sources ?? []).map((s) => String(s.metadata.source ?? s.id)),
      stages: { embed, retrieve, ttft: (firstTokenAt ?? end) - promptSentAt, generate: end - promptSentAt, total: end - start },
    };
  }
}
