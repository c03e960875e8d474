// The page of one object: its summary, lifecycle timeline, decisions (each with its
// explanation), memory, pending timers and usage, kept up to date from the event stream.

import { api, ApiError, authHeaders, denied, dueWatch, markSynced, now, reached, signedIn, withQuery } from "./api.js";
import { $, badge, clockTime, duration, fill, h, jsonNodes, refreshTimes, timeEl, zoneName } from "./dom.js";
import { explanationOf } from "./explain.js";
import { follow, showStatus } from "./sse.js";
import { confirmationIntervals, segmentsOf, STATES } from "./segments.js";
import { drawTimeline } from "./timeline.js";

const id = $("#main").dataset.objectId;
const path = `/v1/objects/${encodeURIComponent(id)}`;
const status = $("#object-status");

/** What the page knows. Decisions are newest first, with times as epoch ms in `at`. */
const model = {
  object: null,
  decisions: [],
  /** Full decisions (with their explanation), by id, as they were opened. */
  explained: new Map(),
  /** Reconnections of the stream: a decision read across one may show what it missed. */
  reconnections: 0,
  selected: null,
  /** More decisions are older than the oldest loaded one. */
  older: false,
  /**
   * The most decisions the page keeps: a page's worth, and a page more for each "Older" asked for.
   * Past it, live decisions push the oldest out (and "Older" brings them back).
   */
  keep: 0,
  /** A page of older decisions is on its way (loadOlder). */
  loadingOlder: false,
  /** When a decision's action was confirmed, moving the object on (decision id -> epoch ms). */
  confirmed: new Map(),
  /** Decisions whose confirmation time was asked for. */
  asked: new Set(),
  /** Deletions seen: a read that left before the last one answers for an object that is gone. */
  deletions: 0,
  /** The last usage read, and the object's state when it was read (renderUsage). */
  usage: null,
};

const PAGE = 200;
model.keep = PAGE;
const asRecord = (d) => ({ ...d, at: Date.parse(d.at) });

/** The window the timeline and usage cover: from the oldest decision loaded to now. */
function windowOf() {
  const o = model.object;
  const last = model.decisions[0]?.at ?? 0;
  const to = Math.max(now(), last, Date.parse(o.updatedAt));
  const oldest = model.decisions[model.decisions.length - 1]?.at ?? Date.parse(o.stateSince);
  return { from: Math.min(oldest, to - 60_000), to };
}

function renderSummary() {
  const o = model.object;
  fill($("#state-badge"), badge(o.state));
  const observed = o.substrate.observed;
  const rows = [
    ["In this state since", [timeEl(o.stateSince)]],
    ["Policy", [o.policy.name, o.policy.version ? ` v${o.policy.version}` : " (not loaded)"]],
    [
      "Substrate",
      [o.substrate.driver, observed ? [` · ${observed.status} `, timeEl(observed.at)] : " · not observed yet"],
    ],
    ["Hold until", [timeEl(o.holdUntil)]],
    ["Memory version", [String(o.memoryVersion)]],
    ["Created", [timeEl(o.createdAt)]],
  ];
  fill(
    $("#summary"),
    rows.map(([k, v]) => h("div", {}, h("dt", { text: k }), h("dd", {}, v))),
  );
  fill($("#memory-json"), jsonNodes(o.memory, 2));
  renderTimers();
}

function renderTimers() {
  const timers = [...model.object.timers].sort((a, b) => (a.dueAt ?? "").localeCompare(b.dueAt ?? ""));
  if (timers.length === 0) return fill($("#timer-list"), h("p", { class: "muted", text: "No timer is pending." }));
  fill(
    $("#timer-list"),
    compactTable(
      "list compact",
      "Pending timers, soonest first",
      ["Timer", "Kind", "Due"],
      timers.map((t) =>
        h(
          "tr",
          {},
          h("th", { scope: "row" }, h("code", { text: t.name })),
          h("td", { text: t.kind }),
          h("td", {}, timeEl(t.dueAt)),
        ),
      ),
    ),
  );
}

