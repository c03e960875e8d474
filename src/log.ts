// The server's structured logger: pino underneath, one JSON line per event on stderr, filtered
// by level. A line is `{"level":"info","time":"<ISO 8601>", ...fields, "msg":"..."}`: the level
// as a word, the time as ISO text and the fields flattened, as Vigil's logs have always been.
// Secrets never reach a line: the values of fields named like a token, an Authorization header,
// a password or a secret, and every value of an `env` object (a process config's environment,
// keys kept), are replaced wherever they sit in the fields, so that a field added carelessly
// later is still safe. This is pino's `log` formatter rather than its `redact` paths: paths
// that match at any depth need wildcards, and those cost about 50 µs a line (measured), ten
// times the line itself; the walk below costs well under a microsecond for a request's line.

import { pino, type DestinationStream } from "pino";

export type Level = "debug" | "info" | "warn" | "error" | "silent";

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** Whether lines at `level` are written: callers skip the work of a line nobody reads. */
  isLevelEnabled?(level: Exclude<Level, "silent">): boolean;
}

/** What replaces a secret in a line. */
export const REDACTED = "[redacted]";

/** Field names whose values are secrets: `authorization`, `token`, `apiToken`, `VIGIL_TOKENS`, `FLY_API_TOKEN`... */
const SECRET_KEY = /(?:authorization|tokens?|passwords?|secrets?)$/i;
/** How deep into the fields secrets are looked for (a line is never that deep in practice). */
const MAX_DEPTH = 8;

/**
 * `fields` with every secret replaced (see the top of this file). Nothing is copied unless
 * something is replaced, and then only the objects on the way to it: the caller's fields are
 * never changed.
 */
export function redactSecrets<T>(fields: T, depth = 0): T {
  if (typeof fields !== "object" || fields === null || depth > MAX_DEPTH) return fields;
  if (Array.isArray(fields)) {
    let out: unknown[] | null = null;
    fields.forEach((v, i) => {
      const r = redactSecrets(v, depth + 1);
      if (r !== v) (out ??= [...fields])[i] = r;
    });
    return (out ?? fields) as T;
  }
  let out: Record<string, unknown> | null = null;
  const o = fields as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    const v = o[key];
    let r: unknown;
    if (SECRET_KEY.test(key)) r = v === undefined || v === null ? v : REDACTED;
    else if (key === "env" && Array.isArray(v)) r = v.map(() => REDACTED);
    else if (key === "env" && typeof v === "object" && v !== null)
      r = Object.fromEntries(Object.keys(v).map((k) => [k, REDACTED]));
    else r = redactSecrets(v, depth + 1);
    if (r !== v) (out ??= { ...o })[key] = r;
  }
  return (out ?? fields) as T;
}

/**
 * stderr, written synchronously (pino's destination), where a line stderr refuses is dropped.
 * pino's destination threw a write's error at whatever logged (it keeps only EPIPE to itself),
 * and a log line must not fail what it tells: a terminal closed under `vigil serve` (EIO, after
 * the SIGHUP it drains on) threw from the drain's first line, before the drain began, and the
 * server died with its requests cut and its lease held; a full disk under `2>>file` (ENOSPC)
 * failed start-up with exit 2, or a request that logged. The destination that failed keeps the
 * lines it could not write and would write them before the next: it is dropped with them, and
 * the next line is tried on a new one (a failed write costs one system call a line).
 */
function stderrLines(): DestinationStream {
  let current: ReturnType<typeof pino.destination> | null = null;
  const open = () => {
    const destination = pino.destination({ dest: 2, sync: true });
    destination.on("error", () => {
      if (current === destination) current = null;
    });
    return destination;
  };
  return { write: (line: string) => void (current ??= open()).write(line) };
}

/**
 * A logger at `level`; lines go to stderr, or to `write` (tests). Writes are synchronous, so
 * that a line logged just before the process dies is not lost.
 */
export function createLogger(level: Level, write?: (line: string) => void): Logger {
  const destination: DestinationStream = write ? { write } : stderrLines();
  const p = pino(
    {
      level,
      base: undefined,
      messageKey: "msg",
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }), log: (fields) => redactSecrets(fields) },
    },
    destination,
  );
  const at =
    (l: Exclude<Level, "silent">) =>
    (msg: string, fields?: Record<string, unknown>): void => {
      if (fields) p[l](fields, msg);
      else p[l](msg);
    };
  return {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    isLevelEnabled: (l) => p.isLevelEnabled(l),
  };
}

/** How many causes of an error a line follows. */
const MAX_CAUSES = 6;

/**
 * An error as a line says it: its message and its causes', each with its kind unless a plain
 * Error (`Failed query: select …: LibsqlError: SERVER_ERROR: Server returned HTTP status 503`),
 * so that a database's failure is said with the query it failed, and without the query's
 * parameters (drizzle puts them in its message: memory, ids, idempotency keys).
 */
export function errorText(error: unknown): string {
  const parts: string[] = [];
  let said = "";
  for (let e = error, n = 0; e !== undefined && e !== null && n < MAX_CAUSES; n++) {
    const message = e instanceof Error ? e.message : String(e);
    const text = message.replace(/\nparams: [\s\S]*$/, "").trim();
    // A message said once (a wrapper often repeats its cause's), with its kind where that says
    // something (TypeError, LibsqlError).
    if (text && said !== text) {
      const kind = e instanceof Error && e.name && e.name !== "Error" && !text.startsWith(e.name) ? `${e.name}: ` : "";
      parts.push(kind + text);
    }
    said = text || said;
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join(": ") || String(error);
}
