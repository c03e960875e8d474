// `vigil replay --object ID [--db URL] FILE`: runs the candidate policy in FILE over the
// object's recorded history and prints every decision that would differ, side by side.
// Exit 0 when none differs, 1 when some do, 2 when the object or the file is unusable.

import { parseCommandLine } from "./parse-args.ts";
import { shownDbUrl } from "../config.ts";
import { databaseWithFlags } from "./flag-config.ts";
import { VigilError } from "../core/errors.ts";
import { fileErrorWords } from "../core/file-errors.ts";
import { duplicateKeyProblems } from "../core/duplicate-keys.ts";
import { parseJsonText } from "../core/json.ts";
import { readHistory } from "../what-if/history.ts";
import type { ReplayLimits } from "../what-if/limits.ts";
import { replay, type ReplayReport, type ReplaySide } from "../what-if/replay.ts";
import { sameObject } from "../what-if/service.ts";
import { openToRead } from "./read-db.ts";
import { HELP_OPTION, printUsage, synopsisLine } from "./usage.ts";
import { readTextFile } from "../contracts/text.ts";
import { writeStderr } from "./printable.ts";
import { isNameList } from "./values.ts";
import { OBJECT_ID_HELP, OBJECT_ID_PATTERN } from "../core/object.ts";

/**
 * A replay at a terminal: the server's cap on evaluations, rows and the rows' bytes
 * (what-if/limits.ts), so that it prints the report the server would send, but no deadline and
 * no weight limit. It blocks no one else, and whoever runs it can stop it.
 */
const CLI_LIMITS: Partial<ReplayLimits> = { deadlineMs: Infinity, maxWeight: Infinity };

export async function runReplay(
  args: string[],
  out: (s: string) => void = (s) => process.stdout.write(s),
  err: (s: string) => void = writeStderr,
): Promise<number> {
  // What is not the report goes to stderr, as `vigil replay: ...`, so stdout stays clean for --json.
  const fail = (message: string) => {
    err(`vigil replay: ${message}\n`);
    return 2;
  };
  const { values, positionals } = parseCommandLine({
    args,
    options: {
      ...HELP_OPTION,
      object: { type: "string" },
      db: { type: "string" },
      json: { type: "boolean", default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) return printUsage("replay", out);
  const file = positionals[0];
  if (!values.object || !file || positionals.length > 1) {
    return fail(synopsisLine("replay"));
  }
  // One object, whose id holds no comma or space: `--object a,b` (a list, as `vigil simulate
  // --object` takes) or a mistyped id was looked up as it is and told "no object "a,b" in DB",
  // as if the database had lost it.
  if (isNameList(values.object))
    return fail(`--object names one object, not the list "${values.object}": replay each one on its own`);
  if (!OBJECT_ID_PATTERN.test(values.object)) return fail(`--object "${values.object}": ${OBJECT_ID_HELP}`);
  let text: string;
  try {
    text = readTextFile(file);
  } catch (e) {
    return fail(`cannot read ${file}: ${fileErrorWords(e) ?? (e as Error).message}`);
  }
  const parsed = parseJsonText(text);
  if (!parsed.ok) return fail(`${file} ${parsed.problem.path}: ${parsed.problem.message}`);
  const repeated = duplicateKeyProblems(text);
  if (repeated.length > 0) return fail(repeated.map((p) => `${file} ${p.path}: ${p.message}`).join("\n"));
  const config = databaseWithFlags(values.db);
  // Replay reads history: a database that is not there is a mistake, not one to create.
  const store = await openToRead(config.VIGIL_DB_URL, config.VIGIL_DB_AUTH_TOKEN);
  if (typeof store === "string") return fail(store);
  try {
    const object = await store.getObject(values.object);
    if (!object) return fail(`no object "${values.object}" in ${shownDbUrl(config.VIGIL_DB_URL)}`);
    const report = await replay(object, readHistory(store, object), parsed.value, CLI_LIMITS);
    // A server may delete the object (and create it again) while the replay reads its history.
    sameObject(object, await store.getObject(values.object));
    out(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
    return report.differenceCount === 0 ? 0 : 1;
  } catch (e) {
    if (!(e instanceof VigilError)) throw e;
    const lines = e.problems.map((p) => `  ${file} ${p.path.replace(/^\$\.policy/, "$")}: ${p.message}`);
    return fail([e.message, ...lines].join("\n"));
  } finally {
    await store.close();
  }
}

const cell = (s: ReplaySide | null) => (s ? `${s.outcome} -> ${s.toState} [${s.fired.join(", ")}]` : "(no decision)");

export function formatReport(r: ReplayReport): string {
  const lines = [
    `replay of ${r.objectId} under ${r.candidate.name}@${r.candidate.version} from ${r.from} to ${r.until}`,
    `${r.actualDecisions} recorded decision${r.actualDecisions === 1 ? "" : "s"}, ${r.candidateDecisions} under the candidate, ` +
      `${r.differenceCount} ${r.differenceCount === 1 ? "differs" : "differ"}`,
  ];
  if (r.differences.length < r.differenceCount) lines.push(`  the first ${r.differences.length} of them:`);
  if (r.comparedFrom)
    lines.push(`  compared from ${r.comparedFrom}: older decisions were pruned by retention and are not compared`);
  for (const d of r.differences) {
    lines.push(`  ${d.at}  ${d.key}`);
    lines.push(`    actual:    ${cell(d.actual)}${d.actual?.decisionId ? `  (${d.actual.decisionId})` : ""}`);
    lines.push(`    candidate: ${cell(d.candidate)}`);
  }
  if (r.skipped.length > 0) {
    const more = r.skippedCount - r.skipped.length;
    lines.push(`  not replayable: ${r.skipped.join(", ")}${more > 0 ? ` and ${more} more` : ""}`);
  }
  return `${lines.join("\n")}\n`;
}
