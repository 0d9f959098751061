// Words the frame fuzzers put into maps, taken from the protocol's own tables so that a fuzzer keeps
// reaching every filter operator and query option the decoders know.
import { QUERY_OPTIONS } from '../codec-query';
import { CLAUSES, FILTER_OPERATORS, RANGE_BOUNDS } from '../filter';

/** A filter's clause names, `key`, its operators and a range's bounds. */
export const FILTER_WORDS: readonly string[] = [...CLAUSES, 'key', ...FILTER_OPERATORS, ...RANGE_BOUNDS];

/** The QUERY options. */
export const QUERY_OPTION_WORDS: readonly string[] = QUERY_OPTIONS;
