-- Pruning deletes the actions of the decisions it deletes, by (object_id, decision_id): with an
-- index on object_id alone each statement read all of the object's actions, so pruning a long
-- history cost the square of its length (a million actions: 2.4 s for every 5,000 decisions).
DROP INDEX `actions_object`;--> statement-breakpoint
CREATE INDEX `actions_object` ON `actions` (`object_id`,`decision_id`);