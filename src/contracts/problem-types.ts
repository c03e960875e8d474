// The kinds of problem HTTP API v1 replies with: one `type` URI per kind of failure, the same on
// every route, so that a client branches on `type` rather than on `title`. The error map
// (http/problem.ts) answers with nothing else, and the OpenAPI document's Problem schema lists
// these (api-replies.ts), so a client generated from the document knows every one.

/** Problem types are URIs under this base (RFC 9457 `type`), one slug per kind of failure. */
export const PROBLEM_BASE = "https://vigil.dev/problems/";

/** Every kind of problem the API replies with: status and title. */
export const PROBLEMS = {
  "malformed-request": { status: 400, title: "Malformed request" },
  unauthorized: { status: 401, title: "Unauthorized" },
  forbidden: { status: 403, title: "Forbidden" },
  "not-found": { status: 404, title: "Not found" },
  "method-not-allowed": { status: 405, title: "Method not allowed" },
  conflict: { status: 409, title: "Conflict" },
  "precondition-failed": { status: 412, title: "Precondition failed" },
  "too-large": { status: 413, title: "Payload too large" },
  "unsupported-media-type": { status: 415, title: "Unsupported media type" },
  "expectation-failed": { status: 417, title: "Expectation failed" },
  "too-many-requests": { status: 429, title: "Too many requests" },
  "headers-too-large": { status: 431, title: "Request header fields too large" },
  validation: { status: 422, title: "Validation failed" },
  internal: { status: 500, title: "Internal server error" },
  unavailable: { status: 503, title: "Service unavailable" },
} as const;

export type ProblemSlug = keyof typeof PROBLEMS;

/** Every `type` a problem reply can carry. */
export const PROBLEM_TYPES = Object.keys(PROBLEMS).map((slug) => PROBLEM_BASE + slug) as [string, ...string[]];
