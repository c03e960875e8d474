// The one error map of the HTTP API: every failure becomes an RFC 9457 problem+json reply.
//
// `type` URIs follow one scheme: `https://vigil.dev/problems/<slug>`, one slug per kind of
// failure (listed in PROBLEMS, contracts/problem-types.ts), so a client can branch on `type` and ignore `title`.
// Validation failures (422) carry `errors: [{path, message}]`; paths are `$`-rooted: JSON
// paths into the body (`$.facts.a`), or the name of the path parameter, query parameter or
// header at fault (`$.id`, `$.query.limit`, `$.headers.Idempotency-Key`).

import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { ZodError } from "zod";
import { PROBLEM_BASE, PROBLEMS, type ProblemSlug } from "../contracts/problem-types.ts";
import { zodProblems } from "../contracts/problems.ts";
import {
  isPassingStorageError,
  isUnreachableDatabase,
  PolicyNotLoaded,
  storageRefusal,
  SubstrateBusy,
  unreachableDetail,
  VigilError,
  WRITER_EXITED,
  type ErrorKind,
  type Problem,
} from "../core/errors.ts";

export { PROBLEM_BASE, PROBLEMS, type ProblemSlug } from "../contracts/problem-types.ts";
export const PROBLEM_CONTENT_TYPE = "application/problem+json";

/** What each kind of domain error is to a client. */
const SLUG_OF_KIND: Record<ErrorKind, ProblemSlug> = {
  "not-found": "not-found",
  invalid: "validation",
  conflict: "conflict",
  precondition: "precondition-failed",
  unavailable: "unavailable",
  overloaded: "too-many-requests",
};

/** Seconds a client is asked to wait before it retries an overloaded object. */
export const OVERLOADED_RETRY_AFTER = "1";

/** Seconds a client is asked to wait when the database refused a write for a passing reason, or was not reached. */
export const STORAGE_RETRY_AFTER = "5";

/**
 * Seconds a client is asked to wait when an object's policy is not loaded: the server tries
 * the object's timers again a minute at a time too.
 */
export const POLICY_RETRY_AFTER = "60";

/** The headers a thrown value's reply carries (`Retry-After` for 429 and 503). */
export function problemHeaders(error: unknown): Record<string, string> {
  if (error instanceof HttpProblem) return error.headers ?? {};
  if (error instanceof PolicyNotLoaded) return { "retry-after": POLICY_RETRY_AFTER };
  if (error instanceof VigilError && error.kind === "overloaded") return { "retry-after": OVERLOADED_RETRY_AFTER };
  if (error instanceof SubstrateBusy)
    return { "retry-after": String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))) };
  if (passing(error) || (error instanceof VigilError && passing(error.cause)))
    return { "retry-after": STORAGE_RETRY_AFTER };
  return {};
}

/** A database failure that may pass: SQLite's refusal of a write, or a remote database not reached. */
const passing = (error: unknown) => isPassingStorageError(error) || isUnreachableDatabase(error);

/** The body of a problem reply. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: Problem[];
}

/** A failure detected in the HTTP layer itself; `onError` turns it into its reply. */
export class HttpProblem extends Error {
  constructor(
    readonly slug: ProblemSlug,
    readonly detail: string,
    readonly errors?: Problem[],
    readonly headers?: Record<string, string>,
  ) {
    super(detail);
    this.name = "HttpProblem";
  }
}

export function problemBody(slug: ProblemSlug, detail: string, errors?: Problem[]): ProblemBody {
  const { status, title } = PROBLEMS[slug];
  const body: ProblemBody = { type: PROBLEM_BASE + slug, title, status, detail };
  if (errors !== undefined) body.errors = errors;
  return body;
}

/** A problem+json Response. */
export function problemResponse(
  slug: ProblemSlug,
  detail: string,
  errors?: Problem[],
  headers: Record<string, string> = {},
): Response {
  return reply(problemBody(slug, detail, errors), headers);
}

function reply(body: ProblemBody, headers: Record<string, string>): Response {
  return new Response(JSON.stringify(body), {
    status: body.status,
    headers: { ...headers, "content-type": PROBLEM_CONTENT_TYPE },
  });
}

/** A 422 for problems found in a path parameter, query string, header or body. */
export const validationProblem = (detail: string, errors: Problem[]) => new HttpProblem("validation", detail, errors);

