// The planner's choice between an exact scan of a filter's allow-list and the HNSW walk
// (search-placement.ts, docs/search.md §4): under exactScanBytes a scan; above it, the scan where
// allowed <= 2 x efSearch x M x rows / allowed; never on a flat index; exactScanBytes 0 turns it off.
import { describe, expect, it } from 'vitest';
import { createIndex } from '@ragwire/native';
import { DEFAULT_EXACT_SCAN_BYTES, SearchPlacement } from './search-placement';
import { validateSettings } from './settings';

function placement(kind: 'hnsw' | 'flat', exactScanBytes = DEFAULT_EXACT_SCAN_BYTES): SearchPlacement {
  const settings = validateSettings({ name: 'c', dim: 128, metric: 'l2', kind });
  const index = createIndex({ dim: 128, metric: 'l2', kind });
  const p = new SearchPlacement(index, settings, { deviceMinWork: 0, exactScanBytes });
  index.close();
  return p;
}

describe('filtered search planner', () => {
  it('scans below exactScanBytes, then while the scan costs less than the walk (M 16, efSearch 64)', () => {
    const p = placement('hnsw');
    // 4,096 rows x 128 x 4 bytes = 2 MiB: a scan whatever the rows.
    expect(p.exactScan(4096, 10_000_000, 128, 10, undefined)).toBe(true);
    // 100,000 rows: the crossover is sqrt(2 x 64 x 16 x 100,000) ~ 14,310 allowed rows.
    expect(p.exactScan(14_000, 100_000, 128, 10, undefined)).toBe(true);
    expect(p.exactScan(15_000, 100_000, 128, 10, undefined)).toBe(false);
    expect(p.exactScan(50_000, 100_000, 128, 10, undefined)).toBe(false);
    // A wider beam costs the walk more: efSearch 256 moves the crossover to ~28,600.
    expect(p.exactScan(20_000, 100_000, 128, 10, 256)).toBe(true);
    // k above efSearch widens the beam as the engine does.
    expect(p.exactScan(20_000, 100_000, 128, 256, undefined)).toBe(true);
    // No filter (allowed = rows) above exactScanBytes: the index.
    expect(p.exactScan(100_000, 100_000, 128, 10, undefined)).toBe(false);
    expect(p.stats()).toMatchObject({ 'filter.scans': 4, 'filter.walks': 2 });
  });

  it('never plans a flat index, and exactScanBytes 0 turns planning off', () => {
    expect(placement('flat').exactScan(10, 100_000, 128, 10, undefined)).toBe(false);
    const off = placement('hnsw', 0);
    expect(off.exactScan(10, 100_000, 128, 10, undefined)).toBe(false);
  });

  it('hands a native data plane the rules it decides from: the index M and efSearch, the walk cost', () => {
    expect(placement('hnsw', 1234).rules()).toEqual({ exactScanBytes: 1234, walkCost: 2, M: 16, efSearch: 64 });
    expect(placement('flat').rules()).toMatchObject({ M: 0, efSearch: 0 });
  });
});
