/** The rows the resumable-build test indexes: row i depends only on i (a resumed build reads the same rows). */
export const RESUME_DIM = 32;

export function resumeRows(offset: number, count: number): { labels: Uint32Array; vectors: Float32Array } {
  const labels = new Uint32Array(count);
  const vectors = new Float32Array(count * RESUME_DIM);
  for (let r = 0; r < count; r++) {
    const row = offset + r;
    labels[r] = row;
    let s = (row * 2654435761 + 12345) >>> 0;
    const cluster = row % 16;
    for (let d = 0; d < RESUME_DIM; d++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      vectors[r * RESUME_DIM + d] = (d % 16 === cluster ? 4 : 0) + s / 2 ** 32;
    }
  }
  return { labels, vectors };
}
