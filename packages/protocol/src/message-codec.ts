// docs/protocol.md §4: what each message family implements to join the codec.
import type { BodyReader, BodyWriter } from './body';
import type { FieldsSource } from './fields';
import type { MessageTypeCode } from './header';
import type { ProtocolLimits } from './limits';
import type { Message } from './messages';
import type { Extension } from './trace-context';

/**
 * One message type in one direction. `encode` validates the outgoing message with the same
 * checks `decode` applies to a received one, so a frame this codec writes always decodes.
 */
export interface MessageCodec<M extends Message = Message> {
  readonly name: M['type'];
  readonly code: MessageTypeCode;
  /** True for frames sent in answer (FLAG_RESPONSE set). */
  readonly response: boolean;
  encode(msg: M, w: BodyWriter, limits: ProtocolLimits): void;
  /** `extensions`: those the connection turned on (§5.12); their fields are unknown fields elsewhere. */
  decode(r: BodyReader, limits: ProtocolLimits, extensions: ReadonlySet<Extension>): M;
}

/** Byte caps for short strings that have no configurable limit (docs/protocol.md §5). */
export const MAX_TOKEN_BYTES = 4096;
export const MAX_NAME_BYTES = 256;
export const MAX_ERROR_MESSAGE_BYTES = 65_536;
export const MAX_STAT_STRING_BYTES = 4096;

/** No extension turned on: a connection before (or without) EXTENSIONS. */
export const NO_EXTENSIONS: ReadonlySet<Extension> = new Set();

/** Reading an outgoing message as meta: everything but its `type` is a meta field. */
export const OUTGOING: FieldsSource = Object.freeze({ ignore: ['type'] });
