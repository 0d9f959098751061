/**
 * Every error the proxy answers, in one table. Each is sent in OpenAI's shape
 * `{error:{message,type,param,code}}` with the status below, so the `openai`
 * SDK raises its matching typed error (BadRequestError, AuthenticationError,
 * NotFoundError, RateLimitError, InternalServerError, ...). docs/errors.md
 * lists every code; a test keeps the two in sync.
 */
export const proxyErrors = {
  ab_unavailable: {
    status: 501,
    type: 'server_error',
    meaning: 'The dashboard has no A/B comparison: the process that started the proxy registered no `runAb` hook.',
  },
  ab_busy: {
    status: 429,
    type: 'server_overloaded',
    meaning: 'An A/B run is in progress; runs never overlap, so each measures an otherwise idle path. Retry after `retry-after-ms`.',
  },
  ab_failed: {
    status: 502,
    type: 'server_error',
    meaning: 'The A/B hook threw, timed out (`dashboard.abTimeoutMs`) or returned a malformed report; the message says which.',
  },
  invalid_json: { status: 400, type: 'invalid_request_error', meaning: 'The request body is not valid JSON.' },
  invalid_request: { status: 400, type: 'invalid_request_error', meaning: 'A field is missing, of the wrong type or out of range; `param` names it.' },
  unknown_collection: {
    status: 400,
    type: 'invalid_request_error',
    meaning: 'A retrieval names a collection the proxy has no configuration for (`rag.collections`), or one its store does not hold.',
  },
  invalid_filter: {
    status: 400,
    type: 'invalid_request_error',
    meaning: "A retrieval's `filter` is malformed (unknown operator, empty range, wrong value type); `param` names it.",
  },
  dimension_mismatch: {
    status: 400,
    type: 'invalid_request_error',
    meaning: "The collection's dimension differs from what its `embeddingModel` returned: the collection was embedded with another model.",
  },
  retrieval_failed: {
    status: 502,
    type: 'server_error',
    meaning: "A retrieval's shards did not answer (unreachable, or not within `rag.timeoutMs`); the message says which.",
  },
  rerank_failed: {
    status: 502,
    type: 'server_error',
    meaning: "The reranker named by a retrieval's `rerank.model` answered with an error or an answer that is not vLLM's rerank shape.",
  },
  model_forbidden: {
    status: 403,
    type: 'permission_error',
    meaning: 'The API key is scoped to other models (`models` in its keys entry); a retrieval alias counts as a model.',
  },
  collection_forbidden: {
    status: 403,
    type: 'permission_error',
    meaning: 'The API key is scoped to other collections (`collections` in its keys entry), directly or through a retrieval alias.',
  },
  budget_exceeded: {
    status: 429,
    type: 'tokens',
    meaning:
      'The API key spent its tokens for the minute or the UTC day (`tokensPerMinute`, `tokensPerDay`); the message says which. Retry after `retry-after-ms`, when the window turns.',
  },
  invalid_api_key: { status: 401, type: 'invalid_request_error', meaning: 'API keys are configured and the request has no key or an unknown one.' },
  not_found: { status: 404, type: 'invalid_request_error', meaning: 'No such route.' },
  model_not_found: { status: 404, type: 'invalid_request_error', meaning: 'No upstream serves the requested model.' },
  body_too_large: { status: 413, type: 'invalid_request_error', meaning: 'The request body exceeds `bodyLimitBytes`.' },
  rate_limit_exceeded: { status: 429, type: 'requests', meaning: "The API key's request rate limit is spent; retry after `retry-after-ms`." },
  queue_full: {
    status: 429,
    type: 'server_overloaded',
    meaning: "The model's admission queue is full; the request was shed at once. Retry after `retry-after-ms`.",
  },
  queue_wait_exceeded: {
    status: 429,
    type: 'server_overloaded',
    meaning:
      'The request would wait more than half of `admission.maxQueueWaitMs` for an upstream slot, predicted from the requests in flight and recent upstream latency (the other half is margin for the prediction); shed at once. Retry after `retry-after-ms`.',
  },
  queue_timeout: { status: 429, type: 'server_overloaded', meaning: 'The request waited `admission.maxQueueWaitMs` in the queue without an upstream slot.' },
  internal_error: { status: 500, type: 'server_error', meaning: 'A bug in the proxy; the message says where.' },
  upstream_error: { status: 502, type: 'server_error', meaning: 'Every attempt at an upstream failed (connection refused or reset, 5xx, invalid answer).' },
  upstream_stream_interrupted: {
    status: 502,
    type: 'server_error',
    meaning: 'The upstream failed after streaming began; sent as the last SSE event instead of `[DONE]`.',
  },
  no_healthy_upstream: { status: 503, type: 'server_error', meaning: 'No healthy upstream serves the model right now.' },
  upstream_timeout: { status: 504, type: 'server_error', meaning: 'The upstream did not answer within `upstreamTimeoutMs`.' },
} as const satisfies Record<string, { status: number; type: string; meaning: string }>;

export type ProxyErrorCode = keyof typeof proxyErrors;

/**
 * An error the proxy answers with; `code` picks the status and type from the
 * table. It is an answer to the client, not a fault in the proxy, so it
 * carries no stack trace: capturing one (async frames included) took about
 * 17 us of each 429 under overload in a CPU profile.
 */
export class ProxyError extends Error {
  readonly code: ProxyErrorCode;
  readonly param: string | null;
  /** Extra response headers, such as retry-after for 429s. */
  readonly headers: Record<string, string>;
  readonly status: number;
  readonly type: string;

  constructor(code: ProxyErrorCode, message: string, param: string | null = null, headers: Record<string, string> = {}) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super(message);
    } finally {
      Error.stackTraceLimit = limit;
    }
    this.name = 'ProxyError';
    this.code = code;
    this.param = param;
    this.headers = headers;
    this.status = proxyErrors[code].status;
    this.type = proxyErrors[code].type;
  }

  /** The OpenAI-shaped body. */
  toJSON(): { error: { message: string; type: string; param: string | null; code: string } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** The headers of a 429: `retry-after` in whole seconds (at least 1) and `retry-after-ms`. */
export function retryAfterHeaders(ms: number): Record<string, string> {
  const clamped = Math.max(1, Math.round(ms));
  return { 'retry-after': String(Math.max(1, Math.ceil(clamped / 1000))), 'retry-after-ms': String(clamped) };
}
