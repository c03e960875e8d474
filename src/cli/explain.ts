// `vigil explain DECISION_ID`: why a decision came out as it did. Fetches the decision with its
// explanation (GET /v1/decisions/{id}) and prints each rule, fired or not, with its condition
// tree: ✓ true, ✗ false, ? not evaluated (json-rules-engine short-circuited it), and the value
// each fact had. Also the text of one decision that `decisions` and `facts` print.

import { parseCommandLine } from "./parse-args.ts";
import type { ConditionExplanation, RuleExplanation } from "../core/types.ts";
import { processIo, reporting, request, seg, targetOf, usageError, type Io } from "./client.ts";
import { decisionReply } from "../contracts/api-replies.ts";
import { replyBody, printJson, show, states, triggerText } from "./output.ts";
import { printable } from "./printable.ts";
import { CLIENT_PARSE_OPTIONS, EXIT, printUsage } from "./usage.ts";

/** A Decision as the API shows it (README, "HTTP API v1"); `explanation` is absent from minimal views. */
export interface DecisionView {
  id: string;
  objectId: string;
  at: string;
  trigger: { kind: string; name?: string; late?: boolean };
  policy: { name: string; version: string; hash: string };
  memoryVersion: number;
  fired: { rule: string; event: string; params: unknown }[];
  outcome: string;
  fromState: string;
  toState: string;
  actions: { id: string; kind: string; status: string }[];
  timers: { name: string; op: string; dueAt?: string; kind: string }[];
  notes: string[];
  explanation?: { summary: string; rules: RuleExplanation[] };
  summary?: string;
  dryRun: boolean;
  durationMs: number;
}

export async function runExplain(args: string[], partial: Partial<Io> = {}): Promise<number> {
  const io = processIo(partial);
  const { values, positionals } = parseCommandLine({ args, options: CLIENT_PARSE_OPTIONS, allowPositionals: true });
  if (values.help) return printUsage("explain", io.out);
  return reporting("explain", io, async () => {
    if (positionals.length !== 1) throw usageError("explain", "explain takes one DECISION_ID");
    const target = targetOf("explain", values, io);
    const reply = await request(target, "GET", `/v1/decisions/${seg("explain", positionals[0]!)}`);
    const decision = replyBody<DecisionView>(reply.body, decisionReply, "a decision");
    if (values.json) printJson(io, decision);
    else io.out(explainText(decision));
    return EXIT.ok;
  });
}

/** The first line of a decision: which, whose, when, and what came of it. */
export const decisionHead = (d: DecisionView) =>
  `decision ${d.id} ${d.objectId} at ${d.at}  outcome ${d.outcome} (${states(d.fromState, d.toState)})` +
  (d.dryRun ? "  [dry run]" : "");

const summaryOf = (d: DecisionView) => d.explanation?.summary ?? d.summary ?? "";

/** The whole explanation: the head, the summary, then every rule and its condition tree. */
export function explainText(d: DecisionView): string {
  const lines = [decisionHead(d)];
  if (summaryOf(d)) lines.push(`  ${summaryOf(d)}`);
  lines.push(`  trigger ${triggerText(d.trigger)}, policy ${d.policy.name}@${d.policy.version}`);
  for (const rule of d.explanation?.rules ?? []) {
    lines.push(
      `${rule.fired ? "✓" : "✗"} ${rule.rule}  ${rule.fired ? `fired -> ${rule.event}` : `not fired (${rule.event})`}`,
    );
    conditionLines(rule.conditions, 1, lines);
  }
  for (const note of d.notes) lines.push(`note: ${note}`);
  return `${lines.map(printable).join("\n")}\n`;
}

const MARK = { true: "✓", false: "✗", "not-evaluated": "?" } as const;

/** One condition and, under it, its children, four spaces deeper per level. */
function conditionLines(c: ConditionExplanation, depth: number, lines: string[]): void {
  const pad = "    ".repeat(depth);
  const mark = MARK[String(c.result) as keyof typeof MARK] ?? "?";
  if (c.kind === "fact") {
    const was =
      c.result === "not-evaluated" ? "" : c.factValue === undefined ? "  (no value)" : `  (was ${show(c.factValue)})`;
    lines.push(`${pad}${mark} ${c.fact}${c.path ? ` ${c.path}` : ""} ${c.operator} ${show(c.value)}${was}`);
  } else if (c.kind === "reference") {
    lines.push(`${pad}${mark} condition ${JSON.stringify(c.condition)}`);
  } else {
    lines.push(`${pad}${mark} ${c.kind}`);
    for (const child of c.conditions) conditionLines(child, depth + 1, lines);
  }
}

/** A decision's fields, for `decisions get` and the reply to `facts post`. */
export function decisionText(d: DecisionView): string {
  const rows: [string, string][] = [];
  if (summaryOf(d)) rows.push(["why", summaryOf(d)]);
  rows.push(["trigger", triggerText(d.trigger)]);
  rows.push(["policy", `${d.policy.name}@${d.policy.version} (${d.policy.hash.slice(0, 12)})`]);
  rows.push(["fired", d.fired.length > 0 ? d.fired.map((f) => `${f.rule} -> ${f.event}`).join(", ") : "none"]);
  rows.push([
    "actions",
    d.actions.length > 0 ? d.actions.map((a) => `${a.kind} ${a.id} ${a.status}`).join(", ") : "none",
  ]);
  if (d.timers.length > 0)
    rows.push(["timers", d.timers.map((t) => `${t.op} ${t.name}${t.dueAt ? ` at ${t.dueAt}` : ""}`).join(", ")]);
  for (const note of d.notes) rows.push(["note", note]);
  rows.push(["memory", `v${d.memoryVersion}`]);
  rows.push(["explain", `vigil explain ${d.id}`]);
  const width = Math.max(...rows.map(([k]) => k.length)) + 3;
  const text = ([k, v]: [string, string]) => `  ${`${k}:`.padEnd(width)}${printable(v)}`;
  return `${printable(decisionHead(d))}\n${rows.map(text).join("\n")}\n`;
}
