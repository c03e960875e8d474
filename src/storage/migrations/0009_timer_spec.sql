-- A reload that changed a schedule's cron (same name) left each object's tick armed for the old
-- one until the re-arming walk reached it; one that fell due first fired under the new version.
-- A cron tick's row now keeps the schedule it was armed for; older rows have none (null).
ALTER TABLE `timers` ADD `spec` text;