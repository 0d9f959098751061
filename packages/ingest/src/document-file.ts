// Reading one input file as text, or saying exactly why it cannot be ingested.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { IngestError } from './errors';

/** A file read and checked: its text and the hash of its bytes. */
export interface DocumentText {
  /** The decoded text, without a leading byte-order mark. */
  text: string;
  /** sha256 of the file's bytes, lowercase hex. */
  contentHash: string;
  bytes: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** sha256 of `bytes`, lowercase hex. */
export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Checks a file's bytes and decodes them. Throws IngestError `file_too_large` past `maxBytes`,
 * `file_binary` when they hold a NUL byte, `file_not_utf8` when they are not valid UTF-8.
 */
export function decodeDocument(bytes: Uint8Array, maxBytes: number): DocumentText {
  if (bytes.length > maxBytes) throw new IngestError('file_too_large', `${bytes.length} bytes, more than the limit of ${maxBytes}`);
  const nul = bytes.indexOf(0);
  if (nul !== -1) throw new IngestError('file_binary', `a NUL byte at offset ${nul}: a binary file, not text`);
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch (error) {
    throw new IngestError('file_not_utf8', 'not valid UTF-8 text', { cause: error });
  }
  return { text, contentHash: sha256Hex(bytes), bytes: bytes.length };
}

/**
 * Reads and decodes a file. Never reads more than `maxBytes + 1` bytes, so a huge file costs
 * nothing; throws IngestError `file_unreadable` when the file cannot be opened or read.
 */
export async function readDocument(file: string, maxBytes: number): Promise<DocumentText> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    throw new IngestError('file_unreadable', (error as Error).message, { cause: error });
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new IngestError('file_unreadable', 'not a regular file');
    if (info.size > maxBytes) throw new IngestError('file_too_large', `${info.size} bytes, more than the limit of ${maxBytes}`);
    // The size may change between stat and read: read up to one byte past the limit to notice.
    const buffer = Buffer.allocUnsafe(Math.min(info.size, maxBytes) + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return decodeDocument(buffer.subarray(0, length), maxBytes);
  } catch (error) {
    if (error instanceof IngestError) throw error;
    throw new IngestError('file_unreadable', (error as Error).message, { cause: error });
  } finally {
    await handle.close();
  }
}
