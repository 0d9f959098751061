// docs/search.md §1: a collection's text settings, checked once at creation and recorded with it.
import { DEFAULT_TEXT_SETTINGS, InvalidArgumentError, TEXT_LANGUAGES, UnknownOptionError, type TextSettings } from '@ragwire/protocol';

const KEYS = ['language', 'k1', 'b', 'fields'];

/** The settings with defaults filled in; undefined: the defaults. */
export function validateTextSettings(input: unknown): TextSettings {
  if (input === undefined) return { ...DEFAULT_TEXT_SETTINGS };
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new InvalidArgumentError('text must be an object { language, k1, b, fields }');
  for (const key of Object.keys(input)) {
    if (!KEYS.includes(key)) throw new UnknownOptionError(`unknown text setting ${key}; expected one of ${KEYS.join(', ')}`);
  }
  const t = { ...DEFAULT_TEXT_SETTINGS, ...(input as Partial<TextSettings>) };
  if (!TEXT_LANGUAGES.includes(t.language))
    throw new InvalidArgumentError(`text.language must be one of ${TEXT_LANGUAGES.join(', ')}, got ${JSON.stringify(t.language)}`);
  if (typeof t.k1 !== 'number' || !(t.k1 >= 0 && t.k1 <= 100)) throw new InvalidArgumentError(`text.k1 must be a number in 0..100, got ${String(t.k1)}`);
  if (typeof t.b !== 'number' || !(t.b >= 0 && t.b <= 1)) throw new InvalidArgumentError(`text.b must be a number in 0..1, got ${String(t.b)}`);
  const out: TextSettings = { language: t.language, k1: t.k1, b: t.b };
  if (t.fields !== undefined) {
    if (!Array.isArray(t.fields) || !t.fields.every((f) => typeof f === 'string' && f.length > 0 && f.length <= 256) || t.fields.length > 64) {
      throw new InvalidArgumentError('text.fields must be an array of at most 64 metadata field paths');
    }
    out.fields = [...t.fields];
  }
  return out;
}
