// The objects page: a page of objects at a time (the API's cursor), filtered by state and
// policy, kept up to date from the event stream. The filters and the page live in the URL, so
// a view can be linked to and the Back button works.

import { api, ApiError, denied, dueWatch, markSynced, reached, signedIn, withQuery } from "./api.js";
import { $, badge, fill, h, refreshTimes, timeEl } from "./dom.js";
import { follow, showStatus } from "./sse.js";

const form = $("#filters");
const rows = $("#objects tbody");
const status = $("#list-status");
const next = $("#next");
const first = $("#first");

/** What the page shows with nothing in its URL. */
const DEFAULT_VIEW = { state: "", policy: "", limit: "50", cursor: "" };

/** What the page shows: the filters and the cursor of this page (absent: the first). */
function viewOfUrl() {
  const q = new URLSearchParams(location.search);
  return {
    state: q.get("state") ?? "",
    policy: q.get("policy") ?? "",
    limit: q.get("limit") || DEFAULT_VIEW.limit,
    cursor: q.get("cursor") ?? "",
  };
}

let view = viewOfUrl();
let nextCursor = null;
/** What the server refused in the URL the page was opened at (said until the view changes). */
let refused = "";
/** The objects shown, by id, with their rows. */
const shown = new Map();

function go(change) {
  refused = "";
  view = { ...view, ...change };
  history.pushState(null, "", withQuery("/ui", view));
  showView();
  return load().catch(readAgain);
}

/**
 * The filter controls as the view says: when the view changes, not when the page is read again
 * (a live update), which would undo a choice made and not yet applied.
 */
function showView() {
  // A page size the menu does not offer (a link's ?limit=2 or 300, which the API takes) is added to
  // it: shown blank, it was dropped at the next Apply, and the API's default of 100 listed.
  const sizes = form.elements.limit;
  for (const extra of sizes.querySelectorAll("option[data-extra]")) extra.remove();
  if (![...sizes.options].some((o) => o.value === view.limit))
    sizes.append(h("option", { value: view.limit, text: view.limit, dataset: { extra: "" } }));
  for (const [key, value] of Object.entries(view)) if (form.elements[key]) form.elements[key].value = value;
}

function row(o) {
  const due =
    o.timers
      .map((t) => t.dueAt)
      .filter(Boolean)
      .sort()[0] ?? null;
  const observed = o.substrate.observed;
  return h(
    "tr",
    { dataset: { id: o.id, policy: `${o.policy.name}@${o.policy.version ?? ""}` } },
    h("th", { scope: "row" }, h("a", { href: `/ui/objects/${encodeURIComponent(o.id)}`, text: o.id })),
    h("td", { class: "state" }, badge(o.state)),
    h("td", { class: "since" }, timeEl(o.stateSince)),
    h("td", {}, o.policy.name, o.policy.version ? h("span", { class: "muted", text: ` v${o.policy.version}` }) : null),
    h("td", {}, o.substrate.driver, observed ? h("span", { class: "muted", text: ` · ${observed.status}` }) : null),
    h("td", {}, timeEl(due)),
  );
}

/**
 * The page of objects the view names. A view the server refuses (a link with a state that is
 * none, a limit past 500, a cursor cut short) is refused again at every read: the page would say
 * the server could not be read, and read it again for good, with the filters hidden behind the
 * sign-in form when a token was just given. The parts refused (`$.query.limit`) go back to their
 * defaults, in the URL too, and the page says so.
 */
async function readPage() {
  try {
    return await api(withQuery("/v1/objects", view));
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 422)) throw e;
    const named = new Map();
    for (const err of e.problem?.errors ?? []) {
      const key = /^\$\.query\.(\w+)$/.exec(err.path ?? "")?.[1];
      if (key !== undefined && key in DEFAULT_VIEW && view[key] !== DEFAULT_VIEW[key] && !named.has(key))
        // Named before its message, unless the message names it already ("policy names are …").
        named.set(key, err.message.startsWith(`${key} `) ? err.message : `${key} ${err.message}`);
    }
    // None named: everything the link set goes.
    const keys =
      named.size > 0 ? [...named.keys()] : Object.keys(DEFAULT_VIEW).filter((k) => view[k] !== DEFAULT_VIEW[k]);
    if (keys.length === 0) throw e;
    const why = named.size > 0 ? [...named.values()].join("; ") : e.message;
    refused = `The link's ${keys.join(" and ")} ${keys.length === 1 ? "was" : "were"} refused (${why}), and left out. `;
    view = { ...view, ...Object.fromEntries(keys.map((k) => [k, DEFAULT_VIEW[k]])), cursor: "" };
    history.replaceState(null, "", withQuery("/ui", view));
    showView();
    return api(withQuery("/v1/objects", view));
  }
}

