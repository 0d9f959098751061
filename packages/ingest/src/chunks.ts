// A file's chunks as stored: ids, text and metadata in the layout @ragwire/langchain reads back.
import { MarkdownTextSplitter, RecursiveCharacterTextSplitter, type TextSplitter } from '@langchain/textsplitters';
import type { Payload } from '@ragwire/protocol';
import { DEFAULT_LIMITS } from '@ragwire/protocol';
import type { DocumentKind } from './discover';
import { sha256Hex } from './document-file';

/** How files are cut into chunks (characters, as LangChain's splitters count them). */
export interface SplitterOptions {
  /** Most characters per chunk. Default 1000. */
  chunkSize: number;
  /** Characters shared by consecutive chunks. Default 150. */
  chunkOverlap: number;
}

/** The metadata of every stored chunk; LangChain sees it as `Document.metadata`. */
export interface ChunkMetadata {
  [key: string]: unknown;
  /** The file's path relative to the base directory, `/`-separated. */
  source: string;
  /** sha256 of the file's bytes, lowercase hex. */
  content_hash: string;
  /**
   * First 16 hex digits of sha256 over content_hash, the splitter settings and the embeddings
   * model: chunks that share it were cut and embedded alike, so a re-run can keep them.
   */
  ingest_key: string;
  /** This chunk's index in the file, from 0. */
  chunk: number;
  /** How many chunks the file has. */
  chunks: number;
  /** Lines of the file this chunk covers, 1-based and inclusive, as LangChain's splitters report them. */
  loc: { lines: { from: number; to: number } };
}

/** One chunk ready to embed and store. */
export interface Chunk {
  id: string;
  text: string;
  metadata: ChunkMetadata;
}

/** What decides how a file is chunked and embedded, besides its bytes. */
export interface ChunkingIdentity extends SplitterOptions {
  kind: DocumentKind;
  /** The embeddings model, when known (an injected embed function may not say). */
  model?: string;
}

/** The splitter for a document kind: Markdown-aware for .md, recursive by paragraph, line and word for .txt. */
export function splitterFor(kind: DocumentKind, options: SplitterOptions): TextSplitter {
  const fields = { chunkSize: options.chunkSize, chunkOverlap: options.chunkOverlap };
  return kind === 'markdown' ? new MarkdownTextSplitter(fields) : new RecursiveCharacterTextSplitter(fields);
}

/** The `ingest_key` of a file's chunks (see ChunkMetadata). */
export function ingestKey(contentHash: string, identity: ChunkingIdentity): string {
  const settings = [contentHash, identity.kind, identity.chunkSize, identity.chunkOverlap, identity.model ?? ''].join('\n');
  return sha256Hex(settings).slice(0, 16);
}

/**
 * A chunk's document id: `${source}#${ingestKey}#${index}`, stable across runs for the same file,
 * settings and model. A source too long for the protocol's id limit is replaced by its sha256.
 */
export function chunkId(source: string, key: string, index: number): string {
  const id = `${source}#${key}#${index}`;
  if (Buffer.byteLength(id) <= DEFAULT_LIMITS.maxIdBytes) return id;
  return `sha256:${sha256Hex(source)}#${key}#${index}`;
}

/** Splits a file's text into chunks with their ids and metadata. Whitespace-only text has none. */
export async function chunkDocument(file: { source: string; text: string; contentHash: string }, identity: ChunkingIdentity): Promise<Chunk[]> {
  if (file.text.trim() === '') return [];
  const docs = await splitterFor(identity.kind, identity).createDocuments([file.text]);
  const key = ingestKey(file.contentHash, identity);
  const pieces = docs.filter((d) => d.pageContent.trim() !== '');
  return pieces.map((d, i) => {
    const lines = (d.metadata as { loc?: { lines?: { from: number; to: number } } }).loc?.lines ?? { from: 1, to: 1 };
    return {
      id: chunkId(file.source, key, i),
      text: d.pageContent,
      metadata: {
        source: file.source,
        content_hash: file.contentHash,
        ingest_key: key,
        chunk: i,
        chunks: pieces.length,
        loc: { lines: { from: lines.from, to: lines.to } },
      },
    };
  });
}

/** The stored payload of a chunk: `{ text, metadata }`, which RagwireVectorStore returns as a Document. */
export function chunkPayload(chunk: Chunk): Payload {
  return { text: chunk.text, metadata: chunk.metadata };
}
