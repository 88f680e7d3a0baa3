// Conditional requests: the last 200 answer per (token, URL, Accept) with its ETag, so that polling a run costs no
// rate limit while nothing changes (a 304 does not count against it).
import { createHash } from 'node:crypto';

export interface CacheEntry {
  etag: string;
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

const CACHE_ENTRIES = 256;

/** A small LRU of ETagged answers. */
export class EtagCache {
  private readonly entries = new Map<string, CacheEntry>();

  constructor(private readonly capacity = CACHE_ENTRIES) {}

  /** The key of a request; the token is part of it (hashed) so one token never sees another's answers. */
  static key(auth: Record<string, string>, url: URL, accept: string | undefined): string {
    return `${createHash('sha256').update(JSON.stringify(auth)).digest('hex').slice(0, 16)} ${url.href} ${accept ?? ''}`;
  }

  get(key: string): CacheEntry | undefined {
    return this.entries.get(key);
  }

  /** Stores or refreshes an entry as the most recently used, dropping the least recently used beyond capacity. */
  remember(key: string, entry: CacheEntry): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }
}
