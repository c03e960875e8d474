// The dashboard's client of the API: the tab's token (sessionStorage: it lives as long as the
// tab and is never sent anywhere but this server's API), fetch with a bearer header, problem
// replies as errors, the sign-in form, and the server's time.

const KEY = "vigil.read-token";

/**
 * A reply that was not a success; `problem` is its problem+json body when it had one. Status 0:
 * no reply came (the server is down or out of reach). `retryAfterMs`: what its Retry-After asked.
 */
export class ApiError extends Error {
  constructor(status, problem, retryAfterMs = 0) {
    super(
      problem?.detail ??
        problem?.title ??
        (status === 0 ? "the server did not answer" : `the server answered ${status}`),
    );
    this.status = status;
    this.problem = problem;
    this.retryAfterMs = retryAfterMs;
  }
}

export const token = {
  get: () => sessionStorage.getItem(KEY),
  set: (value) => sessionStorage.setItem(KEY, value),
  clear: () => sessionStorage.removeItem(KEY),
};

/** The Authorization header for the tab's token, if it has one. */
export function authHeaders() {
  const t = token.get();
  return t ? { authorization: `Bearer ${t}` } : {};
}

/**
 * The server's clock minus this browser's, in ms: the page shell carries the server's time
 * (`data-now`), so that "5 s ago" means the server's 5 s, on a machine whose clock is off or
 * against a server on a virtual clock. The shell is sent no-store, so that Back reads it again
 * with a fresh time; a page the browser restores from its back-forward cache keeps its offset,
 * which still holds, as both clocks ran on meanwhile.
 */
let offset = null;

/** Now, by the server's clock as far as the page can tell. */
export function now() {
  offset ??= Number(document.body.dataset.now ?? Date.now()) - Date.now();
  return Date.now() + offset;
}

/**
 * A watch on the due times a page shows: `watch(dueAts, read)` runs `read` once the soonest of
 * `dueAts` (ISO times; null passed over) has passed on the server's clock, and two seconds more.
 * A timer that fires without a decision (a schedule's tick that decides nothing, re-armed for
 * its next time) sends no event, so a page would show its due time, past, for good. A time
 * already past is looked at again every 15 s. Each call replaces the last.
 */
export function dueWatch() {
  let handle;
  return (dueAts, read) => {
    clearTimeout(handle);
    const times = dueAts.filter((t) => t !== null && t !== undefined).map((t) => Date.parse(t));
    if (times.length === 0) return;
    const wait = Math.min(...times) - now();
    handle = setTimeout(read, wait > 0 ? Math.min(wait + 2000, 2 ** 31 - 1) : 15_000);
  };
}

/**
 * A time the server has reached (an event's, a state change's): the page's clock catches up
 * with it if it was behind, so that nothing seems to happen in the future.
 */
export function reached(ms) {
  if (Number.isFinite(ms) && ms > now()) offset = ms - Date.now();
}

/**
 * What the dashboard's browser tests wait on where they would otherwise sleep, on <body>:
 * `data-reading` counts the API calls on their way (0 once every call the page started has
 * answered and the code awaiting it has run up to its next wait), and `data-synced`, set by a
 * page, how many times its event stream has come up live with the page read again after it.
 * A sleep can end before the read it waits for on a loaded machine, and the test then checks
 * nothing.
 */
let reading = 0;

/** Sets `data-synced` to `n` (see above): the page has read itself since the stream's n-th go-live. */
export function markSynced(n) {
  if (n > Number(document.body.dataset.synced ?? 0)) document.body.dataset.synced = String(n);
}

/** GETs (or sends) a path of the API; resolves with its JSON, rejects with an ApiError. */
export async function api(path, init = {}) {
  document.body.dataset.reading = String((reading += 1));
  try {
    let res;
    try {
      res = await fetch(path, {
        ...init,
        headers: { accept: "application/json", ...authHeaders(), ...init.headers },
      });
    } catch {
      // A network error (the server stopped, the connection dropped): no reply to read.
      throw new ApiError(0, null);
    }
    if (res.ok) return res.status === 204 ? null : await res.json();
    let problem = null;
    try {
      problem = await res.json();
    } catch {
      // Not JSON: the status says enough.
    }
    const seconds = Number(res.headers.get("retry-after"));
    throw new ApiError(res.status, problem, Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0);
  } finally {
    document.body.dataset.reading = String((reading -= 1));
  }
}

/** A path with a query string of the given values; empty and missing ones are left out. */
export function withQuery(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  const text = q.toString();
  return text === "" ? path : `${path}?${text}`;
}

const isDenied = (e) => e instanceof ApiError && (e.status === 401 || e.status === 403);

/**
 * Runs `load` (the page's first reads) and again whenever a token is given: a 401 or 403 on
 * the way shows the sign-in form instead of the page, saying why a token given was refused.
 * Any other failed read (a 503 while the server shuts down or starts, a 500, no reply at all)
 * is said above the page, and `load` runs again after a pause (1 s doubling to 30 s, and at
 * least what a Retry-After asks) until it goes through: the page would otherwise stay an empty
 * frame, saying nothing, until it was reloaded by hand. Returns what handles such a failure: a
 * page whose later read fails (a view chosen while the server restarts) hands it the error, to be
 * said and `load` run again the same way.
 */
export function signedIn(load) {
  const form = document.getElementById("auth-form");
  const input = document.getElementById("token");
  const forget = document.getElementById("forget");
  let failures = 0;
  let again = null;
  const failed = (e) => {
    if (!(e instanceof ApiError)) throw e;
    clearTimeout(again);
    again = null;
    if (isDenied(e)) {
      // The server answers again, asking for a token: what failed before is no longer so.
      showFailure(null);
      return denied(e.status);
    }
    failures += 1;
    const pause = Math.min(30_000, Math.max(e.retryAfterMs, 1000 * 2 ** (failures - 1)));
    showFailure(e);
    again = setTimeout(() => void run(), pause);
  };
  const run = async () => {
    clearTimeout(again);
    again = null;
    try {
      await load();
      failures = 0;
      showFailure(null);
      showPage(true);
    } catch (e) {
      failed(e);
    }
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = input.value.trim();
    if (value === "") return;
    token.set(value);
    input.value = "";
    void run();
  });
  forget.addEventListener("click", () => {
    token.clear();
    location.reload();
  });
  void run();
  return failed;
}

/** Shows the sign-in form because the API refused the tab's token (or its lack of one). */
export function denied(status) {
  const had = token.get() !== null;
  if (status === 401) token.clear();
  document.getElementById("auth-error").textContent = !had
    ? ""
    : status === 403
      ? "That token does not hold the read scope. Give a token with read (or admin)."
      : "That token is not valid here. Check it and try again.";
  showPage(false);
  document.getElementById("token").focus();
}

/**
 * Says (or, given null, stops saying) that the page's reads failed. The text changes only with
 * the failure, not with each attempt, so that a screen reader announces it once.
 */
function showFailure(e) {
  const el = document.getElementById("load-error");
  const why = e === null ? "" : e.status === 0 ? e.message : `${e.status}: ${e.message}`;
  const text = e === null ? "" : `The server could not be read (${why}). The page tries again until it answers.`;
  if (el.textContent !== text) el.textContent = text;
  el.hidden = e === null;
}

function showPage(visible) {
  document.getElementById("auth").hidden = visible;
  document.getElementById("main").hidden = !visible;
  document.getElementById("forget").hidden = !visible || token.get() === null;
}
