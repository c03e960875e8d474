// Reads the Dockerfile and .dockerignore, and builds the image's file system in a temporary
// directory without Docker (CI has no engine): exactly the files the Dockerfile copies, with
// .dockerignore honoured, so that running the image's command there shows whether the COPY
// list is complete.

import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";

/** One instruction, continuation lines joined, comments dropped. */
export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

/** Splits a Dockerfile into instructions (the subset of the syntax this repository uses). */
export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending: { text: string; line: number } | null = null;
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    // Docker drops comment lines, inside a continued instruction too.
    if (line.startsWith("#") || (line === "" && pending === null)) return;
    const continued = line.endsWith("\\");
    const body = continued ? line.slice(0, -1).trim() : line;
    pending = pending ? { text: `${pending.text} ${body}`, line: pending.line } : { text: body, line: i + 1 };
    if (continued) return;
    const m = /^([A-Za-z]+)\s+(.*)$/.exec(pending.text);
    if (!m) throw new Error(`Dockerfile line ${pending.line}: cannot read "${pending.text}"`);
    out.push({ keyword: m[1]!.toUpperCase(), args: m[2]!.trim(), line: pending.line });
    pending = null;
  });
  if (pending) throw new Error("Dockerfile ends inside a continued line");
  return out;
}

/** The exec form of CMD, ENTRYPOINT or HEALTHCHECK CMD: a JSON array of strings. */
export function execForm(args: string): string[] {
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === "string"))
    throw new Error(`not an exec-form array of strings: ${args}`);
  return parsed;
}

/** `ENV A=1 B="two words"` (and the legacy `ENV A 1`) as pairs, in order. */
export function envPairs(args: string): [string, string][] {
  if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(args)) {
    const m = /^(\S+)\s+(.*)$/.exec(args);
    if (!m) throw new Error(`ENV without a value: ${args}`);
    return [[m[1]!, m[2]!]];
  }
  const pairs: [string, string][] = [];
  const re = /([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)\s*/y;
  while (re.lastIndex < args.length) {
    const at = re.lastIndex;
    const m = re.exec(args);
    if (!m) throw new Error(`ENV cannot be read from column ${at}: ${args}`);
    const v = m[2]!;
    pairs.push([m[1]!, v.startsWith('"') ? (JSON.parse(v) as string) : v]);
  }
  return pairs;
}

/** Splits leading `--flag` / `--flag=value` options from the rest of the arguments. */
export function options(args: string): { flags: Record<string, string>; rest: string } {
  const flags: Record<string, string> = {};
  let rest = args;
  for (let m = /^--([a-z-]+)(?:=(\S+))?\s+/.exec(rest); m; m = /^--([a-z-]+)(?:=(\S+))?\s+/.exec(rest)) {
    flags[m[1]!] = m[2] ?? "true";
    rest = rest.slice(m[0].length);
  }
  return { flags, rest };
}

/**
 * A `.dockerignore` as a predicate on context-relative paths. Docker matches each pattern
 * against the whole path from the context root (no implicit `**` in front, unlike
 * .gitignore) and excludes a directory's contents with it. Exceptions (`!`) and character
 * classes are not used here; they are refused rather than half understood.
 */
export function dockerignore(text: string): (path: string) => boolean {
  const patterns = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((p) => {
      if (p.startsWith("!") || /[[\]]/.test(p)) throw new Error(`.dockerignore pattern not supported here: ${p}`);
      const segments = p.replace(/^\/+|\/+$/g, "").split("/");
      const source = segments
        .map((s) =>
          s === "**"
            ? "(?:[^/]+/)*"
            : `${s
                .replace(/[.+^${}()|\\]/g, "\\$&")
                .replace(/\*/g, "[^/]*")
                .replace(/\?/g, "[^/]")}/`,
        )
        .join("");
      return new RegExp(`^${source}$`);
    });
  // A path matches when it or one of its parent directories does: test each prefix.
  return (path) => {
    const parts = path.split("/");
    for (let i = 1; i <= parts.length; i++) {
      const prefix = `${parts.slice(0, i).join("/")}/`;
      if (patterns.some((re) => re.test(prefix))) return true;
    }
    return false;
  };
}

/** What the image is made of, with its file system under `root`. */
export interface EmulatedImage {
  root: string;
  workdir: string;
  env: Record<string, string>;
  user: string | null;
  volumes: string[];
  expose: string[];
  healthcheck: { flags: Record<string, string>; command: string[] } | null;
  /** What runs `cmd` (none: `cmd` runs alone). */
  entrypoint: string[];
  cmd: string[];
  /** The Debian packages its RUN steps install (not installed here: APT_PACKAGES). */
  packages: string[];
  /** Every file copied, as a path inside the image. */
  copied: string[];
}

/**
 * The Debian packages the image may install: tini, the init it runs the server under (its
 * ENTRYPOINT). Each must be checked by a test of the Dockerfile, as tini's is.
 */
const APT_PACKAGES = new Set(["tini"]);

/** The top-level packages `npm ci --omit=dev` installs, read from the lockfile. */
export function productionPackages(lockText: string): string[] {
  const lock = JSON.parse(lockText) as { packages: Record<string, { dev?: boolean }> };
  return Object.entries(lock.packages)
    .filter(([key, p]) => /^node_modules\/(@[^/]+\/)?[^/]+$/.test(key) && p.dev !== true)
    .map(([key]) => key.slice("node_modules/".length));
}

/**
 * Builds the image under `root` from the repository at `context`. COPY copies from the
 * context, honouring .dockerignore; RUN is emulated command by command, and a command this
 * emulation does not know fails, so that a new RUN step is noticed here.
 */
