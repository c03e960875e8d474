CREATE TABLE `policy_schedules` (
	`policy` text PRIMARY KEY NOT NULL,
	`schedules` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `policy_versions` (
	`key` integer PRIMARY KEY NOT NULL,
	`hash` text NOT NULL,
	`name` text NOT NULL,
	`version` text NOT NULL,
	`document` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `policy_versions_hash_unique` ON `policy_versions` (`hash`);--> statement-breakpoint
ALTER TABLE `idempotency` ADD `fingerprint` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `idempotency` ADD `decision_id` text DEFAULT '' NOT NULL;--> statement-breakpoint
UPDATE `idempotency` SET `fingerprint` = coalesce(json_extract(`response`, '$.request'), ''), `decision_id` = coalesce(json_extract(`response`, '$.reply.decision.id'), json_extract(`response`, '$.decision.id'), '');--> statement-breakpoint
CREATE INDEX `idempotency_created` ON `idempotency` (`created_at`);--> statement-breakpoint
ALTER TABLE `idempotency` DROP COLUMN `response`;--> statement-breakpoint
ALTER TABLE `journal` ADD `seed` text;--> statement-breakpoint
ALTER TABLE `objects` ADD `decision_count` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `objects_driver` ON `objects` (`driver`,`id`);--> statement-breakpoint
ALTER TABLE `decisions` DROP COLUMN `outcome`;--> statement-breakpoint
ALTER TABLE `decisions` DROP COLUMN `trigger_kind`;