// The Fly Machines REST calls the driver makes, as fly-machines-openapi.yaml defines them
// (base `{apiUrl}/v1`): bearer auth, JSON bodies, the lease nonce header, client-side rate
// limits and bounded retries. Failures are FlyApiError with the HTTP status (0: no response).

import type { Clock } from "../../core/clock.ts";
import type { RateLimiter } from "./rate-limit.ts";
import { parseRetryAfter, withRetries, type RetryPolicy, type RetryVerdict } from "./retry.ts";

/** The rate-limit bucket each call draws from (per machine). */
export type FlyAction = "get" | "wait" | "start" | "stop" | "suspend" | "lease-acquire" | "lease-release";

/** The fields of the spec's `Machine` the driver reads. */
export interface FlyMachine {
  id: string;
  state: string;
  instance_id?: string;
}

/** Body of `POST .../stop` (the spec's StopRequest). */
export interface StopBody {
  signal?: string;
  /**
   * A Go duration string such as `30s`: what Fly parses (fly-go declares the field
   * `swaggertype:"string"`), though the OpenAPI copy renders fly.Duration as an object.
   */
  timeout?: string;
}

export const LEASE_NONCE_HEADER = "fly-machine-lease-nonce";

export class FlyApiError extends Error {
  constructor(
    /** HTTP status; 0 when no response came (network error, timeout). */
    readonly status: number,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = "FlyApiError";
  }
}

/**
 * Statuses worth another try: no response, timeout, lease held by someone else, rate limit,
 * server trouble. 412 (machine still `created` or being replaced) is retried one level up, by
 * the driver, which reads the machine again first: it may already be where Vigil wants it.
 */
export function transientStatus(status: number): boolean {
  return status === 0 || status === 408 || status === 409 || status === 429 || status >= 500;
}

export interface FlyClientOptions {
  apiUrl: string;
  token: string;
  fetch: typeof fetch;
  clock: Clock;
  random: () => number;
  retry: RetryPolicy;
  /** Null turns client-side rate limiting off (tests compare against it). */
  limiter: RateLimiter | null;
}

interface Call {
  action: FlyAction;
  method: "GET" | "POST" | "DELETE";
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  nonce?: string;
  /** Client-side timeout; a wait gets its own timeout plus slack. */
  timeoutMs?: number;
}

const REQUEST_TIMEOUT_MS = 30_000;

export class FlyClient {
  private readonly base: string;

  constructor(private readonly o: FlyClientOptions) {
    this.base = `${o.apiUrl.replace(/\/+$/, "")}/v1`;
  }

  getMachine(app: string, id: string): Promise<FlyMachine> {
    return this.call({ action: "get", method: "GET", path: machinePath(app, id) }) as Promise<FlyMachine>;
  }

  async start(app: string, id: string, nonce?: string): Promise<void> {
    await this.call({ action: "start", method: "POST", path: `${machinePath(app, id)}/start`, nonce });
  }

  async suspend(app: string, id: string, nonce?: string): Promise<void> {
    await this.call({ action: "suspend", method: "POST", path: `${machinePath(app, id)}/suspend`, nonce });
  }

  async stop(app: string, id: string, body: StopBody | undefined, nonce?: string): Promise<void> {
    await this.call({ action: "stop", method: "POST", path: `${machinePath(app, id)}/stop`, body, nonce });
  }

  /**
   * `GET .../wait` for one state, blocking up to `timeoutS` (Fly allows 60). Resolves "timeout"
   * on 408: the machine has not got there yet and the caller decides whether to wait again.
   */
  async wait(
    app: string,
    id: string,
    state: string,
    timeoutS: number,
    instanceId?: string,
  ): Promise<"reached" | "timeout"> {
    const query: Record<string, string> = { state, timeout: String(timeoutS) };
    if (instanceId) query.instance_id = instanceId;
    try {
      await this.call({
        action: "wait",
        method: "GET",
        path: `${machinePath(app, id)}/wait`,
        query,
        timeoutMs: (timeoutS + 15) * 1000,
      });
      return "reached";
    } catch (e) {
      if (e instanceof FlyApiError && e.status === 408) return "timeout";
      throw e;
    }
  }

