// docs/search.md §1: text -> BM25 terms. NFKC, lower case, Unicode word segmentation (Intl.Segmenter);
// for 'en', English stop words (the `stopword` package's list) dropped and Porter stems (`stemmer`).
// The settings are the collection's, so every shard of a collection makes the same terms.
import { stemmer } from 'stemmer';
import { eng } from 'stopword';
import type { TextLanguage } from '@ragwire/protocol';

/** Longer words are dropped (Lucene's StandardTokenizer caps tokens at 255 chars; we keep term names short). */
export const MAX_TERM_CHARS = 64;

const STOP_WORDS = new Set(eng);
const segmenter = new Intl.Segmenter('en', { granularity: 'word' });

export class Tokenizer {
  constructor(readonly language: TextLanguage) {}

  /** The terms of `text`, in order, repeats kept (their count is the term frequency). */
  terms(text: string): string[] {
    const out: string[] = [];
    const normal = text.normalize('NFKC').toLowerCase();
    for (const s of segmenter.segment(normal)) {
      if (!s.isWordLike) continue;
      let w = s.segment;
      if (w.length > MAX_TERM_CHARS) continue;
      if (this.language === 'en') {
        // Possessives: "cell's" segments as one word.
        if (w.endsWith("'s") || w.endsWith('’s')) w = w.slice(0, -2);
        if (STOP_WORDS.has(w)) continue;
        w = stemmer(w);
      }
      if (w.length > 0) out.push(w);
    }
    return out;
  }
}
