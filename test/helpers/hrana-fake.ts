// A fake remote libsql server for tests: Hrana v2 over HTTP with JSON bodies, as
// @libsql/client's http transport speaks it (node_modules/@libsql/hrana-client/lib-esm/http/:
// `GET /v2` as the version probe, `POST /v2/pipeline` with `{baton, requests}` answered with
// `{baton, base_url, results}`), backed by a real SQLite file through the `libsql` package. It
// serves one connection (no batons kept apart), which is all one Vigil server needs. Its mode
// says how it answers: normally, never (the connection accepted and left hanging), a 503, a 200
// whose body is a page and not JSON (a proxy's), or
// by applying the next pipeline that matches and then dropping the connection without a reply.

import Database from "libsql";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

type Value =
  | { type: "null" }
  | { type: "integer"; value: string }
  | { type: "float"; value: number }
  | { type: "text"; value: string }
  | { type: "blob"; base64: string };

interface Stmt {
  sql?: string;
  sql_id?: number;
  args?: Value[];
  named_args?: { name: string; value: Value }[];
}

type Cond =
  | { type: "ok" | "error"; step: number }
  | { type: "not"; cond: Cond }
  | { type: "and" | "or"; conds: Cond[] }
  | { type: "is_autocommit" };

interface Request {
  type: string;
  stmt?: Stmt;
  batch?: { steps: { stmt: Stmt; condition?: Cond | null }[] };
  sql?: string;
  sql_id?: number;
}

export type FakeMode = "ok" | "stall" | "unavailable" | "not-json";

export interface HranaFake {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  mode: FakeMode;
  /** The next pipeline whose SQL text matches is applied, then its connection is dropped unanswered. */
  dropAfterApplying(match: (sql: string) => boolean): void;
  /** Reads the database directly. */
  query(sql: string, ...args: unknown[]): unknown[];
  close(): Promise<void>;
}

const toValue = (v: unknown): Value => {
  if (v === null || v === undefined) return { type: "null" };
  if (typeof v === "bigint") return { type: "integer", value: String(v) };
  if (typeof v === "number")
    return Number.isInteger(v) ? { type: "integer", value: String(v) } : { type: "float", value: v };
  if (typeof v === "string") return { type: "text", value: v };
  return { type: "blob", base64: Buffer.from(v as Uint8Array).toString("base64") };
};

const fromValue = (v: Value): unknown => {
  switch (v.type) {
    case "null":
      return null;
    case "integer":
      return BigInt(v.value);
    case "float":
      return v.value;
    case "text":
      return v.value;
    case "blob":
      return Buffer.from(v.base64, "base64");
  }
};

