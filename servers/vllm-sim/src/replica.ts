import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { SimConfig } from './config';
import { BatchEngine } from './engine';
import { runGeneration } from './generate';
import { contentText, pickTool, planText, planToolCall, renderChatPrompt, type ChoicePlan } from './generation';
import { SimHttpError, optionalInt, readJson, sendError, sendJson } from './http';
import { renderMetrics } from './metrics';
import { classify, detokenizeRoute, pooling, rerank, score, tokenizeRoute } from './pooling';
import { runResponses } from './responses';
import { embed, float32ToBase64, tokenize } from './text';

/** Every POST route served; others answer 404 as vLLM does. */
const POST_ROUTES = new Set([
  '/v1/chat/completions',
  '/v1/completions',
  '/v1/embeddings',
  '/v1/responses',
  '/rerank',
  '/v1/rerank',
  '/v2/rerank',
  '/score',
  '/v1/score',
  '/pooling',
  '/classify',
  '/tokenize',
  '/detokenize',
]);

/**
 * One simulated vLLM server: its own engine, prefix cache, API front end and
 * HTTP listener. Every response carries `x-ragwire-sim: 1`.
 */
export class SimReplica {
  readonly engine: BatchEngine;
  private readonly server: Server;
  private frontendFreeAt = 0;
  private readonly frontendStats = { requests: 0, cancelled: 0 };
  private readonly created = Math.floor(Date.now() / 1000);

  constructor(readonly config: Readonly<SimConfig>) {
    this.engine = new BatchEngine(config);
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 65_000;
  }

