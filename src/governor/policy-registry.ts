// The policy registry: reads rules/*.json (the only file I/O around policies), validates and
// compiles each, and keeps the last valid version of every policy. An invalid file is
// reported with its file and JSON path and never replaces a loaded version; loading one never
// throws.

import { createHash } from "node:crypto";
import { closeSync, constants, fstatSync, openSync, readdirSync, readSync } from "node:fs";
import { basename, join } from "node:path";
import { compilePolicy, type CompiledPolicy } from "../core/compile.ts";
import { documentBudgetIssues, MAX_POLICY_CHARS } from "../contracts/policy-budget.ts";
import { NOT_UTF8, utf8Text } from "../contracts/text.ts";
import { validatePolicy } from "../contracts/validate-policy.ts";
import type { Problem } from "../core/errors.ts";
import { fileErrorWords } from "../core/file-errors.ts";
import { duplicateKeyProblems } from "../core/duplicate-keys.ts";
import { endsEarly, parseJsonText } from "../core/json.ts";
import { formatPath } from "../core/paths.ts";
import type { PolicySource } from "../core/store.ts";
import type { PoliciesApi, PolicyError, PolicyInfo } from "./services.ts";

export interface LoadedPolicy {
  compiled: CompiledPolicy;
  info: PolicyInfo;
}

export type LoadResult = { ok: true; policy: LoadedPolicy; warnings: Problem[] } | { ok: false; error: PolicyError };

/**
 * The most bytes of a policy file read at all, and the most characters of a policy's text (its
 * compact JSON is held to MAX_POLICY_CHARS).
 */
export const MAX_POLICY_TEXT = 4 * MAX_POLICY_CHARS;

/** Why a policy file cannot be read, in words (not `ENOENT: ..., open '...'`). */
const unreadable = (e: unknown) => `cannot read the file: ${fileErrorWords(e) ?? (e as Error).message}`;

/**
 * Validates and compiles one policy's source text. `file` is used in errors. Never throws: a
 * text over the size limit is refused before it is parsed, and an exception nobody expected
 * (a bug) is a refused policy that names it, so that hot reload cannot take the server down.
 */
export function loadPolicyText(text: string, file: string, now: number): LoadResult {
  const at = new Date(now).toISOString();
  const refuse = (message: string): LoadResult => ({
    ok: false,
    error: { file, errors: [{ path: "$", message }], at },
  });
  // A guard before parsing only: the limit itself is on the document's compact JSON (validation
  // counts it, as it does for a candidate), so a file's indentation does not count against it.
  if (text.length > MAX_POLICY_TEXT)
    return refuse(`the policy file is ${text.length} characters: at most ${MAX_POLICY_TEXT} are read`);
  try {
    return loadValidated(text, file, at);
  } catch (e) {
    return refuse(`the policy could not be loaded: ${String(e)}`);
  }
}

function loadValidated(text: string, file: string, at: string): LoadResult {
  const parsed = parseJsonText(text);
  if (!parsed.ok) return { ok: false, error: { file, errors: [parsed.problem], at } };
  const repeated = duplicateKeyProblems(text);
  if (repeated.length > 0) return { ok: false, error: { file, errors: repeated, at } };
  return loadDocument(parsed.value, createHash("sha256").update(text).digest("hex"), file, at);
}

/** Validates and compiles a parsed document whose hash is known (its file's, or the stored one). */
function loadDocument(doc: unknown, hash: string, file: string, at: string): LoadResult {
  const base = basename(file);
  const v = validatePolicy(doc, isPolicyFileName(base) ? base.replace(/\.json$/, "") : undefined);
  if (!v.valid) return { ok: false, error: { file, errors: v.errors, at } };
  // A file named to `vigil validate` that the server would pass over (`p.txt`, `.p.json`): a
  // name matching it would validate a file no server loads.
  if (!isPolicyFileName(base)) {
    const message = `the server loads only files named after their policy with .json, not starting with a dot: rename the file to ${v.policy.name}.json`;
    return { ok: false, error: { file, errors: [{ path: "$.name", message }], at } };
  }
  const compiled = compilePolicy(v.policy, hash);
  const info: PolicyInfo = {
    name: v.policy.name,
    version: v.policy.version,
    hash,
    file,
    loadedAt: at,
    rules: v.policy.rules.map((r) => r.name),
    document: v.policy,
    engine: { ...compiled.engine },
  };
  if (v.policy.description !== undefined) info.description = v.policy.description;
  return { ok: true, policy: { compiled, info }, warnings: v.warnings };
}

/**
 * A candidate policy sent as a document (what-if, replay) rather than a file: validated and
 * compiled the same way, its hash the sha256 of its JSON as sent. Its size and nesting are
 * checked before it is serialized (JSON.stringify recurses through it).
 */
