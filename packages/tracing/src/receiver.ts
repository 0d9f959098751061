// An OTLP/HTTP trace receiver in this process (`@ragwire/tracing/receiver`), for tests and checks of
// what a server exported: it takes the JSON export requests the SDK's exporter sends to /v1/traces
// and keeps every span with the `service.name` of its resource.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An OTLP attribute value, as the JSON encoding writes it (64-bit integers as strings). */
export interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}

export interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}

/** One exported span, as much of it as checks read. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  attributes?: OtlpAttribute[];
  events?: { name: string; attributes?: OtlpAttribute[] }[];
  links?: { traceId: string; spanId: string }[];
  /** `service.name` of the resource that exported it. */
  service: string;
}

interface ExportRequest {
  resourceSpans?: { resource?: { attributes?: OtlpAttribute[] }; scopeSpans?: { spans?: Omit<ReceivedSpan, 'service'>[] }[] }[];
}

/** An attribute's value as a JavaScript one (integers as numbers), or undefined when the span lacks it. */
export function attribute(span: Pick<ReceivedSpan, 'attributes'>, key: string): string | number | boolean | undefined {
  const v = span.attributes?.find((a) => a.key === key)?.value;
  if (v === undefined) return undefined;
  if (v.intValue !== undefined) return Number(v.intValue);
  return v.stringValue ?? v.doubleValue ?? v.boolValue;
}

export class OtlpReceiver {
  /** Every span received, in order of arrival. */
  readonly spans: ReceivedSpan[] = [];

  private constructor(
    private readonly server: Server,
    /** The traces endpoint to give a server's `tracing.otlpEndpoint`. */
    readonly endpoint: string,
  ) {}

  /** A receiver listening on 127.0.0.1, on a port of the system's choosing. */
  static async start(): Promise<OtlpReceiver> {
    let receiver: OtlpReceiver | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        try {
          receiver?.take(JSON.parse(Buffer.concat(chunks).toString('utf8')) as ExportRequest);
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        } catch {
          res.writeHead(400, { 'content-type': 'application/json' }).end('{"message":"not an OTLP/JSON export request"}');
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    receiver = new OtlpReceiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`);
    return receiver;
  }

  private take(body: ExportRequest): void {
    for (const rs of body.resourceSpans ?? []) {
      const service = String(attribute(rs.resource ?? {}, 'service.name') ?? '');
      for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) this.spans.push({ ...s, service });
    }
  }

  /** Resolves true once `found` holds over the spans received, or false after `timeoutMs`. */
  async waitFor(found: (spans: readonly ReceivedSpan[]) => boolean, timeoutMs = 2_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!found(this.spans)) {
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
    return true;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
