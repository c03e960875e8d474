// The Fly Machines REST calls the driver makes, as fly-machines-openapi.yaml defines them
// (base `{apiUrl}/v1`): bearer auth, JSON bodies, the lease nonce header, client-side rate
// limits and bounded retries. Failures are FlyApiError with the HTTP status (0: no response).
// The request carries FLY_API_TOKEN, so the client sends only to an allowed base URL, never
// follows a redirect, and reads at most MAX_REPLY_BYTES of a reply.
// It is past 400 lines because each call's own rules (a wait's 408, a lease's 409, a caller
// giving up) sit beside the one request path they bend.

import type { Clock } from "../../core/clock.ts";
import { normalizeApiUrl } from "./config.ts";
import { failureText, parseJson } from "./reply-text.ts";
import type { RateLimiter } from "./rate-limit.ts";
import { parseRetryAfter, withRetries, type RetryPolicy, type RetryVerdict } from "./retry.ts";

/** The rate-limit bucket each call draws from (per machine). */
export type FlyAction =
  "get" | "wait" | "start" | "stop" | "suspend" | "lease-acquire" | "lease-release" | "lease-show";

/** The fields of the spec's `Machine` the driver reads. */
export interface FlyMachine {
  id: string;
  state: string;
  instance_id?: string;
  /** `ok`, `unknown` or `unreachable`: Fly could not reach the machine's host, and `state` is not current. */
  host_status?: string;
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

/** The most of a reply the client reads; a longer one is an error, and reading stops. */
export const MAX_REPLY_BYTES = 1024 * 1024;
/**
 * The most of a failing reply's text (or of a network failure's reason) that goes into the
 * error, and from there into the decision note anyone with `read` sees.
 */
export const MAX_DETAIL_CHARS = 200;

export class FlyApiError extends Error {
  /** Worth another try: by default what `transientStatus` says of the status. */
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
  /**
   * A 404 that is Fly's answer for a machine it does not know (its ErrorResponse says the
   * machine is not found). Another 404 (`app not found`, a proxy's page for a wrong base URL)
   * says nothing of the machine.
   */
  readonly machineNotFound: boolean;
  /**
   * A 404 that is Fly's own ErrorResponse for the app's machine: it does not know the machine, or
   * what was asked of it (a lease to release). Not `app not found`, nor some other server's page.
   */
  readonly flyNotFound: boolean;

