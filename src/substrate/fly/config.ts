// The fly driver's per-object config, and what Fly's machine states mean to Vigil.

import { z } from "zod";

export const DEFAULT_FLY_API_URL = "https://api.machines.dev";

/**
 * The API base URLs a config may name unless the server says otherwise (VIGIL_FLY_API_URLS):
 * Fly's public endpoint and the one inside its private network. The driver sends
 * FLY_API_TOKEN to the URL, so it must never be one that an object's author picks.
 */
export const DEFAULT_FLY_API_URLS: readonly string[] = [DEFAULT_FLY_API_URL, "http://_api.internal:4280"];

/**
 * A base URL in the one form the allow-list compares: lowercase scheme and host, no default
 * port, no trailing slash. Null when it is not an http(s) URL without credentials, query or
 * fragment, or names port 0.
 */
export function normalizeApiUrl(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return null;
  if (url.username || url.password || url.search || url.hash || text.includes("?") || text.includes("#")) return null;
  // Port 0 parses, but no request can reach it (it failed at the first one, not at start).
  if (url.port === "0") return null;
  return url.origin + url.pathname.replace(/\/+$/, "");
}

/** Why `apiUrl` (the config's, or the default when absent) is refused; null when it is on the list. */
export function apiUrlRefusal(apiUrl: string | undefined, allowed: ReadonlySet<string>): string | null {
  const url = apiUrl ?? DEFAULT_FLY_API_URL;
  const normal = normalizeApiUrl(url);
  if (normal !== null && allowed.has(normal)) return null;
  const list = allowed.size > 0 ? [...allowed].join(", ") : "none";
  const what = apiUrl === undefined ? `the default ${url}` : url;
  return `${what} is not an allowed Fly API base URL (allowed: ${list}); the server's VIGIL_FLY_API_URLS lists them`;
}

/**
 * Go's duration syntax (`30s`, `1m30s`, `500ms`, `.5s`, `1.s`, a bare `0`), which Fly parses for
 * a stop timeout: time.ParseDuration's, without its sign (a stop's grace is not negative). A
 * number has digits before its point, after it, or both; microseconds are `us`, `µs` (the micro
 * sign) or `μs` (the Greek mu), as Go takes each.
 */
