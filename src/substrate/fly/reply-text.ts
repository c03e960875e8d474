// Reading what came back from Fly's API, or why nothing did, as text for a failure's message:
// pure helpers of the client (client.ts).

/**
 * Why a request got no answer, on one line: fetch reports every network failure as `fetch
 * failed` and puts the reason in `cause` (`getaddrinfo ENOTFOUND _api.internal` outside Fly's
 * network, `connect ECONNREFUSED ...`, a TLS error), so the causes are followed, a few deep.
 */
export function failureText(e: unknown): string {
  const parts: string[] = [];
  for (let at = e, depth = 0; at !== undefined && at !== null && depth < 4; depth++) {
    parts.push(oneError(at));
    at = typeof at === "object" && "cause" in at ? at.cause : undefined;
  }
  return parts.filter((p) => p !== "").join(": ");
}

/**
 * One error's message, with its code when the message does not carry it (a TLS error's does
 * not). Node's AggregateError (each address of a host refused) has no message: its errors'.
 */
function oneError(e: unknown): string {
  if (typeof e !== "object" || e === null) return String(e);
  const message = "message" in e && typeof e.message === "string" ? e.message.replace(/\s+/g, " ").trim() : "";
  const inner = "errors" in e && Array.isArray(e.errors) ? e.errors.map(oneError).join("; ") : "";
  const text = message || inner;
  const code = "code" in e && typeof e.code === "string" ? e.code : "";
  if (code === "" || text.includes(code)) return text;
  return text === "" ? code : `${code} (${text})`;
}

/** The reply's JSON, or null when it is empty or not JSON (a proxy's HTML page). */
export function parseJson(text: string): unknown {
  if (text.trim() === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
