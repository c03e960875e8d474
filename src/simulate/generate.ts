// Synthetic traffic, deterministic for a seed, shaped for the example policies in rules/: every
// fact carries the queue's depth (`queue.depth`, and the same as `work.pending`) and the jobs in
// flight (`jobs.inflight`), so that queue-worker and on-demand read it alike; nightly batches
// also say when a report is requested and sent (`report.requested`, `report.status`), for
// nightly-report.
//
//   burst    up to three bursts a day at random times: a fact every 5-20 s for 2-6 minutes
//            while a backlog drains, then quiet for hours.
//   nightly  a batch at 02:00 UTC each day (each object up to 5 minutes late): a report is
//            requested, the backlog drains with a fact a minute for 10-30 minutes, the report
//            is sent.
//   trickle  a job every few minutes (1 to 15, 5 on average): a fact when it is queued, another
//            5-40 s later when it is done.

import type { JsonObject } from "../core/types.ts";
import type { TrafficLine } from "./traffic.ts";
import { seededRandom } from "../core/random.ts";

export const SHAPES = ["burst", "nightly", "trickle"] as const;
export type Shape = (typeof SHAPES)[number];

export interface GenerateOptions {
  shape: Shape;
  objects: number;
  days: number;
  seed: number;
  /** A time on the first day (epoch ms): the traffic starts at that day's midnight, UTC. */
  start: number;
}

/** The default first day of generated traffic. */
export const GENERATE_START = "2026-03-02T00:00:00Z";

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
 * One day of an object's traffic, in time order. `carry` is the object's own, kept from one day to
 * the next, so that what a day starts respects what the day before left (a burst's spacing, a job
 * running). A generator, not an array: a day of trickle is hundreds of facts, and 10,000 objects'
 * days held at once would be gigabytes.
 */
type Emit = (o: GenerateOptions, day: number, random: () => number, carry: Carry) => Generator<Fact, void>;

interface Carry {
  /** When the next burst may start, or the next job be queued (epoch ms); -Infinity at first. */
  next: number;
}

const between = (random: () => number, lo: number, hi: number) => lo + random() * (hi - lo);
const whole = (ms: number) => Math.round(ms / SECOND) * SECOND;

/** A backlog of `peak` draining over `length` with a fact every `every()`. */
function* drain(
  at: number,
  peak: number,
  length: number,
  every: () => number,
  extra: JsonObject = {},
): Generator<Fact> {
  yield { at: whole(at), facts: { ...work(peak, 1), ...extra } };
  for (let t = at + every(); t < at + length; t += every()) {
    const left = Math.round(peak * (1 - (t - at) / length));
    yield { at: whole(t), facts: work(Math.max(left, 1), 1) };
  }
}

const burst: Emit = function* (o, day, random, carry) {
  const count = 1 + Math.floor(random() * 3);
  const starts = Array.from({ length: count }, () => o.start + day * DAY + random() * (DAY - 10 * MINUTE)).sort(
    (a, b) => a - b,
  );
  for (const at of starts) {
    const length = between(random, 2, 6) * MINUTE;
    // Within 10 minutes of the previous burst's end (that day's or the day before's): one is enough.
    if (at < carry.next) continue;
    yield* drain(at, 5 + Math.floor(random() * 36), length, () => between(random, 5, 20) * SECOND);
    yield { at: whole(at + length), facts: work(0, 0) };
    carry.next = at + length + 10 * MINUTE;
  }
};

const nightly: Emit = function* (o, day, random) {
  const at = o.start + day * DAY + 2 * 60 * MINUTE + random() * 5 * MINUTE;
  const length = between(random, 10, 30) * MINUTE;
  const requested = { report: { requested: true, status: "running" } };
  yield* drain(at, 50 + Math.floor(random() * 151), length, () => MINUTE, requested);
  yield { at: whole(at + length), facts: { ...work(0, 0), report: { requested: false, status: "sent" } } };
};

/** The longest a trickle job takes: the last one queued before a day's end is done up to this after it. */
const LONGEST_JOB = 40 * SECOND;

/**
 * The latest time a fact of the traffic from `start`'s day over `days` days can have (epoch ms):
 * the last day's end, or a trickle job queued just before it and done after.
 */
export function latestFact(start: number, days: number): number {
  return Math.floor(start / DAY) * DAY + days * DAY + LONGEST_JOB;
}

const trickle: Emit = function* (o, day, random, carry) {
  const end = o.start + (day + 1) * DAY;
  // The first day's first job comes in its first 5 minutes; later days go on from the last job.
  let t = day === 0 ? o.start + random() * 5 * MINUTE : carry.next;
  for (; t < end;) {
    const done = t + between(random, 5, LONGEST_JOB / SECOND) * SECOND;
    yield { at: whole(t), facts: work(1, 1) };
    yield { at: whole(done), facts: work(0, 0) };
    // Exponential gaps averaging 5 minutes, kept between 1 and 15 so that jobs never overlap.
    const gap = Math.min(15, Math.max(1, -5 * Math.log(1 - random()))) * MINUTE;
    t = Math.max(done + SECOND, t + gap);
  }
  carry.next = t;
};

