// docs/protocol.md §5.1-§5.4: HELLO, CREATE, DROP, DESCRIBE and their replies (meta only, no tail).
import { Fields, isPlainObject, type FieldsSource } from './fields';
import { MessageType } from './header';
import { TEXT_LANGUAGES, type TextSettings } from './search';
import { DEFAULT_LIMITS, type ProtocolLimits } from './limits';
import { MAX_NAME_BYTES, MAX_TOKEN_BYTES, OUTGOING, type MessageCodec } from './message-codec';
import type { CollectionInfo, CreateReply, CreateRequest, DescribeReply, DescribeRequest, DropReply, DropRequest, HelloReply, HelloRequest } from './messages';
import { INDEX_KINDS, METRICS, STORAGES } from './types';

/** §5.4 CollectionInfo */
export function readCollectionInfo(value: unknown, what: string, limits: ProtocolLimits): CollectionInfo {
  const f: Fields = new Fields(value, what);
  const info: CollectionInfo = {
    name: f.collection('name'),
    dim: f.int('dim', 1, limits.maxDim, 'maxDim'),
    metric: f.oneOf('metric', METRICS),
    kind: f.oneOf('kind', INDEX_KINDS),
    storage: f.oneOf('storage', STORAGES),
    count: f.count('count'),
  };
  const params = f.numberMap('params');
  if (params !== undefined) info.params = params;
  f.done();
  return info;
}

// §5.1 HELLO
function readHello(value: unknown, source?: FieldsSource): Omit<HelloRequest, 'type'> {
  const f: Fields = new Fields(value, 'hello', source);
  const versions = f.raw('versions');
  if (!Array.isArray(versions) || versions.length < 1 || versions.length > 16) {
    f.fail('versions', 'must be an array of 1 to 16 protocol versions');
  }
  for (const v of versions) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 255) f.fail('versions', `holds ${String(v)}, not a version in [1, 255]`);
  }
  const out: Omit<HelloRequest, 'type'> = { versions: versions as number[] };
  const token = f.str('token', MAX_TOKEN_BYTES, { optional: true });
  const client = f.str('client', MAX_NAME_BYTES, { optional: true });
  if (token !== undefined) out.token = token;
  if (client !== undefined) out.client = client;
  f.done();
  return out;
}

export const helloCodec: MessageCodec<HelloRequest> = {
  name: 'hello',
  code: MessageType.HELLO,
  response: false,
  encode: (msg, w) => w.meta(readHello(msg, OUTGOING)),
  decode: (r) => ({ type: 'hello', ...readHello(r.meta) }),
};

function readHelloReply(value: unknown, source?: FieldsSource): Omit<HelloReply, 'type'> {
  const f: Fields = new Fields(value, 'hello_ok', source);
  const out: Omit<HelloReply, 'type'> = {
    version: f.int('version', 1, 255),
    server: f.str('server', MAX_NAME_BYTES),
  };
  const limits = f.raw('limits');
  if (limits !== undefined) {
    if (!isPlainObject(limits)) return f.fail('limits', 'must be a map');
    const advertised: Record<string, number> = {};
    // Unknown limit names are skipped: they are advice from a newer peer, not a request.
    for (const name of Object.keys(DEFAULT_LIMITS)) {
      const v = limits[name];
      if (v === undefined || v === null) continue;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) f.fail(`limits.${name}`, 'must be a positive integer');
      advertised[name] = v;
    }
    out.limits = advertised;
  }
  f.done();
  return out;
}

export const helloReplyCodec: MessageCodec<HelloReply> = {
  name: 'hello_ok',
  code: MessageType.HELLO,
  response: true,
  encode: (msg, w) => w.meta(readHelloReply(msg, OUTGOING)),
  decode: (r) => ({ type: 'hello_ok', ...readHelloReply(r.meta) }),
};

// §5.2 CREATE
/** `text`: the BM25 settings (docs/search.md §1); ranges are the store's to check. */
function readTextSettings(value: unknown): TextSettings {
  const f: Fields = new Fields(value, 'create.text');
  const out: TextSettings = { language: f.oneOf('language', TEXT_LANGUAGES), k1: f.number('k1'), b: f.number('b') };
  const fields = f.raw('fields');
  if (fields !== undefined) out.fields = f.stringList('fields', 64, 'text fields', 256, 'field');
  f.done();
  return out;
}

