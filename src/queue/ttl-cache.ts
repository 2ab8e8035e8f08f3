/**
 * The one cache of kq's Redis reads. A value is shared for `ttlMs` from the start of its read, so
 * concurrent callers make one read; a failed read is dropped at once (an error is never served from the
 * cache, and a value is never served past its TTL: the adapter and /metrics report no value rather than
 * a stale one). The number of keys is bounded.
 */

export interface TtlCache {
  /** The cached value of `key`, or the result of `read()` (stored for `ttlMs`). */
  get<T>(key: string, read: () => Promise<T>): Promise<T>;
  /** Forgets `key` (e.g. after a write that changes it). */
  delete(key: string): void;
}

/** @example const cache = createTtlCache({ ttlMs: 1000 }); await cache.get('names', () => readNames()) */
export function createTtlCache(o: {
  ttlMs: number;
  maxKeys?: number;
  /** The clock, in ms (tests pass their own). @default Date.now */
  now?: () => number;
}): TtlCache {
  const maxKeys = o.maxKeys ?? 10_000;
  const clock = o.now ?? (() => Date.now());
  const entries = new Map<string, { at: number; value: Promise<unknown> }>();
  return {
    get<T>(key: string, read: () => Promise<T>): Promise<T> {
      const now = clock();
      const hit = entries.get(key);
      if (hit && now - hit.at < o.ttlMs) return hit.value as Promise<T>;
      if (entries.size >= maxKeys) {
        for (const [k, v] of entries) if (now - v.at >= o.ttlMs) entries.delete(k);
        // Still full: every entry is fresh; drop the oldest rather than grow.
        if (entries.size >= maxKeys) entries.delete(entries.keys().next().value as string);
      }
      const value = read();
      entries.set(key, { at: now, value });
      value.catch(() => {
        if (entries.get(key)?.value === value) entries.delete(key);
      });
      return value;
    },
    delete(key) {
      entries.delete(key);
    },
  };
}
