// The traffic generator as it was before it made lines lazily (commit e035dbd's
// src/simulate/generate.ts, emitters and all): every line in one array, sorted by time and then
// object id. Kept, unchanged but for its imports, its name and the seed of each object's stream
// (objectSeed, since objects past the 7,919th repeated the next seed's), as the reference that
// the lazy generator must print byte for byte: docs/simulate.md promises that a seed prints the
// same traffic, and fixtures/traffic/queue-burst.jsonl is one.

import type { JsonObject } from "../../src/core/types.ts";
import type { TrafficLine } from "../../src/simulate/traffic.ts";
import { seededRandom } from "../../src/core/random.ts";
import { objectSeed, type GenerateOptions, type Shape } from "../../src/simulate/generate.ts";
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const DAY = 24 * 60 * MINUTE;

/** The facts of a queue with `depth` jobs waiting and `inflight` running. */
function work(depth: number, inflight: number): JsonObject {
  return { queue: { depth }, work: { pending: depth }, jobs: { inflight } };
}

interface Fact {
  at: number;
  facts: JsonObject;
}

/**
 * One day of an object's traffic. `carry` is the object's own, kept from one day to the next, so
 * that what a day starts respects what the day before left (a burst's spacing, a job running).
 */
type Emit = (o: GenerateOptions, day: number, random: () => number, carry: Carry) => Fact[];

interface Carry {
  /** When the next burst may start, or the next job be queued (epoch ms); -Infinity at first. */
  next: number;
}

const between = (random: () => number, lo: number, hi: number) => lo + random() * (hi - lo);
const whole = (ms: number) => Math.round(ms / SECOND) * SECOND;

/** A backlog of `peak` draining over `length` with a fact every `every()`. */
function drain(at: number, peak: number, length: number, every: () => number, extra: JsonObject = {}): Fact[] {
  const out: Fact[] = [{ at: whole(at), facts: { ...work(peak, 1), ...extra } }];
  for (let t = at + every(); t < at + length; t += every()) {
    const left = Math.round(peak * (1 - (t - at) / length));
    out.push({ at: whole(t), facts: work(Math.max(left, 1), 1) });
  }
  return out;
}

const burst: Emit = (o, day, random, carry) => {
  const out: Fact[] = [];
  const count = 1 + Math.floor(random() * 3);
  const starts = Array.from({ length: count }, () => o.start + day * DAY + random() * (DAY - 10 * MINUTE)).sort(
    (a, b) => a - b,
  );
  for (const at of starts) {
    const length = between(random, 2, 6) * MINUTE;
    // Within 10 minutes of the previous burst's end (that day's or the day before's): one is enough.
    if (at < carry.next) continue;
    out.push(...drain(at, 5 + Math.floor(random() * 36), length, () => between(random, 5, 20) * SECOND));
    out.push({ at: whole(at + length), facts: work(0, 0) });
    carry.next = at + length + 10 * MINUTE;
  }
  return out;
};

const nightly: Emit = (o, day, random) => {
  const at = o.start + day * DAY + 2 * 60 * MINUTE + random() * 5 * MINUTE;
  const length = between(random, 10, 30) * MINUTE;
  const requested = { report: { requested: true, status: "running" } };
  const out = drain(at, 50 + Math.floor(random() * 151), length, () => MINUTE, requested);
  out.push({ at: whole(at + length), facts: { ...work(0, 0), report: { requested: false, status: "sent" } } });
  return out;
};

const trickle: Emit = (o, day, random, carry) => {
  const out: Fact[] = [];
  const end = o.start + (day + 1) * DAY;
  // The first day's first job comes in its first 5 minutes; later days go on from the last job.
  let t = day === 0 ? o.start + random() * 5 * MINUTE : carry.next;
  for (; t < end;) {
    const done = t + between(random, 5, 40) * SECOND;
    out.push({ at: whole(t), facts: work(1, 1) }, { at: whole(done), facts: work(0, 0) });
    // Exponential gaps averaging 5 minutes, kept between 1 and 15 so that jobs never overlap.
    const gap = Math.min(15, Math.max(1, -5 * Math.log(1 - random()))) * MINUTE;
    t = Math.max(done + SECOND, t + gap);
  }
  carry.next = t;
  return out;
};

const EMITTERS: Record<Shape, Emit> = { burst, nightly, trickle };

/** The traffic of `o.objects` objects over `o.days` days, in time order (then by object). */
export function generateTrafficEagerly(options: GenerateOptions): TrafficLine[] {
  const o = { ...options, start: Math.floor(options.start / DAY) * DAY };
  const lines: { at: number; objectId: string; facts: JsonObject }[] = [];
  for (let i = 0; i < o.objects; i++) {
    // One stream of numbers per object: adding objects does not change the first ones' traffic.
    const random = seededRandom(objectSeed(o.seed, i));
    // Not padded: a tenth object must not rename the first nine.
    const objectId = `${o.shape}-${i + 1}`;
    const carry: Carry = { next: -Infinity };
    for (let day = 0; day < o.days; day++)
      for (const f of EMITTERS[o.shape](o, day, random, carry)) lines.push({ at: f.at, objectId, facts: f.facts });
  }
  lines.sort((a, b) => a.at - b.at || (a.objectId < b.objectId ? -1 : a.objectId > b.objectId ? 1 : 0));
  return lines.map((l) => ({ at: new Date(l.at).toISOString(), objectId: l.objectId, facts: l.facts }));
}
