/**
 * The upstream lists (tools, prompts, resources, templates) of pooled connections, kept for a few
 * seconds. An aggregated `tools/list` on /mcp asks every server the caller may use; without this,
 * each one costs a round trip to each upstream (over 20 servers, a list took 20 times as long as
 * over one). What a caller sees is still filtered per caller after the cache: the cache holds what
 * the upstream said, never what a caller may see.
 *
 * An entry ends when its time is up, when the upstream says its list changed
 * (`notifications/…/list_changed`), or when its connection closes. Concurrent misses share one
 * request; a failed request is not kept.
 */
export interface ListCache<T> {
  /** The cached list of `key`, else what `load` returns (kept for the cache's time). */
  get(target: string, key: string, load: () => Promise<T>): Promise<T>;
  /** Forgets every list of a target (server and tenant), or only those whose key starts with `kind`. */
  forget(target: string, kind?: string): void;
  readonly size: number;
}

const MAX_ENTRIES = 10_000;

export function createListCache<T>(ttlMs: number, now: () => number = Date.now): ListCache<T> {
  const entries = new Map<string, { target: string; key: string; at: number; value: Promise<T> }>();
  const id = (target: string, key: string) => `${target}\n${key}`;
  return {
    get(target, key, load) {
      if (ttlMs <= 0) return load();
      const k = id(target, key);
      const hit = entries.get(k);
      if (hit && now() - hit.at < ttlMs) return hit.value;
      if (entries.size >= MAX_ENTRIES) entries.clear();
      const value = load();
      entries.set(k, { target, key, at: now(), value });
      value.catch(() => {
        if (entries.get(k)?.value === value) entries.delete(k);
      });
      return value;
    },
    forget(target, kind) {
      for (const [k, e] of entries) if (e.target === target && (kind === undefined || e.key.startsWith(kind))) entries.delete(k);
    },
    get size() {
      return entries.size;
    },
  };
}
