// A skeleton of the durable fact path, to measure what any design of it could reach on this
// machine (bench/ceiling.ts): Node's own HTTP server, one JSON.parse of the body, the facts
// merged into the object's memory (kept in a Map), the rows handed to a writer thread in
// groups (at most two in flight, as Vigil's), and the reply sent only once its group is
// committed with synchronous = FULL. As in Vigil, an object's arrivals are taken one at a time
// (the next waits for the commit of the one before), and objects are created first by a PUT,
// in the order the bench creates Vigil's. No rules, no validation beyond the envelope, no
// framework: everything Vigil does besides is left out. Plain JavaScript, run by node itself.
//
// Routes: PUT /v1/objects/{id} (201; the object's row, in the shapes that have one), POST
// /v1/objects/{id}/facts (200 once committed; 404 for an object never PUT), GET /writer (the
// writer's journal mode and synchronous setting, and the most facts of one object a transaction
// carried: for the tests).
// Environment: CEILING_DB (the database file), CEILING_SHAPE (`append`: one appended row a fact;
// `row`: that and the object's row; `vigil`: the rows and indexes Vigil writes; `tree`: an
// arrival's entry and decision in one tree keyed by object, a candidate layout; see writer.mjs).

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

/** Per object: its memory, its last journal sequence, and its arrivals waiting for the one in flight. */
const objects = new Map();
/** Writes of the group being filled; the groups sent, by id, with their writes. */
let open = [];
const sent = new Map();
let inFlight = 0;
let groups = 0;
/** Decision ids as Vigil makes them: time, a counter, a per-process part (no randomness per id). */
const instance = Math.floor(Math.random() * 2 ** 32).toString(16);
let lastMs = -1;
let counter = 0;

function send() {
  if (open.length === 0 || inFlight >= 2) return;
  const group = open;
  open = [];
  inFlight++;
  const id = ++groups;
  sent.set(id, group);
  writer.postMessage({ id, writes: group.map((w) => w.write) });
}

function enqueue(write, done) {
  open.push({ write, done });
  // The group leaves once the requests read in this turn of the event loop have joined it.
  if (open.length === 1) setImmediate(send);
}

writer.on("message", (m) => {
  if (m.writer) return answer(reports.shift(), 200, m.writer);
  inFlight--;
  for (const w of sent.get(m.id)) w.done(m.error);
  sent.delete(m.id);
  send();
});
const reports = [];

function answer(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** One fact for an object, its arrival before it committed: merged, written, answered after the commit. */
function arrive(id, o, facts, res) {
  o.busy = true;
  o.seq++;
  o.memory = { ...o.memory, ...facts };
  const at = Date.now();
  if (at > lastMs) {
    lastMs = at;
    counter = 0;
  } else counter++;
  const decision = `dec_${at.toString(36)}${counter.toString(36).padStart(4, "0")}${instance}`;
  const write = { kind: "fact", object: id, seq: o.seq, patch: JSON.stringify(facts), at, decision };
  write.memory = JSON.stringify(o.memory);
  enqueue(write, (error) => {
    answer(res, error ? 503 : 200, error ? { error } : { decision: { id: decision, outcome: "none" } });
    next(id, o);
  });
}

/** The object's next waiting arrival, if any, now that the one before it is committed. */
function next(id, o) {
  const waiting = o.waiting.shift();
  if (waiting) arrive(id, o, waiting.facts, waiting.res);
  else o.busy = false;
}

const OBJECT = /^\/v1\/objects\/([^/]+)(\/facts)?$/;

function body(req, then) {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    try {
      then(JSON.parse(Buffer.concat(chunks).toString("utf8")));
    } catch {
      then(undefined);
    }
  });
}

const server = http.createServer((req, res) => {
  if (req.method === "GET" && req.url === "/writer") {
    reports.push(res);
    return writer.postMessage({ report: true });
  }
  const m = OBJECT.exec(req.url ?? "");
  const id = m?.[1];
  if (m && !m[2] && req.method === "PUT")
    return body(req, () => {
      if (objects.has(id)) return answer(res, 200, { id });
      objects.set(id, { memory: {}, seq: 0, busy: true, waiting: [] });
      enqueue({ kind: "create", object: id, at: Date.now(), memory: "{}" }, (error) => {
        answer(res, error ? 503 : 201, error ? { error } : { id });
        next(id, objects.get(id));
      });
    });
  if (!m || !m[2] || req.method !== "POST") {
    req.resume();
    return answer(res, 404, { error: "not found" });
  }
  body(req, (parsed) => {
    const facts = parsed?.facts;
    if (facts === null || typeof facts !== "object" || Array.isArray(facts))
      return answer(res, 400, { error: "facts must be an object" });
    const o = objects.get(id);
    if (!o) return answer(res, 404, { error: "no such object" });
    if (o.busy) o.waiting.push({ facts, res });
    else arrive(id, o, facts, res);
  });
});
server.listen(0, "127.0.0.1", () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
