// docs/protocol.md §5: each request answered by the store. No storage logic here: validation of
// what the store owns (dims, ids, filters) happens in the store.
import { DEFAULT_LIMITS, InvalidArgumentError, type ProtocolLimits, type ResultReply, type Response } from '@ragwire/protocol';
import { answerRequest, type QueryStageListener, type Store, type StoreRequest } from '@ragwire/store';
import { REQUIRED_SCOPE, type Principal } from './auth';
import type { FleetMember } from './fleet-member';
import { answerServed } from './served-hits';

/**
 * Checks `principal`'s scope for `request`, then lets the store answer it. Throws the typed error the
 * ERROR reply carries (async, so a scope refusal arrives as a rejection). HELLO is handled by the connection.
 * A fleet member takes writes only from the log, holds a query with `minSeq` until it applied that far,
 * and answers a query routed by a shard-map `epoch` with the documents its shard holds at that epoch.
 */
export async function dispatch(
  store: Store,
  principal: Principal,
  request: StoreRequest,
  fleet?: FleetMember,
  onStage?: QueryStageListener,
): Promise<Response> {
  const collection = 'collection' in request ? request.collection : undefined;
  // DESCRIBE of the whole server lists what the token may read instead of refusing.
  if (!(request.type === 'describe' && collection === undefined)) principal.check(REQUIRED_SCOPE[request.type], collection);
  if (fleet) {
    if (request.type === 'upsert' || request.type === 'delete') {
      throw new InvalidArgumentError(
        `this shard server is fleet member ${fleet.member}: ${request.type}s go through the write log (ShardedCollection with log)`,
      );
    }
    if (request.type === 'query' && request.options?.minSeq !== undefined) await fleet.waitFor(request.collection, request.options.minSeq);
    if (request.type === 'query' && request.options?.epoch !== undefined) {
      const served = await fleet.servedAt(request.collection, request.options.epoch);
      if (served) {
        const answer = (k: number): Promise<ResultReply> =>
          answerRequest(
            store,
            { ...request, k },
            { visible: (name) => principal.may('read', name), encodedPayloads: true, ...(onStage ? { onStage } : {}) },
          ) as Promise<ResultReply>;
        return answerServed(answer, request.k, Math.max(request.k, DEFAULT_LIMITS.maxK), served);
      }
    }
  }
  // Payloads go out as the store keeps them (their wire form): the reply's encoder copies the bytes.
  return answerRequest(store, request, { visible: (name) => principal.may('read', name), encodedPayloads: true, ...(onStage ? { onStage } : {}) });
}

/** hello_ok.limits: what a client needs to split its batches (docs/protocol.md §5.1). */
export function advertisedLimits(limits: ProtocolLimits): Partial<ProtocolLimits> {
  const { maxFrameBytes, maxK, maxQueryBatch, maxWriteBatch, maxDim, maxPayloadBytes, maxIdBytes } = limits;
  return { maxFrameBytes, maxK, maxQueryBatch, maxWriteBatch, maxDim, maxPayloadBytes, maxIdBytes };
}
