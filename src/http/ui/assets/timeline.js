// An object's lifecycle timeline as SVG: a lane per state with the object's bands over time
// (segments.js works them out), and each decision as a mark, a link that opens its
// explanation.

import { calendarDate, clockTime, duration, h, s } from "./dom.js";
import { hitZones } from "./hit-zones.js";
import { STATES } from "./segments.js";

const SECOND = 1000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/**
 * The axis's steps, shortest first, each with its shortest length (a month is February's, a
 * year a common one: ticks are never closer than `minGap`) and how its ticks are placed. Those
 * under an hour (`ms`) are laid every so many milliseconds: a change of UTC offset moves clocks
 * by a multiple of 30 min, so a round time stays round. The longer ones are laid on the reader's
 * calendar, so that midnight stays midnight across a daylight saving change, a month starts on
 * its 1st and a year in January.
 */
const STEPS = [
  ...[1, 5, 15, 30].map((n) => ({ length: n * SECOND, unit: "ms" })),
  ...[1, 5, 15, 30].map((n) => ({ length: n * 60_000, unit: "ms" })),
  ...[1, 3, 6, 12].map((n) => ({ length: n * HOUR, unit: "hour", n })),
  { length: DAY, unit: "day" },
  { length: 7 * DAY, unit: "week" },
  // The 1st and the 15th of each month: two weeks or so, at dates a reader knows.
  { length: 14 * DAY, unit: "half-month" },
  ...[
    [1, 28],
    [3, 89],
    [6, 181],
  ].map(([n, days]) => ({ length: days * DAY, unit: "month", n })),
];

/** The step of at most one tick per `minGap` pixels: years (1, 2, 5, 10, 20, 50, ...) past the list's. */
function stepFor(span, width, minGap) {
  const fits = (length) => (span / length) * minGap <= width;
  const step = STEPS.find((s) => fits(s.length));
  if (step !== undefined) return step;
  for (let n = 1; ; n *= 10)
    for (const k of [1, 2, 5])
      if (fits(k * n * 365 * DAY)) return { length: k * n * 365 * DAY, unit: "year", n: k * n };
}

/** A local time from calendar fields that may overflow (hour 30 is 06:00 the next day); years before 100 too. */
function local(year, month, day, hour = 0) {
  const d = new Date(2000, 0, 1);
  d.setFullYear(year, month, day);
  d.setHours(hour, 0, 0, 0);
  return d.getTime();
}

/** The ticks of `step` from the calendar unit holding `from` on: the ith of them, for i = 0, 1, ... */
function calendarTicks(step, from) {
  const d = new Date(from);
  const [y, m, day] = [d.getFullYear(), d.getMonth(), d.getDate()];
  switch (step.unit) {
    case "hour":
      return (i) => local(y, m, day, Math.floor(d.getHours() / step.n) * step.n + i * step.n);
    case "day":
      return (i) => local(y, m, day + i);
    case "week":
      // Mondays.
      return (i) => local(y, m, day - ((d.getDay() + 6) % 7) + 7 * i);
    case "half-month":
      return (i) => local(y, m + Math.floor(i / 2), i % 2 === 0 ? 1 : 15);
    case "month":
      return (i) => local(y, Math.floor(m / step.n) * step.n + i * step.n, 1);
    default:
      return (i) => local(Math.floor(y / step.n) * step.n + i * step.n, 0, 1);
  }
}

/** Round times between `from` and `to`, at most one per `minGap` pixels of `width`. */
function ticks(from, to, width, minGap = 110) {
  const step = stepFor(Math.max(1, to - from), width, minGap);
  const out = [];
  if (step.unit === "ms") {
    // Round in the reader's time zone as it is at `from` (some zones are 30 or 45 min off the hour).
    const offset = new Date(from).getTimezoneOffset() * 60_000;
    for (let t = Math.ceil((from - offset) / step.length) * step.length + offset; t <= to; t += step.length)
      out.push(t);
    return { step, times: out };
  }
  const at = calendarTicks(step, from);
  for (let i = 0, t = at(0); t <= to; t = at(++i))
    // A tick in a skipped hour is moved to the next one, which may be a tick too.
    if (t >= from && t > (out[out.length - 1] ?? -Infinity)) out.push(t);
  return { step, times: out };
}

/** A tick's label: the time for steps under a day, the date, the month or the year for longer ones. */
function tickLabel(t, step) {
  if (step.length < DAY) return clockTime(t, { seconds: step.length < 60_000, date: false });
  return calendarDate(t, step.unit === "month" ? "month" : step.unit === "year" ? "year" : "day");
}

const LANE = 20;
const GAP = 4;
const LEFT = 74;
const RIGHT = 24;
const MARKS = 22;
const AXIS = 22;

/**
 * Draws the timeline into `container` (replacing what it held). `view`: `{from, to, segments,
 * decisions}`; `open(id)` is called when a decision's mark is activated; `selected` is the id
 * of the decision shown now.
 */