const EMITTERS: Record<Shape, Emit> = { burst, nightly, trickle };

/**
 * One object's facts over the days, in time order: each day's come after the day before's (a burst
 * at least 10 minutes after the last one ended, a job after the last one is done, a nightly batch
 * over by 02:36).
 */
function* objectTraffic(o: GenerateOptions, i: number): Generator<Fact, void> {
  // One stream of numbers per object: adding objects does not change the first ones' traffic.
  const random = seededRandom(objectSeed(o.seed, i));
  const carry: Carry = { next: -Infinity };
  for (let day = 0; day < o.days; day++) yield* EMITTERS[o.shape](o, day, random, carry);
}

/** The most objects one generation makes (`--objects`). */
export const MAX_OBJECTS = 10_000;

/** Objects whose streams are seeded `seed * SEED_STRIDE + i`, as they always were. */
const SEED_STRIDE = 7919;

/**
 * The seed of the stream of numbers of object `i` (from 0) under `seed`: no two objects of seeds
 * below 271,181 (2^31 / SEED_STRIDE), of one seed or two, share one. The stream takes 32 bits, which cannot keep
 * every seed's 10,000 objects apart, and `seed * 7919 + i` for all of them gave the 7,920th
 * object of seed 1 the stream of the first of seed 2, and so on up: 2,081 objects of a seed
 * repeated the next seed's traffic. The first 7,919 keep those seeds (the traffic a seed printed,
 * fixtures/traffic/queue-burst.jsonl among it, stays as it was); the others are counted in the
 * top half of the 32 bits, 2,081 to a seed, where the first ones' seeds reach only from seed
 * 271,181 on.
 */
export function objectSeed(seed: number, i: number): number {
  return i < SEED_STRIDE ? seed * SEED_STRIDE + i : 2 ** 31 + seed * (MAX_OBJECTS - SEED_STRIDE) + (i - SEED_STRIDE);
}

/** An object's next fact, waiting its turn in the merge. */
interface Head {
  fact: Fact;
  objectId: string;
  rest: Generator<Fact, void>;
}

/** Time order, then by object id as strings compare (`x-10` before `x-2`), as the lines print. */
const before = (a: Head, b: Head) => a.fact.at < b.fact.at || (a.fact.at === b.fact.at && a.objectId < b.objectId);

/**
 * The traffic of `o.objects` objects over `o.days` days, in time order (then by object), a line at
 * a time: each object's facts come in time order, and a heap of each object's next fact merges
 * them, so memory grows with the objects, not with the lines (the bounds allow 2×10⁹ of them).
 * An object's facts at one moment keep the order it made them in.
 */
export function* trafficLines(options: GenerateOptions): Generator<TrafficLine, void> {
  const o = { ...options, start: Math.floor(options.start / DAY) * DAY };
  const heap: Head[] = [];
  for (let i = 0; i < o.objects; i++) {
    const rest = objectTraffic(o, i);
    const first = rest.next();
    // Not padded: a tenth object must not rename the first nine.
    if (!first.done) push(heap, { fact: first.value, objectId: `${o.shape}-${i + 1}`, rest });
  }
  while (heap.length > 0) {
    const head = heap[0]!;
    const { fact, objectId } = head;
    yield { at: new Date(fact.at).toISOString(), objectId, facts: fact.facts };
    const next = head.rest.next();
    if (next.done) {
      const last = heap.pop()!;
      if (heap.length > 0) {
        heap[0] = last;
        down(heap);
      }
    } else {
      // The merge is right only if each object's facts come in time order; say so if one did not.
      if (next.value.at < fact.at)
        throw new Error(`${objectId}'s traffic went back in time after ${new Date(fact.at).toISOString()}`);
      head.fact = next.value;
      down(heap);
    }
  }
}

/** The traffic of {@link trafficLines} in one array: for tests and small runs. */
export function generateTraffic(options: GenerateOptions): TrafficLine[] {
  return [...trafficLines(options)];
}

function push(heap: Head[], h: Head): void {
  let i = heap.push(h) - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!before(heap[i]!, heap[parent]!)) break;
    [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
    i = parent;
  }
}

/** Moves the root down to its place. */
function down(heap: Head[]): void {
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let least = i;
    if (l < heap.length && before(heap[l]!, heap[least]!)) least = l;
    if (r < heap.length && before(heap[r]!, heap[least]!)) least = r;
    if (least === i) return;
    [heap[i], heap[least]] = [heap[least]!, heap[i]!];
    i = least;
  }
}
