// The files a collection keeps beside its LMDB databases: the engine index's snapshot (with the f32
// rows of a disk-resident index next to it) and the text index's snapshot. Derived data: LMDB is the
// source of truth, and a snapshot only saves the rebuild.
import { rmSync, statSync } from 'node:fs';
import type { Index } from '@ragwire/native';
import { encodeTag } from './recovery';
import { vectorsPath } from './settings';
import { textSnapshotPath } from './text/derive';
import type { TextIndex } from './text/text-index';
import { saveTextIndex } from './text/text-snapshot';

/**
 * Compacts the index when at least `compactRatio` of its rows are deleted, then saves it and the text
 * index, tagged with the incarnation and the seq they hold. Returns the index snapshot's bytes.
 */
export async function writeSnapshotFiles(
  index: Index,
  text: TextIndex,
  path: string,
  tag: { incarnation: string; seq: number },
  compactRatio: number,
): Promise<number> {
  const s = index.stats();
  if (s.deleted > 0 && s.deleted >= (s.count + s.deleted) * compactRatio) await index.compact();
  await index.save(path, { userData: encodeTag(tag) });
  saveTextIndex(text, textSnapshotPath(path), tag.incarnation);
  return statSync(path).size;
}

/** Removes every file of the collection whose index snapshot is at `path`. */
export function removeSnapshotFiles(path: string): void {
  rmSync(path, { force: true });
  rmSync(textSnapshotPath(path), { force: true });
  rmSync(vectorsPath(path), { force: true });
}
