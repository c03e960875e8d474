// A page of a list reply bounded by bytes as well as by count (GET /v1/objects, GET
// /v1/objects/{id}/decisions): each item is serialized once, as it is added, and the page stops
// before the next item would take its JSON past PAGE_BYTES. It holds at least one item, however
// large.

import { PAGE_BYTES } from "../contracts/api-replies.ts";

/** Room for what a page holds besides its items: `{"items":[]}` and a cursor (an id is at most 128 characters). */
const PAGE_OVERHEAD = 256;

export class JsonPage {
  private readonly items: string[] = [];
  private bytes = 0;

  /** Items the page holds. */
  get length(): number {
    return this.items.length;
  }

  /** About how many more items of the size of those held would fit (at least 1). */
  room(): number {
    if (this.items.length === 0) return 1;
    return Math.max(1, Math.floor((PAGE_BYTES - this.bytes) / (this.bytes / this.items.length)));
  }

  /** Adds the item unless it would take the page past PAGE_BYTES; false when it did not fit. */
  add(item: unknown): boolean {
    const json = JSON.stringify(item);
    // Its JSON and the comma before it.
    const size = Buffer.byteLength(json) + 1;
    if (this.items.length > 0 && this.bytes + size > PAGE_BYTES - PAGE_OVERHEAD) return false;
    this.items.push(json);
    this.bytes += size;
    return true;
  }

  /** The reply's body: `{"items":[...]}` with `more` (`,"nextCursor":"..."` or nothing) after the list. */
  body(more: string): string {
    return `{"items":[${this.items.join(",")}]${more}}`;
  }
}
