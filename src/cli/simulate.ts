// `vigil simulate`: replays traffic (a JSONL file, or objects' recorded history) through one or
// more policies on a virtual clock, with the substrate taking the given latencies, and prints
// what each costs (seconds awake) against how long facts waited for an active object, beside an
// optional request-driven autostop baseline. `vigil simulate --generate SHAPE` writes synthetic
// traffic. Exit 0 on success, 2 for invalid usage or input (a bad traffic line names its line).

import { writeFileSync } from "node:fs";
import { parseCommandLine } from "./parse-args.ts";
import { splitList } from "../config.ts";
import { databaseWithFlags, emptyFlag, rulesDirectory, rulesDirectoryProblem, rulesSource } from "./flag-config.ts";
import { DURATION_PATTERN, MAX_DURATION_MS, parseDuration } from "../core/durations.ts";
import { fileErrorWords } from "../core/file-errors.ts";
import { toEpochMs } from "../core/operators.ts";
import { PolicyRegistry } from "../governor/policy-registry.ts";
import { toJson, formatTable } from "../simulate/format.ts";
import { GENERATE_START, latestFact, MAX_OBJECTS, SHAPES, trafficLines, type Shape } from "../simulate/generate.ts";
import { LATEST_INSTANT_MS } from "../core/instants.ts";
import { MAX_LATENCY_MS, SimulationError, type Workload } from "../simulate/model.ts";
import { DEFAULT_SAMPLE, reportHtml, reportSvg } from "../simulate/report.ts";
import { simulate } from "../simulate/simulate.ts";
import { NOT_A_TIME, parseTraffic, trafficTimeProblem } from "../simulate/traffic.ts";
import { openToRead } from "./read-db.ts";
import { printUsage } from "./usage.ts";
import { readTextFile } from "../contracts/text.ts";
import { isNameList } from "./values.ts";
import { OBJECT_ID_HELP, OBJECT_ID_PATTERN } from "../core/object.ts";
import { writeStderr } from "./printable.ts";

const OPTIONS = {
  help: { type: "boolean", short: "h" },
  policy: { type: "string" },
  compare: { type: "string", multiple: true },
  traffic: { type: "string" },
  db: { type: "string" },
  object: { type: "string", multiple: true },
  rules: { type: "string" },
  "start-latency": { type: "string" },
  "resume-latency": { type: "string" },
  "autostop-after": { type: "string" },
  until: { type: "string" },
  json: { type: "boolean", default: false },
  report: { type: "string" },
  sample: { type: "string" },
  generate: { type: "string" },
  objects: { type: "string" },
  days: { type: "string" },
  seed: { type: "string" },
  start: { type: "string" },
} as const;

type Values = ReturnType<typeof parseCommandLine<{ options: typeof OPTIONS }>>["values"];

/** The options only `--generate` reads; the others (but --help) are the simulation's. */
const GENERATE_OPTIONS = ["generate", "objects", "days", "seed", "start"] as const;

/** A mode's options given to the other mode are refused, not ignored. */
function otherModes(v: Values): void {
  const given = (Object.keys(v) as (keyof Values)[]).filter((k) => v[k] !== undefined && k !== "help" && k !== "json");
  const generating = v.generate !== undefined;
  const stray = given.filter((k) => (GENERATE_OPTIONS as readonly string[]).includes(k) !== generating);
  if (stray.length === 0) return;
  const named = stray.map((k) => `--${k}`).join(", ");
  const go = stray.length === 1 ? "goes" : "go";
  throw new Usage(
    generating
      ? `--generate prints traffic and simulates nothing: ${named} ${go} with a simulation`
      : `${named} ${go} with --generate, not with a simulation`,
  );
}

/** An ISO 8601 date-time as memory timestamps are read: without a zone, UTC; as a traffic line's `at`. */
function isoTime(text: string, option: string): number {
  const problem = trafficTimeProblem(text);
  if (problem === NOT_A_TIME) throw new Usage(`${option} takes an ISO 8601 date-time, not "${text}"`);
  if (problem !== null) throw new Usage(`${option} ${problem}, not "${text}"`);
  return toEpochMs(text)!;
}

/** A refusal of the arguments or the input: printed, exit 2. */
class Usage extends Error {}

/**
 * Where the output goes. `--generate` awaits what it returns before writing more: a promise means
 * the reader is behind.
 */
type Out = (s: string) => unknown;

/** Writes to stdout; when its buffer is full, the promise of its draining. */
function toStdout(s: string): Promise<void> | undefined {
  if (process.stdout.write(s)) return;
  // A stream that fails instead emits 'error', and main.ts ends the process there.
  return new Promise((resolve) => process.stdout.once("drain", resolve));
}

