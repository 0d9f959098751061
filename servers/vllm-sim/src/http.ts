import type { IncomingMessage, ServerResponse } from 'node:http';

/** An error answered in the OpenAI shape vLLM uses: `{error:{message,type,param,code}}`. */
export class SimHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type = 'BadRequestError',
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

export const SIM_HEADERS = { 'x-ragwire-sim': '1' } as const;

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { ...SIM_HEADERS, ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}

export function sendError(res: ServerResponse, error: SimHttpError, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, error.status, { error: { message: error.message, type: error.type, param: error.param, code: error.status } }, headers);
}

/** Reads and parses a JSON body, refusing more than `limit` bytes. */
export function readJson(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new SimHttpError(413, `request body exceeds ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      try {
        const value = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
        if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object');
        resolve(value as Record<string, unknown>);
      } catch {
        reject(new SimHttpError(400, 'request body must be a JSON object'));
      }
    });
    req.on('error', reject);
  });
}

export function optionalInt(body: Record<string, unknown>, field: string, min: number): number | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new SimHttpError(400, `${field} must be an integer >= ${min}`, 'BadRequestError', field);
  return v;
}
