// The fixture engine: one loader, and a runner with the real core, governor, timers and the
// simulated substrate confirming at once, on a virtual clock (a sandbox). `vigil test`, the
// vitest suite and the HTTP end-to-end test all use it.

import { readdirSync, realpathSync, statSync } from "node:fs";
import { join } from "node:path";
import { fixtureSchema, type Fixture, type FixtureExpect } from "../contracts/fixture.ts";
import { zodProblems } from "../contracts/problems.ts";
import { readTextFile } from "../contracts/text.ts";
import { durationMs } from "../core/durations.ts";
import { LATEST_INSTANT_MS } from "../core/instants.ts";
import { fileErrorWords } from "../core/file-errors.ts";
import { prefixProblems, VigilError, type Problem } from "../core/errors.ts";
import { isPlainObject, jsonEqual } from "../core/json.ts";
import { checkDocument, DEFAULT_LIMITS, memoryProblems } from "../core/memory-limits.ts";
import { newObject } from "../core/object.ts";
import type { Decision, Json, ObjectRecord } from "../core/types.ts";
import { duplicateKeyProblems } from "../core/duplicate-keys.ts";
import { parseJsonText } from "../core/json.ts";
import type { PolicyRegistry } from "../governor/policy-registry.ts";
import { createSandbox } from "./sandbox.ts";
import { missingWords } from "../dirs.ts";

export const FIXTURE_OBJECT_ID = "fixture";

/** A fixture file that could not be read or does not follow the format. */
export class FixtureError extends Error {
  constructor(
    readonly file: string,
    readonly problems: Problem[],
  ) {
    super(`${file}: ${problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`);
    this.name = "FixtureError";
  }
}

export interface LoadedFixture {
  file: string;
  fixture: Fixture;
}

/**
 * Lists fixture files: each PATH is a file (taken whatever its name), or a directory searched
 * recursively for *.json, hidden entries left out (an editor's `.#name.json` lock, as the
 * server and `vigil validate` leave them out of rules). A directory met again through a symbolic
 * link is passed over; a found entry that cannot be looked at (a dangling link) is listed, for
 * its loading to report.
 */
export function findFixtureFiles(paths: string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const walk = (p: string, named: boolean) => {
    let directory: boolean;
    try {
      directory = statSync(p).isDirectory();
    } catch (e) {
      if (named) throw e;
      directory = false;
    }
    if (directory) {
      const real = realpathSync(p);
      if (seen.has(real)) return;
      seen.add(real);
      for (const f of readdirSync(p).sort()) if (!f.startsWith(".")) walk(join(p, f), false);
    } else if (named || p.endsWith(".json")) {
      // A file named and also found in a named directory (or reached twice through links) runs once.
      const real = realPathOr(p);
      if (seen.has(real)) return;
      seen.add(real);
      out.push(p);
    }
  };
  for (const p of paths) walk(p, true);
  return out;
}