export function loadCandidate(doc: unknown, now: number): LoadResult {
  const name = isRecord(doc) ? doc.name : undefined;
  const file = `${typeof name === "string" ? name : "candidate"}.json`;
  const refuse = (errors: Problem[]): LoadResult => ({
    ok: false,
    error: { file, errors, at: new Date(now).toISOString() },
  });
  const tooBig = documentBudgetIssues(doc);
  if (tooBig.length > 0) return refuse(tooBig.map((i) => ({ path: formatPath(i.path), message: i.message })));
  let text: string;
  try {
    // Validated as sent, before JSON.stringify, which would write a number past the double range
    // (`1e400`, read as Infinity) as null: a policy other than the one sent would run.
    const sent = validatePolicy(doc);
    if (!sent.valid) return refuse(sent.errors);
    text = JSON.stringify(doc) ?? "";
  } catch (e) {
    return refuse([{ path: "$", message: `the policy could not be loaded: ${String(e)}` }]);
  }
  return loadPolicyText(text, file, now);
}

/**
 * A name in a rules directory that holds a policy: `*.json`, but not a hidden one (an editor's
 * lock file, `.#name.json`, or a Kubernetes ConfigMap volume's `..data` entries).
 */
export const isPolicyFileName = (name: string): boolean => name.endsWith(".json") && !name.startsWith(".");

/**
 * A policy file as read: its bytes, or null when it is over MAX_POLICY_TEXT bytes (never read
 * past that, so a huge file costs one stat, at load and at every poll); and a digest that tells
 * whether it changed since (of the bytes; of size and modification time when over the limit).
 * UTF-8 takes at least a byte a character, so a file within the bound is within the text's
 * limit in characters. Throws when the file cannot be read, or is not a regular file.
 */
export function readPolicyFile(file: string): { bytes: Buffer | null; size: number; digest: string } {
  // Without blocking: opening a FIFO to read waits for a writer, and would hold the event loop.
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    // A socket cannot be opened at all: the kernel says "no such device or address".
    if ((e as NodeJS.ErrnoException).code === "ENXIO") throw new Error(NOT_REGULAR);
    throw e;
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw Object.assign(new Error("EISDIR"), { code: "EISDIR" });
    if (!stat.isFile()) throw new Error(NOT_REGULAR);
    const { size, mtimeMs } = stat;
    if (size > MAX_POLICY_TEXT) return { bytes: null, size, digest: `over ${size} ${mtimeMs}` };
    // Read to the end whatever the stat said (a file may grow meanwhile), to one byte past the bound.
    let buffer = Buffer.allocUnsafe(size + 1);
    let length = 0;
    for (let n = -1; n !== 0 && length <= MAX_POLICY_TEXT; length += n) {
      if (length === buffer.length) {
        const larger = Buffer.allocUnsafe(Math.min(2 * length, MAX_POLICY_TEXT + 1));
        buffer.copy(larger, 0, 0, length);
        buffer = larger;
      }
      n = readSync(fd, buffer, length, buffer.length - length, null);
    }
    if (length > MAX_POLICY_TEXT) return { bytes: null, size: length, digest: `over ${length} ${mtimeMs}` };
    const bytes = buffer.subarray(0, length);
    return { bytes, size: length, digest: createHash("sha256").update(bytes).digest("base64") };
  } finally {
    closeSync(fd);
  }
}

const NOT_REGULAR = "not a regular file (a FIFO, a device or a socket)";

/**
 * Whether a policy file reads as JSON that ends before its document does (see endsEarly): most
 * likely caught half written. False when it cannot be read, or is not UTF-8.
 */
export function fileEndsEarly(file: string): boolean {
  try {
    const { bytes } = readPolicyFile(file);
    const text = bytes === null ? null : utf8Text(bytes);
    return text !== null && endsEarly(text);
  } catch {
    return false;
  }
}

