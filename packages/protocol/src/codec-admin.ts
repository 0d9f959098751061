// docs/protocol.md §5.9-§5.11: STATS, SNAPSHOT, ERROR (meta only, no tail).
import { errorFromCode, isRagwireError, type RagwireError } from './errors';
import { Fields, isPlainObject, utf8Length, type FieldsSource } from './fields';
import { MessageType } from './header';
import type { ProtocolLimits } from './limits';
import { MAX_ERROR_MESSAGE_BYTES, MAX_NAME_BYTES, MAX_STAT_STRING_BYTES, OUTGOING, type MessageCodec } from './message-codec';
import type { ErrorReply, SnapshotInfo, SnapshotReply, SnapshotRequest, StatValue, StatsReply, StatsRequest } from './messages';

function readCollectionScoped(value: unknown, what: string, source?: FieldsSource): { collection?: string } {
  const f: Fields = new Fields(value, what, source);
  const collection = f.optionalCollection();
  f.done();
  return collection === undefined ? {} : { collection };
}

// §5.9 STATS
function readStats(value: unknown, limits: ProtocolLimits, source?: FieldsSource): Omit<StatsRequest, 'type'> {
  const f: Fields = new Fields(value, 'stats', source);
  const collection = f.optionalCollection();
  const text = f.raw('text');
  f.done();
  const out: Omit<StatsRequest, 'type'> = collection === undefined ? {} : { collection };
  if (text !== undefined) {
    if (collection === undefined) f.fail('text', 'needs a collection');
    if (
      !Array.isArray(text) ||
      text.length > limits.maxQueryBatch ||
      !text.every((t) => typeof t === 'string' && utf8Length(t, limits.maxQueryTextBytes) <= limits.maxQueryTextBytes)
    ) {
      f.fail(
        'text',
        `must be an array of at most maxQueryBatch = ${limits.maxQueryBatch} strings of at most maxQueryTextBytes = ${limits.maxQueryTextBytes} bytes`,
      );
    }
    out.text = text as string[];
  }
  return out;
}

export const statsCodec: MessageCodec<StatsRequest> = {
  name: 'stats',
  code: MessageType.STATS,
  response: false,
  encode: (msg, w, limits) => w.meta(readStats(msg, limits, OUTGOING)),
  decode: (r, limits) => ({ type: 'stats', ...readStats(r.meta, limits) }),
};

function readStatsReply(value: unknown, source?: FieldsSource): Omit<StatsReply, 'type'> {
  const f: Fields = new Fields(value, 'stats_ok', source);
  const stats = f.raw('stats');
  if (!isPlainObject(stats)) f.fail('stats', 'must be a map of names to numbers, strings or booleans');
  for (const [name, v] of Object.entries(stats)) {
    if (utf8Length(name, MAX_NAME_BYTES) > MAX_NAME_BYTES) f.fail('stats', `has a name longer than ${MAX_NAME_BYTES} bytes`);
    const ok =
      (typeof v === 'number' && Number.isFinite(v)) ||
      typeof v === 'boolean' ||
      (typeof v === 'string' && utf8Length(v, MAX_STAT_STRING_BYTES) <= MAX_STAT_STRING_BYTES);
    if (!ok) f.fail(`stats.${name}`, `must be a finite number, a boolean or a string of at most ${MAX_STAT_STRING_BYTES} bytes`);
  }
  f.done();
  return { stats: stats as Record<string, StatValue> };
}

export const statsReplyCodec: MessageCodec<StatsReply> = {
  name: 'stats_ok',
  code: MessageType.STATS,
  response: true,
  encode: (msg, w) => w.meta(readStatsReply(msg, OUTGOING)),
  decode: (r) => ({ type: 'stats_ok', ...readStatsReply(r.meta) }),
};

// §5.10 SNAPSHOT
export const snapshotCodec: MessageCodec<SnapshotRequest> = {
  name: 'snapshot',
  code: MessageType.SNAPSHOT,
  response: false,
  encode: (msg, w) => w.meta(readCollectionScoped(msg, 'snapshot', OUTGOING)),
  decode: (r) => ({ type: 'snapshot', ...readCollectionScoped(r.meta, 'snapshot') }),
};

function readSnapshotInfo(value: unknown, what: string): SnapshotInfo {
  const f: Fields = new Fields(value, what);
  const info = { collection: f.collection(), seq: f.count('seq'), bytes: f.count('bytes') };
  f.done();
  return info;
}

function readSnapshotReply(value: unknown, source?: FieldsSource): Omit<SnapshotReply, 'type'> {
  const f: Fields = new Fields(value, 'snapshot_ok', source);
  const list = f.raw('snapshots');
  if (!Array.isArray(list)) f.fail('snapshots', 'must be an array');
  const snapshots = list.map((s, i) => readSnapshotInfo(s, `snapshot_ok.snapshots[${i}]`));
  f.done();
  return { snapshots };
}

export const snapshotReplyCodec: MessageCodec<SnapshotReply> = {
  name: 'snapshot_ok',
  code: MessageType.SNAPSHOT,
  response: true,
  encode: (msg, w) => w.meta(readSnapshotReply(msg, OUTGOING)),
  decode: (r) => ({ type: 'snapshot_ok', ...readSnapshotReply(r.meta) }),
};

// §5.11 ERROR
const ERROR_CODE = /^RAGWIRE_ERR(_[A-Z0-9]+)*$/;

function readError(value: unknown, source?: FieldsSource): Omit<ErrorReply, 'type'> {
  const f: Fields = new Fields(value, 'error', source);
  const code = f.str('code', 64);
  if (!ERROR_CODE.test(code)) f.fail('code', `must look like RAGWIRE_ERR_SOMETHING, got ${JSON.stringify(code)}`);
  const out = { code, message: f.str('message', MAX_ERROR_MESSAGE_BYTES) };
  f.done();
  return out;
}

export const errorCodec: MessageCodec<ErrorReply> = {
  name: 'error',
  code: MessageType.ERROR,
  response: true,
  encode: (msg, w) => w.meta(readError(msg, OUTGOING)),
  decode: (r) => ({ type: 'error', ...readError(r.meta) }),
};

/** The ERROR reply for any thrown value: a RagwireError keeps its code, anything else is INTERNAL. */
export function toErrorReply(error: unknown): ErrorReply {
  if (isRagwireError(error)) return { type: 'error', code: error.code, message: truncate(error.message) };
  const message = error instanceof Error ? error.message : String(error);
  return { type: 'error', code: 'RAGWIRE_ERR_INTERNAL', message: truncate(message) };
}

/** The typed error an ERROR reply stands for (docs/errors.md), to reject the pending request with. */
export function fromErrorReply(reply: ErrorReply): RagwireError {
  return errorFromCode(reply.code, reply.message);
}

function truncate(message: string): string {
  // Leave room for 3-byte characters: the receiver checks bytes, not UTF-16 units.
  const max = Math.floor(MAX_ERROR_MESSAGE_BYTES / 3);
  return message.length > max ? `${message.slice(0, max - 1)}…` : message;
}
