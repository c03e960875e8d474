// Bounded retries with jittered exponential backoff, waiting on the injected clock. The fly
// driver's retries are short and few on purpose: once they run out it surfaces a *retryable*
// DriverError and the governor's outbox (src/governor/dispatcher.ts) retries the whole action
// on its own schedule, so transient trouble is ridden out twice but never forever.

import { backoffMs } from "../../core/backoff.ts";
import type { Clock } from "../../core/clock.ts";
import { sleep } from "../../timers/within.ts";

export interface RetryPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  baseMs: number;
  maxMs: number;
  /** A Retry-After longer than this is not waited out here; the error goes to the outbox. */
  maxRetryAfterMs: number;
}

/** 5 tries over about 8 s of backoff (0.5 + 1 + 2 + 4 s, jittered). */
export const DEFAULT_FLY_RETRY: RetryPolicy = { attempts: 5, baseMs: 500, maxMs: 8_000, maxRetryAfterMs: 60_000 };

/** What to do about a failed try. */
export interface RetryVerdict {
  retry: boolean;
  /** The server's Retry-After, when it sent one. */
  retryAfterMs?: number;
}

/**
 * The wait before the try after try `attempt` (1-based): between half and all of the
 * exponential step, or the server's Retry-After when that is longer.
 */
export function retryDelayMs(
  attempt: number,
  policy: RetryPolicy,
  random: () => number,
  retryAfterMs?: number,
): number {
  const jittered = backoffMs(attempt, policy, random);
  return retryAfterMs === undefined ? jittered : Math.max(jittered, retryAfterMs);
}

/**
 * Runs `fn` until it succeeds, `classify` says the failure is final, the tries run out, the
 * server asks for a longer pause than the policy waits out, or `signal` aborts (no one waits
 * for the answer any more). The last error is rethrown as is.
 */
export async function withRetries<T>(
  fn: (attempt: number) => Promise<T>,
  classify: (error: unknown) => RetryVerdict,
  options: { clock: Clock; random: () => number; policy: RetryPolicy; signal?: AbortSignal },
): Promise<T> {
  const { clock, random, policy, signal } = options;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      const verdict = classify(e);
      if (!verdict.retry || attempt >= policy.attempts || signal?.aborted) throw e;
      if (verdict.retryAfterMs !== undefined && verdict.retryAfterMs > policy.maxRetryAfterMs) throw e;
      await sleep(clock, retryDelayMs(attempt, policy, random, verdict.retryAfterMs), signal);
      if (signal?.aborted) throw e;
    }
  }
}

/** Retry-After as seconds or an HTTP date, in milliseconds from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(header: string | null, now: number): number | undefined {
  if (header === null || header.trim() === "") return undefined;
  const text = header.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
