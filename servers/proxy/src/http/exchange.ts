import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { ProxyError } from '../errors';
import type { TraceSpan } from '@ragwire/tracing';
import type { Tenant } from './tenants';
import { usageTokens } from './token-budget';

/**
 * One request on an OpenAI route and its answer, on Node's own HTTP objects:
 * the hot path needs no framework between the socket and the upstream call.
 * Every answer carries `x-request-id`.
 */
export class Exchange {
  /** performance.now() when the request arrived. */
  readonly startedAt = performance.now();
  /** Headers every answer carries; routes add theirs before answering. */
  readonly headers: OutgoingHttpHeaders;
  /** The status answered, once answered (streams: how they ended: 200, 502 interrupted, 499 client gone). */
  status = 0;
  /** The model asked for, once known to be served (metric labels stay bounded). */
  model = '';
  /** Who sent the request: the API key's name, else the client's address (set by the pipeline's access check). */
  sender = '';
  /** The API key's tenant, when keys are configured: its scopes and budgets. */
  tenant: Tenant | undefined;
  /** The request's server span, when tracing is on. */
  trace: TraceSpan | undefined;
  /** Counts the tokens of a 2xx answer against the tenant (set by the pipeline for keyed requests). */
  onUsage: ((tokens: number) => void) | undefined;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly id: string,
    /** The route's path, without any query string. */
    readonly route: string,
  ) {
    this.headers = { 'x-request-id': id };
  }

  elapsedMs(): number {
    return performance.now() - this.startedAt;
  }

  /** Answers with a complete body (JSON unless the headers say otherwise). */
  send(status: number, body: Buffer | string): void {
    this.status = status;
    if (this.onUsage && status < 300) this.onUsage(usageTokens(typeof body === 'string' ? body : body.toString('latin1')));
    const headers = this.headers;
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    this.res.writeHead(status, headers);
    this.res.end(body);
  }

  /** Answers with a JSON value. */
  json(status: number, value: unknown): void {
    this.send(status, JSON.stringify(value));
  }

  /** Answers with an error in OpenAI's shape. */
  fail(error: ProxyError): void {
    Object.assign(this.headers, error.headers);
    this.headers['content-type'] = 'application/json';
    // A body refused unread leaves bytes on the socket: close it after the answer.
    if (error.code === 'body_too_large') this.headers.connection = 'close';
    this.send(error.status, JSON.stringify(error.toJSON()));
  }

  /** Whether the answer has begun (a later failure cannot change its status). */
  get answered(): boolean {
    return this.res.headersSent;
  }
}