function readCreate(value: unknown, limits: ProtocolLimits, source?: FieldsSource): Omit<CreateRequest, 'type'> {
  const f: Fields = new Fields(value, 'create', source);
  const out: Omit<CreateRequest, 'type'> = {
    collection: f.collection(),
    dim: f.int('dim', 1, limits.maxDim, 'maxDim'),
    metric: f.oneOf('metric', METRICS),
    kind: f.oneOf('kind', INDEX_KINDS),
    storage: f.oneOf('storage', STORAGES),
  };
  const params = f.numberMap('params');
  const ifNotExists = f.bool('ifNotExists', true);
  if (params !== undefined) out.params = params;
  if (ifNotExists !== undefined) out.ifNotExists = ifNotExists;
  const text = f.raw('text');
  if (text !== undefined) out.text = readTextSettings(text);
  f.done();
  return out;
}

export const createCodec: MessageCodec<CreateRequest> = {
  name: 'create',
  code: MessageType.CREATE,
  response: false,
  encode: (msg, w, limits) => w.meta(readCreate(msg, limits, OUTGOING)),
  decode: (r, limits) => ({ type: 'create', ...readCreate(r.meta, limits) }),
};

function readCreateReply(value: unknown, limits: ProtocolLimits, source?: FieldsSource): Omit<CreateReply, 'type'> {
  const f: Fields = new Fields(value, 'create_ok', source);
  const out = { created: f.bool('created'), info: readCollectionInfo(f.raw('info'), 'create_ok.info', limits) };
  f.done();
  return out;
}

export const createReplyCodec: MessageCodec<CreateReply> = {
  name: 'create_ok',
  code: MessageType.CREATE,
  response: true,
  encode: (msg, w, limits) => w.meta(readCreateReply(msg, limits, OUTGOING)),
  decode: (r, limits) => ({ type: 'create_ok', ...readCreateReply(r.meta, limits) }),
};

// §5.3 DROP
function readDrop(value: unknown, source?: FieldsSource): Omit<DropRequest, 'type'> {
  const f: Fields = new Fields(value, 'drop', source);
  const out: Omit<DropRequest, 'type'> = { collection: f.collection() };
  const ifExists = f.bool('ifExists', true);
  if (ifExists !== undefined) out.ifExists = ifExists;
  f.done();
  return out;
}

export const dropCodec: MessageCodec<DropRequest> = {
  name: 'drop',
  code: MessageType.DROP,
  response: false,
  encode: (msg, w) => w.meta(readDrop(msg, OUTGOING)),
  decode: (r) => ({ type: 'drop', ...readDrop(r.meta) }),
};

function readDropReply(value: unknown, source?: FieldsSource): Omit<DropReply, 'type'> {
  const f: Fields = new Fields(value, 'drop_ok', source);
  const out = { dropped: f.bool('dropped') };
  f.done();
  return out;
}

export const dropReplyCodec: MessageCodec<DropReply> = {
  name: 'drop_ok',
  code: MessageType.DROP,
  response: true,
  encode: (msg, w) => w.meta(readDropReply(msg, OUTGOING)),
  decode: (r) => ({ type: 'drop_ok', ...readDropReply(r.meta) }),
};

// §5.4 DESCRIBE
function readDescribe(value: unknown, source?: FieldsSource): Omit<DescribeRequest, 'type'> {
  const f: Fields = new Fields(value, 'describe', source);
  const collection = f.optionalCollection();
  f.done();
  return collection === undefined ? {} : { collection };
}

export const describeCodec: MessageCodec<DescribeRequest> = {
  name: 'describe',
  code: MessageType.DESCRIBE,
  response: false,
  encode: (msg, w) => w.meta(readDescribe(msg, OUTGOING)),
  decode: (r) => ({ type: 'describe', ...readDescribe(r.meta) }),
};

function readDescribeReply(value: unknown, limits: ProtocolLimits, source?: FieldsSource): Omit<DescribeReply, 'type'> {
  const f: Fields = new Fields(value, 'describe_ok', source);
  const list = f.raw('collections');
  if (!Array.isArray(list)) f.fail('collections', 'must be an array');
  const collections = list.map((c, i) => readCollectionInfo(c, `describe_ok.collections[${i}]`, limits));
  f.done();
  return { collections };
}

export const describeReplyCodec: MessageCodec<DescribeReply> = {
  name: 'describe_ok',
  code: MessageType.DESCRIBE,
  response: true,
  encode: (msg, w, limits) => w.meta(readDescribeReply(msg, limits, OUTGOING)),
  decode: (r, limits) => ({ type: 'describe_ok', ...readDescribeReply(r.meta, limits) }),
};