/** A file's real path, or the path itself when it cannot be resolved (a dangling link, listed for its loading to report). */
function realPathOr(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/**
 * Reads and validates one fixture file; throws {@link FixtureError}. `found`: the file was found
 * in a directory rather than named, so only a regular file is read (opening a FIFO to read
 * waits for a writer, for ever); a named one is read whatever it is (`<(generate)`).
 */
export function loadFixture(file: string, found = false): LoadedFixture {
  let text: string;
  try {
    if (found && !statSync(file).isFile()) throw new Error("not a regular file (a FIFO, a device or a socket)");
    text = readTextFile(file);
  } catch (e) {
    // A link to nothing (its target gone) is said as such, not as a file that is not there.
    const code = (e as { code?: unknown }).code;
    const message = code === "ENOENT" ? missingWords(file) : (fileErrorWords(e) ?? (e as Error).message);
    throw new FixtureError(file, [{ path: "$", message }]);
  }
  return parseFixture(text, file);
}

export function parseFixture(text: string, file: string): LoadedFixture {
  const json = parseJsonText(text);
  if (!json.ok) throw new FixtureError(file, [json.problem]);
  // Before zod: its record parsing drops an own `__proto__` key without a word. Numbers memory
  // cannot hold (1e400, 2^64) are refused as the server refuses them in facts.
  const forbidden = checkDocument(json.value, { maxDepth: 64, numbers: "written" });
  if (forbidden.length > 0) throw new FixtureError(file, forbidden);
  const repeated = duplicateKeyProblems(text);
  if (repeated.length > 0) throw new FixtureError(file, repeated);
  const parsed = fixtureSchema.safeParse(json.value);
  if (!parsed.success) throw new FixtureError(file, zodProblems(parsed.error));
  // An object the server would refuse to create (memory too deep or too large) is no start.
  const memory = parsed.data.object?.memory;
  const limits = memory ? prefixProblems(memoryProblems(memory, DEFAULT_LIMITS), "$.object.memory") : [];
  if (limits.length > 0) throw new FixtureError(file, limits);
  return { file, fixture: parsed.data };
}

export interface StepFailure {
  step: number;
  field: keyof FixtureExpect | "policy" | "error";
  expected: unknown;
  actual: unknown;
}

export interface FixtureResult {
  file: string;
  description: string;
  passed: boolean;
  failures: StepFailure[];
  /** Every evaluation the fixture caused, stored or only counted. */
  decisions: Decision[];
}

/**
 * The most evaluations one step may cause. An `advance` fires every timer on the way, and takes
 * any duration up to 100 years: `P5214W` over a schedule of every second would run for days. A
 * week of a minute schedule (10,080 ticks, a few seconds) fits.
 */
export const MAX_STEP_EVALUATIONS = 20_000;

/** Runs one fixture against the policies of `registry`. */
export async function runFixture(
  loaded: LoadedFixture,
  registry: PolicyRegistry,
  maxStepEvaluations = MAX_STEP_EVALUATIONS,
): Promise<FixtureResult> {
  const { fixture, file } = loaded;
  const result: FixtureResult = {
    file,
    description: fixture.description ?? fixture.policy,
    passed: false,
    failures: [],
    decisions: [],
  };
  const policy = registry.compiled(fixture.policy);
  if (!policy) {
    result.failures.push({
      step: 0,
      field: "policy",
      expected: fixture.policy,
      actual: registry.list().items.map((p) => p.name),
    });
    return result;
  }
  const start = Date.parse(fixture.start);
  const state = fixture.object?.state ?? "dormant";
  const created = newObject({
    id: FIXTURE_OBJECT_ID,
    policy: fixture.policy,
    at: start,
    memory: fixture.object?.memory ?? {},
    state,
  });
  // An active object's compute was confirmed running: its `substrate` fact says so, as on a server.
  const seed =
    state === "active"
      ? { ...created, substrate: { ...created.substrate, observed: { status: "running" as const, at: start } } }
      : created;
  // Evaluations (and timer errors) of the current step, and where it goes: past the bound the
  // step stops with an error saying how far it got.
  let stepEvaluations = 0;
  let stepTarget = start;
  let stepAdvance = "";
  const pace = async () => {
    if (stepEvaluations <= maxStepEvaluations) return;
    const count = maxStepEvaluations.toLocaleString("en-US");
    const iso = (ms: number) => new Date(ms).toISOString();
    throw new Error(
      `${stepAdvance === "" ? "the step" : `advance ${stepAdvance}`} stopped at ${iso(sandbox.clock.now())}, short of ${iso(stepTarget)}: a step evaluates at most ${count} times, and this one would evaluate more; advance less at a time`,
    );
  };
  const sandbox = await createSandbox(registry, start, [seed], pace);
  // An active object's compute runs on the sandbox's substrate too, set there telling no one (it
  // changes nothing): a suspend keeps it resident (`suspended`, as on a server), where compute the
  // substrate never started would be answered `stopped`, nothing to suspend.
  if (state === "active") sandbox.driver.crash(FIXTURE_OBJECT_ID, "running", false);
  const { governor } = sandbox;
  let stepDecisions: Decision[] = [];
  governor.events.on("evaluation:completed", (d) => {
    stepEvaluations++;
    stepDecisions.push(d);
    result.decisions.push(d);
  });
  let at = -1;
  // What the governor reports and goes on from (a timer whose evaluation threw is used up, with
  // no decision): in a fixture it fails the step, as an error on facts does.
  governor.events.on("governor:error", (e, context) => {
    stepEvaluations++;
    result.failures.push({ step: at, field: "error", expected: "no error", actual: `${context}: ${e.message}` });
  });
  try {
    for (const [i, step] of fixture.steps.entries()) {
      at = i;
      stepDecisions = [];
      stepEvaluations = 0;
      stepAdvance = step.advance ?? "";
      stepTarget = sandbox.clock.now() + (step.advance === undefined ? 0 : durationMs(step.advance));
      // Every time Vigil keeps is in the year 9999 at most (core/instants.ts): an advance past it
      // ran into the year 10000, firing timers there and telling of "+010000-01-01T..." times no
      // server reaches and no reader of Vigil's times takes.
      if (stepTarget > LATEST_INSTANT_MS)
        throw new Error(
          `advance ${step.advance} from ${new Date(sandbox.clock.now()).toISOString()} would run the clock past ${new Date(LATEST_INSTANT_MS).toISOString()}, the last instant Vigil keeps`,
        );
      if (step.facts !== undefined) await governor.postFacts(FIXTURE_OBJECT_ID, step.facts);
      await sandbox.advanceTo(stepTarget);
      if (step.expect)
        result.failures.push(...check(i, step.expect, (await governor.getObject(FIXTURE_OBJECT_ID))!, stepDecisions));
    }
  } catch (e) {
    // The step that was running when it threw (a policy that throws on these facts, say), with
    // each problem's path in the fixture (the server names them in its request body).
    const where = (e instanceof VigilError ? e.problems : []).map(
      (p) => `${p.path.replace(/^\$\.facts(?=$|[.[])/, `$.steps[${at}].facts`)}: ${p.message}`,
    );
    result.failures.push({
      step: at,
      field: "error",
      expected: "no error",
      actual: [(e as Error).message, ...where].join("; "),
    });
  } finally {
    await sandbox.close();
  }
  result.passed = result.failures.length === 0;
  return result;
}

function check(step: number, expect: FixtureExpect, object: ObjectRecord, decisions: Decision[]): StepFailure[] {
  const out: StepFailure[] = [];
  const last = decisions[decisions.length - 1];
  const fail = (field: StepFailure["field"], expected: unknown, actual: unknown) =>
    out.push({ step, field, expected, actual });
  if (expect.state !== undefined && object.state !== expect.state) fail("state", expect.state, object.state);
  if (expect.outcome !== undefined && last?.outcome !== expect.outcome)
    fail("outcome", expect.outcome, last?.outcome ?? "(no evaluation in this step)");
  if (expect.fired !== undefined) {
    const actual = last ? [...new Set(last.fired.map((f) => f.rule))].sort() : null;
    const expected = [...new Set(expect.fired)].sort();
    if (!actual || !jsonEqual(actual, expected)) fail("fired", expected, actual ?? "(no evaluation in this step)");
  }
  if (expect.actions !== undefined) {
    const actual = decisions.flatMap((d) => d.actions.map((a) => a.kind));
    if (!jsonEqual(actual, expect.actions)) fail("actions", expect.actions, actual);
  }
  if (expect.timers !== undefined) {
    const actual = object.timers.map((t) => t.name).sort();
    const expected = [...new Set(expect.timers)].sort();
    if (!jsonEqual(actual, expected)) fail("timers", expected, actual);
  }
  if (expect.memory !== undefined && !isSubset(expect.memory, object.memory))
    fail("memory", expect.memory, object.memory);
  return out;
}

/** Deep subset: every key of `expected` is in `actual` with a matching value; arrays match exactly. */
export function isSubset(expected: Json, actual: Json | undefined): boolean {
  if (actual === undefined) return false;
  if (isPlainObject(expected)) {
    if (!isPlainObject(actual)) return false;
    return Object.keys(expected).every((k) => isSubset(expected[k]!, actual[k]));
  }
  return jsonEqual(expected, actual);
}

/** One failure as a reader wants it: the step, the field, expected and actual. */
export function formatFailure(f: StepFailure): string {
  const where = f.step < 0 ? "run" : `step ${f.step + 1}`;
  return `${where}: ${f.field}: expected ${JSON.stringify(f.expected)}, got ${JSON.stringify(f.actual)}`;
}
