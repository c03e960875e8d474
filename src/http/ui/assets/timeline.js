// An object's lifecycle timeline as SVG: a lane per state with the object's bands over time
// (segments.js works them out), and each decision as a mark, a link that opens its
// explanation.

import { clockTime, duration, h, s } from "./dom.js";
import { hitZones } from "./hit-zones.js";
import { STATES } from "./segments.js";

const TICKS = [
  1000, 5000, 15_000, 30_000, 60_000, 300_000, 900_000, 1_800_000, 3_600_000, 10_800_000, 21_600_000, 43_200_000,
  86_400_000, 604_800_000,
];

/** Round times between `from` and `to`, at most one per `minGap` pixels of `width`. */
function ticks(from, to, width, minGap = 110) {
  const span = Math.max(1, to - from);
  const step = TICKS.find((t) => (span / t) * minGap <= width) ?? span;
  const offset = new Date().getTimezoneOffset() * 60_000;
  const out = [];
  for (let t = Math.ceil((from - offset) / step) * step + offset; t <= to; t += step) out.push(t);
  return { step, times: out };
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
    "aria-label": `Lifecycle from ${clockTime(view.from)} to ${clockTime(view.to)}`,
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
  for (const t of times)
    svg.append(
      s("text", { class: "tick", x: x(t), y: height - 6, text: clockTime(t, { seconds: step < 60_000, date: false }) }),
    );
  // Oldest first: Tab goes through the decisions as time goes, left to right.
  const decisions = [...view.decisions].sort((a, b) => a.at - b.at);
  const xs = decisions.map((d) => x(d.at));
  const zones = hitZones(xs);
  decisions.forEach((d, i) => svg.append(mark(d, xs[i], zones[i], d.id === selected, open)));
  // A decision's mark that had the keyboard focus keeps it when the timeline is drawn again (a
  // live update redraws it): a keyboard user is not thrown back to the top of the page.
  const focused = container.contains(document.activeElement) ? document.activeElement?.dataset?.decision : undefined;
  container.replaceChildren(svg, segmentList(view.segments));
  if (focused !== undefined) svg.querySelector(`a.mark[data-decision="${CSS.escape(focused)}"]`)?.focus();
}

/** A decision on the timeline: a link (keyboard reachable) that opens its explanation. */
function mark(d, cx, [x1, x2], selected, open) {
  const label = `Decision at ${clockTime(d.at)}: ${d.trigger.kind}, ${d.outcome}, ${d.fromState} to ${d.toState}`;
  return s(
    "a",
    {
      href: `#d-${d.id}`,
      class: `mark o-${d.outcome}${selected ? " selected" : ""}`,
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
