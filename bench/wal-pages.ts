// Where the writer's pages go: how many pages the commits of some arrivals wrote to the WAL,
// and which table or index each page belongs to. Unlike a rate, this does not move with what
// else the machine runs, so a change to the schema or to the write path can be judged by it.
//
// How: a reader on its own connection holds a snapshot taken before the arrivals, so that no
// checkpoint can copy their pages into the database file (a checkpoint may not change what the
// reader sees); every frame they wrote is then still in the WAL, after the position read at the
// start, or from its first frame when the WAL had been copied back whole and started over at
// their first commit (see walPages). A frame's header names its page; the dbstat table names
// the page's tree.
// SQLite's WAL format: https://www.sqlite.org/fileformat2.html#walformat

import { createClient } from "@libsql/client";
import { closeSync, openSync, readSync } from "node:fs";

const WAL_HEADER = 32;
const FRAME_HEADER = 24;

/** Where the WAL's current generation ends: its salts and the frames up to its last commit. */
export interface WalPosition {
  pageSize: number;
  salt1: number;
  salt2: number;
  /** Frames of this generation, up to and including the last commit frame. */
  frames: number;
}

/** The frames of the WAL at `walPath` from frame `from` (0-based) to its last commit. */
export function readWal(walPath: string, from = 0): { position: WalPosition; pages: number[]; commits: number } {
  const fd = openSync(walPath, "r");
  try {
    const header = Buffer.alloc(WAL_HEADER);
    if (readSync(fd, header, 0, WAL_HEADER, 0) < WAL_HEADER)
      return { position: { pageSize: 0, salt1: 0, salt2: 0, frames: 0 }, pages: [], commits: 0 };
    const pageSize = header.readUInt32BE(8);
    const salt1 = header.readUInt32BE(16);
    const salt2 = header.readUInt32BE(20);
    const frame = Buffer.alloc(FRAME_HEADER);
    const pages: number[] = [];
    let commits = 0;
    let frames = 0;
    let pending = 0;
    for (let i = 0; ; i++) {
      const at = WAL_HEADER + i * (FRAME_HEADER + pageSize);
      if (readSync(fd, frame, 0, FRAME_HEADER, at) < FRAME_HEADER) break;
      // A frame of an earlier generation (left behind when the WAL restarted) ends this one.
      if (frame.readUInt32BE(8) !== salt1 || frame.readUInt32BE(12) !== salt2) break;
      if (i >= from) {
        pages.push(frame.readUInt32BE(0));
        pending++;
      }
      // A commit frame carries the database's size in pages; the frames of a transaction not
      // yet committed (the writer may be writing one now) are not counted.
      if (frame.readUInt32BE(4) !== 0) {
        frames = i + 1;
        if (i >= from) commits++;
        pending = 0;
      }
    }
    if (pending > 0) pages.length -= pending;
    return { position: { pageSize, salt1, salt2, frames }, pages, commits };
  } finally {
    closeSync(fd);
  }
}

export interface WalPages {
  /** What `go` said it did (arrivals acknowledged). */
  arrivals: number;
  commits: number;
  /** Pages written, and by the tree (table or index) each belongs to, most first. */
  pages: number;
  byTree: [string, number][];
}

/**
 * Runs `go` (which returns how many arrivals it made) and counts the WAL pages their commits
 * wrote, by tree. `dbPath` is the database file a server is writing to.
 */
export async function walPages(dbPath: string, go: () => Promise<number>): Promise<WalPages> {
  const reader = createClient({ url: `file:${dbPath}` });
  let tx;
  try {
    tx = await reader.transaction("read");
    await tx.execute("SELECT COUNT(*) FROM sqlite_schema"); // the snapshot starts at the first read
    const start = readWal(`${dbPath}-wal`).position;
    const arrivals = await go();
    let end = readWal(`${dbPath}-wal`, start.frames);
    // When the WAL had been copied back whole as the reader began, the reader reads the database
    // file alone and does not hold the WAL: the first commit then restarts it (new salts), and
    // none can restart it again, since the reader keeps every checkpoint from the file. The
    // window's frames are then the whole new generation.
    if (end.position.salt1 !== start.salt1 || end.position.salt2 !== start.salt2) end = readWal(`${dbPath}-wal`);
    await tx.rollback();
    tx = undefined;
    const trees = new Map<number, string>();
    for (const r of (await reader.execute("SELECT pageno, name FROM dbstat")).rows)
      trees.set(Number(r.pageno), String(r.name));
    const byTree = new Map<string, number>();
    // A page missing from dbstat was freed since (a split or a delete moved its content).
    for (const page of end.pages) {
      const tree = trees.get(page) ?? "(freed since)";
      byTree.set(tree, (byTree.get(tree) ?? 0) + 1);
    }
    return {
      arrivals,
      commits: end.commits,
      pages: end.pages.length,
      byTree: [...byTree].sort((a, b) => b[1] - a[1]),
    };
  } finally {
    if (tx) await tx.rollback().catch(() => {});
    reader.close();
  }
}

/** `3.6 pages an arrival (40 a commit): decisions_object 1.5, ...` */
export function walPagesLine(w: WalPages, shown = 5): string {
  const per = (n: number) => (n / Math.max(1, w.arrivals)).toFixed(2);
  const trees = w.byTree.slice(0, shown).map(([name, n]) => `${name} ${per(n)}`);
  const rest = w.byTree.slice(shown).reduce((s, [, n]) => s + n, 0);
  if (rest > 0) trees.push(`others ${per(rest)}`);
  return `${per(w.pages)} pages an arrival (${(w.pages / Math.max(1, w.commits)).toFixed(0)} a commit, ${(w.arrivals / Math.max(1, w.commits)).toFixed(1)} arrivals a commit): ${trees.join(", ")}`;
}