export async function runSimulate(
  args: string[],
  out: Out = toStdout,
  err: (s: string) => void = writeStderr,
): Promise<number> {
  const { values } = parseCommandLine({ args, options: OPTIONS, strict: true });
  if (values.help) return printUsage("simulate", out);
  try {
    otherModes(values);
    if (values.generate !== undefined) return await generate(values, out);
    return await run(values, out);
  } catch (e) {
    if (!(e instanceof Usage || e instanceof SimulationError)) throw e;
    err(`vigil simulate: ${e.message}\n`);
    return 2;
  }
}

async function generate(v: Values, out: Out): Promise<number> {
  const shape = v.generate!;
  if (!(SHAPES as readonly string[]).includes(shape))
    throw new Usage(`--generate takes one of ${SHAPES.join(", ")}, not "${shape}"`);
  const start = isoTime(v.start ?? GENERATE_START, "--start");
  const days = integer(v.days, "--days", 1, 1, 366);
  // Its times as a traffic file's are read, so that a simulation takes what it prints.
  if (latestFact(start, days) > LATEST_INSTANT_MS)
    throw new Usage(
      `--start and --days run the traffic past 9999-12-31 (its last day may be 9999-12-30 at the latest)`,
    );
  const lines = trafficLines({
    shape: shape as Shape,
    objects: integer(v.objects, "--objects", 10, 1, MAX_OBJECTS),
    days,
    seed: integer(v.seed, "--seed", 1, 0, 2 ** 31 - 1),
    start,
  });
  // Written as made, in chunks of about 64 KB, waiting whenever the reader is behind: the bounds
  // allow 2×10⁹ lines, which neither memory nor the stream's buffer could hold.
  let chunk = "";
  for (const l of lines) {
    chunk += `${JSON.stringify(l)}\n`;
    if (chunk.length >= CHUNK) {
      await out(chunk);
      chunk = "";
    }
  }
  if (chunk !== "") await out(chunk);
  return 0;
}

const CHUNK = 64 * 1024;

async function run(v: Values, out: (s: string) => void): Promise<number> {
  // `--policy ,` names no policy: refused, not a simulation of nothing.
  if (!v.policy || splitList(v.policy).length === 0) throw new Usage("--policy NAME is required (or --generate SHAPE)");
  if (isNameList(v.policy))
    throw new Usage(`--policy names one policy, not the list "${v.policy}": give the others with --compare`);
  if ((v.traffic === undefined) === (v.db === undefined)) throw new Usage("give either --traffic FILE or --db URL");
  if (v.traffic === "") throw new Usage("--traffic: must not be empty");
  // `--compare "$OTHER"` with OTHER unset names no policy: refused, as `--policy ""` is, not a
  // table without the comparison; an --object naming none, the same.
  for (const [flag, given, what] of [
    ["--compare", v.compare, "policy"],
    ["--object", v.object, "object"],
  ] as const) {
    const none = (given ?? []).find((x) => splitList(x).length === 0);
    if (none !== undefined) throw new Usage(`${flag} ${JSON.stringify(none)} names no ${what}`);
  }
  // A policy named twice (`--compare "$ALL"` naming the --policy too) is one row, where first named.
  const policies = [v.policy, ...(v.compare ?? [])].flatMap(splitList);
  const twice = [...new Set(policies)].filter((name) => policies.indexOf(name) !== policies.lastIndexOf(name));
  const objects = (v.object ?? []).flatMap(splitList);
  if (v.db !== undefined && objects.length === 0) throw new Usage("--db needs at least one --object ID");
  if (v.db === undefined && objects.length > 0) throw new Usage("--object goes with --db");
  // An id no object can have (`w/1`) was looked up and told `no object "w/1" in the database`.
  const notId = objects.find((id) => !OBJECT_ID_PATTERN.test(id));
  if (notId !== undefined) throw new Usage(`--object "${notId}": ${OBJECT_ID_HELP}`);
  if (v.report !== undefined && !/\.(svg|html)$/i.test(v.report))
    throw new Usage(`--report writes FILE.svg or FILE.html, not "${v.report}"`);
  const startMs = latency(v["start-latency"], "--start-latency", 2000);
  const latencies = { startMs, resumeMs: latency(v["resume-latency"], "--resume-latency", startMs) };
  const autostopMs =
    v["autostop-after"] === undefined ? null : duration(v["autostop-after"], "--autostop-after", MAX_AUTOSTOP);
  // Stopping the moment a start completes, the baseline is never active: no baseline at all.
  if (autostopMs === 0)
    throw new Usage(
      `--autostop-after must be longer than 0, not "${v["autostop-after"]}": the baseline would stop each object as soon as it started`,
    );
  const until = v.until === undefined ? null : isoTime(v.until, "--until");
  const sample = integer(v.sample, "--sample", DEFAULT_SAMPLE, 0, 1000);

  // An empty variable means its default, as everywhere.
  if (v.rules === "") throw new Usage(emptyFlag("rules"));
  const rules = rulesDirectory(v.rules);
  const registry = loadPolicies(rules, policies);
  const workload = v.traffic !== undefined ? readTraffic(v.traffic) : await readRecorded(v.db!, objects);

  // The baseline named as the user wrote its quiet time (`autostop(P1W)`, not P7D); milliseconds in ISO 8601.
  const after = v["autostop-after"];
  const autostopAfter = after === undefined || /^\d+$/.test(after) ? undefined : after;
  const result = await simulate({ registry, policies, workload, latencies, autostopMs, autostopAfter, until });
  // The report first: a failure prints nothing on stdout.
  if (v.report !== undefined) {
    const text = /\.html$/i.test(v.report) ? reportHtml(result, sample) : reportSvg(result, sample);
    try {
      writeFileSync(v.report, text);
    } catch (e) {
      throw new Usage(`cannot write ${v.report}: ${fileProblem(e)}`);
    }
  }
  // The table says why it has fewer rows than names were given; the JSON's rows say it themselves.
  const once = twice.map((name) => `${JSON.stringify(name)} was named more than once: one row.\n`).join("");
  out(v.json ? `${JSON.stringify(toJson(result), null, 2)}\n` : `${formatTable(result)}${once}`);
  return 0;
}

