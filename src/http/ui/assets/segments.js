// The states an object went through, from its decisions: plain JavaScript with no DOM, so that
// the page (in the browser) and the server's timeline.svg route (routes/ui.ts) draw the same
// bands from the same code. Types in segments.d.ts.
//
// A decision records the state before and after it. A driver's confirmation moves waking ->
// active and sleeping -> dormant without a decision of its own; its time is not in the
// decision, so the caller finds it (from the usage of the interval, see confirmationIntervals)
// and passes it in. A change nothing places is drawn at the latest time it can have happened:
// the next decision, whose `fromState` shows it.

export const STATES = ["dormant", "waking", "active", "sleeping", "failed"];

/** Where a driver's confirmation moves an object that waits in a state. */
export const CONFIRMS_TO = { waking: "active", sleeping: "dormant" };

const byTime = (a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * The bands `[{state, from, to}]` up to `to` (epoch ms), oldest first, from `decisions`
 * (`{id, at, fromState, toState}`, any order), `current` (the object: `{state, stateSince}`)
 * and `confirmed` (a Map from a decision's id to when its confirmation moved the object on).
 * Before the oldest decision given, the object was in that decision's `fromState`: from
 * `current.createdAt` when the caller gives it (it has every decision kept, and retention deleted
 * the ones before), from `current.stateSince` when that is earlier than the oldest decision (none
 * given changed its state: the page's newest 200 of a busy object, the picture's 2,000), else
 * from that decision's time.
 */
export function segmentsOf(decisions, current, to, confirmed = new Map()) {
  const asc = [...decisions].sort(byTime);
  const out = [];
  let state = asc[0]?.fromState ?? current.state;
  let since = asc[0] ? Math.min(asc[0].at, current.createdAt ?? asc[0].at) : current.stateSince;
  if (asc[0] && state === current.state && current.stateSince < since) since = current.stateSince;
  const move = (next, at) => {
    if (next === state) return;
    const t = Math.max(since, at);
    if (t > since) out.push({ state, from: since, to: t });
    state = next;
    since = t;
  };
  asc.forEach((d, i) => {
    move(d.fromState, d.at);
    move(d.toState, d.at);
    const at = confirmed.get(d.id);
    const next = asc[i + 1];
    if (at !== undefined && CONFIRMS_TO[state] && (next === undefined || at <= next.at)) move(CONFIRMS_TO[state], at);
  });
  // The object as it is now closes the list: a change after the last decision (a confirmation,
  // or a decision still on its way over the event stream) happened at its `stateSince`.
  move(current.state, current.stateSince);
  // The state now is drawn even when it began this very moment.
  out.push({ state, from: since, to: Math.max(since, to) });
  return out;
}

/**
 * The decisions after which a confirmation moved the object on, and the interval in which it
 * did: `[{id, state, from, to}]`, the object being in `state` from `from` (the decision) until
 * the confirmation, before `to` (the next decision). The usage of that interval says how long
 * it stayed: the confirmation came at `from` plus the seconds in `state`. The last decision
 * needs no interval: the object's `stateSince` is the time of its confirmation.
 */
export function confirmationIntervals(decisions) {
  const asc = [...decisions].sort(byTime);
  const out = [];
  for (let i = 0; i + 1 < asc.length; i++) {
    const d = asc[i];
    const next = asc[i + 1];
    if (CONFIRMS_TO[d.toState] !== undefined && next.fromState === CONFIRMS_TO[d.toState] && next.at > d.at)
      out.push({ id: d.id, state: d.toState, from: d.at, to: next.at });
  }
  return out;
}

/** Only the part of `segments` within [from, to]. */
export function clip(segments, from, to) {
  return segments
    .filter((s) => s.to > from && s.from < to)
    .map((s) => ({ state: s.state, from: Math.max(s.from, from), to: Math.min(s.to, to) }));
}
