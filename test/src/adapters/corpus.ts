// One corpus, one deterministic embedding and the exact expected answers, shared by both adapters' tests.

export const DIM = 16;

/** A text's embedding: a pseudo-random unit-free vector seeded by the text's FNV-1a hash (same text, same vector). */
export function embedText(text: string): number[] {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  let s = h || 1;
  const out: number[] = [];
  for (let i = 0; i < DIM; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out.push((s / 0x100000000) * 2 - 1);
  }
  return out;
}

export interface CorpusDoc {
  id: string;
  text: string;
  /** The document it was cut from (LangChain: metadata.group; LlamaIndex: ref_doc_id). */
  group: string;
  metadata: { source: string; n: number; tags: string[]; author: { name: string } };
}

export const CORPUS: CorpusDoc[] = Array.from({ length: 60 }, (_, i) => ({
  id: `doc-${i}`,
  text: `passage ${i} about topic ${i % 7}`,
  group: `g${Math.floor(i / 3)}`,
  metadata: { source: `s${i % 3}.md`, n: i, tags: i % 2 === 0 ? ['even', `t${i % 5}`] : ['odd'], author: { name: i % 4 === 0 ? 'Ada' : 'Linus' } },
}));

export const QUERIES = ['what is topic 3', 'how fast is retrieval', 'passage about sharding', 'durable storage', 'a fifth query'];

function cosine(a: number[], b: number[]): number {
  let dot = 0,
    na = 0,
    nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(na * nb);
}

/** The exact top-k ids by cosine similarity among the docs `where` keeps. */
export function expectedTopK(query: string, k: number, where: (d: CorpusDoc) => boolean = () => true, docs: CorpusDoc[] = CORPUS): string[] {
  const q = embedText(query);
  return docs
    .filter(where)
    .map((d) => ({ id: d.id, s: cosine(q, embedText(d.text)) }))
    .sort((a, b) => b.s - a.s)
    .slice(0, k)
    .map((x) => x.id);
}