/**
 * Any thrown value as a problem body. Unexpected errors become a bare 500, and a database that
 * refused a write for a reason that may pass, or a remote one that could not be reached, a 503:
 * the message and stack stay in the server
 * (`report`), never in the reply.
 */
export function problemOf(
  error: unknown,
  report: (error: unknown) => void = () => {},
  internal = "the server could not complete the request; it has been logged",
  read = false,
): ProblemBody {
  if (error instanceof HttpProblem) return problemBody(error.slug, error.detail, error.errors);
  if (error instanceof VigilError) {
    // A refusal by the database after the compute was stopped (afterStop): logged as any refusal.
    if (passing(error.cause)) report(error.cause);
    const slug = SLUG_OF_KIND[error.kind];
    const errors = slug === "validation" || error.problems.length > 0 ? error.problems : undefined;
    return problemBody(slug, error.message, errors);
  }
  if (error instanceof ZodError) return problemBody("validation", "the request is invalid", zodProblems(error));
  if (error instanceof HTTPException) {
    // Thrown by hono middleware; keep its status when it is one we describe.
    const slug = slugForStatus(error.status);
    if (slug !== "internal") return problemBody(slug, error.message || PROBLEMS[slug].title);
  }
  // The body could not be read to its end: the client went away, or Node's parser refused the
  // rest of it (a chunk size that is not hex). Nothing failed on this side, so nothing is reported.
  if (isClientAbort(error))
    return problemBody(
      "malformed-request",
      "the request's body ended early (the client went away, or sent what is not HTTP)",
    );
  report(error);
  // A remote database not reached: the write may have been committed and its answer lost.
  if (isUnreachableDatabase(error)) return problemBody("unavailable", unreachableDetail(error));
  // A write on its way when the writer thread stopped may have been committed before it did.
  if ((error as { code?: unknown }).code === WRITER_EXITED)
    return problemBody(
      "unavailable",
      `the write could not be made (${storageRefusal(error)}); one on its way when the thread stopped may or may not have been recorded: send it again (facts with the same Idempotency-Key) once the server is started again`,
    );
  // A read (GET, HEAD) the database failed was told "refused the write", which it had not tried.
  if (isPassingStorageError(error))
    return problemBody(
      "unavailable",
      read
        ? `the database could not be read for now (${storageRefusal(error)}): try again later`
        : `the database refused the write for now (${storageRefusal(error)}); nothing was changed: try again later`,
    );
  return problemBody("internal", internal);
}

/** Node's error for a request whose body stopped coming: `aborted`, code ECONNRESET. */
function isClientAbort(error: unknown): boolean {
  return (
    error instanceof Error && error.message === "aborted" && (error as NodeJS.ErrnoException).code === "ECONNRESET"
  );
}

/** Any thrown value as its problem reply (see {@link problemOf}). */
/** The problem reply for `error`; `method`, the request's, tells a read's failure from a write's. */
export function errorResponse(error: unknown, report: (error: unknown) => void = () => {}, method?: string): Response {
  return reply(problemOf(error, report, undefined, method === "GET" || method === "HEAD"), problemHeaders(error));
}

function slugForStatus(status: number): ProblemSlug {
  for (const [slug, p] of Object.entries(PROBLEMS)) if (p.status === status) return slug as ProblemSlug;
  return "internal";
}

/**
 * A request's path as a problem's detail tells it: cut at 128 characters (the longest id), as the
 * routes cut the ids and names they echo; a path of 16 KB was echoed whole.
 */
const shownPath = (path: string) => (path.length > 128 ? `${path.slice(0, 128)}...` : path);

/** The hono `notFound` handler. */
export const notFoundHandler = (c: Context) =>
  problemResponse("not-found", `no route for ${c.req.method} ${shownPath(c.req.path)}`);

/** The `onMethodNotAllowed` handler of hono's methodNotAllowed middleware. */
export const methodNotAllowedHandler = (c: Context, methods: string[]) =>
  problemResponse(
    "method-not-allowed",
    `${c.req.method} is not allowed on ${shownPath(c.req.path)}; allowed: ${methods.join(", ")}`,
    undefined,
    {
      allow: methods.join(", "),
    },
  );
