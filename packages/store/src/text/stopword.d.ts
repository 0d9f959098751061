// The part of `stopword` (a CommonJS package without types) the tokenizer uses.
declare module 'stopword' {
  /** English stop words, lower case. */
  export const eng: string[];
}