export function drawTimeline(container, view, { open, selected }) {
  const width = Math.max(320, container.clientWidth);
  const height = MARKS + STATES.length * (LANE + GAP) + AXIS;
  const span = Math.max(1, view.to - view.from);
  const x = (t) => LEFT + ((Math.min(Math.max(t, view.from), view.to) - view.from) / span) * (width - LEFT - RIGHT);
  const laneY = (state) => MARKS + STATES.indexOf(state) * (LANE + GAP);
  const { step, times } = ticks(view.from, view.to, width - LEFT - RIGHT);

  const svg = s("svg", {
    class: "timeline",
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: "group",
    "aria-label":
      `Lifecycle from ${clockTime(view.from)} to ${clockTime(view.to)}` +
      (view.decisions.length > 1 ? ": the arrow keys move from one decision to the next" : ""),
  });
  for (const t of times)
    svg.append(s("line", { class: "grid", x1: x(t), x2: x(t), y1: MARKS - 4, y2: height - AXIS + 2 }));
  for (const state of STATES) {
    const y = laneY(state);
    svg.append(
      s("rect", { class: "lane", x: LEFT, y, width: width - LEFT - RIGHT, height: LANE, rx: 3 }),
      s("text", { class: "lane-label", x: LEFT - 8, y: y + LANE / 2, text: state }),
    );
  }
  for (const seg of view.segments) {
    const x1 = x(seg.from);
    const w = Math.max(1.5, x(seg.to) - x1);
    const title = `${seg.state} for ${duration(seg.to - seg.from)}, from ${clockTime(seg.from)}`;
    svg.append(
      s("rect", { class: `seg s-${seg.state}`, x: x1, y: laneY(seg.state), width: w, height: LANE, rx: 3 }, [
        s("title", { text: title }),
      ]),
    );
  }
  for (const t of times) svg.append(s("text", { class: "tick", x: x(t), y: height - 6, text: tickLabel(t, step) }));
  // Oldest first: the arrow keys go through the decisions as time goes, left to right.
  const decisions = [...view.decisions].sort((a, b) => a.at - b.at);
  const xs = decisions.map((d) => x(d.at));
  const zones = hitZones(xs);
  // A decision's mark that had the keyboard focus keeps it when the timeline is drawn again (a
  // live update redraws it): a keyboard user is not thrown back to the top of the page.
  const focused = container.contains(document.activeElement) ? document.activeElement?.dataset?.decision : undefined;
  const ids = new Set(decisions.map((d) => d.id));
  // The one mark Tab stops at: the decision opened last (from the list too), else the one the
  // keyboard left, else the newest.
  if (selected !== opened) {
    opened = selected;
    if (selected !== null && selected !== undefined) current = selected;
  }
  const stop = [focused, current].find((id) => id !== undefined && id !== null && ids.has(id));
  current = stop ?? decisions[decisions.length - 1]?.id ?? null;
  decisions.forEach((d, i) => svg.append(mark(d, xs[i], zones[i], d.id === selected, d.id === current, open)));
  svg.addEventListener("keydown", moveAlong);
  container.replaceChildren(svg, segmentList(view.segments));
  if (focused !== undefined) svg.querySelector(`a.mark[data-decision="${CSS.escape(focused)}"]`)?.focus();
}

/**
 * The decision whose mark Tab stops at. The marks are one stop (a roving tabindex), the arrow
 * keys, Home and End moving along them: an object's page keeps 200 decisions or more, and a mark
 * each in the Tab order put as many stops between "Open as picture" and the decisions' list.
 */
let current = null;
/** The decision shown when the timeline was last drawn. */
let opened = null;

/** ArrowLeft/ArrowRight (older/newer), Home and End (oldest, newest) among the marks. */
function moveAlong(event) {
  const marks = [...event.currentTarget.querySelectorAll("a.mark")];
  const at = marks.indexOf(document.activeElement);
  if (at < 0) return;
  const to = { ArrowLeft: at - 1, ArrowRight: at + 1, Home: 0, End: marks.length - 1 }[event.key];
  if (to === undefined) return;
  event.preventDefault();
  const next = marks[Math.max(0, Math.min(marks.length - 1, to))];
  marks[at].setAttribute("tabindex", "-1");
  next.setAttribute("tabindex", "0");
  current = next.dataset.decision;
  next.focus();
}

/**
 * A decision on the timeline: a link that opens its explanation, in the Tab order when it is
 * `current` (the others are reached with the arrow keys).
 */
function mark(d, cx, [x1, x2], selected, isCurrent, open) {
  const label = `Decision at ${clockTime(d.at)}: ${d.trigger.kind}, ${d.outcome}, ${d.fromState} to ${d.toState}`;
  return s(
    "a",
    {
      href: `#d-${d.id}`,
      class: `mark o-${d.outcome}${selected ? " selected" : ""}`,
      tabindex: isCurrent ? "0" : "-1",
      "aria-label": label,
      dataset: { decision: d.id },
      onclick: (event) => {
        event.preventDefault();
        open(d.id);
      },
    },
    s("title", { text: label }),
    s("rect", { class: "hit", x: x1, y: 0, width: x2 - x1, height: MARKS - 2 }),
    s("path", { d: `M${cx} ${MARKS - 4} l-5 -8 h10 z` }),
  );
}

/** The same bands as text, for screen readers. */
function segmentList(segments) {
  return h(
    "ul",
    { class: "sr-only" },
    segments.map((seg) =>
      h("li", { text: `${seg.state} from ${clockTime(seg.from)} for ${duration(seg.to - seg.from)}` }),
    ),
  );
}
