// The Dockerfile, without Docker (CI has no engine): what it declares (a non-root user, a
// health check on /readyz, the database on a volume), then the image itself, emulated: the
// files its COPY lines take (honouring .dockerignore) in a temporary root, the production
// dependencies of the lockfile linked in, and its CMD run there as a real process with its
// ENV (as its ENTRYPOINT, tini, would run it), until its HEALTHCHECK command passes; SIGTERM
// then stops it with status 0.

import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { builtinModules } from "node:module";
import { createServer as createHttpServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  dockerignore,
  emulateImage,
  envPairs,
  execForm,
  options,
  parseDockerfile,
  rootedEnv,
  type EmulatedImage,
} from "./dockerfile.ts";
import { portOutsideEphemeral } from "../helpers/refusing-port.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const instructions = parseDockerfile(readFileSync(join(ROOT, "Dockerfile"), "utf8"));
const all = (keyword: string) => instructions.filter((i) => i.keyword === keyword);
const TOKEN = "0123456789abcdef-deploy-test";

interface Run {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Runs an exec-form command of the image in its working directory; `node` is this node. */
function run(image: EmulatedImage, command: string[], env: Record<string, string>): Run {
  const [bin, ...args] = command;
  const child = spawn(bin === "node" ? process.execPath : bin!, args, {
    cwd: join(image.root, image.workdir),
    // The image's environment only, not the test runner's (no stray VIGIL_* from outside).
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: image.root, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  child.stdout!.resume();
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, stderr: () => stderr, exited };
}

/** The bare package names a source file imports at run time (`import type` excluded). */
function runtimeImports(text: string): string[] {
  const specifiers = [
    ...[...text.matchAll(/^\s*(?:import|export)\s+(type\s+)?[^;]*?\sfrom\s+["']([^"']+)["']/gms)]
      .filter((m) => m[1] === undefined)
      .map((m) => m[2]!),
    ...[...text.matchAll(/^\s*import\s+["']([^"']+)["']/gm)].map((m) => m[1]!),
    ...[...text.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]!),
  ];
  return specifiers
    .filter((s) => !s.startsWith(".") && !s.startsWith("/") && !s.startsWith("node:") && !builtinModules.includes(s))
    .map((s) =>
      s
        .split("/")
        .slice(0, s.startsWith("@") ? 2 : 1)
        .join("/"),
    );
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(`${dir}/${e.name}`) : /\.(ts|mjs|js)$/.test(e.name) ? [`${dir}/${e.name}`] : [],
  );
}

describe("the Dockerfile", () => {
  test("runs the server as a user other than root", () => {
    const users = all("USER");
    expect(users.length).toBeGreaterThan(0);
    expect(["root", "0", "0:0"]).not.toContain(users.at(-1)!.args);
    // Nothing runs as root after the switch.
    expect(all("CMD").at(-1)!.line).toBeGreaterThan(users.at(-1)!.line);
  });

  test("checks health on /readyz with node's fetch (a slim image has no curl)", () => {
    const hc = all("HEALTHCHECK");
    expect(hc).toHaveLength(1);
    const { rest } = options(hc[0]!.args);
    expect(rest).toMatch(/^CMD\s+\[/);
    const command = execForm(rest.replace(/^CMD\s+/, ""));
    expect(command.slice(0, 2)).toEqual(["node", "-e"]);
    expect(command[2]).toContain("/readyz");
  });

  test.each([
    ["::1", "::1"],
    ["[::1]", "::1"],
    ["127.0.0.1", "127.0.0.1"],
    ["0.0.0.0", "127.0.0.1"],
    ["::", "127.0.0.1"],
    ["[::]", "127.0.0.1"],
  ])(
    "the health check reaches a server bound to VIGIL_HOST=%s (README: with or without brackets)",
    async (host, at) => {
      const command = execForm(options(all("HEALTHCHECK")[0]!.args).rest.replace(/^CMD\s+/, ""));
      let status = 200;
      const server = createHttpServer((req, res) => {
        res.statusCode = req.url === "/readyz" ? status : 404;
        res.end();
      });
      await new Promise<void>((resolve) => server.listen(0, at, resolve));
      const port = (server.address() as { port: number }).port;
      const check = () =>
        new Promise<number | null>((resolve) =>
          spawn(process.execPath, command.slice(1), {
            env: { PATH: process.env.PATH ?? "", VIGIL_HOST: host, VIGIL_PORT: String(port) },
            stdio: "ignore",
          }).once("exit", resolve),
        );
      try {
        expect(await check()).toBe(0);
        status = 503; // and it fails when the server is not ready
        expect(await check()).toBe(1);
      } finally {
        server.close();
      }
    },
  );

  test("keeps the database on the volume /data", () => {
    const volumes = all("VOLUME").flatMap((v) => v.args.split(/\s+/));
    expect(volumes).toContain("/data");
    const env = Object.fromEntries(all("ENV").flatMap((e) => envPairs(e.args)));
    expect(env.VIGIL_DB_URL).toMatch(/^file:\/data\/[^/]+$/);
    expect(env.VIGIL_HOST).toBe("0.0.0.0");
    expect(all("EXPOSE").map((e) => e.args)).toContain(env.VIGIL_PORT);
  });

  test("runs node under tini, which passes SIGTERM on and reaps orphans, with npm start's node options", () => {
    // tini is PID 1 (or a subreaper, -s, under another init): node reaps only what it spawned,
    // and the process driver's trees leave orphans. `--` ends tini's options before node's.
    expect(execForm(all("ENTRYPOINT").at(-1)!.args)).toEqual(["tini", "-s", "--"]);
    const cmd = JSON.parse(all("CMD").at(-1)!.args) as string[];
    const start = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: { start: string } })
      .scripts.start;
    expect(cmd).toEqual(start.split(" "));
    expect(cmd.slice(-2)).toEqual(["bin/vigil.js", "serve"]);
  });

  test(".dockerignore keeps local state and installed modules out of the context", () => {
    const ignored = dockerignore(readFileSync(join(ROOT, ".dockerignore"), "utf8"));
    for (const p of ["node_modules/hono/package.json", ".git/HEAD", "data/vigil.db", ".test-results/vitest.json"])
      expect(ignored(p), p).toBe(true);
    for (const p of ["src/main.ts", "rules/queue-worker.json", "src/storage/migrations/meta/_journal.json"])
      expect(ignored(p), p).toBe(false);
  });

  test("every package src/ and bin/ import at run time is a production dependency (npm ci --omit=dev)", () => {
    const deps = Object.keys(
      (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { dependencies: object }).dependencies,
    );
    const files = [...sourceFiles("src"), ...sourceFiles("bin")];
    const missing = files.flatMap((f) =>
      runtimeImports(readFileSync(join(ROOT, f), "utf8"))
        .filter((p) => !deps.includes(p))
        .map((p) => `${f}: ${p}`),
    );
    expect(files.length).toBeGreaterThan(50);
    expect(missing).toEqual([]);
  });
});

