// Server configuration: environment variables validated by zod, overridable by CLI flags.

import dns from "node:dns";
import { isIP } from "node:net";
import { z } from "zod";
import { DURATION_HELP, parseDuration } from "./core/durations.ts";
import { zodProblems } from "./contracts/problems.ts";
import { isHeaderSafe, normalizeApiUrl } from "./substrate/fly/config.ts";

/** The drivers a server can run. */
export const DRIVER_NAMES = ["simulated", "process", "fly"] as const;
export type DriverName = (typeof DRIVER_NAMES)[number];

/** A host name: dot-separated labels of letters, digits, `-` and `_`, perhaps a final dot. */
const HOST_NAME = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?$/;

/** Items of a comma- or space-separated setting. */
export function splitList(v: string): string[] {
  return v.split(/[\s,]+/).filter((x) => x !== "");
}

/** A whole number written in decimal digits (no sign, blank, exponent or `0x`), in [min, max]. */
const int = (dflt: number, min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, { message: "must be a whole number in decimal digits" })
    // Digits alone are a whole number: past the double range it is as much too large as any
    // other number past `max`, which is what is said (not a safe integer's bound, nor Infinity).
    .transform((v) => Math.min(Number(v), Number.MAX_VALUE))
    .pipe(z.number().min(min).max(max))
    .default(dflt);
/** How long a kind of history is kept: a duration of at least a minute, or `forever`. */
const window = (dflt: string) =>
  z
    .string()
    .refine((v) => v === "forever" || (parseDuration(v) ?? 0) >= 60_000, {
      message: `"forever" or ${DURATION_HELP} of at least PT1M`,
    })
    .default(dflt);

const decodes = (u: string): boolean => {
  try {
    decodeURIComponent(u);
    return true;
  } catch {
    return false;
  }
};

/** A part of a URL's query percent-decoded as libsql decodes it, or null when it is not valid (libsql refuses it, without quoting it). */
function decodedParam(t: string): string | null {
  try {
    return decodeURIComponent(t.replaceAll("+", " "));
  } catch {
    return null;
  }
}

/** The name of a query parameter that may hold a secret (libsql's `authToken`, a password, a key). */
const SECRET_NAME = /auth|token|pass|secret|key/i;

