// The example fly.toml and docs/deploy.md against the code: the file parses as TOML, agrees
// with the Dockerfile (port, volume, health check), keeps the governor running, and every
// variable it or the page names is one src/config.ts reads, with values it accepts.

import { describe, expect, test } from "vitest";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { configSchema, enabledDrivers, flyApiUrls, loadConfig } from "../../src/config.ts";
import { durationMs } from "../../src/core/durations.ts";
import { envPairs, parseDockerfile } from "./dockerfile.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const FLY_TOML = join(ROOT, "fly.toml");
const CONFIG_NAMES = Object.keys(configSchema.shape);

type Toml = { [key: string]: TomlValue };
type TomlValue = string | number | boolean | TomlValue[] | Toml;

/**
 * The TOML a fly.toml uses (no parser is installed): tables, arrays of tables, `key = value`
 * with strings, numbers, booleans and one-line arrays. Anything else is an error, not a guess.
 */
function parseToml(text: string): Toml {
  const root: Toml = {};
  let table = root;
  const descend = (path: string[], arrayOfTables: boolean) => {
    let node = root;
    path.forEach((key, i) => {
      const last = i === path.length - 1;
      if (last && arrayOfTables) {
        const list = (node[key] ??= []) as Toml[];
        if (!Array.isArray(list)) throw new Error(`${path.join(".")} is not an array of tables`);
        list.push({});
        node = list.at(-1)!;
      } else {
        const next = (node[key] ??= {}) as TomlValue;
        node = (Array.isArray(next) ? next.at(-1) : next) as Toml;
        if (typeof node !== "object") throw new Error(`${path.join(".")} is not a table`);
      }
    });
    return node;
  };
  text.split("\n").forEach((raw, i) => {
    const line = stripComment(raw).trim();
    if (line === "") return;
    const header = /^(\[\[?)\s*([A-Za-z0-9_.-]+)\s*\]\]?$/.exec(line);
    if (header && (header[1] === "[[") === line.endsWith("]]")) {
      table = descend(header[2]!.split("."), header[1] === "[[");
      return;
    }
    const kv = /^([A-Za-z0-9_-]+)\s*=\s*(.+)$/.exec(line);
    if (!kv) throw new Error(`fly.toml line ${i + 1}: cannot read "${raw}"`);
    if (kv[1]! in table) throw new Error(`fly.toml line ${i + 1}: ${kv[1]} is defined twice`);
    table[kv[1]!] = tomlValue(kv[2]!.trim(), i + 1);
  });
  return root;
}

function stripComment(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "#") return line.slice(0, i);
  }
  return line;
}

function tomlValue(text: string, line: number): TomlValue {
  if (/^"(?:[^"\\]|\\.)*"$/.test(text)) return JSON.parse(text) as string;
  if (/^'[^']*'$/.test(text)) return text.slice(1, -1);
  if (text === "true" || text === "false") return text === "true";
  if (/^[+-]?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (text.startsWith("[") && text.endsWith("]")) {
    const inner = text.slice(1, -1).trim();
    return inner === "" ? [] : inner.split(",").map((v) => tomlValue(v.trim(), line));
  }
  throw new Error(`fly.toml line ${line}: not a value this check reads: ${text}`);
}

const fly = parseToml(readFileSync(FLY_TOML, "utf8"));
const env = fly.env as Record<string, string>;
const service = fly.http_service as Toml;
const dockerfile = parseDockerfile(readFileSync(join(ROOT, "Dockerfile"), "utf8"));
const dockerEnv = Object.fromEntries(dockerfile.filter((i) => i.keyword === "ENV").flatMap((i) => envPairs(i.args)));

describe("fly.toml", () => {
  test("parses, names an app, and builds the repository's Dockerfile", () => {
    expect(typeof fly.app).toBe("string");
    const build = fly.build as { dockerfile: string };
    // flyctl resolves the Dockerfile next to fly.toml.
    expect(existsSync(join(dirname(FLY_TOML), build.dockerfile))).toBe(true);
  });

  test("mounts a volume where the image keeps its database", () => {
    const mounts = fly.mounts as { source: string; destination: string }[];
    expect(mounts).toHaveLength(1);
    expect(dockerfile.filter((i) => i.keyword === "VOLUME").map((i) => i.args)).toContain(mounts[0]!.destination);
    const db = (env.VIGIL_DB_URL ?? dockerEnv.VIGIL_DB_URL)!;
    expect(db.startsWith(`file:${mounts[0]!.destination}/`)).toBe(true);
  });

  test("serves the port the server binds, and checks /readyz", () => {
    expect(String(service.internal_port)).toBe(env.VIGIL_PORT ?? dockerEnv.VIGIL_PORT);
    expect(dockerfile.filter((i) => i.keyword === "EXPOSE").map((i) => i.args)).toContain(
      String(service.internal_port),
    );
    const checks = service.checks as Toml[];
    expect(checks.map((c) => c.path)).toEqual(["/readyz"]);
  });

  test("keeps the governor running: never stopped by the proxy, one machine at least", () => {
    expect(service.auto_stop_machines).toBe("off");
    expect(service.min_machines_running).toBeGreaterThanOrEqual(1);
  });

  test("gives a drain the time it takes before Fly kills the machine", () => {
    expect(fly.kill_signal).toBe("SIGTERM");
    const defaults = loadConfig({});
    const killMs = Number(/^(\d+)s$/.exec(String(fly.kill_timeout))?.[1]) * 1000;
    expect(killMs).toBeGreaterThan(durationMs(defaults.VIGIL_DRAIN_TIMEOUT));
  });

  test("sets only variables src/config.ts reads, with values it accepts; secrets stay out", () => {
    for (const name of Object.keys(env)) expect(CONFIG_NAMES, name).toContain(name);
    for (const secret of ["VIGIL_TOKENS", "FLY_API_TOKEN", "VIGIL_DB_AUTH_TOKEN"])
      expect(env).not.toHaveProperty(secret);
    // With the secrets `fly secrets set` adds, the server's configuration loads.
    const config = loadConfig({ ...dockerEnv, ...env, VIGIL_TOKENS: "ops:0123456789abcdef-ops:admin" });
    expect(config.VIGIL_HOST).toBe("0.0.0.0");
    expect(enabledDrivers(config, true)).toEqual(["fly"]);
    expect(flyApiUrls(config)).toEqual(["http://_api.internal:4280"]);
  });
});

describe("docs/deploy.md", () => {
  const page = readFileSync(join(ROOT, "docs", "deploy.md"), "utf8");

  test("names only configuration variables src/config.ts reads", () => {
    const named = [...new Set([...page.matchAll(/\b(VIGIL_[A-Z_]+|FLY_API_TOKEN)\b/g)].map((m) => m[1]!))];
    expect(named.length).toBeGreaterThan(5);
    expect(named.filter((n) => !CONFIG_NAMES.includes(n))).toEqual([]);
  });

  test("does not refer to files outside the repository", () => {
    expect(page).not.toMatch(/\.\.\/shared/);
  });
});
