// Lag per bucket (docs/operations.md "Lag per bucket"): a member applies its collection's log in one
// ordered read, so every bucket it follows shares one position; a bucket's lag is the number of its
// messages past that position. JetStream 2.9 counts messages per subject only over the whole stream
// (stream info `subjects_filter`), not past a sequence, so the tail is read (headers only) and counted.
import type { JetStreamClient } from '@nats-io/jetstream';
import { LogUnavailableError } from '@ragwire/protocol';
import { type EVERY_BUCKET, bucketOfSubject } from './buckets';

/** Messages past the position that one scan reads at most. */
const DEFAULT_BUCKET_LAG_SCAN = 10_000;

/** Messages per bucket (EVERY_BUCKET: deletes by filter or of everything) between a position and a stream's end. */
export interface BucketLag {
  /** Followed buckets with at least one message past the position, and how many. */
  buckets: Map<number | typeof EVERY_BUCKET, number>;
  /** Messages read (followed buckets or not). */
  scanned: number;
  /** False when the tail was longer than the scan's limit: the counts cover its first `scanned` messages. */
  complete: boolean;
}

interface BucketLagScan {
  stream: string;
  /** The member's position: every message up to here was applied or passed over. */
  after: number;
  /** The stream's last sequence. */
  through: number;
  follows: (bucket: number | typeof EVERY_BUCKET) => boolean;
  /** Default DEFAULT_BUCKET_LAG_SCAN. */
  maxScan?: number;
  /** The read ends (typed error) after this long. Default 2000 ms. */
  timeoutMs?: number; // ms
}

/** Reads the subjects of messages after..through (at most maxScan of them) and counts them by followed bucket. */
export async function scanBucketLag(js: JetStreamClient, scan: BucketLagScan): Promise<BucketLag> {
  const maxScan = scan.maxScan ?? DEFAULT_BUCKET_LAG_SCAN;
  const timeoutMs = scan.timeoutMs ?? 2000;
  const buckets = new Map<number | typeof EVERY_BUCKET, number>();
  const wanted = Math.min(scan.through - scan.after, maxScan);
  if (wanted <= 0) return { buckets, scanned: 0, complete: true };
  const consumer = await js.consumers.get(scan.stream, {
    deliver_policy: 'by_start_sequence' as never,
    opt_start_seq: scan.after + 1,
    headers_only: true,
  });
  const messages = await consumer.fetch({ max_messages: wanted, expires: timeoutMs });
  let scanned = 0;
  let last = scan.after;
  for await (const m of messages) {
    scanned++;
    last = m.seq;
    const bucket = bucketOfSubject(m.subject);
    if (scan.follows(bucket)) buckets.set(bucket, (buckets.get(bucket) ?? 0) + 1);
    if (m.seq >= scan.through || scanned >= wanted) break;
  }
  await messages.close();
  // A trimmed tail (first_seq moved past the position) yields fewer messages than sequences: still complete at the end.
  if (last < scan.through && scanned < wanted) {
    throw new LogUnavailableError(`read ${scanned} messages of ${scan.stream} after ${scan.after} within ${timeoutMs} ms, expected up to ${scan.through}`);
  }
  return { buckets, scanned, complete: last >= scan.through };
}