export function emulateImage(context: string, instructions: Instruction[], root: string): EmulatedImage {
  const ignorePath = join(context, ".dockerignore");
  const ignored = existsSync(ignorePath) ? dockerignore(readFileSync(ignorePath, "utf8")) : () => false;
  const image: EmulatedImage = {
    root,
    workdir: "/",
    env: {},
    user: null,
    volumes: [],
    expose: [],
    healthcheck: null,
    entrypoint: [],
    cmd: [],
    packages: [],
    copied: [],
  };
  const inImage = (p: string) => (p.startsWith("/") ? p : join(image.workdir, p));
  const copy = (rel: string, dest: string) => {
    if (ignored(rel)) return;
    const from = join(context, rel);
    if (statSync(from).isDirectory()) {
      for (const entry of readdirSync(from)) copy(`${rel}/${entry}`, join(dest, entry));
      return;
    }
    mkdirSync(dirname(join(root, dest)), { recursive: true });
    copyFileSync(from, join(root, dest));
    image.copied.push(dest);
  };
  for (const { keyword, args, line } of instructions) {
    switch (keyword) {
      case "FROM":
      case "STOPSIGNAL":
        break;
      case "WORKDIR":
        image.workdir = inImage(args);
        mkdirSync(join(root, image.workdir), { recursive: true });
        break;
      case "ENV":
        for (const [k, v] of envPairs(args)) image.env[k] = v;
        break;
      case "COPY": {
        const { rest } = options(args);
        const parts = rest.split(/\s+/);
        const dest = inImage(parts.pop()!);
        if (parts.some((p) => /[*?[]/.test(p))) throw new Error(`Dockerfile line ${line}: COPY globs not emulated`);
        const intoDir = parts.length > 1 || rest.endsWith("/");
        for (const src of parts) {
          const rel = src.replace(/^\.\//, "").replace(/\/$/, "");
          const isDir = statSync(join(context, rel)).isDirectory();
          copy(rel, isDir || !intoDir ? dest : join(dest, rel.split("/").pop()!));
        }
        break;
      }
      case "RUN":
        for (const command of args.split("&&").map((c) => c.trim())) runStep(command, image, context, line);
        break;
      case "VOLUME":
        image.volumes.push(...(args.startsWith("[") ? execForm(args) : args.split(/\s+/)));
        break;
      case "EXPOSE":
        image.expose.push(...args.split(/\s+/));
        break;
      case "USER":
        image.user = args;
        break;
      case "HEALTHCHECK": {
        const { flags, rest } = options(args);
        if (!rest.startsWith("CMD ")) throw new Error(`Dockerfile line ${line}: HEALTHCHECK without CMD`);
        image.healthcheck = { flags, command: execForm(rest.slice(4).trim()) };
        break;
      }
      case "ENTRYPOINT":
        image.entrypoint = execForm(args);
        break;
      case "CMD":
        image.cmd = execForm(args);
        break;
      default:
        throw new Error(`Dockerfile line ${line}: ${keyword} is not emulated`);
    }
  }
  return image;
}

function runStep(command: string, image: EmulatedImage, context: string, line: number): void {
  const words = command.split(/\s+/);
  if (words[0] === "npm" && words[1] === "ci") {
    // `npm ci --omit=dev` cannot run offline. Its result is the lockfile's packages without
    // the dev ones: each is linked from this repository's node_modules, and nothing else is
    // there, so an import of a dev dependency at run time fails as it would in the image.
    if (!words.includes("--omit=dev")) throw new Error(`Dockerfile line ${line}: npm ci without --omit=dev`);
    const modules = join(image.root, image.workdir, "node_modules");
    for (const name of productionPackages(readFileSync(join(context, "package-lock.json"), "utf8"))) {
      const installed = join(context, "node_modules", name);
      // Optional packages for other platforms are in the lockfile but not installed here.
      if (!existsSync(installed)) continue;
      mkdirSync(dirname(join(modules, name)), { recursive: true });
      symlinkSync(installed, join(modules, name), "dir");
    }
  } else if (words[0] === "apt-get" && words[1] === "update") {
    // Nothing: the package lists are the build's, and are removed after the install.
  } else if (words[0] === "apt-get" && words[1] === "install") {
    // Debian's packages are not installed here: each is recorded, and only the ones known to
    // this emulation are let through, so that a new one is noticed.
    const packages = words.slice(2).filter((w) => !w.startsWith("-"));
    const unknown = packages.filter((name) => !APT_PACKAGES.has(name));
    if (unknown.length > 0)
      throw new Error(`Dockerfile line ${line}: apt-get install ${unknown.join(" ")} is not emulated`);
    image.packages.push(...packages);
  } else if (command === "rm -rf /var/lib/apt/lists/*") {
    // The package lists apt-get update fetched: none here.
  } else if (words[0] === "mkdir" && words[1] === "-p") {
    for (const dir of words.slice(2)) mkdirSync(join(image.root, dir), { recursive: true });
  } else if (words[0] === "chown" || (words[0] === "npm" && words[1] === "cache")) {
    // Ownership: the test runs as one user, which owns everything it creates. Cache: nothing.
  } else {
    throw new Error(`Dockerfile line ${line}: RUN ${command} is not emulated`);
  }
}

/**
 * The image's environment as seen from the temporary root: absolute paths (and `file:` URLs
 * of absolute paths) are moved under it.
 */
export function rootedEnv(image: EmulatedImage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(image.env))
    env[k] = v.startsWith("file:/")
      ? `file:${join(image.root, v.slice(5))}`
      : v.startsWith("/")
        ? join(image.root, v)
        : v;
  return env;
}