/**
 * A table with a caption for screen readers, a row of column headings, and `rows`, in a scroller:
 * its cells do not wrap, and a usage of "420 d 32 min" was wider than its panel at 1024 px, and
 * spilled past it and the window (the whole page scrolled sideways). The usage table's times
 * wrap and its bars are narrower (object.css), so that it fits without scrolling.
 */
function compactTable(cls, caption, headings, rows) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: cls },
      h("caption", { class: "sr-only", text: caption }),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          headings.map((t) => h("th", { scope: "col", text: t })),
        ),
      ),
      h("tbody", {}, rows),
    ),
  );
}

function renderTimeline() {
  // Deleted (and not read again since): nothing to draw.
  if (model.object === null) return;
  const { from, to } = windowOf();
  const segments = segmentsOf(model.decisions, recordOf(model.object), to, model.confirmed);
  const view = { from, to, segments, decisions: model.decisions };
  drawTimeline($("#timeline-chart"), view, { open: explain, selected: model.selected });
  // The times are the reader's zone's, named (each end's, when a clock change lies between them).
  const [fromZone, toZone] = [zoneName(from), zoneName(to)];
  $("#timeline-range").textContent =
    `${clockTime(from, { date: true })}${fromZone === toZone ? "" : ` ${fromZone}`} to ` +
    `${clockTime(to, { date: true })} ${toZone} (${duration(to - from)}), ` +
    `${model.decisions.length} decision${model.decisions.length === 1 ? "" : "s"}`;
  $("#picture").href = withQuery(`/ui/objects/${encodeURIComponent(id)}/timeline.svg`, {
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
  });
  $("#picture").hidden = false;
}

const recordOf = (o) => ({ state: o.state, stateSince: Date.parse(o.stateSince) });

/**
 * A decision's row. `zone` is the one the column's heading names: a time in another (across a
 * clock change: a winter decision under "At (CEST)") names its own, as it would read an hour off.
 */
function decisionRow(d, zone) {
  const selected = d.id === model.selected;
  const trigger = d.trigger.name ? `${d.trigger.kind}: ${d.trigger.name}` : d.trigger.kind;
  const own = zoneName(d.at);
  const text = own === zone ? clockTime(d.at) : `${clockTime(d.at)} ${own}`;
  return h(
    "tr",
    { id: `d-${d.id}`, class: selected ? "selected" : undefined },
    h(
      "td",
      { class: "at" },
      h("time", { datetime: new Date(d.at).toISOString(), title: new Date(d.at).toString(), text }),
    ),
    h("td", { text: trigger }),
    h("td", {}, h("span", { class: `outcome o-${d.outcome}`, text: d.outcome })),
    h("td", {}, d.fromState === d.toState ? badge(d.toState) : [badge(d.fromState), " → ", badge(d.toState)]),
    h(
      "td",
      {},
      h("button", {
        type: "button",
        class: "small",
        "aria-pressed": String(selected),
        // Its trigger and outcome too: decisions of one second (a fact and a timer) are told apart
        // in a screen reader's list of the page's buttons.
        "aria-label": `Explain the decision at ${text}: ${trigger}, ${d.outcome}`,
        text: "Explain",
        onclick: () => explain(d.id),
      }),
    ),
  );
}

function renderDecisions() {
  // The list's times are the reader's zone's: its heading names it.
  const zone = zoneName(now());
  $("#decision-at").textContent = `At (${zone})`;
  fill(
    $("#decision-rows"),
    model.decisions.length === 0
      ? h("tr", {}, h("td", { colspan: 5, class: "muted", text: "No decisions recorded." }))
      : model.decisions.map((d) => decisionRow(d, zone)),
  );
  $("#older").hidden = !model.older;
}

