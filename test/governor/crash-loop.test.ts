import { describe, expect, test } from "vitest";
import { CrashLoopGuard } from "../../src/governor/crash-loop.ts";

const LIMIT = { exits: 3, windowMs: 60_000 };

describe("CrashLoopGuard", () => {
  test("too many exits within the window is a crash loop; spread out, they are not", () => {
    const guard = new CrashLoopGuard(LIMIT);
    expect(guard.exited("a", 0)).toBe(false);
    expect(guard.exited("a", 10_000)).toBe(false);
    expect(guard.exited("a", 20_000)).toBe(true);
    const spread = new CrashLoopGuard(LIMIT);
    expect([0, 40_000, 80_000, 120_000].map((t) => spread.exited("b", t))).toEqual([false, false, false, false]);
  });

  test("an object whose exits are all out of the window is let go at the next exit of any object", () => {
    const guard = new CrashLoopGuard(LIMIT);
    for (let i = 0; i < 1000; i++) guard.exited(`once-${i}`, i * 60);
    expect(guard.watched).toBe(1000);
    // Inside the window nothing is let go: these exits still count.
    guard.exited("later", 59_000);
    expect(guard.watched).toBe(1001);
    guard.exited("later", 61_500);
    // once-0..once-25 (the last at 1.5 s) are out of the window at 61.5 s; "later" is not.
    expect(guard.watched).toBe(1001 - 26);
    guard.exited("last", 200_000);
    expect(guard.watched).toBe(1);
  });

  test("an object let go starts counting again from nothing", () => {
    const guard = new CrashLoopGuard(LIMIT);
    guard.exited("a", 0);
    guard.exited("a", 1_000);
    guard.exited("other", 70_000);
    expect(guard.exited("a", 70_500)).toBe(false);
    expect(guard.exited("a", 71_000)).toBe(false);
    expect(guard.exited("a", 71_500)).toBe(true);
  });
});