/** Starts the fake on a free loopback port, on the SQLite file `path`; `token`: the bearer token it wants. */
export async function startHranaFake(path: string, opts: { token?: string } = {}): Promise<HranaFake> {
  const db = new Database(path);
  const stored = new Map<number, string>();
  let drop: ((sql: string) => boolean) | null = null;
  const hanging = new Set<ServerResponse>();

  const execute = (stmt: Stmt) => {
    const s = db.prepare(stmt.sql ?? stored.get(stmt.sql_id!) ?? "");
    const named = stmt.named_args ?? [];
    const params: unknown[] =
      named.length > 0
        ? [Object.fromEntries(named.map((n) => [n.name.replace(/^[:@$]/, ""), fromValue(n.value)]))]
        : (stmt.args ?? []).map(fromValue);
    if (s.reader) {
      s.raw(true).safeIntegers(true);
      const cols = s.columns().map((c) => ({ name: c.name, decltype: c.type }));
      const rows = (s.all(...params) as unknown[][]).map((r) => r.map(toValue));
      return { cols, rows, affected_row_count: 0, last_insert_rowid: null };
    }
    const r = s.run(...params);
    return { cols: [], rows: [], affected_row_count: r.changes, last_insert_rowid: String(r.lastInsertRowid) };
  };
  const error = (e: unknown) => ({
    message: String((e as Error).message),
    code: String((e as { code?: unknown }).code ?? "SQLITE_ERROR"),
  });
  const holds = (c: Cond | null | undefined, ok: boolean[], failed: boolean[]): boolean => {
    if (!c) return true;
    switch (c.type) {
      case "ok":
        return ok[c.step] === true;
      case "error":
        return failed[c.step] === true;
      case "not":
        return !holds(c.cond, ok, failed);
      case "and":
        return c.conds.every((x) => holds(x, ok, failed));
      case "or":
        return c.conds.some((x) => holds(x, ok, failed));
      case "is_autocommit":
        return !db.inTransaction;
    }
  };
  const handle = (req: Request) => {
    const ok = (response: object) => ({ type: "ok", response: { type: req.type, ...response } });
    try {
      switch (req.type) {
        case "execute":
          return ok({ result: execute(req.stmt!) });
        case "batch": {
          const done: boolean[] = [];
          const failed: boolean[] = [];
          const step_results: unknown[] = [];
          const step_errors: unknown[] = [];
          req.batch!.steps.forEach((step, i) => {
            let result = null;
            let err = null;
            if (holds(step.condition, done, failed)) {
              try {
                result = execute(step.stmt);
                done[i] = true;
              } catch (e) {
                err = error(e);
                failed[i] = true;
              }
            }
            step_results.push(result);
            step_errors.push(err);
          });
          return ok({ result: { step_results, step_errors } });
        }
        case "sequence":
          db.exec(req.sql ?? stored.get(req.sql_id!) ?? "");
          return ok({});
        case "get_autocommit":
          return ok({ is_autocommit: !db.inTransaction });
        case "store_sql":
          stored.set(req.sql_id!, req.sql!);
          return ok({});
        case "close_sql":
          stored.delete(req.sql_id!);
          return ok({});
        case "close":
          return ok({});
        default:
          return { type: "error", error: { message: `unsupported request ${req.type}` } };
      }
    } catch (e) {
      return { type: "error", error: error(e) };
    }
  };

  const answer = (q: IncomingMessage, r: ServerResponse, body: string) => {
    if (fake.mode === "stall") {
      hanging.add(r);
      return;
    }
    if (fake.mode === "unavailable") {
      r.writeHead(503, { "content-type": "text/plain" }).end("overloaded");
      return;
    }
    if (fake.mode === "not-json") {
      r.writeHead(200, { "content-type": "text/html" }).end("<html><body>a proxy's page</body></html>");
      return;
    }
    if (opts.token !== undefined && q.headers.authorization !== `Bearer ${opts.token}`) {
      r.writeHead(401, { "content-type": "text/plain" }).end("Unauthorized");
      return;
    }
    if (q.method === "GET" && q.url === "/v2") {
      r.end();
      return;
    }
    if (q.method === "POST" && q.url === "/v2/pipeline") {
      const pipeline = JSON.parse(body) as { requests: Request[] };
      const results = pipeline.requests.map(handle);
      if (drop && drop(body)) {
        drop = null;
        q.socket.destroy();
        return;
      }
      r.writeHead(200, { "content-type": "application/json" });
      r.end(JSON.stringify({ baton: null, base_url: null, results }));
      return;
    }
    r.writeHead(404, { "content-type": "text/plain" }).end("Not Found");
  };

  const server: Server = createServer((q, r) => {
    let body = "";
    q.on("data", (d: Buffer) => (body += d.toString()));
    q.on("end", () => answer(q, r, body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const fake: HranaFake = {
    url: `http://127.0.0.1:${port}`,
    mode: "ok",
    dropAfterApplying: (match) => (drop = match),
    query: (sql, ...args) => db.prepare(sql).all(...args),
    close: async () => {
      for (const r of hanging) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      db.close();
    },
  };
  return fake;
}