  constructor(
    /** HTTP status; 0 when no response came (network error, timeout). */
    readonly status: number,
    message: string,
    options: { retryAfterMs?: number; retryable?: boolean; machineNotFound?: boolean; flyNotFound?: boolean } = {},
  ) {
    super(message);
    this.name = "FlyApiError";
    this.retryable = options.retryable ?? transientStatus(status);
    this.machineNotFound = options.machineNotFound ?? false;
    this.flyNotFound = options.flyNotFound ?? this.machineNotFound;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }
}

/** A 409 from taking a lease: another holder has it; `holder` is that lease as read back, if it could be. */
export class LeaseHeldError extends FlyApiError {
  constructor(
    cause: FlyApiError,
    readonly holder: HeldLease | null,
  ) {
    super(cause.status, cause.message, { retryable: cause.retryable, retryAfterMs: cause.retryAfterMs });
  }
}

/**
 * Statuses worth another try: no response, timeout, lease held by someone else (met taking one,
 * or by a command sent without one; `call` does not retry a release's 409), rate limit, server
 * trouble. 412 (machine still `created` or being replaced) is retried one level up, by the
 * driver, which reads the machine again first: it may already be where Vigil wants it.
 */
export function transientStatus(status: number): boolean {
  return status === 0 || status === 408 || status === 409 || status === 429 || status >= 500;
}

export interface FlyClientOptions {
  apiUrl: string;
  /** The base URLs the client may send to (VIGIL_FLY_API_URLS); `apiUrl` outside them is refused. */
  apiUrls: readonly string[];
  token: string;
  fetch: typeof fetch;
  clock: Clock;
  random: () => number;
  retry: RetryPolicy;
  /** Null turns client-side rate limiting off (tests compare against it). */
  limiter: RateLimiter | null;
}

/** A Lease as the spec gives it, or under `data` as fly-go reads it. */
type Lease = { nonce?: unknown; description?: unknown; data?: { nonce?: unknown; description?: unknown } };

/** A lease this client holds: the nonce its commands send, and the description it was taken with. */
export interface HeldLease {
  nonce: string;
  description: string;
}

/** A Lease answer's nonce: the spec answers a Lease, fly-go reads the same fields under `data`; both are accepted. */
function nonceOf(lease: Lease | null): string {
  const nonce = nonceIn(lease);
  if (nonce === null) throw new FlyApiError(502, "lease answer carries no nonce");
  return nonce;
}

/** A Lease's nonce, or null when it carries none. */
function nonceIn(lease: Lease | null): string | null {
  const nonce = lease?.nonce ?? lease?.data?.nonce;
  return typeof nonce === "string" && nonce !== "" ? nonce : null;
}

/**
 * What an ok reply must be where the driver reads it: the spec's name for it, and what it lacks
 * (null when nothing). One that is not (a proxy's HTML page, a body cut short) is a failure.
 */
interface Expected {
  name: string;
  lacks: (body: Record<string, unknown>) => string | null;
}

const A_MACHINE: Expected = { name: "Machine", lacks: (m) => (typeof m.state === "string" ? null : "no state") };
const A_LEASE: Expected = { name: "Lease", lacks: (l) => (nonceIn(l as Lease) === null ? "no nonce" : null) };

interface Call {
  action: FlyAction;
  method: "GET" | "POST" | "DELETE";
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  nonce?: string;
  /** Client-side timeout; a wait gets its own timeout plus slack. */
  timeoutMs?: number;
  /** What an ok reply must be, when the caller reads it. */
  reply?: Expected;
  /** Aborted when no one waits for the answer any more: the request in flight is cut, no more tries. */
  signal?: AbortSignal;
  /** A 409 on try `tries`: its answer instead (what the try resolves to), or the error to retry or not. */
  conflict?: (e: FlyApiError, tries: number) => Promise<unknown>;
}

const REQUEST_TIMEOUT_MS = 30_000;

export class FlyClient {
  private readonly base: string;
  /** Why every call is refused (a base URL off the list); null when calls may go out. */
  private readonly refusal: string | null;

  constructor(private readonly o: FlyClientOptions) {
    const normal = normalizeApiUrl(o.apiUrl);
    const allowed = o.apiUrls.some((u) => normal !== null && normalizeApiUrl(u) === normal);
    this.refusal = allowed ? null : `${o.apiUrl} is not an allowed Fly API base URL (VIGIL_FLY_API_URLS)`;
    this.base = `${normal ?? ""}/v1`;
  }