/**
 * Shows a decision's explanation (read once, then kept until the stream reconnects) and marks it
 * on the list and timeline. `again` (after a reconnection) reads the one shown anew and draws it
 * in place, leaving the list, the scroll and the keyboard focus as they are.
 */
async function explain(decisionId, again = false) {
  const body = $("#explanation-body");
  if (!again) {
    model.selected = decisionId;
    renderDecisions();
    renderTimeline();
  }
  let d = model.explained.get(decisionId);
  if (!d) {
    if (!again) fill(body, h("p", { class: "muted", text: "Reading the decision…" }));
    const reconnections = model.reconnections;
    try {
      d = await api(`/v1/decisions/${encodeURIComponent(decisionId)}`);
    } catch (e) {
      // Not if another one was chosen meanwhile, or the object was deleted (the page says so).
      if (model.selected === decisionId)
        fill(body, h("p", { class: "error", text: `This decision could not be read: ${e.message}` }));
      return;
    }
    // Read before the stream came back: an action's outcome meanwhile may not be in it. Again.
    if (reconnections !== model.reconnections) {
      if (model.selected === decisionId) void explain(decisionId, again);
      return;
    }
    model.explained.set(decisionId, d);
  }
  if (model.selected !== decisionId) return;
  fill(body, explanationOf(d));
  if (again) return;
  $(`#d-${CSS.escape(decisionId)}`)?.scrollIntoView({ block: "nearest" });
  body.focus({ preventScroll: true });
}

async function loadUsage() {
  const { from, to } = windowOf();
  const target = $("#usage-body");
  const deletions = model.deletions;
  let usage;
  try {
    usage = await api(
      withQuery(`${path}/usage`, { from: new Date(from).toISOString(), to: new Date(to).toISOString() }),
    );
  } catch (e) {
    if (e instanceof ApiError && (e.status === 401 || e.status === 403)) throw e;
    if (deletions !== model.deletions) return;
    model.usage = null;
    return fill(target, h("p", { class: "muted", text: `Usage is not available: ${e.message}` }));
  }
  if (deletions !== model.deletions) return;
  model.usage = { read: usage, state: model.object?.state ?? null };
  renderUsage(usage);
}

/**
 * Draws the usage as read, carried on to the timeline's end. The timeline runs on to now between
 * events, and the usage is read again only when one comes: until then the object stays in the
 * state it was read in (a change comes as an event), so the time since counts for that state.
 */
function renderUsage(read) {
  const target = $("#usage-body");
  const state = model.usage?.read === read ? model.usage.state : null;
  const since = model.object && state === model.object.state ? windowOf().to - Date.parse(read.to) : 0;
  const usage =
    since > 0
      ? {
          ...read,
          to: new Date(Date.parse(read.to) + since).toISOString(),
          seconds: { ...read.seconds, [state]: (read.seconds[state] ?? 0) + since / 1000 },
        }
      : read;
  const total = STATES.reduce((sum, s) => sum + (usage.seconds[s] ?? 0), 0) || 1;
  fill(
    target,
    h("p", {
      class: "muted",
      text: `${duration(Date.parse(usage.to) - Date.parse(usage.from))} shown on the timeline`,
    }),
    compactTable(
      "list compact usage",
      "Time in each state",
      ["State", "Time", "Share"],
      STATES.map((s) => {
        const seconds = usage.seconds[s] ?? 0;
        const share = Math.round((seconds / total) * 100);
        return h(
          "tr",
          {},
          h("th", { scope: "row" }, badge(s)),
          h("td", { text: duration(seconds * 1000) }),
          h(
            "td",
            {},
            h("span", { class: "bar" }, h("span", { class: `fill s-${s}`, dataset: { share } })),
            ` ${share}%`,
          ),
        );
      }),
    ),
    h(
      "p",
      {},
      h("strong", { text: String(usage.wakes) }),
      usage.wakes === 1 ? " wake, " : " wakes, ",
      h("strong", { text: String(usage.transitions) }),
      usage.transitions === 1 ? " state change" : " state changes",
    ),
  );
  for (const el of target.querySelectorAll(".fill")) el.style.width = `${el.dataset.share}%`;
}

