// Types of segments.js (plain JavaScript, since the browser loads it as it is).

export type State = "dormant" | "waking" | "active" | "sleeping" | "failed";

export interface StateChange {
  id: string;
  /** Epoch ms. */
  at: number;
  fromState: State;
  toState: State;
}

export interface Segment {
  state: State;
  from: number;
  to: number;
}

export interface ConfirmationInterval {
  id: string;
  state: State;
  from: number;
  to: number;
}

export declare const STATES: readonly State[];
export declare const CONFIRMS_TO: Readonly<Partial<Record<State, State>>>;

export declare function segmentsOf(
  decisions: readonly StateChange[],
  current: { state: State; stateSince: number; createdAt?: number },
  to: number,
  confirmed?: ReadonlyMap<string, number>,
): Segment[];

export declare function confirmationIntervals(decisions: readonly StateChange[]): ConfirmationInterval[];

export declare function clip(segments: readonly Segment[], from: number, to: number): Segment[];