/** A policy file's digest ("" when it cannot be read): tells a file changed since it was read. */
export function fileDigest(file: string): string {
  try {
    return readPolicyFile(file).digest;
  } catch {
    return "";
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object";

export class PolicyRegistry implements PoliciesApi {
  private readonly policies = new Map<string, LoadedPolicy>();
  private errors = new Map<string, PolicyError>();
  private readonly digests = new Map<string, string>();
  /** The rules directory read (where a stored version's file would be). */
  private dir = "";
  /** Policies serving a version read from the database, not from their file (see loadStored). */
  private readonly stored = new Set<string>();
  /** Stored versions loadStored refused (an older Vigil took them), by policy: what start-up tells. */
  private readonly storedRefused = new Map<string, { version: string; error: PolicyError }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Loads every `*.json` in a directory. Returns the errors (also kept for `list()`). */
  loadDirectory(dir: string, loaded?: (file: string, result: LoadResult) => void): PolicyError[] {
    this.dir = dir;
    const files = readdirSync(dir).filter(isPolicyFileName).sort();
    for (const f of files) {
      const file = join(dir, f);
      const result = this.loadFile(file);
      loaded?.(file, result);
    }
    return [...this.errors.values()];
  }

  loadFile(file: string): LoadResult {
    let text: string | null = null;
    let why = NOT_UTF8;
    try {
      const read = readPolicyFile(file);
      this.digests.set(file, read.digest);
      // As a request body is read: UTF-8 only (a lenient decoding would change the rules' strings
      // without a word), without a byte order mark.
      if (read.bytes === null) why = `the policy file is ${read.size} bytes: at most ${MAX_POLICY_TEXT} are read`;
      else text = utf8Text(read.bytes);
    } catch (e) {
      this.digests.set(file, "");
      why = unreadable(e);
    }
    if (text === null) {
      const error = { file, errors: [{ path: "$", message: why }], at: new Date(this.now()).toISOString() };
      this.errors.set(file, error);
      return { ok: false, error };
    }
    return this.loadText(text, file);
  }

  loadText(text: string, file: string): LoadResult {
    const result = loadPolicyText(text, file, this.now());
    if (result.ok) {
      this.policies.set(result.policy.info.name, result.policy);
      this.stored.delete(result.policy.info.name);
      this.errors.delete(file);
    } else this.errors.set(file, result.error);
    return result;
  }

  /**
   * Serves a version stored in the database for a policy that no file loaded at start (its file
   * refused or deleted while objects are bound to it): a restart would otherwise unload what hot
   * reload kept serving. It keeps its stored hash (decisions refer to the same stored version) and
   * is shown as loaded from its file, `<name>.json`, so that the file's refusal is shown with it
   * and a valid file replaces it as a reload does. Validated and compiled as a file is; a document
   * this Vigil refuses is not served. Does nothing when a version of the policy is loaded.
   */
  loadStored(source: PolicySource): LoadResult | null {
    if (this.policies.has(source.name)) return null;
    const file = join(this.dir, `${source.name}.json`);
    const at = new Date(this.now()).toISOString();
    let result: LoadResult;
    try {
      result = loadDocument(source.document, source.hash, file, at);
    } catch (e) {
      result = { ok: false, error: { file, errors: [{ path: "$", message: String(e) }], at } };
    }
    if (result.ok) {
      this.policies.set(source.name, result.policy);
      this.stored.add(source.name);
      this.storedRefused.delete(source.name);
    } else this.storedRefused.set(source.name, { version: source.version, error: result.error });
    return result;
  }

  /** The stored version of `name` loadStored refused, and why; null when none was. */
  storedRefusal(name: string): { version: string; error: PolicyError } | null {
    return this.storedRefused.get(name) ?? null;
  }

  /** Whether policy `name` serves a version read from the database (loadStored), not its file. */
  servesStored(name: string): boolean {
    return this.stored.has(name);
  }

  /** A file that is gone has nothing left to report; its last valid version keeps serving. */
  forgetFile(file: string): void {
    this.errors.delete(file);
    this.digests.delete(file);
  }

  /**
   * The files read so far, each with a digest of the bytes read ("" when they could not be):
   * what the watcher compares the directory with when it starts (policy-watcher.ts).
   */
  readFiles(): ReadonlyMap<string, string> {
    return this.digests;
  }

  /** Serves an already loaded policy (a candidate in a sandbox). */
  add(policy: LoadedPolicy): void {
    this.policies.set(policy.info.name, policy);
  }

  compiled(name: string): CompiledPolicy | null {
    return this.policies.get(name)?.compiled ?? null;
  }

  list() {
    return {
      items: [...this.policies.values()].map((p) => p.info).sort((a, b) => a.name.localeCompare(b.name)),
      errors: [...this.errors.values()],
    };
  }

  get(name: string): PolicyInfo | null {
    return this.policies.get(name)?.info ?? null;
  }

  /** The version loaded from `file` and serving now, if any. */
  servingFrom(file: string): PolicyInfo | null {
    for (const p of this.policies.values()) if (p.info.file === file) return p.info;
    return null;
  }

  refusal(name: string): PolicyError | null {
    const file = this.policies.get(name)?.info.file;
    if (file !== undefined) return this.errors.get(file) ?? null;
    for (const error of this.errors.values()) if (basename(error.file) === `${name}.json`) return error;
    return null;
  }

  validate(doc: unknown) {
    const v = validatePolicy(doc);
    return v.valid ? { valid: true as const, warnings: v.warnings } : { valid: false as const, errors: v.errors };
  }
}