/** The policies in DIR; refuses a named policy that is missing, with its file's errors if it has some. */
function loadPolicies(rules: { dir: string; source: string }, names: string[]): PolicyRegistry {
  const { dir } = rules;
  const registry = new PolicyRegistry();
  try {
    registry.loadDirectory(dir);
  } catch (e) {
    throw new Usage(`cannot read the policies in ${rulesDirectoryProblem(e, rules) ?? `${dir}: ${fileProblem(e)}`}`);
  }
  for (const name of names) {
    if (registry.get(name)) continue;
    // The refused file named exactly NAME.json, as the registry matches it (not my-NAME.json).
    const refusal = registry.refusal(name);
    const refused = refusal ? refusal.errors.map((p) => `\n  ${refusal.file} ${p.path}: ${p.message}`) : [];
    const known = registry
      .list()
      .items.map((p) => p.name)
      .join(", ");
    throw new Usage(
      `no policy "${name}" in ${dir} (there: ${known || "none"}; ${rulesSource(rules)})${refused.join("")}`,
    );
  }
  return registry;
}

function readTraffic(file: string): Workload {
  let text: string;
  try {
    text = readTextFile(file);
  } catch (e) {
    throw new Usage(`cannot read ${file}: ${fileProblem(e)}`);
  }
  return parseTraffic(text, file);
}

async function readRecorded(url: string, ids: string[]): Promise<Workload> {
  const config = databaseWithFlags(url);
  // Loaded here, not above: a simulation of a traffic file loads no database driver.
  const { recordedWorkload } = await import("../simulate/recorded.ts");
  const store = await openToRead(config.VIGIL_DB_URL, config.VIGIL_DB_AUTH_TOKEN);
  if (typeof store === "string") throw new Usage(store);
  try {
    return await recordedWorkload(store, ids);
  } finally {
    await store.close();
  }
}

/** What is wrong with a file or directory, in words (`no such file or directory`), as the other commands say it. */
const fileProblem = (e: unknown) => fileErrorWords(e) ?? (e as Error).message;

/**
 * A duration flag: ISO 8601 (`PT2S`) or whole milliseconds, at most `max`. The limit is said as
 * such in either spelling: `P36501D` and `3153600000001` are too long, not malformed, and
 * milliseconds past it (`99999999999999999999`) are refused rather than run.
 */
function duration(text: string, flag: string, max: { ms: number; words: string }): number {
  const digits = /^\d+$/.test(text);
  const ms = digits ? Number(text) : parseDuration(text);
  // parseDuration refuses a duration of its grammar only for being past 100 years.
  if ((ms === null && DURATION_PATTERN.test(text)) || (ms !== null && ms > max.ms))
    throw new Usage(`${flag} is at most ${max.words}, not "${text}"`);
  if (ms === null) throw new Usage(`${flag} takes an ISO 8601 duration such as PT2S, or milliseconds, not "${text}"`);
  return ms;
}

/** The longest --autostop-after: a policy's own durations' limit. */
const MAX_AUTOSTOP = { ms: MAX_DURATION_MS, words: `100 years (P36500D, or ${MAX_DURATION_MS} ms)` };

function latency(text: string | undefined, flag: string, dflt: number): number {
  if (text === undefined) return dflt;
  return duration(text, flag, { ms: MAX_LATENCY_MS, words: "PT10M (the simulated substrate's limit)" });
}

function integer(text: string | undefined, flag: string, dflt: number, min: number, max: number): number {
  if (text === undefined) return dflt;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) throw new Usage(`${flag} takes a whole number from ${min} to ${max}`);
  return n;
}