/**
 * Places the confirmations the decisions do not record (waking -> active, sleeping ->
 * dormant): the usage of the interval from a decision to the next tells how long the object
 * stayed in the state the decision left it in. A few reads at a time; each interval once.
 */
async function placeConfirmations() {
  const todo = confirmationIntervals(model.decisions).filter((i) => !model.asked.has(i.id));
  for (const i of todo) model.asked.add(i.id);
  const worker = async () => {
    for (let i = todo.shift(); i !== undefined; i = todo.shift()) {
      const window = { from: new Date(i.from).toISOString(), to: new Date(i.to).toISOString() };
      const u = await api(withQuery(`${path}/usage`, window)).catch(() => null);
      if (u !== null) model.confirmed.set(i.id, Date.parse(u.from) + u.seconds[i.state] * 1000);
    }
  };
  if (todo.length === 0) return;
  await Promise.all([worker(), worker(), worker(), worker()]);
  renderTimeline();
}

/** Newest first, by time and then id (ids sort in the order decisions were taken). */
const newestFirst = (a, b) => b.at - a.at || (a.id < b.id ? 1 : -1);

/**
 * Reads the page of decisions before the oldest shown. One at a time (a second click while one
 * is on its way would read the same page again), and none is pushed out meanwhile: the oldest
 * is the page's cursor, and one pushed out would be missed for good.
 */
/** Reads the newest page of decisions, keeping those the stream brought meanwhile. */
async function loadNewest() {
  const deletions = model.deletions;
  const page = await api(withQuery(`${path}/decisions`, { limit: PAGE }));
  if (deletions !== model.deletions) return;
  const known = new Set(model.decisions.map((d) => d.id));
  model.decisions.push(...page.items.map(asRecord).filter((d) => !known.has(d.id)));
  model.decisions.sort(newestFirst);
  // A page may stop short of its limit (at 4 MiB of JSON) with older ones after it: the server
  // says so with `nextBefore`, on every page that may have a next.
  model.older = page.nextBefore !== undefined;
  renderDecisions();
  renderTimeline();
}

async function loadOlder() {
  if (model.loadingOlder) return;
  model.loadingOlder = true;
  try {
    const deletions = model.deletions;
    const before = model.decisions[model.decisions.length - 1]?.id;
    const page = await api(withQuery(`${path}/decisions`, { limit: PAGE, before }));
    if (deletions !== model.deletions) return;
    model.decisions.push(...page.items.map(asRecord));
    // A page more (live decisions that came meanwhile do not raise it: the next one trims).
    model.keep += page.items.length;
    model.older = page.nextBefore !== undefined;
  } finally {
    model.loadingOlder = false;
  }
  renderDecisions();
  renderTimeline();
  await placeConfirmations();
}

/** Reads the object; false when it was deleted while the read was on its way (it stays so). */
async function loadObject() {
  const deletions = model.deletions;
  const object = await api(path);
  if (deletions !== model.deletions) return false;
  // Created again after the page said it was deleted: nothing of it is explained yet.
  if (model.object === null && model.selected === null) fill($("#explanation-body"), CHOOSE());
  model.object = object;
  status.textContent = "";
  reached(Date.parse(model.object.stateSince));
  reached(Date.parse(model.object.updatedAt));
  renderSummary();
  watchTimers(
    object.timers.map((t) => t.dueAt),
    refreshSoon,
  );
  return true;
}

const watchTimers = dueWatch();

let drawing = null;
/**
 * Draws the decisions and the timeline again soon: a burst of events (20 facts a second to a
 * busy object) costs a drawing every 200 ms, not one an event.
 */
function drawSoon() {
  drawing ??= setTimeout(() => {
    drawing = null;
    renderDecisions();
    renderTimeline();
  }, 200);
}