/** The values of a URL's `authToken` query parameters, percent-decoded as libsql decodes them. */
function urlAuthTokens(url: string): string[] {
  const query = /\?([^#]*)/s.exec(url)?.[1] ?? "";
  return query
    .split("&")
    .map((pair) => (pair.includes("=") ? pair : `${pair}=`).split(/=(.*)/s))
    .filter(([name]) => decodedParam(name!) === "authToken")
    .flatMap(([, value]) => decodedParam(value!) ?? []);
}

/**
 * A token sent in a header (FLY_API_TOKEN, VIGIL_DB_AUTH_TOKEN). A secret read from a file ends
 * in a line break: only one inside the token is refused (the request could not carry it, and
 * its error quoted the header, token and all, at start), and one that is nothing else (an empty
 * file) is no token, as an empty variable is.
 */
const headerSecret = () =>
  z
    .string()
    .trim()
    .refine((v) => v === "" || isHeaderSafe(v), {
      message:
        "must be one line of visible characters: a line break or a control character cannot be sent (the value is not shown)",
    })
    .transform((v) => (v === "" ? undefined : v))
    .optional();

export const configSchema = z.object({
  // An IPv6 address may be written as in a URL (`[::1]`); it is bound without the brackets.
  VIGIL_HOST: z
    .string()
    .min(1)
    .default("127.0.0.1")
    .transform((h) => h.replace(/^\[([^\]]*)\]$/, "$1"))
    // `localhost.` is localhost written whole (with the root's dot): refused without tokens as a
    // public address ("anyone who can reach it..."), it is bound, and told, as `localhost`, the
    // Host name the loopback check of each request takes.
    .transform((h) => (/^localhost\.$/i.test(h) ? "localhost" : h))
    // ::1 with a zone (`::1%lo`, the interface it is on): refused without tokens as a public
    // address, and with them told as `http://[::1%lo]:PORT`, a URL no client parses. A zone
    // says nothing of the loopback address, bound as `::1`.
    .transform((h) => {
      const zoned = /^([^%]+)%[^%]+$/.exec(h);
      return zoned !== null && isIP(h) === 6 && ipv6Written(zoned[1]!) === "::1" ? "::1" : h;
    })
    // A port or a scheme in it (`0.0.0.0:8080`, `http://localhost`) names no address: refused
    // here, before anything opens, rather than by `listen` (ENOTFOUND) after recovery has run,
    // or as a public address without tokens.
    .refine((h) => isIP(h) !== 0 || HOST_NAME.test(h), {
      message:
        "an IP address (IPv6 with or without brackets) or a host name, without a scheme or a port (the port is VIGIL_PORT)",
    }),
  VIGIL_PORT: int(8080, 0, 65535),
  VIGIL_DB_URL: z
    .string()
    .min(1)
    // SQLite opens a private temporary database for an empty file name: every write would be lost.
    .refine((u) => !/^file:(?:\?|#|$)/.test(u), "a file: URL needs a path, e.g. file:data/vigil.db")
    // The path is percent-decoded as libsql decodes it: a bad escape (`%zz`) names no file.
    .refine((u) => !u.startsWith("file:") || decodes(u), "a file: URL's path has a % not followed by two hex digits")
    // libsql takes no user:password@ (its requests refuse it), and the URL would be logged with it.
    .refine(
      (u) => !/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(u),
      "credentials (user:password@) do not go in the URL: give a token in VIGIL_DB_AUTH_TOKEN",
    )
    // libsql sends a query's authToken in a header, as VIGIL_DB_AUTH_TOKEN (headerSecret): one
    // with a line break inside (`%0A`) failed at start with an error quoting it, token and all.
    .refine(
      (u) => urlAuthTokens(u).every((t) => t.trim() === "" || isHeaderSafe(t.trim())),
      "the authToken in its query must be one line of visible characters once percent-decoded (the value is not shown)",
    )
    .default("file:data/vigil.db"),
  VIGIL_DB_AUTH_TOKEN: headerSecret(),
  VIGIL_RULES_DIR: z.string().min(1).default("rules"),
  VIGIL_TOKENS: z.string().default(""),
  VIGIL_LOG_LEVEL: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),
  VIGIL_BODY_LIMIT: int(1024 * 1024, 1024, 64 * 1024 * 1024),
  VIGIL_MEMORY_LIMIT: int(256 * 1024, 1024, 16 * 1024 * 1024),
  VIGIL_JOURNAL_RETENTION: window("P30D"),
  VIGIL_DECISION_RETENTION: window("P30D"),
  VIGIL_DECISIONS_PER_OBJECT: int(10_000, 0, 100_000_000),
  VIGIL_IDEMPOTENCY_TTL: z
    .string()
    .refine((v) => (parseDuration(v) ?? 0) >= 1000, { message: `${DURATION_HELP} of at least PT1S` })
    .default("PT24H"),
  VIGIL_HOT_OBJECTS: int(100_000, 0, 100_000_000),
  VIGIL_MAX_STREAMS: int(256, 1, 100_000),
  // Past a day a shutdown is hung, not draining (and Node's timers stop at about 24.8 days);
  // under a second every shutdown would cut what is in flight.
  VIGIL_DRAIN_TIMEOUT: z
    .string()
    .refine((v) => (parseDuration(v) ?? 0) >= 1000 && parseDuration(v)! <= 86_400_000, {
      message: `${DURATION_HELP} from PT1S to P1D`,
    })
    .default("PT10S"),
  VIGIL_RECONCILE_INTERVAL: z
    .string()
    .refine((v) => v === "off" || (parseDuration(v) ?? 0) >= 1000, {
      message: `"off" or ${DURATION_HELP} of at least PT1S`,
    })
    .default("PT30S"),
  VIGIL_PROCESS_CGROUP: z
    .string()
    .refine((v) => v === "off" || v === "auto" || v.startsWith("/"), {
      message: '"off", "auto", or the absolute path of a cgroup directory Vigil may create children in',
    })
    .default("off"),
  VIGIL_DRIVERS: z
    .string()
    .refine(
      (v) => splitList(v).every((d) => (DRIVER_NAMES as readonly string[]).includes(d)) && splitList(v).length > 0,
      {
        message: `a comma-separated list of ${DRIVER_NAMES.join(", ")}`,
      },
    )
    .optional(),
  VIGIL_FLY_API_URLS: z
    .string()
    // Each one the Fly driver takes too (normalizeApiUrl: port 0 or one past 65535 is not), here, before
    // the database's directory and file are made.
    .refine(
      (v) =>
        splitList(v).length > 0 &&
        splitList(v).every((u) => /^https?:\/\/[^/?#\s@]+\/?$/.test(u) && normalizeApiUrl(u) !== null),
      {
        message:
          "a comma-separated list of http(s) base URLs (scheme and host, perhaps a port from 1 to 65535; no path, no credentials), at least one",
      },
    )
    .default("https://api.machines.dev,http://_api.internal:4280"),
  VIGIL_MAILBOX_LIMIT: int(1000, 1, 1_000_000),
  /** `GET /metrics` without a token; by default it needs one with `read`. */
  VIGIL_METRICS_PUBLIC: z
    .enum(["true", "false"], { error: '"true" or "false"' })
    .default("false")
    .transform((v) => v === "true"),
  FLY_API_TOKEN: headerSecret(),
});

/**
 * The drivers objects may bind to: VIGIL_DRIVERS, or by default every driver without tokens
 * (loopback development) and `simulated,fly` with tokens (`process` runs code as the server's
 * user, so it must be asked for).
 */
export function enabledDrivers(config: Config, hasTokens: boolean): DriverName[] {
  if (config.VIGIL_DRIVERS) return [...new Set(splitList(config.VIGIL_DRIVERS))] as DriverName[];
  return hasTokens ? ["simulated", "fly"] : [...DRIVER_NAMES];
}

/** The Fly API base URLs an object may name, without a trailing slash. */
export function flyApiUrls(config: Config): string[] {
  return splitList(config.VIGIL_FLY_API_URLS).map((u) => u.replace(/\/$/, ""));
}

export type Config = z.infer<typeof configSchema>;

/** A bad value in the configuration, one line per variable: `vigil serve` exits 2 on it. */
export class InvalidConfiguration extends Error {
  constructor(lines: string[]) {
    super(`invalid configuration:\n  ${lines.join("\n  ")}`);
  }
}

/** Reads the configuration; throws with every problem named by variable. */
export function loadConfig(
  env: Record<string, string | undefined>,
  overrides: Partial<Record<keyof Config, string>> = {},
): Config {
  const input: Record<string, string | undefined> = {};
  for (const key of Object.keys(configSchema.shape)) {
    const v = overrides[key as keyof Config] ?? env[key];
    if (v !== undefined && v !== "") input[key] = v;
  }
  const r = configSchema.safeParse(input);
  if (!r.success) {
    const lines = zodProblems(r.error).map((p) => `${p.path.replace(/^\$\./, "")}: ${p.message}`);
    throw new InvalidConfiguration(lines);
  }
  return r.data;
}

/**
 * A database URL as logs and messages show it: without the credentials a URL may carry (a
 * `user:password@`, a query parameter such as libsql's `authToken`).
 */
export function shownDbUrl(url: string): string {
  const [base, query] = [url.replace(/[?#].*$/s, ""), /\?([^#]*)/s.exec(url)?.[1]];
  // Up to the authority's last `@`, as libsql reads it (a password may hold an `@`).
  const shownBase = base.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/]*@/i, "$1[redacted]@");
  if (query === undefined) return shownBase;
  const params = query.split("&").map((p) => {
    // A name like a secret's: its value hidden (the whole part when it has no `=`, a typo). The
    // name is read percent-decoded too, as libsql reads it: `%61uth%54oken` is its authToken.
    const name = p.split("=")[0]!;
    if (!SECRET_NAME.test(name) && !SECRET_NAME.test(decodedParam(name) ?? "")) return p;
    return p.includes("=") ? `${name}=[redacted]` : "[redacted]";
  });
  return `${shownBase}?${params.join("&")}`;
}

/**
 * A message of libsql's about VIGIL_DB_URL, which may quote the URL whole or the part it refused:
 * the URL is shown as shownDbUrl shows it, and a quoted part of it (as written, or decoded) that
 * the shown URL hides (a fragment, a token) is redacted.
 */
export function shownQuotes(url: string, message: string): string {
  const shown = shownDbUrl(url);
  // libsql may quote a part decoded (a percent-encoded fragment).
  let decoded = url;
  try {
    decoded = decodeURIComponent(url);
  } catch {
    // Not valid percent-encoding: libsql quotes it as it is.
  }
  return message
    .split(url)
    .join(shown)
    .replace(/(["'])(.*?)\1/g, (quoted, q: string, part: string) =>
      (url.includes(part) || decoded.includes(part)) && !shown.includes(part) ? `${q}[redacted]${q}` : quoted,
    );
}

/** True for 127.0.0.0/8, ::1 and localhost: addresses no other machine can reach. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  // ::1 however it is written (`0::1`, `0000:…:0001`): refused as public, it was told "anyone
  // who can reach it could govern your objects".
  if (h === "localhost" || ipv6Written(h) === "::1") return true;
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  return m !== null && m.slice(1).every((x) => Number(x) <= 255);
}

/**
 * The address a server without tokens binds for VIGIL_HOST, or a refusal. A name (`localhost`)
 * is resolved here, once, and the address it resolves to is the one checked and bound: Node
 * would resolve it again at `listen`, and a resolver that answers a public address for it (an
 * /etc/hosts without `localhost`, a search domain whose DNS has `localhost.<domain>`) would
 * have the server serve every interface with no token, where a remote client only has to send
 * `Host: localhost` to pass the loopback check of each request. `dns.lookup` is what Node's
 * `listen` asks, so both read the same answer.
 */
export async function loopbackBindAddress(host: string): Promise<string> {
  const refused = (why: string) =>
    new Error(
      `refusing to bind ${host}${why} without tokens: anyone who can reach it could govern your objects. ` +
        "Set VIGIL_TOKENS, or bind a loopback address (127.0.0.1, ::1).",
    );
  const bare = host.replace(/^\[|\]$/g, "");
  // An IPv4 address written as IPv6 (`::ffff:127.0.0.1`, `::ffff:7f00:1`) names that IPv4
  // address: checked and bound as it, so that the server's URL, and the Host its clients send,
  // is one the loopback check of each request passes (`[::ffff:7f00:1]` is not).
  const ipv4 = ipv4Mapped(bare);
  if (ipv4 !== null) {
    if (!isLoopback(ipv4)) throw refused(` (the IPv4 address ${ipv4}, not a loopback address)`);
    return ipv4;
  }
  if (!isLoopback(host)) throw refused("");
  if (isIP(bare) !== 0) return ipv6Written(bare) ?? bare;
  const address = await new Promise<string>((resolve, reject) =>
    dns.lookup(bare, (e, found) =>
      e ? reject(new Error(`cannot resolve ${host} (${e.code ?? e.message})`)) : resolve(found),
    ),
  );
  const found = ipv4Mapped(address) ?? address;
  if (!isLoopback(found)) throw refused(` (it resolves to ${address}, not a loopback address)`);
  return found;
}

/** The IPv4 address an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, `::ffff:7f00:1`) stands for, or null. */
export function ipv4Mapped(address: string): string | null {
  if (isIP(address) !== 6) return null;
  // A URL writes it one way (`[::ffff:7f00:1]`), however it was written.
  const m = /^\[::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})\]$/.exec(URL.parse(`http://[${address}]/`)?.hostname ?? "");
  if (m === null) return null;
  const [high, low] = [parseInt(m[1]!, 16), parseInt(m[2]!, 16)];
  return [high >> 8, high & 255, low >> 8, low & 255].join(".");
}

/**
 * An IPv6 address as a URL writes it, without its brackets (`0:0:0:0:0:0:0:1` is `::1`), or null
 * when `address` is not one (an IPv4 address, a name, one with a zone). A Host written another
 * way is a 400 (node-server.ts `hostProblem`): the server's URL writes its address so.
 */
export function ipv6Written(address: string): string | null {
  if (isIP(address) !== 6) return null;
  return URL.parse(`http://[${address}]/`)?.hostname.slice(1, -1) ?? null;
}