  getMachine(app: string, id: string, signal?: AbortSignal): Promise<FlyMachine> {
    return this.call({
      action: "get",
      method: "GET",
      path: machinePath(app, id),
      reply: A_MACHINE,
      signal,
    }) as Promise<FlyMachine>;
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
    signal?: AbortSignal,
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
        signal,
      });
      return "reached";
    } catch (e) {
      if (e instanceof FlyApiError && e.status === 408) return "timeout";
      throw e;
    }
  }

  /**
   * Takes the machine's lease (`POST .../lease`) under a new description, or renews a held one
   * by its nonce (Fly extends it, or gives a new nonce if it expired). When a POST that took it
   * lost its answer, the retry meets 409: the lease read back (`GET .../lease`) at the first 409
   * under this description is its own. Another holder's is tried again without reading it back
   * again (a 409 right after a 409 took nothing), unless a try between failed without an answer
   * that may have taken it; the LeaseHeldError at the end carries the holder read back, and says
   * whose it is. One `takeUp` accepts ends the tries, for the caller.
   */
  async lease(
    app: string,
    id: string,
    ttlS: number,
    take: HeldLease | { description: string },
    takeUp: (holder: HeldLease) => boolean = () => false,
  ): Promise<HeldLease> {
    const { description } = take;
    const nonce = "nonce" in take ? take.nonce : undefined;
    const path = `${machinePath(app, id)}/lease`;
    /** The try that last met 409, and the holder read back then (null: none could be read). */
    let met = { tries: 0, other: null as HeldLease | null, whose: "" };
    const conflict = async (e: FlyApiError, tries: number): Promise<unknown> => {
      // Read back at a 409 unless the try before met one too and was read back: nothing
      // between could have taken the lease for this description.
      if (met.tries === 0 || met.tries !== tries - 1) {
        const shown = (await this.call({ action: "lease-show", method: "GET", path }).catch(
          () => null,
        )) as Lease | null;
        const holder = shown?.description ?? shown?.data?.description;
        if (holder === description) return shown;
        const other =
          nonceIn(shown) !== null && typeof holder === "string"
            ? { nonce: nonceIn(shown)!, description: holder }
            : null;
        met = { tries, other, whose: whoseLease(shown, this.o.clock.now(), this.redact) };
      }
      met.tries = tries;
      const held = new FlyApiError(e.status, `${e.message}${met.whose}`, {
        retryable: e.retryable,
        retryAfterMs: e.retryAfterMs,
      });
      if (met.other && takeUp(met.other))
        throw new LeaseHeldError(new FlyApiError(e.status, e.message, { retryable: false }), met.other);
      throw new LeaseHeldError(held, met.other);
    };
    const body = { ttl: ttlS, description };
    const post: Call = { action: "lease-acquire", method: "POST", path, body, nonce, reply: A_LEASE, conflict };
    return { nonce: nonceOf((await this.call(post)) as Lease | null), description };
  }

  async releaseLease(app: string, id: string, nonce: string): Promise<void> {
    await this.call({ action: "lease-release", method: "DELETE", path: `${machinePath(app, id)}/lease`, nonce });
  }

  /**
   * One call with rate limiting and retries; a wait's 408 is an answer, not a failure to retry,
   * and a lease release's 409 is final: the lease there now is another (its nonce does not match
   * the one sent), and no later try makes it match.
   */
  private call(c: Call): Promise<unknown> {
    // Checked again here, whatever the driver checked: the token must not leave for elsewhere.
    if (this.refusal) return Promise.reject(new FlyApiError(0, this.refusal, { retryable: false }));
    const key = c.path.split("/").slice(0, 5).join("/");
    const classify = (e: unknown): RetryVerdict => {
      if (!(e instanceof FlyApiError)) return { retry: false };
      if (c.action === "wait" && e.status === 408) return { retry: false };
      if (c.action === "lease-release" && e.status === 409) return { retry: false };
      return { retry: e.retryable, retryAfterMs: e.retryAfterMs };
    };
    let tries = 0;
    const attempt = async (): Promise<unknown> => {
      tries++;
      if (this.o.limiter) await this.o.limiter.acquire(key, c.action);
      const conflict = c.conflict;
      if (!conflict) return this.send(c);
      return this.send(c).catch((e: unknown) =>
        e instanceof FlyApiError && e.status === 409 ? conflict(e, tries) : Promise.reject(e),
      );
    };
    const { clock, random, retry: policy } = this.o;
    return withRetries(attempt, classify, { clock, random, policy, signal: c.signal }).catch((e: unknown) => {
      if (e instanceof FlyApiError && tries > 1) {
        const { retryAfterMs, retryable, machineNotFound, flyNotFound } = e;
        const after = new FlyApiError(e.status, `${e.message} (after ${tries} tries)`, {
          retryAfterMs,
          retryable,
          machineNotFound,
          flyNotFound,
        });
        throw e instanceof LeaseHeldError ? new LeaseHeldError(after, e.holder) : after;
      }
      throw e;
    });
  }

  /** `text` with the token, wherever it appears, shown as `[redacted]`. */
  private readonly redact = (text: string): string =>
    this.o.token ? text.split(this.o.token).join("[redacted]") : text;

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
        signal: c.signal ? AbortSignal.any([abort.signal, c.signal]) : abort.signal,
        // A redirect would take the token wherever the reply points: never followed.
        redirect: "manual",
      });
      if (res.type === "opaqueredirect" || (res.status >= 300 && res.status < 400)) {
        await res.body?.cancel().catch(() => undefined);
        // Nothing of the reply is echoed: it is not Fly's answer to anything Vigil asked.
        throw new FlyApiError(res.status, `${what}: HTTP ${res.status} (a redirect, which Vigil does not follow)`, {
          retryable: false,
        });
      }
      text = await readCapped(res, what);
    } catch (e) {
      if (e instanceof FlyApiError) throw e;
      const late = abort.signal.aborted ? "no answer in time" : failureText(e);
      const reason = c.signal?.aborted ? "given up (no one waits for the answer)" : late;
      // A refusal of the request's own headers would quote the token: it never leaves here.
      throw new FlyApiError(0, `${what}: ${this.redact(reason).slice(0, MAX_DETAIL_CHARS)}`);
    } finally {
      this.o.clock.clearTimeout(timer);
    }
    const body = parseJson(text);
    if (res.ok) {
      // Where nothing of the body is read (a command, a wait: the document gives their 200 no
      // content, Fly answers JSON), it must still be empty or JSON: a page is not Fly's yes.
      const wrong = c.reply ? unlike(c.reply, body, res) : notJson(text, body, res);
      // Retried: the base URL is Fly's (the allow-list), so an ok reply that is not Fly's answer
      // comes from something on the way (a proxy's maintenance page), which passes; one that
      // persists still ends the object `failed` after the outbox's tries, saying so.
      if (wrong)
        throw new FlyApiError(res.status, `${what}: HTTP ${res.status} reply is not ${wrong}`, { retryable: true });
      return body;
    }
    // A reply that echoes the request (a proxy's error page, a debugging middleware) may quote
    // the token: it is hidden before the text is cut short, so no part of it is kept.
    const detail = errorText(body, text, this.redact) || this.redact(res.statusText).slice(0, MAX_DETAIL_CHARS);
    throw new FlyApiError(res.status, `${what}: HTTP ${res.status}${detail ? ` ${detail}` : ""}`, {
      retryAfterMs: parseRetryAfter(res.headers.get("retry-after"), this.o.clock.now()),
      machineNotFound: res.status === 404 && machineNotFound(body, namesIn(c.path)),
      flyNotFound: res.status === 404 && flyNotFound(body, namesIn(c.path)),
    });
  }
}

