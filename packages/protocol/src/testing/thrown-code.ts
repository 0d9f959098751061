// The typed error code a call throws, for the protocol's tests.
import { isRagwireError } from '../errors';

/** The code of the RagwireError `fn` throws; undefined when it returns. Any other throw is rethrown. */
export function thrownCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (!isRagwireError(error)) throw error;
    return error.code;
  }
  return undefined;
}