let refreshing = null;
/** Reads the object and its usage again soon: a burst of events causes one read. */
function refreshSoon() {
  refreshing ??= setTimeout(() => {
    refreshing = null;
    // An object the page did not have (opened before it was created, or created again after it
    // was deleted): its decisions so far are read, whatever the stream brought meanwhile.
    const unknown = model.object === null;
    const reconnections = model.reconnections;
    // The object first: its state change tells the page how far the server's time has come.
    void loadObject()
      .then(async (loaded) => {
        if (!loaded) return;
        if (unknown) await loadNewest();
        await Promise.all([loadUsage(), placeConfirmations()]);
        renderTimeline();
      })
      .catch((e) => {
        // Deleted while the stream was down (a deletion is not replayed): said as the event would.
        if (e instanceof ApiError && e.status === 404 && model.object !== null) onDeleted(null);
      })
      .finally(() => markSynced(reconnections));
  }, 200);
}

/** Lets go of everything the page knows of the object (deleted; or another one under its id). */
function forget() {
  model.deletions += 1;
  model.object = null;
  model.decisions = [];
  model.selected = null;
  model.older = false;
  model.keep = PAGE;
  model.explained.clear();
  model.confirmed.clear();
  model.asked.clear();
  fill($("#explanation-body"), CHOOSE());
}

const CHOOSE = () => h("p", { class: "muted", text: "Choose a decision to see why it was taken." });

/**
 * The object was deleted (at `at`, from the stream; or found gone by a read, `at` null): the page
 * says so and lets go of what it showed. One created again under this id starts afresh: its first
 * decision comes as any other, and the object is read.
 */
function onDeleted(at) {
  if (at !== null) reached(Date.parse(at));
  forget();
  watchTimers([], refreshSoon);
  status.textContent =
    at === null
      ? "There is no object with this id: it was deleted."
      : `There is no object with this id: it was deleted at ${clockTime(Date.parse(at))}.`;
  showAbsent("The object was deleted.");
}

/**
 * Empties what the page showed of an object, and says in each panel that there is none: left
 * blank, a page opened for an id no object has was a row of empty boxes, a timeline, a memory,
 * timers and usage of nothing, and an explanation inviting a choice among no decisions.
 */
function showAbsent(explanation) {
  for (const el of ["#state-badge", "#summary", "#timeline-range"]) fill($(el));
  const none = (text) => h("p", { class: "muted", text });
  fill($("#timeline-chart"), none("No lifecycle to draw: no object has this id."));
  // A <pre>: its text, in the panel's muted colour.
  fill($("#memory-json"), h("span", { class: "muted", text: "No memory: no object has this id." }));
  fill($("#timer-list"), none("No timer is pending."));
  fill($("#usage-body"), none("No usage: no object has this id."));
  fill($("#explanation-body"), none(explanation));
  renderDecisions();
}

function onEvent(event) {
  // Other events (`overflow`: the stream ends, and is resumed from the last id) carry nothing to show.
  if (event.type !== "decision" && event.type !== "action" && event.type !== "deletion") return;
  const data = JSON.parse(event.data);
  if (data.objectId !== id) return;
  if (event.type === "deletion") onDeleted(data.at);
  else if (event.type === "decision") {
    if (model.decisions.some((d) => d.id === data.id)) return;
    // Another object's creation under this id: the one shown was deleted while the stream was down
    // (a deletion is not replayed), and the page starts afresh from this decision.
    if (data.trigger.kind === "create" && model.decisions.length > 0) forget();
    reached(Date.parse(data.at));
    model.decisions.unshift(asRecord(data));
    model.decisions.sort(newestFirst);
    if (model.decisions.length > model.keep && !model.loadingOlder) {
      model.decisions.length = model.keep;
      model.older = true;
    }
    drawSoon();
    refreshSoon();
  } else if (event.type === "action") {
    const d = model.explained.get(data.decisionId);
    const action = d?.actions.find((a) => a.id === data.id);
    if (action) action.status = data.status;
    if (d && model.selected === d.id) fill($("#explanation-body"), explanationOf(d));
    // A confirmation or a final failure moves the object without a decision of its own.
    if (data.status === "confirmed" || data.status === "failed") refreshSoon();
  }
}

