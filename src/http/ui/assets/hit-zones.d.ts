// Types of hit-zones.js (plain JavaScript, since the browser loads it as it is); tests use it.

/** Each mark's hit area, `[x1, x2]`, from the marks' places in time order. */
export declare function hitZones(xs: readonly number[]): [number, number][];
