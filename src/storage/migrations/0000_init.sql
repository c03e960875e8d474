CREATE TABLE `actions` (
	`id` text PRIMARY KEY NOT NULL,
	`object_id` text NOT NULL,
	`decision_id` text NOT NULL,
	`kind` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`last_error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `actions_status` ON `actions` (`status`,`id`);--> statement-breakpoint
CREATE INDEX `actions_object` ON `actions` (`object_id`);--> statement-breakpoint
CREATE TABLE `decisions` (
	`id` text PRIMARY KEY NOT NULL,
	`object_id` text NOT NULL,
	`at` integer NOT NULL,
	`outcome` text NOT NULL,
	`trigger_kind` text NOT NULL,
	`body` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `decisions_object` ON `decisions` (`object_id`,`id`);--> statement-breakpoint
CREATE TABLE `idempotency` (
	`object_id` text NOT NULL,
	`key` text NOT NULL,
	`response` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`object_id`, `key`)
);
--> statement-breakpoint
CREATE TABLE `journal` (
	`object_id` text NOT NULL,
	`seq` integer NOT NULL,
	`patch` text NOT NULL,
	`at` integer NOT NULL,
	PRIMARY KEY(`object_id`, `seq`)
);
--> statement-breakpoint
CREATE INDEX `journal_at` ON `journal` (`at`);--> statement-breakpoint
CREATE TABLE `objects` (
	`id` text PRIMARY KEY NOT NULL,
	`policy` text NOT NULL,
	`state` text NOT NULL,
	`state_since` integer NOT NULL,
	`memory` text NOT NULL,
	`memory_version` integer NOT NULL,
	`driver` text NOT NULL,
	`driver_config` text NOT NULL,
	`observed` text,
	`hold_until` integer,
	`last_decision_id` text,
	`last_fact_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `objects_state` ON `objects` (`state`,`id`);--> statement-breakpoint
CREATE INDEX `objects_policy` ON `objects` (`policy`,`id`);--> statement-breakpoint
CREATE TABLE `timers` (
	`object_id` text NOT NULL,
	`name` text NOT NULL,
	`due_at` integer NOT NULL,
	`kind` text NOT NULL,
	PRIMARY KEY(`object_id`, `name`)
);
--> statement-breakpoint
CREATE INDEX `timers_due` ON `timers` (`due_at`);