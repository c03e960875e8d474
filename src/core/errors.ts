// Domain errors with a stable kind; the HTTP layer maps each kind to one status code.

import type { Problem } from "./validate.ts";

export type ErrorKind = "not-found" | "invalid" | "conflict" | "too-large" | "unavailable";

export class VigilError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly problems: Problem[] = [],
  ) {
    super(message);
    this.name = "VigilError";
  }
}

export const notFound = (what: string) => new VigilError("not-found", `${what} not found`);
export const invalid = (message: string, problems: Problem[] = []) => new VigilError("invalid", message, problems);
export const conflict = (message: string) => new VigilError("conflict", message);
