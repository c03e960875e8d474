// Where the mouse reaches each decision's mark on the timeline (timeline.js): a pure function of
// the marks' places, run in Node by the tests.

/** How wide a mark's hit area is where no other mark is near. */
const HIT = 12;

/**
 * Each mark's hit area, `[x1, x2]`, from the marks' places in time order. Marks less than a
 * pixel apart (decisions moments apart) make a stack, which shares one area in equal parts,
 * oldest on the left, as wide as a lone mark's or a pixel a mark, whichever is wider. Two
 * stacks closer than that meet halfway, so that each mark's triangle lies in its own stack's area.
 */
export function hitZones(xs) {
  const stacks = [];
  for (const x of xs) {
    const last = stacks[stacks.length - 1];
    if (last && x - last.x < 1) last.count++;
    else stacks.push({ x, count: 1 });
  }
  const zones = [];
  stacks.forEach(({ x, count }, k) => {
    const half = Math.max(HIT, count) / 2;
    const left = k > 0 ? Math.max(x - half, (stacks[k - 1].x + x) / 2) : x - half;
    const right = k < stacks.length - 1 ? Math.min(x + half, (x + stacks[k + 1].x) / 2) : x + half;
    const part = (right - left) / count;
    for (let j = 0; j < count; j++) zones.push([left + j * part, left + (j + 1) * part]);
  });
  return zones;
}
