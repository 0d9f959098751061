// docs/protocol.md §5.12: EXTENSIONS, the per-connection negotiation of optional fields.
import { Fields, type FieldsSource } from './fields';
import { MessageType } from './header';
import { OUTGOING, type MessageCodec } from './message-codec';
import type { ExtensionsReply, ExtensionsRequest } from './messages';
import { EXTENSIONS, MAX_EXTENSION_NAMES, MAX_EXTENSION_NAME_BYTES, type Extension } from './trace-context';

function readNames(f: Fields): string[] {
  const names = f.stringList('names', MAX_EXTENSION_NAMES, 'extension names', MAX_EXTENSION_NAME_BYTES, 'name');
  f.done();
  return names;
}

function readExtensions(value: unknown, source?: FieldsSource): Omit<ExtensionsRequest, 'type'> {
  // Names this peer does not know stay in the request: a newer client may ask for more than a server serves.
  return { names: readNames(new Fields(value, 'extensions', source)) };
}

function readExtensionsReply(value: unknown, source?: FieldsSource): Omit<ExtensionsReply, 'type'> {
  const f: Fields = new Fields(value, 'extensions_ok', source);
  const names = readNames(f);
  for (const [i, name] of names.entries()) {
    // A server turns on only what the client asked for, and a client asks only for what it knows.
    if (!(EXTENSIONS as readonly string[]).includes(name)) f.fail(`names[${i}]`, `is ${JSON.stringify(name)}, not one of ${EXTENSIONS.join(', ')}`);
  }
  return { names: names as Extension[] };
}

export const extensionsCodec: MessageCodec<ExtensionsRequest> = {
  name: 'extensions',
  code: MessageType.EXTENSIONS,
  response: false,
  encode: (msg, w) => w.meta(readExtensions(msg, OUTGOING)),
  decode: (r) => ({ type: 'extensions', ...readExtensions(r.meta) }),
};

export const extensionsReplyCodec: MessageCodec<ExtensionsReply> = {
  name: 'extensions_ok',
  code: MessageType.EXTENSIONS,
  response: true,
  encode: (msg, w) => w.meta(readExtensionsReply(msg, OUTGOING)),
  decode: (r) => ({ type: 'extensions_ok', ...readExtensionsReply(r.meta) }),
};
