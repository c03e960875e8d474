// Policy documents written in tests: one schedule and a rule that never fires, so that only
// the schedule's ticks evaluate the object (and every one is quiet).

export function scheduledPolicy(opts: { name: string; cron: string; version?: string; timezone?: string }) {
  const schedule = { name: "tick", cron: opts.cron, ...(opts.timezone ? { timezone: opts.timezone } : {}) };
  return {
    name: opts.name,
    version: opts.version ?? "1",
    schedules: [schedule],
    rules: [
      {
        name: "never",
        conditions: { all: [{ fact: "state", operator: "equal", value: "nope" }] },
        event: { type: "wake" },
      },
    ],
  };
}
