// Client-side token buckets for the Fly Machines API, one per machine and action, on the
// injected clock: Vigil keeps under Fly's published limits instead of learning them from 429s.

import type { Clock } from "../../core/clock.ts";
import { sleep } from "../../timers/within.ts";

export interface BucketLimit {
  /** Sustained requests per second. */
  ratePerS: number;
  /** Requests allowed at once from a full bucket. */
  burst: number;
}

/**
 * Fly's published limits: 1 request/s per action per machine with bursts of 3, except Get
 * Machine at 5/s with bursts of 10 (fly.io/docs/machines/api/working-with-machines-api/).
 */
export function flyLimit(action: string): BucketLimit {
  return action === "get" ? { ratePerS: 5, burst: 10 } : { ratePerS: 1, burst: 3 };
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets that hand out reservations: a caller takes its token at once (the bucket may
 * go into debt) and waits until that token would have refilled. Concurrent callers are thus
 * spaced in arrival order without a queue, and the requests leave conforming to the bucket.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly clock: Clock,
    private readonly limitFor: (action: string) => BucketLimit = flyLimit,
  ) {}

  /** Resolves when a request for `action` on `key` (app/machine) may be sent. */
  async acquire(key: string, action: string): Promise<void> {
    const delay = this.reserve(key, action);
    if (delay > 0) await sleep(this.clock, delay);
  }

  /** Takes a token and returns how long to wait before using it, in ms. */
  reserve(key: string, action: string): number {
    const { ratePerS, burst } = this.limitFor(action);
    const now = this.clock.now();
    const id = `${key} ${action}`;
    const b = this.buckets.get(id) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) * ratePerS) / 1000) - 1;
    b.at = now;
    this.buckets.set(id, b);
    return b.tokens >= 0 ? 0 : Math.ceil((-b.tokens * 1000) / ratePerS);
  }
}
