import type { IncomingMessage } from 'node:http';
import { ProxyError } from '../errors';

/** A request body as JSON: the parsed value (undefined when empty) and the bytes as the client sent them. */
export interface JsonBody {
  value: unknown;
  bytes: Buffer;
}

/**
 * Reads and parses a JSON request body of at most `limit` bytes. A declared
 * length over the limit is refused before a byte is read; a body that grows
 * past it (chunked) stops being buffered at the limit. Either way the answer
 * is `body_too_large`; invalid JSON is `invalid_json`.
 */
export function readJsonBody(req: IncomingMessage, limit: number): Promise<JsonBody> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    let first: Buffer | undefined;
    let chunks: Buffer[] | undefined;
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData).off('end', onEnd);
        req.resume(); // discard the rest; the answer closes the connection
        reject(tooLarge(limit));
        return;
      }
      if (first === undefined) first = chunk;
      else (chunks ??= [first]).push(chunk);
    };
    const onEnd = () => {
      req.off('error', reject).off('close', onClose);
      const bytes = chunks ? Buffer.concat(chunks, size) : (first ?? Buffer.alloc(0));
      if (bytes.length === 0) return resolve({ value: undefined, bytes });
      try {
        resolve({ value: JSON.parse(bytes.toString('utf8')), bytes });
      } catch (error) {
        reject(new ProxyError('invalid_json', `the request body is not valid JSON: ${(error as Error).message}`));
      }
    };
    const onClose = () => reject(new Error('the client closed the connection before the whole body arrived'));
    req.on('data', onData).once('end', onEnd).once('error', reject).once('close', onClose);
  });
}

function tooLarge(limit: number): ProxyError {
  return new ProxyError('body_too_large', `the request body exceeds ${limit} bytes`);
}
