// Where the store's writes go: one transaction per call, either on the store's own connection
// or, for a file database, on a writer thread that owns a connection of its own (so the main
// thread goes on serving while a commit waits for the disk). Reads stay on the main connection;
// WAL lets them run beside the writer.

import type { Client, InStatement } from "@libsql/client";
import { Worker } from "node:worker_threads";
import { WRITER_EXITED } from "../core/errors.ts";

export interface SqlWriter {
  /**
   * Runs the statements in one write transaction (possibly shared with other writes sent
   * meanwhile, never split); resolves once it is durable. Made under `lease`, the write goes in
   * only if the lease row still names its owner inside that transaction, else it fails with a
   * {@link WriteError} of code {@link LEASE_LOST} (the thread writer; see directWriter).
   */
  write(statements: InStatement[], lease?: WriteLease): Promise<void>;
  /** Why no write can go through any more (the writer thread stopped), or null. */
  failed(): Error | null;
  /** Writes done and the transactions they took (the thread writer joins queued writes). */
  readonly stats: { writes: number; transactions: number };
  close(): Promise<void>;
}

/** The lease a write is made under: the row of `lease` named `name` must name `owner`. */
export interface WriteLease {
  name: string;
  owner: string;
}

/** The code of a write refused because its lease is another server's now. */
export const LEASE_LOST = "VIGIL_LEASE_LOST";

/**
 * Writes on the given connection (`:memory:`, a remote server). The lease is not checked here:
 * a `:memory:` database has one server by construction, and for a remote server the check
 * would need an interactive transaction (two more round trips a write); the governor's own
 * fence (governor/fence.ts) still refuses writes once it knows the lease is lost.
 */
export function directWriter(client: Client): SqlWriter {
  const stats = { writes: 0, transactions: 0 };
  return {
    stats,
    write: async (statements) => {
      if (statements.length === 0) return;
      await client.batch(statements, "write");
      stats.writes++;
      stats.transactions++;
    },
    failed: () => null,
    close: async () => {},
  };
}

interface Reply {
  id?: number;
  ok?: boolean;
  ready?: boolean;
  transaction?: number;
  message?: string;
  code?: string;
}

/** A failed write on the writer thread, with the database's error code. */
export class WriteError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = "WriteError";
  }
}

/** Writes on a worker thread that owns its own connection to the database file at `path`. */
export async function threadWriter(path: string): Promise<SqlWriter & { readonly thread: Worker }> {
  const worker = new Worker(new URL("./sql-writer-worker.mjs", import.meta.url), { workerData: { path } });
  const waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  let next = 1;
  let failure: Error | null = null;
  const stats = { writes: 0, transactions: 0 };
  const failAll = (e: Error) => {
    failure = e;
    for (const w of waiting.values()) w.reject(e);
    waiting.clear();
  };
  await new Promise<void>((resolve, reject) => {
    worker.once("error", reject);
    worker.once("message", (m: Reply) => (m.ready ? resolve() : reject(new Error("the writer thread did not start"))));
  });
  worker.on("message", (m: Reply) => {
    const w = m.id === undefined ? undefined : waiting.get(m.id);
    if (!w) return;
    waiting.delete(m.id!);
    if (m.ok) {
      stats.writes++;
      stats.transactions = Math.max(stats.transactions, m.transaction ?? 0);
      w.resolve();
    } else w.reject(new WriteError(m.message ?? "write failed", m.code));
  });
  // A write on its way when the thread stopped may have been committed before it did.
  const stopped = (why: string) =>
    new WriteError(`${why}; a write on its way then may or may not have been recorded`, WRITER_EXITED);
  worker.on("error", (e) => failAll(stopped(`the writer thread failed (${e.message})`)));
  worker.on("exit", (code) => failure ?? failAll(stopped(`the writer thread exited (${code})`)));
  return {
    stats,
    failed: () => failure,
    /** The thread itself: a test ends it as a crash would. */
    thread: worker,
    write: (statements, lease) => {
      if (statements.length === 0) return Promise.resolve();
      if (failure) return Promise.reject(failure);
      const id = next++;
      return new Promise<void>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        // Structured clone: measured at about half the main thread's time of JSON text for a
        // group's statements (the big values are strings, which clone by copy).
        worker.postMessage(lease ? { id, statements, lease } : { id, statements });
      });
    },
    close: async () => {
      if (failure) return;
      const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
      worker.postMessage("close");
      await exited;
    },
  };
}
