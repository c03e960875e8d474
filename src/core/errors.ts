// Domain errors with a stable kind; the HTTP layer maps each kind to one status code.

import type { Problem } from "./validate.ts";

export type ErrorKind = "not-found" | "invalid" | "conflict" | "too-large" | "unavailable";

export class VigilError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly problems: Problem[] = [],
  ) {
    super(message);
    this.name = "VigilError";
  }
}

/** Problem types are URIs under this base (RFC 9457 `type`), one slug per kind of failure. */
export const PROBLEM_BASE = "https://vigil.dev/problems/";

/** How each kind of domain error is reported: HTTP status, problem slug and title. */
export const ERROR_KINDS: Record<ErrorKind, { status: number; slug: string; title: string }> = {
  "not-found": { status: 404, slug: "not-found", title: "Not found" },
  invalid: { status: 422, slug: "validation", title: "Validation failed" },
  conflict: { status: 409, slug: "conflict", title: "Conflict" },
  "too-large": { status: 413, slug: "too-large", title: "Payload too large" },
  unavailable: { status: 503, slug: "unavailable", title: "Service unavailable" },
};

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: Problem[];
}

/** A domain error as RFC 9457 problem details; anything else is an opaque internal error. */
export function problemOf(e: unknown): ProblemDetails {
  if (!(e instanceof VigilError))
    return {
      type: `${PROBLEM_BASE}internal`,
      title: "Internal server error",
      status: 500,
      detail: "the item could not be processed",
    };
  const k = ERROR_KINDS[e.kind];
  const out: ProblemDetails = { type: PROBLEM_BASE + k.slug, title: k.title, status: k.status, detail: e.message };
  if (e.problems.length > 0) out.errors = e.problems;
  return out;
}

export const notFound = (what: string) => new VigilError("not-found", `${what} not found`);
export const invalid = (message: string, problems: Problem[] = []) => new VigilError("invalid", message, problems);
export const conflict = (message: string) => new VigilError("conflict", message);