async function load() {
  const lives = wentLive;
  const page = await readPage();
  // A row's link that has the keyboard focus keeps it when the rows are drawn again (a live
  // update re-reads the page): a keyboard user is not thrown back to the top.
  const focusedId = document.activeElement?.closest?.("tr")?.dataset?.id;
  shown.clear();
  fill(
    rows,
    page.items.map((o) => {
      const tr = row(o);
      shown.set(o.id, tr);
      return tr;
    }),
  );
  if (focusedId !== undefined) shown.get(focusedId)?.querySelector("a")?.focus();
  watchTimers(
    page.items.flatMap((o) => o.timers.map((t) => t.dueAt)),
    reloadSoon,
  );
  nextCursor = page.nextCursor ?? null;
  next.disabled = nextCursor === null;
  first.disabled = view.cursor === "";
  const filtered = view.state !== "" || view.policy !== "";
  const said =
    page.items.length === 0
      ? nextCursor
        ? "None on this page, more on the next page."
        : filtered
          ? "No object matches these filters."
          : "No objects yet."
      : `${page.items.length} object${page.items.length === 1 ? "" : "s"}${view.cursor ? " on this page" : ""}` +
        (nextCursor ? ", more on the next page." : ".");
  // The line is a live region, and the page is read again at each live update that touches it
  // (a busy fleet: every few hundred ms) and each reconnection: written again with the same words,
  // a screen reader announces them again each time ("50 objects, more on the next page.").
  if (status.textContent !== refused + said) status.textContent = refused + said;
  markSynced(lives);
}

async function loadPolicies() {
  const select = form.elements.policy;
  const { items } = await api("/v1/policies");
  const names = new Set(items.map((p) => p.name));
  if (view.policy !== "") names.add(view.policy);
  fill(
    select,
    h("option", { value: "", text: "any" }),
    [...names].sort().map((n) => h("option", { value: n, text: n })),
  );
  select.value = view.policy;
}

const watchTimers = dueWatch();

let reloading = null;
/** Reads the page again soon: several events in a burst cause one read. */
function reloadSoon() {
  reloading ??= setTimeout(() => {
    reloading = null;
    void load().catch(() => {});
  }, 250);
}

/**
 * Whether an object not shown could belong on this page: pages list objects by id, so only
 * one whose id falls among this page's ids (or past them, on the last page) could.
 */
function couldBeHere(id) {
  const ids = [...shown.keys()];
  // After the id the cursor stands for (the last of the page before), not this page's first.
  const above = view.cursor === "" || id > cursorId(view.cursor);
  const below = nextCursor === null || (ids.length > 0 && id < ids[ids.length - 1]);
  return above && below;
}

/** The id a list cursor stands for: the base64url of its text (object ids are ASCII). */
function cursorId(cursor) {
  const b64 = cursor.replace(/-/g, "+").replace(/_/g, "/");
  try {
    return atob(b64 + "===".slice((b64.length + 3) % 4));
  } catch {
    return "";
  }
}

/** A decision from the stream: the row changes in place, or the page is read again. */
function onDecision(d) {
  reached(Date.parse(d.at));
  const tr = shown.get(d.objectId);
  if (!tr) {
    const policyFits = view.policy === "" || view.policy === d.policy.name;
    return policyFits && couldBeHere(d.objectId) ? reloadSoon() : undefined;
  }
  // It left the page's filter (another state, or moved to another policy), or what its row
  // shows of its policy or its timers changed: the row is read again.
  if ((view.state !== "" && view.state !== d.toState) || (view.policy !== "" && view.policy !== d.policy.name))
    return reloadSoon();
  if (tr.dataset.policy !== `${d.policy.name}@${d.policy.version ?? ""}` || d.timers.length > 0) return reloadSoon();
  if (d.fromState !== d.toState || tr.querySelector(".badge").textContent !== d.toState) {
    fill(tr.querySelector(".state"), badge(d.toState));
    fill(tr.querySelector(".since"), timeEl(d.at));
    tr.classList.remove("flash");
    void tr.offsetWidth;
    tr.classList.add("flash");
  }
}

/**
 * An action's confirmation (or final failure) moves its object without a decision: into the
 * page's state filter too, for an object the page does not show yet.
 */
function onAction(a) {
  if (a.status !== "confirmed" && a.status !== "failed") return;
  if (shown.has(a.objectId) || (view.state !== "" && couldBeHere(a.objectId))) reloadSoon();
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const f = form.elements;
  void go({ state: f.state.value, policy: f.policy.value, limit: f.limit.value, cursor: "" });
});
next.addEventListener("click", () => nextCursor && go({ cursor: nextCursor }));
first.addEventListener("click", () => go({ cursor: "" }));
window.addEventListener("popstate", () => {
  refused = "";
  view = viewOfUrl();
  showView();
  void load().catch(readAgain);
});

let stream = null;
let live = false;
/** How many times the stream has come up live (a read started after the n-th one marks n). */
let wentLive = 0;
/**
 * A view chosen (Apply, Next page, Back) whose read failed: said above the page and read again
 * until the server answers, as the first read is (a 401 or 403: the sign-in form). Unhandled, the
 * page kept the list of the view before under the new filters and URL, saying nothing.
 */
const readAgain = (e) => failed(e);
showView();
const failed = signedIn(async () => {
  await Promise.all([load(), loadPolicies()]);
  stream ??= follow(
    { types: "decision,action,deletion" },
    {
      onEvent: (e) => {
        if (e.type === "decision") onDecision(JSON.parse(e.data));
        else if (e.type === "action") onAction(JSON.parse(e.data));
        // A deleted object leaves the page (and the next one's first moves up into it).
        else if (e.type === "deletion" && shown.has(JSON.parse(e.data).objectId)) reloadSoon();
      },
      // What changed while the page was read, before the stream was live, or while it was down
      // (a reconnection): read the page again.
      onStatus: (s) => {
        showStatus(s);
        if (s === "live" && !live) {
          wentLive += 1;
          reloadSoon();
        }
        live = s === "live";
      },
      // Refused (a token since rotated): signing in again follows the stream anew.
      onDenied: (status) => {
        stream = null;
        live = false;
        denied(status);
      },
    },
  );
});
setInterval(() => refreshTimes(), 15_000);