export const GO_DURATION = /^(?:0|(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/;

/** One part of a Go duration: its whole number, its fraction (either may be empty) and unit. */
const GO_PART = /(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/g;

const UNIT_NS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n,
  μs: 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

/** A Go duration (`1m30s`) in ms (each part by its unit in UNIT_NS), or undefined when it is not one. */
export function goDurationMs(text: string): number | undefined {
  if (!GO_DURATION.test(text)) return undefined;
  let ms = 0;
  for (const [, whole, fraction = "", unit] of text.matchAll(GO_PART))
    ms += Number(`${whole || "0"}.${fraction || "0"}`) * (Number(UNIT_NS[unit!]!) / 1e6);
  return ms;
}

/** Go's 1<<63: the parts of a duration may reach it on the way, the sum may not. */
const GO_2_63 = 2n ** 63n;

/**
 * Whether a text of GO_DURATION's syntax is one Go's time.ParseDuration takes (a longer one Fly
 * refuses, 400), computed as Go computes it: each part's whole number in integers, refused past
 * 1<<63 (digit by digit, then times its unit), and its fraction (its digits while they fit an
 * int64) in float64, `whole*unit + trunc(float64(fraction) * (float64(unit) / scale))`, refused
 * past 1<<63, as is the running sum; the sum must then be at most 1<<63 - 1 ns. So at the limit it
 * agrees with Go to the nanosecond, where an exact sum of the fractions would not.
 */
export function goDurationFits(text: string): boolean {
  let total = 0n;
  for (const [, whole, fraction = "", unit] of text.matchAll(GO_PART)) {
    const ns = UNIT_NS[unit!]!;
    let v = 0n;
    for (const digit of whole!) {
      if (v > GO_2_63 / 10n) return false;
      v = v * 10n + BigInt(digit);
      if (v > GO_2_63) return false;
    }
    if (v > GO_2_63 / ns) return false;
    v *= ns;
    // Go's leadingFraction: the digits that keep it within an int64, each scaling by 10 (a float64).
    let f = 0n;
    let scale = 1;
    for (const digit of fraction) {
      if (f > (GO_2_63 - 1n) / 10n) break;
      const y = f * 10n + BigInt(digit);
      if (y > GO_2_63) break;
      f = y;
      scale *= 10;
    }
    if (f > 0n) {
      v += BigInt(Math.trunc(Number(f) * (Number(ns) / scale)));
      if (v > GO_2_63) return false;
    }
    total += v;
    if (total > GO_2_63) return false;
  }
  return total <= GO_2_63 - 1n;
}

/**
 * The signals a stop may send. The document's StopRequest takes any string; these are the ones
 * its SignalRequest names (`POST .../signal`), and the kill signals Fly's app configuration
 * takes for a stop (`kill_signal`: SIGINT, SIGTERM, SIGQUIT, SIGUSR1, SIGUSR2, SIGKILL, SIGSTOP),
 * which adds SIGUSR2 and SIGSTOP. Fly passes the stop signal to the machine's init.
 */
export const STOP_SIGNALS = [
  "SIGABRT",
  "SIGALRM",
  "SIGFPE",
  "SIGHUP",
  "SIGILL",
  "SIGINT",
  "SIGKILL",
  "SIGPIPE",
  "SIGQUIT",
  "SIGSEGV",
  "SIGSTOP",
  "SIGTERM",
  "SIGTRAP",
  "SIGUSR1",
  "SIGUSR2",
] as const;

export const flyConfigSchema = z.strictObject({
  app: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "a Fly app name: lowercase letters, digits and dashes")
    .describe("Fly app the machine belongs to"),
  machineId: z
    .string()
    .regex(/^[A-Za-z0-9]{1,64}$/, "a Fly Machine ID such as 3d8d9016b26789")
    .describe("ID of the machine Vigil governs"),
  apiUrl: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe(`Machines API base URL without /v1, one of VIGIL_FLY_API_URLS (default ${DEFAULT_FLY_API_URL})`),
  lease: z.boolean().optional().describe("Hold a machine lease around each start, suspend and stop"),
  stopSignal: z.enum(STOP_SIGNALS).optional().describe("Signal for stop (Fly's default: the image's, else SIGINT)"),
  stopTimeout: z
    .string()
    .regex(GO_DURATION, "a Go duration such as 30s or 1m30s, without a sign")
    .refine(goDurationFits, "a Go duration of at most 2562047h47m16.854775807s (Go's limit; Fly refuses a longer one)")
    .optional()
    .describe("How long Fly waits after the stop signal before killing the machine"),
});

export type FlyConfig = z.infer<typeof flyConfigSchema>;

/**
 * A machine as the driver's commands name it: its app and id. Not its API address: the allowed
 * addresses reach the same Fly, and a PUT moving an object to another one keeps its machine
 * (FlyDriver.sameCompute), so a command under way through the old address and one through the
 * new must meet as commands of one machine (a release waits for a start, leases are shared).
 */
export const machineKey = (cfg: FlyConfig) => `${cfg.app} ${cfg.machineId}`;

/** The machine a config names ("" for one the schema refuses). */
export function machineOf(config: unknown): string {
  const parsed = flyConfigSchema.safeParse(config ?? {});
  return parsed.success ? machineKey(parsed.data) : "";
}

/**
 * Whether an API token can be sent in a header: visible ASCII and spaces, no line break or
 * control character (fetch would refuse it, quoting it whole). Checked by the server's
 * configuration and by the driver.
 */
export function isHeaderSafe(token: string): boolean {
  return /^[\x20-\x7e]+$/.test(token);
}
