-- A deletion of an object with a long history went in one transaction (about 6 s for a million
-- decisions, every other write waiting, the lease's renewal too). It now deletes the history a
-- batch at a time; this table marks the objects whose deletion has begun, so that a server
-- stopped midway finishes it at its next start.
CREATE TABLE `deletions` (
	`object_id` text PRIMARY KEY NOT NULL
);
