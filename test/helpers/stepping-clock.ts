// A virtual clock that can be stepped back, as a server's clock is when NTP corrects it or a
// virtual machine resumes: what the server reads as now goes back, its timers stay where they were.

import { VirtualClock } from "../../src/timers/clock.ts";

export class SteppingClock extends VirtualClock {
  private offset = 0;
  override now(): number {
    return super.now() - this.offset;
  }
  stepBack(ms: number): void {
    this.offset += ms;
  }
}