let stream = null;
void signedIn(async () => {
  let found = true;
  try {
    await loadObject();
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 404)) throw e;
    // Not there (yet, or any more): the stream is followed all the same, and an object created
    // under this id is shown from its first decision.
    status.textContent = "There is no object with this id (it may have been deleted).";
    showAbsent("No decision to explain: no object has this id.");
    found = false;
  }
  if (found) {
    await loadNewest();
    await Promise.all([loadUsage(), placeConfirmations()]);
  }
  // From the newest decision read: those taken since come first. What moved the object without a
  // decision (a confirmation) while the page was loading is read again once the stream is live.
  // And again after each reconnection: what happened while the stream was down.
  let live = false;
  const onStatus = (s) => {
    showStatus(s);
    if (s === "live" && !live) {
      model.reconnections += 1;
      refreshSoon();
      // An action's outcome while the stream was down is not replayed: the explanations kept
      // may show it pending. They are read again (the one shown at once).
      if (model.explained.size > 0) {
        model.explained.clear();
        if (model.selected !== null) void explain(model.selected, true);
      }
    }
    live = s === "live";
  };
  // Refused (a token since rotated): signing in again follows the stream anew.
  const onDenied = (status) => {
    stream = null;
    denied(status);
  };
  stream ??= follow(
    { objectId: id, types: "decision,action,deletion" },
    { onEvent, onStatus, onDenied },
    model.decisions[0]?.id ?? null,
  );
});

$("#older").addEventListener("click", async () => {
  // A read that failed (the server down or restarting) is said beside the button, which stays: a
  // click once the server answers brings them. Unhandled, the click did nothing, saying nothing.
  const said = $("#older-error");
  said.textContent = "";
  try {
    await loadOlder();
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    if (e.status === 401 || e.status === 403) return denied(e.status);
    said.textContent = `The older decisions could not be read (${e.status === 0 ? "" : `${e.status}: `}${e.message}).`;
  }
});
$("#picture").addEventListener("click", async (event) => {
  // A plain link cannot carry the token: read the picture with it and open it as a blob.
  if (!authHeaders().authorization) return;
  event.preventDefault();
  const href = event.currentTarget.href;
  const said = $("#picture-error");
  said.textContent = "";
  // A picture that could not be read is said beside the link: the click did nothing otherwise.
  let res = null;
  try {
    res = await fetch(href, { headers: authHeaders() });
    if (res.ok) {
      const url = URL.createObjectURL(await res.blob());
      window.open(url, "_blank", "noopener");
      // Let go once the new tab has read it: each picture (up to 2,000 decisions) was kept in this
      // tab's memory for as long as the dashboard stayed open, a copy a click.
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      return;
    }
  } catch {
    // No reply (the server is down), or it broke off: said below.
  }
  if (res !== null && (res.status === 401 || res.status === 403)) return denied(res.status);
  const problem = res === null ? null : await res.json().catch(() => null);
  const error = new ApiError(res === null || res.ok ? 0 : res.status, problem);
  said.textContent = `The picture could not be read (${error.status === 0 ? "" : `${error.status}: `}${error.message}).`;
});
let width = 0;
new ResizeObserver(([entry]) => {
  if (model.object && Math.abs(entry.contentRect.width - width) > 8) renderTimeline();
  width = entry.contentRect.width;
}).observe($("#timeline-chart"));
setInterval(() => {
  refreshTimes();
  if (model.object) renderTimeline();
  if (model.object && model.usage) renderUsage(model.usage.read);
}, 15_000);
