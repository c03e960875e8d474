-- Reconciliation observes a failed object only when its stored observation lists leftovers, and
-- found those by reading every failed object, a page at a time, each pass. This index holds the
-- failed objects with leftovers alone: the pass reads them by it (LibsqlStore.listObjects).
CREATE INDEX `objects_failed_leftovers` ON `objects` (`id`) WHERE state = 'failed' AND json_type(observed, '$.leftovers') IS NOT NULL;