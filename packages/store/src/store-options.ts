// StoreOptions checked once, at Store.open: one schema with the documented defaults, then frozen.
import { configSchema, parseConfig } from '@ragwire/protocol';
import { DEVICES } from '@ragwire/native';
import type { RebuildEvent, StoreOptions } from './store';

/** See StoreOptions.exactScanBytes. */
export const DEFAULT_EXACT_SCAN_BYTES = 2 * 1024 * 1024; // 2 MiB

export type ResolvedStoreOptions = Readonly<Required<StoreOptions>>;

const storeOptionsSchema = configSchema<Omit<ResolvedStoreOptions, 'onRebuild'> & Pick<StoreOptions, 'onRebuild'>>({
  type: 'object',
  additionalProperties: false,
  required: ['path'],
  properties: {
    path: { type: 'string', minLength: 1 },
    snapshotEveryOps: { type: 'integer', minimum: 1, default: 10_000 }, // writes
    compactRatio: { type: 'number', minimum: 0, maximum: 1, default: 0.2 },
    inlineSearchBudget: { type: 'integer', minimum: 0, default: 2_000_000 }, // floats read
    exactScanBytes: { type: 'integer', minimum: 0, default: DEFAULT_EXACT_SCAN_BYTES }, // bytes
    onRebuild: { instanceOf: 'Function' },
    device: { enum: DEVICES, default: 'cpu' },
  },
});

function warnRebuild(event: RebuildEvent): void {
  process.emitWarning(`ragwire: collection ${event.collection}: index rebuilt from LMDB (${event.reason}: ${event.detail}; ${event.documents} documents)`, { code: 'RAGWIRE_SNAPSHOT_REBUILT' });
}

/** `options` over the defaults, every field checked; throws ConfigError naming the field. */
export function resolveStoreOptions(options: StoreOptions): ResolvedStoreOptions {
  return parseConfig(storeOptionsSchema, options, 'store option', (o) => ({ ...o, onRebuild: o.onRebuild ?? warnRebuild }));
}