/**
 * The reply's text, read up to MAX_REPLY_BYTES: a longer one (by its Content-Length, or once
 * the bytes read pass the cap) is an error, and the rest is not read.
 */
async function readCapped(res: Response, what: string): Promise<string> {
  const tooLarge = () =>
    new FlyApiError(res.status, `${what}: HTTP ${res.status} reply larger than ${MAX_REPLY_BYTES / 1024 / 1024} MiB`, {
      retryable: false,
    });
  const length = Number(res.headers.get("content-length") ?? NaN);
  if (length > MAX_REPLY_BYTES) {
    await res.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_REPLY_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Why an ok reply is not the `expected` one (`a Machine: not a JSON object (text/html)`), or null. Nothing
 * of the body is quoted: a Machine carries its config, environment included.
 */
function unlike(expected: Expected, body: unknown, res: Response): string | null {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    const type = res.headers.get("content-type");
    return `a ${expected.name}: not a JSON object${type ? ` (${type.slice(0, 100)})` : ""}`;
  }
  const lacks = expected.lacks(body as Record<string, unknown>);
  return lacks === null ? null : `a ${expected.name}: ${lacks}`;
}

/**
 * Why an ok reply whose body is not read is not Fly's (`JSON (text/html)`): text that is not JSON; else null.
 * parseJson gives null for an empty body, a page and JSON's `null` alike: the last is JSON, as any other.
 */
function notJson(text: string, body: unknown, res: Response): string | null {
  if (text.trim() === "" || body !== null || /^[\t\n\r ]*null[\t\n\r ]*$/.test(text)) return null;
  const type = res.headers.get("content-type");
  return `JSON${type ? ` (${type.slice(0, 100)})` : ""}`;
}

/**
 * Whose a lease read back is, for a 409's error: its owner and description (another client's
 * words: on one line and short, as a failing reply's text) and when it expires; the nonce, which
 * commands the machine, is not said. Empty when nothing was read back.
 */
function whoseLease(shown: Lease | null, now: number, redact: (text: string) => string): string {
  const l = (shown?.data ?? shown) as (Lease & { owner?: unknown; expires_at?: unknown }) | null;
  if (!l || typeof l !== "object") return "";
  const parts: string[] = [];
  if (typeof l.owner === "string" && l.owner !== "") parts.push(`owner ${errorText(l.owner, l.owner, redact)}`);
  if (typeof l.description === "string" && l.description !== "")
    parts.push(`description "${errorText(l.description, l.description, redact)}"`);
  if (typeof l.expires_at === "number" && Number.isFinite(l.expires_at)) {
    const left = Math.max(0, Math.ceil(l.expires_at - now / 1000));
    parts.push(`expires in ${left} s`);
  }
  return parts.length > 0 ? ` (the lease read back: ${parts.join(", ")})` : "";
}

/**
 * Whether a 404's body is Fly's answer for an unknown machine: an ErrorResponse whose `error`
 * says a machine is not found (`machine not found`), not an app (`app not found`: a wrong app
 * name), and not some other server's page (a wrong base URL).
 */
function machineNotFound(body: unknown, names: readonly string[]): boolean {
  const text = flyError(body);
  return text !== null && notFound(text, names) === "machine";
}

/**
 * What an error says is not found, a machine or an app: of those it names, the last before `not
 * found` (`machine x not found in app y`, `failed to get machine: app y not found`), else the
 * first after (`not found: machine x`); null when it says neither, or nothing is not found.
 * `names` (the app's and the machine's, as the request named them) are not words of it where they
 * follow the word they name (`app machine not found`: an app named `machine`), and `machine` or
 * `app` within a dashed name (`app ml-machine-pool not found`) is no word of its own either.
 */
function notFound(error: string, names: readonly string[]): "machine" | "app" | null {
  let text = error;
  for (const name of names)
    if (name !== "")
      text = text.replace(new RegExp(`(\\b(?:app|machine)s?[\\s:'"\`]+)${escapeRegExp(name)}(?![\\w-])`, "gi"), "$1_");
  const at = text.search(/\bnot found\b/i);
  if (at < 0) return null;
  // A word of its own: `machine` in a dashed name (`ml-machine-pool`, not among `names`) is not,
  // nor a segment of a path another server quotes (`/v1/apps/x/machines/y/lease not found`).
  const named = (part: string) =>
    [...part.matchAll(/(?<![\w/-])(machine|app)s?(?![\w/-])/gi)].map((m) => m[1]!.toLowerCase());
  const said = named(text.slice(0, at)).at(-1) ?? named(text.slice(at))[0];
  return said === "machine" || said === "app" ? said : null;
}

/**
 * Whether a 404's body is Fly's ErrorResponse about the machine or what was asked of it: its
 * `error` says a machine is not found, or names the lease (`no lease to release`). Not that the
 * app is not found, and not some other server's page or JSON: `{"error":"Not Found"}` (another
 * JSON server on the way) names neither, so it says nothing of the machine.
 */
function flyNotFound(body: unknown, names: readonly string[]): boolean {
  const text = flyError(body);
  if (text === null) return false;
  const said = notFound(text, names);
  return said === "machine" || (said !== "app" && /(?<![\w/-])leases?(?![\w/-])/i.test(text));
}

/** The app's and the machine's names a request's path gives (`/apps/{app}/machines/{id}/...`). */
function namesIn(path: string): string[] {
  const m = /^\/apps\/([^/?]+)(?:\/machines\/([^/?]+))?/.exec(path);
  if (!m) return [];
  const decoded = (segment: string) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      return segment;
    }
  };
  return [m[1], m[2]].filter((n) => n !== undefined).map(decoded);
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The `error` of Fly's ErrorResponse, or null when the body is not one. */
function flyError(body: unknown): string | null {
  if (!body || typeof body !== "object" || !("error" in body) || typeof body.error !== "string") return null;
  return body.error;
}

function machinePath(app: string, id: string): string {
  return `/apps/${encodeURIComponent(app)}/machines/${encodeURIComponent(id)}`;
}

/**
 * The spec's ErrorResponse carries `error`; fall back to the raw body. Short either way, and on
 * one line: a proxy's error page has line breaks, and the error ends up in a decision's note and
 * in `vigil events`, one line per action (control characters, a terminal's escapes, go too).
 * `redact` hides the token first, in the text as it came and on one line, then it is cut short.
 */
function errorText(body: unknown, text: string, redact: (text: string) => string): string {
  const raw = body && typeof body === "object" && "error" in body && typeof body.error === "string" ? body.error : text;
  return redact(redact(raw).replace(/[\s\p{Cc}]+/gu, " "))
    .trim()
    .slice(0, MAX_DETAIL_CHARS)
    .trim();
}
