// A skeleton of the durable fact path, to measure what any design of it could reach on this
// machine (bench/ceiling.ts): Node's own HTTP server, one JSON.parse of the body, the facts
// merged into the object's memory (kept in a Map), the rows handed to a writer thread in
// groups (at most two in flight, as Vigil's), and the reply sent only once its group is
// committed with synchronous = FULL. No rules, no validation beyond the envelope, no
// framework: everything Vigil does besides is left out. Plain JavaScript, run by node itself.
//
// Environment: CEILING_DB (the database file), CEILING_SHAPE (`append`: one appended row a fact;
// `row`: that and the object's row; `vigil`: the rows and indexes Vigil writes; see writer.mjs).

import { randomBytes } from "node:crypto";
import http from "node:http";
import { Worker } from "node:worker_threads";

const shape = process.env.CEILING_SHAPE ?? "append";
const writer = new Worker(new URL("./writer.mjs", import.meta.url), {
  workerData: { path: process.env.CEILING_DB, shape },
});
await new Promise((resolve, reject) => {
  writer.once("message", resolve);
  writer.once("error", reject);
});

const memories = new Map();
const seqs = new Map();
/** Rows and replies of the group being filled; the groups sent, by id, with their replies. */
let open = [];
const sent = new Map();
let inFlight = 0;
let groups = 0;

function send() {
  if (open.length === 0 || inFlight >= 2) return;
  const group = open;
  open = [];
  inFlight++;
  const id = ++groups;
  sent.set(id, group);
  writer.postMessage({ id, rows: group.map((a) => a.row) });
}

writer.on("message", ({ id, error }) => {
  inFlight--;
  for (const { res, reply } of sent.get(id)) answer(res, error ? 503 : 200, error ? { error } : reply);
  sent.delete(id);
  send();
});

function answer(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

const FACTS = /^\/v1\/objects\/([^/]+)\/facts$/;

const server = http.createServer((req, res) => {
  const m = FACTS.exec(req.url ?? "");
  if (req.method !== "POST" || !m) {
    req.resume();
    return answer(res, 404, { error: "not found" });
  }
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    let facts;
    try {
      facts = JSON.parse(Buffer.concat(chunks).toString("utf8")).facts;
    } catch {
      facts = undefined;
    }
    if (facts === null || typeof facts !== "object" || Array.isArray(facts))
      return answer(res, 400, { error: "facts must be an object" });
    const object = m[1];
    const seq = (seqs.get(object) ?? 0) + 1;
    seqs.set(object, seq);
    const memory = { ...memories.get(object), ...facts };
    memories.set(object, memory);
    const at = Date.now();
    const decision = `${at.toString(36)}${randomBytes(6).toString("hex")}`;
    open.push({
      res,
      reply: { decision: { id: decision, outcome: "none" } },
      row: [object, seq, JSON.stringify(facts), at, decision, JSON.stringify(memory)],
    });
    // The group leaves once the requests read in this turn of the event loop have joined it.
    if (open.length === 1) setImmediate(send);
  });
});
server.listen(0, "127.0.0.1", () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