  /** Takes the machine's lease (`POST .../lease`); resolves with its nonce. */
  async acquireLease(app: string, id: string, ttlS: number): Promise<string> {
    const lease = (await this.call({
      action: "lease-acquire",
      method: "POST",
      path: `${machinePath(app, id)}/lease`,
      body: { ttl: ttlS, description: "vigil lifecycle governor" },
    })) as { nonce?: unknown; data?: { nonce?: unknown } } | null;
    // The spec answers a Lease; fly-go reads the same fields under `data`. Accept both.
    const nonce = lease?.nonce ?? lease?.data?.nonce;
    if (typeof nonce !== "string" || nonce === "") throw new FlyApiError(502, "lease answer carries no nonce");
    return nonce;
  }

  async releaseLease(app: string, id: string, nonce: string): Promise<void> {
    await this.call({ action: "lease-release", method: "DELETE", path: `${machinePath(app, id)}/lease`, nonce });
  }

  /** One call with rate limiting and retries; a wait's 408 is an answer, not a failure to retry. */
  private call(c: Call): Promise<unknown> {
    const key = c.path.split("/").slice(0, 5).join("/");
    const classify = (e: unknown): RetryVerdict => {
      if (!(e instanceof FlyApiError)) return { retry: false };
      if (c.action === "wait" && e.status === 408) return { retry: false };
      return { retry: transientStatus(e.status), retryAfterMs: e.retryAfterMs };
    };
    let tries = 0;
    const attempt = async (): Promise<unknown> => {
      tries++;
      if (this.o.limiter) await this.o.limiter.acquire(key, c.action);
      return this.send(c);
    };
    const { clock, random, retry: policy } = this.o;
    return withRetries(attempt, classify, { clock, random, policy }).catch((e: unknown) => {
      if (e instanceof FlyApiError && tries > 1)
        throw new FlyApiError(e.status, `${e.message} (after ${tries} tries)`, e.retryAfterMs);
      throw e;
    });
  }

  private async send(c: Call): Promise<unknown> {
    const url = new URL(this.base + c.path);
    for (const [k, v] of Object.entries(c.query ?? {})) url.searchParams.set(k, v);
    const headers: Record<string, string> = { authorization: `Bearer ${this.o.token}`, accept: "application/json" };
    if (c.body !== undefined) headers["content-type"] = "application/json";
    if (c.nonce) headers[LEASE_NONCE_HEADER] = c.nonce;
    const what = `${c.method} ${url.pathname}`;
    // The timeout runs on the injected clock too, so a virtual clock never fires it by surprise.
    const abort = new AbortController();
    const timer = this.o.clock.setTimeout(() => abort.abort(), c.timeoutMs ?? REQUEST_TIMEOUT_MS);
    let res: Response;
    let text: string;
    try {
      res = await this.o.fetch(url, {
        method: c.method,
        headers,
        body: c.body === undefined ? undefined : JSON.stringify(c.body),
        signal: abort.signal,
      });
      text = await res.text();
    } catch (e) {
      const reason = abort.signal.aborted ? "no answer in time" : e instanceof Error ? e.message : String(e);
      throw new FlyApiError(0, `${what}: ${reason}`);
    } finally {
      this.o.clock.clearTimeout(timer);
    }
    const body = parseJson(text);
    if (res.ok) return body;
    const detail = errorText(body, text) || res.statusText;
    throw new FlyApiError(
      res.status,
      `${what}: HTTP ${res.status}${detail ? ` ${detail}` : ""}`,
      parseRetryAfter(res.headers.get("retry-after"), this.o.clock.now()),
    );
  }
}

function machinePath(app: string, id: string): string {
  return `/apps/${encodeURIComponent(app)}/machines/${encodeURIComponent(id)}`;
}

function parseJson(text: string): unknown {
  if (text.trim() === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** The spec's ErrorResponse carries `error`; fall back to a short piece of the raw body. */
function errorText(body: unknown, text: string): string {
  if (body && typeof body === "object" && "error" in body && typeof body.error === "string") return body.error;
  return text.slice(0, 200).trim();
}