describe("the image, emulated without Docker", () => {
  let dir: string;
  let image: EmulatedImage;
  const children: ChildProcess[] = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "vigil-image-"));
    image = emulateImage(ROOT, instructions, join(dir, "root"));
  });
  afterAll(() => {
    for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  test("holds what the server reads at run time, and nothing of the local state", () => {
    for (const f of [
      "/app/package.json",
      "/app/bin/vigil.js",
      "/app/src/main.ts",
      "/app/src/storage/sql-writer-worker.mjs",
      "/app/src/storage/migrations/meta/_journal.json",
      "/app/rules/queue-worker.json",
    ])
      expect(image.copied, f).toContain(f);
    expect(image.copied.filter((f) => /^\/app\/(test|bench|fixtures|data|node_modules)\//.test(f))).toEqual([]);
    expect(image.workdir).toBe("/app");
    // The init its ENTRYPOINT names is installed (from Debian, not here: the runs below start
    // the CMD as tini would, with the same arguments and environment).
    expect(image.packages).toEqual(["tini"]);
    expect(image.entrypoint[0]).toBe("tini");
  });

  test("refuses to start without VIGIL_TOKENS, saying why", async () => {
    const env = rootedEnv(image);
    delete env.VIGIL_TOKENS;
    const server = run(image, image.cmd, { ...env, VIGIL_PORT: String(await portOutsideEphemeral()) });
    children.push(server.child);
    expect(await server.exited).toBe(1);
    expect(server.stderr()).toMatch(/refusing to bind 0\.0\.0\.0 without tokens/);
  });

  test("with tokens: healthy, policies loaded, the database on the volume; SIGTERM exits 0", async () => {
    const env = {
      ...rootedEnv(image),
      VIGIL_PORT: String(await portOutsideEphemeral()),
      VIGIL_TOKENS: `ops:${TOKEN}:admin`,
    };
    const check = async () => await run(image, image.healthcheck!.command, env).exited;
    // Nothing listens yet: the check must fail, or its passing below would prove nothing.
    expect(await check()).not.toBe(0);

    const server = run(image, image.cmd, env);
    children.push(server.child);
    let stopped = false;
    void server.exited.then(() => (stopped = true));
    // A process start is real time: ask as Docker would, a bounded number of times.
    let status: number | null = -1;
    for (let attempt = 0; attempt < 120 && status !== 0 && !stopped; attempt++) {
      status = await check();
      if (status !== 0) await new Promise((r) => setTimeout(r, 250));
    }
    expect(status, server.stderr()).toBe(0);

    const base = `http://127.0.0.1:${env.VIGIL_PORT}`;
    expect((await fetch(`${base}/v1/policies`)).status).toBe(401);
    const res = await fetch(`${base}/v1/policies`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    const names = ((await res.json()) as { items: { name: string }[] }).items.map((p) => p.name).sort();
    const bundled = readdirSync(join(ROOT, "rules"))
      .filter((f) => f.endsWith(".json"))
      .map((f) => (JSON.parse(readFileSync(join(ROOT, "rules", f), "utf8")) as { name: string }).name)
      .sort();
    expect(names).toEqual(bundled);
    expect(existsSync(join(image.root, "data", "vigil.db"))).toBe(true);

    server.child.kill("SIGTERM");
    expect(await server.exited, server.stderr()).toBe(0);
  });
});