  async listen(port: number): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, this.config.host, () => resolve());
    });
    const addr = this.server.address() as AddressInfo;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    return `http://${host}:${addr.port}`;
  }

  async close(): Promise<void> {
    this.engine.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Waits for the serialized API front end (HTTP, parsing, tokenization) to take this request. */
  private frontend(): Promise<void> | undefined {
    const cost = this.config.frontendPerRequestMs;
    if (cost <= 0) return undefined;
    const now = performance.now();
    this.frontendFreeAt = Math.max(now, this.frontendFreeAt) + cost;
    return new Promise((resolve) => setTimeout(resolve, this.frontendFreeAt - now));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = (req.headers['x-request-id'] as string | undefined) ?? randomUUID();
    const headers = { 'x-request-id': requestId };
    this.frontendStats.requests++;
    try {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method === 'GET' && (path === '/health' || path === '/ping')) return sendJson(res, 200, {}, headers);
      if (req.method === 'GET' && path === '/metrics') {
        const text = renderMetrics(this.config.model, this.engine.snapshot(), this.frontendStats, this.config.legacyMetricNames);
        res.writeHead(200, { 'x-ragwire-sim': '1', 'content-type': 'text/plain; version=0.0.4' });
        res.end(text);
        return;
      }
      if (req.method === 'GET' && path === '/v1/models') return sendJson(res, 200, this.models(), headers);
      if (req.method !== 'POST' || !POST_ROUTES.has(path!)) {
        throw new SimHttpError(404, `no route ${req.method} ${path}`, 'NotFoundError');
      }
      const body = await readJson(req, this.config.maxBodyBytes);
      await this.frontend();
      if (path === '/v1/embeddings') return this.embeddings(body, res, headers);
      const pooled = this.pooling(path!, body);
      if (pooled !== undefined) return sendJson(res, 200, pooled, headers);
      if (path === '/v1/responses') {
        return runResponses(this.engine, res, {
          model: this.checkModel(body, [this.config.model]),
          body,
          seed: this.config.seed,
          maxModelLen: this.config.maxModelLen,
          requestId,
          onCancel: () => this.frontendStats.cancelled++,
        });
      }
      return this.generation(path === '/v1/chat/completions' ? 'chat' : 'text', body, res, requestId);
    } catch (error) {
      if (error instanceof SimHttpError) return sendError(res, error, headers);
      sendError(res, new SimHttpError(500, (error as Error).message, 'InternalServerError'), headers);
    }
  }

  /** The pooling-model and tokenizer routes (see pooling.ts); undefined for the others. */
  private pooling(path: string, body: Record<string, unknown>): unknown {
    const any = [this.config.embeddingModel, this.config.model];
    const { embeddingDim: dim } = this.config;
    switch (path) {
      case '/rerank':
      case '/v1/rerank':
      case '/v2/rerank':
        return rerank(body, this.checkModel(body, any), dim);
      case '/score':
      case '/v1/score':
        return score(body, this.checkModel(body, any), dim);
      case '/pooling':
        return pooling(body, this.checkModel(body, any), dim);
      case '/classify':
        return classify(body, this.checkModel(body, any));
      case '/tokenize':
        if (body.model !== undefined) this.checkModel(body, any);
        return tokenizeRoute(body, this.config.maxModelLen);
      case '/detokenize':
        if (body.model !== undefined) this.checkModel(body, any);
        return detokenizeRoute(body);
      default:
        return undefined;
    }
  }

  private models() {
    const entry = (id: string) => ({
      id,
      object: 'model',
      created: this.created,
      owned_by: 'vllm',
      root: id,
      parent: null,
      max_model_len: this.config.maxModelLen,
    });
    return { object: 'list', data: [entry(this.config.model), entry(this.config.embeddingModel)] };
  }

  private checkModel(body: Record<string, unknown>, allowed: string[]): string {
    const model = body.model;
    if (typeof model !== 'string') throw new SimHttpError(400, 'model must be a string', 'BadRequestError', 'model');
    if (!allowed.includes(model)) throw new SimHttpError(404, `The model \`${model}\` does not exist.`, 'NotFoundError', 'model');
    return model;
  }

  private generation(kind: 'chat' | 'text', body: Record<string, unknown>, res: ServerResponse, requestId: string): void {
    const model = this.checkModel(body, [this.config.model]);
    const n = optionalInt(body, 'n', 1) ?? 1;
    const maxTokens = optionalInt(body, 'max_completion_tokens', 0) ?? optionalInt(body, 'max_tokens', 0);
    const ignoreEos = body.ignore_eos === true;
    const seed = this.config.seed + (typeof body.seed === 'number' ? body.seed : 0);
    const prompts: string[] = [];
    const plans: ChoicePlan[] = [];
    if (kind === 'chat') {
      const messages = body.messages;
      if (!Array.isArray(messages) || messages.length === 0) throw new SimHttpError(400, 'messages must be a non-empty array', 'BadRequestError', 'messages');
      const prompt = renderChatPrompt(messages, body.tools);
      prompts.push(prompt);
      const tool = pickTool(body.tools, body.tool_choice, messages);
      for (let c = 0; c < n; c++) plans.push(tool ? planToolCall(tool, prompt, c, seed) : planText(prompt, c, seed, maxTokens, ignoreEos));
    } else {
      const p = body.prompt;
      const list =
        typeof p === 'string'
          ? [p]
          : Array.isArray(p) && p.length > 0 && p.every((x) => typeof x === 'string')
            ? (p as string[])
            : Array.isArray(p) && p.length > 0 && p.every((x) => typeof x === 'number')
              ? [p.join(' ')]
              : Array.isArray(p) && p.length > 0 && p.every((x) => Array.isArray(x))
                ? (p as unknown[][]).map((x) => x.join(' '))
                : undefined;
      if (!list) throw new SimHttpError(400, 'prompt must be a string, a list of strings or token ids', 'BadRequestError', 'prompt');
      for (const prompt of list) {
        prompts.push(prompt);
        for (let c = 0; c < n; c++) plans.push(planText(prompt, c, seed, maxTokens, ignoreEos));
      }
    }
    const promptTokens = prompts.map((p) => tokenize(p));
    for (const tokens of promptTokens) {
      if (tokens.length + (maxTokens ?? 0) > this.config.maxModelLen) {
        throw new SimHttpError(
          400,
          `This model's maximum context length is ${this.config.maxModelLen} tokens. However, you requested ${tokens.length + (maxTokens ?? 0)} tokens.`,
          'BadRequestError',
          'messages',
        );
      }
    }
    const streamOptions = body.stream_options as { include_usage?: unknown } | undefined;
    runGeneration(this.engine, res, {
      kind,
      id: `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomUUID().replaceAll('-', '')}`,
      model,
      created: Math.floor(Date.now() / 1000),
      promptTokens,
      plans,
      n,
      stream: body.stream === true,
      includeUsage: body.stream === true && streamOptions?.include_usage === true,
      maxModelLen: this.config.maxModelLen,
      requestId,
      onCancel: () => this.frontendStats.cancelled++,
    });
  }

  private embeddings(body: Record<string, unknown>, res: ServerResponse, headers: Record<string, string>): void {
    const model = this.checkModel(body, [this.config.embeddingModel, this.config.model]);
    const input = body.input;
    const texts =
      typeof input === 'string'
        ? [input]
        : Array.isArray(input) && input.length > 0 && input.every((x) => typeof x === 'string')
          ? (input as string[])
          : Array.isArray(input) && input.length > 0 && input.every((x) => typeof x === 'number')
            ? [input.map((t) => `t${t}`).join(' ')]
            : Array.isArray(input) && input.length > 0 && input.every((x) => Array.isArray(x))
              ? (input as unknown[][]).map((x) => x.map((t) => `t${String(t)}`).join(' '))
              : undefined;
    if (!texts) throw new SimHttpError(400, 'input must be a string, a list of strings or token ids', 'BadRequestError', 'input');
    const format = body.encoding_format ?? 'float';
    if (format !== 'float' && format !== 'base64')
      throw new SimHttpError(400, 'encoding_format must be "float" or "base64"', 'BadRequestError', 'encoding_format');
    const dim = optionalInt(body, 'dimensions', 1) ?? this.config.embeddingDim;
    let remaining = texts.length;
    let promptTokens = 0;
    let closed = false;
    const aborts: (() => void)[] = [];
    res.on('close', () => {
      if (remaining > 0 && !closed) {
        closed = true;
        this.frontendStats.cancelled++;
        for (const abort of aborts) abort();
      }
    });
    const tokenLists = texts.map((t) => tokenize(contentText(t)));
    for (const tokens of tokenLists) {
      promptTokens += tokens.length;
      aborts.push(
        this.engine.submit({
          promptTokens: tokens,
          outputTokens: 0,
          reserveTokens: tokens.length,
          finishReason: 'stop',
          onToken() {},
          onFinish: (reason) => {
            if (reason === 'abort' || closed || --remaining > 0) return;
            const data = texts.map((text, index) => {
              const v = embed(text, dim);
              return { object: 'embedding', index, embedding: format === 'base64' ? float32ToBase64(v) : Array.from(v) };
            });
            sendJson(
              res,
              200,
              {
                id: `embd-${randomUUID().replaceAll('-', '')}`,
                object: 'list',
                created: Math.floor(Date.now() / 1000),
                model,
                data,
                usage: { prompt_tokens: promptTokens, total_tokens: promptTokens, completion_tokens: 0 },
              },
              headers,
            );
          },
        }),
      );
    }
  }
}
