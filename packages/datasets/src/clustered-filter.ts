// Filters that follow a vector set's clusters, the realistic shape of a tenant or category filter:
// the rows are split into cells (each row's nearest of `cells` pivots, evenly spaced base rows), a
// filter allows whole cells until it holds a share of the rows, and only the queries whose own cell
// it excludes are asked, so the rows nearest each query are never allowed. A graph walk starts among
// rejected rows and must find the allowed rows nearest the query at the edge of other clusters.
import type { VectorSet } from './types';

/** Every base row's and query's cell, and how many base rows each cell holds. */
export interface CellPartition {
  cells: number;
  rowCell: Uint32Array;
  queryCell: Uint32Array;
  cellRows: Uint32Array;
}

/** A filter that allows whole cells: `allows(row)`, its share of the rows, and the queries it excludes. */
export interface ClusteredFilter {
  selectivity: number;
  allowed: number;
  allows: (row: number) => boolean;
  /** The cells it allows. */
  cells: number[];
  /** Indexes of the queries whose own cell the filter excludes. */
  queries: number[];
}

function nearestPivot(v: Float32Array, n: number, pivots: Float32Array, cells: number, dim: number): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    let best = Infinity;
    for (let c = 0; c < cells; c++) {
      let d = 0;
      for (let j = 0; j < dim; j++) {
        const t = v[i * dim + j]! - pivots[c * dim + j]!;
        d += t * t;
      }
      if (d < best) {
        best = d;
        out[i] = c;
      }
    }
  }
  return out;
}

/** Splits `set` into `cells` cells around evenly spaced base rows. */
export function cellPartition(set: VectorSet, cells: number): CellPartition {
  if (!Number.isInteger(cells) || cells < 1 || cells > set.nBase)
    throw new RangeError(`cellPartition: cells must be an integer in [1, ${set.nBase}], got ${cells}`);
  const { dim, nBase } = set;
  const step = Math.floor(nBase / cells);
  const pivots = new Float32Array(cells * dim);
  for (let c = 0; c < cells; c++) pivots.set(set.base.subarray(c * step * dim, (c * step + 1) * dim), c * dim);
  const rowCell = nearestPivot(set.base, nBase, pivots, cells, dim);
  const queryCell = nearestPivot(set.queries, set.nQueries, pivots, cells, dim);
  const cellRows = new Uint32Array(cells);
  for (const c of rowCell) cellRows[c]!++;
  return { cells, rowCell, queryCell, cellRows };
}

/** Allows cells 0, 1, ... until they hold at least `share` of the rows. */
export function clusteredFilter(p: CellPartition, share: number): ClusteredFilter {
  const n = p.rowCell.length;
  const allowedCell = new Uint8Array(p.cells);
  let allowed = 0;
  for (let c = 0; c < p.cells && allowed < share * n; c++) {
    allowedCell[c] = 1;
    allowed += p.cellRows[c]!;
  }
  const queries: number[] = [];
  for (let q = 0; q < p.queryCell.length; q++) if (allowedCell[p.queryCell[q]!] === 0) queries.push(q);
  const cells: number[] = [];
  for (let c = 0; c < p.cells; c++) if (allowedCell[c] === 1) cells.push(c);
  return { selectivity: allowed / n, allowed, allows: (row) => allowedCell[p.rowCell[row]!] === 1, cells, queries };
}
