// One decision explained: what triggered it, what it did, and for each rule whether it fired,
// with its condition tree: each condition's result and the value its fact had.

import { clockTime, duration, h, jsonNodes, zoneName } from "./dom.js";

const RESULT_TEXT = { true: "true", false: "false", "not-evaluated": "not evaluated" };
const RESULT_ICON = { true: "✓", false: "✗", "not-evaluated": "–" };

/** A condition's result as a chip: icon and word (never colour alone). */
const result = (r) =>
  h(
    "span",
    { class: `result r-${r}` },
    h("span", { "aria-hidden": "true", text: RESULT_ICON[r] }),
    ` ${RESULT_TEXT[r]}`,
  );

/** One node of a condition tree, with its children. */
function condition(c) {
  if (c.kind === "fact") {
    return h(
      "li",
      { class: "cond" },
      h(
        "div",
        { class: "line" },
        result(c.result),
        " ",
        h("code", { class: "fact", text: c.path ? `${c.fact} ${c.path}` : c.fact }),
        " ",
        h("span", { class: "op", text: c.operator }),
        " ",
        h("code", {}, jsonNodes(c.value)),
        c.result === "not-evaluated" && !("factValue" in c)
          ? null
          : h("span", { class: "value" }, " — value was ", h("code", {}, jsonNodes(c.factValue))),
      ),
    );
  }
  if (c.kind === "reference")
    return h(
      "li",
      { class: "cond" },
      h("div", { class: "line" }, result(c.result), " condition ", h("code", { text: c.condition })),
    );
  const word = { all: "all of", any: "any of", not: "not" }[c.kind];
  return h(
    "li",
    { class: "cond group" },
    h("div", { class: "line" }, result(c.result), " ", h("strong", { text: word })),
    h("ul", {}, c.conditions.map(condition)),
  );
}

/** A rule: fired or not, its event, and its condition tree. */
function rule(r) {
  return h(
    "li",
    { class: `rule ${r.fired ? "fired" : "not-fired"}` },
    h(
      "details",
      { open: true },
      h(
        "summary",
        {},
        h("span", { class: "verdict", text: r.fired ? "fired" : "did not fire" }),
        " ",
        h("strong", { text: r.rule }),
        h("span", { class: "muted", text: ` → ${r.event}` }),
      ),
      h("ul", { class: "tree" }, condition(r.conditions)),
    ),
  );
}

/** The facts of a decision as a definition list. */
function facts(d) {
  const rows = [
    // The zone named, as the list's heading and the timeline's range name theirs: the panel stands apart.
    ["At", `${clockTime(Date.parse(d.at), { date: true })} ${zoneName(Date.parse(d.at))}`],
    [
      "Trigger",
      d.trigger.name ? `${d.trigger.kind} (${d.trigger.name})${d.trigger.late ? ", late" : ""}` : d.trigger.kind,
    ],
    ["Outcome", d.outcome],
    ["State", d.fromState === d.toState ? `${d.toState} (unchanged)` : `${d.fromState} → ${d.toState}`],
    ["Policy", `${d.policy.name} v${d.policy.version}`],
    ["Memory version", String(d.memoryVersion)],
    ["Actions", d.actions.length === 0 ? "none" : d.actions.map((a) => `${a.kind} (${a.status})`).join(", ")],
    [
      "Timers",
      d.timers.length === 0
        ? "none"
        : d.timers
            .map(
              (t) =>
                `${t.op} ${t.name}${t.dueAt ? ` at ${clockTime(Date.parse(t.dueAt))} ${zoneName(Date.parse(t.dueAt))}` : ""}`,
            )
            .join(", "),
    ],
    ["Took", d.durationMs < 1000 ? `${d.durationMs.toFixed(2)} ms` : duration(d.durationMs)],
  ];
  return h(
    "dl",
    { class: "facts" },
    rows.flatMap(([k, v]) => [h("dt", { text: k }), h("dd", { text: v })]),
  );
}

/** The whole explanation of a decision (as `GET /v1/decisions/{id}` gives it). */
export function explanationOf(d) {
  const fired = d.explanation.rules.filter((r) => r.fired).length;
  return [
    h("p", { class: "decision-id" }, "Decision ", h("code", { text: d.id })),
    h("p", { class: "summary-text", text: d.explanation.summary }),
    facts(d),
    d.notes.length > 0
      ? h(
          "ul",
          { class: "notes" },
          d.notes.map((n) => h("li", { text: n })),
        )
      : null,
    h("h3", { text: `Rules (${fired} of ${d.explanation.rules.length} fired)` }),
    d.explanation.rules.length === 0
      ? h("p", { class: "muted", text: "No rule was evaluated." })
      : h(
          "ol",
          { class: "rules" },
          [...d.explanation.rules].sort((a, b) => Number(b.fired) - Number(a.fired)).map(rule),
        ),
    d.fired.length > 0
      ? h(
          "details",
          { class: "raw" },
          h("summary", { text: "Fired events as JSON" }),
          h("pre", {}, jsonNodes(d.fired, 2)),
        )
      : null,
  ];
}
