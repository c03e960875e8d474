-- A database left by Vigil at commit bfed3f9 (`vigil serve` on a file, SIGTERM), one object (q2): created with memory {"account": 12345678901234567890}, then facts {"queue": {"depth": 2}, "job": 9007199254740993} and {"queue": {"depth": 0}}; that Vigil kept integers past 2^53 as JSON read them.
CREATE TABLE IF NOT EXISTS "__drizzle_migrations" (
			id SERIAL PRIMARY KEY,
			hash text NOT NULL,
			created_at numeric
		);
INSERT INTO __drizzle_migrations VALUES(NULL,'3103da82cbbaefc0679586b36c5ed692679898d844dca57c9e9bed2cf866f891',1795929698670);
INSERT INTO __drizzle_migrations VALUES(NULL,'85e0bb2ff0e5af899ca72b4ace67df334a388ab2de5abedda5ee19d3218fbed8',1795931205465);
INSERT INTO __drizzle_migrations VALUES(NULL,'d39f41a162f058ecbe6d294aeb897a67e90397e1a493c2ba90989ab23a8ecc4b',1796057635890);
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
INSERT INTO actions VALUES('act_0mxawxyo00000332daa0f','q2','dec_0mxawxyo00001332daa0f','start','confirmed',1,1796505421244,NULL,1796505421244,1796505421251);
CREATE TABLE `decisions` (
	`id` text PRIMARY KEY NOT NULL,
	`object_id` text NOT NULL,
	`at` integer NOT NULL,
	`outcome` text NOT NULL,
	`trigger_kind` text NOT NULL,
	`body` text NOT NULL
);
INSERT INTO decisions VALUES('dec_0mxawxymd0000332daa0f','q2',1796505421185,'none','create','{"id":"dec_0mxawxymd0000332daa0f","objectId":"q2","at":1796505421185,"trigger":{"kind":"create"},"policy":{"name":"queue-worker","version":"1","hash":"3bdf66d983cabe386b13e6dd17f4204812d9a4cfa2b7a8ca59001e757091a347"},"memoryVersion":0,"fired":[],"outcome":"none","fromState":"dormant","toState":"dormant","actions":[],"timers":[],"notes":[],"explanation":{"summary":"outcome none (no rule fired); state stays dormant","rules":[{"rule":"backlog-wake","event":"wake","fired":false,"conditions":{"kind":"all","result":false,"conditions":[{"kind":"fact","fact":"memory","operator":"greaterThan","value":0,"result":false,"path":"$.queue.depth","factValue":0}]}},{"rule":"job-in-flight","event":"hold-active","fired":false,"conditions":{"kind":"all","result":false,"conditions":[{"kind":"fact","fact":"memory","operator":"greaterThan","value":0,"result":false,"path":"$.jobs.inflight","factValue":0}]}},{"rule":"idle","event":"dormancy","fired":false,"conditions":{"kind":"all","result":false,"conditions":[{"kind":"fact","fact":"memory","operator":"equal","value":0,"result":true,"path":"$.queue.depth","factValue":0},{"kind":"fact","fact":"memory","operator":"equal","value":0,"result":true,"path":"$.jobs.inflight","factValue":0},{"kind":"fact","fact":"state","operator":"in","value":["active","waking"],"result":false,"factValue":"dormant"}]}}]},"dryRun":false,"durationMs":3.681}');
INSERT INTO decisions VALUES('dec_0mxawxyo00001332daa0f','q2',1796505421244,'wake','facts','{"id":"dec_0mxawxyo00001332daa0f","objectId":"q2","at":1796505421244,"trigger":{"kind":"facts"},"policy":{"name":"queue-worker","version":"1","hash":"3bdf66d983cabe386b13e6dd17f4204812d9a4cfa2b7a8ca59001e757091a347"},"memoryVersion":1,"fired":[{"rule":"backlog-wake","event":"wake","params":{"reason":"work is queued"}}],"outcome":"wake","fromState":"dormant","toState":"waking","actions":[{"id":"act_0mxawxyo00000332daa0f","kind":"start","status":"pending"}],"timers":[],"notes":[],"explanation":{"summary":"outcome wake (fired: backlog-wake); dormant -> waking; start issued","rules":[{"rule":"backlog-wake","event":"wake","fired":true,"conditions":{"kind":"all","result":true,"conditions":[{"kind":"fact","fact":"memory","operator":"greaterThan","value":0,"result":true,"path":"$.queue.depth","factValue":2}]}},{"rule":"job-in-flight","event":"hold-active","fired":false,"conditions":{"kind":"all","result":false,"conditions":[{"kind":"fact","fact":"memory","operator":"greaterThan","value":0,"result":false,"path":"$.jobs.inflight","factValue":0}]}},{"rule":"idle","event":"dormancy","fired":false,"conditions":{"kind":"all","result":false,"conditions":[{"kind":"fact","fact":"memory","operator":"equal","value":0,"result":false,"path":"$.queue.depth","factValue":2},{"kind":"fact","fact":"memory","operator":"equal","value":0,"result":true,"path":"$.jobs.inflight","factValue":0},{"kind":"fact","fact":"state","operator":"in","value":["active","waking"],"result":false,"factValue":"dormant"}]}}]},"dryRun":false,"durationMs":4.146}');
INSERT INTO decisions VALUES('dec_0mxawxyqq0000332daa0f','q2',1796505421344,'none','facts','{"id":"dec_0mxawxyqq0000332daa0f","objectId":"q2","at":1796505421344,"trigger":{"kind":"facts"},"policy":{"name":"queue-worker","version":"1","hash":"3bdf66d983cabe386b13e6dd17f4204812d9a4cfa2b7a8ca59001e757091a347"},"memoryVersion":2,"fired":[{"rule":"idle","event":"dormancy","params":{"wakeAfter":"PT6H"}}],"outcome":"none","fromState":"active","toState":"active","actions":[],"timers":[{"name":"dwell","op":"set","dueAt":1796505541244,"kind":"dwell"}],"notes":["dormancy (idle) deferred by dwell.minActive until 2026-12-05T21:19:01.244Z"],"explanation":{"summary":"outcome none (fired: idle); state stays active","rules":[{"rule":"backlog-wake","event":"wake","fired":false,"conditions":{"kind":"all","result":false,"conditions":[{"kind":"fact","fact":"memory","operator":"greaterThan","value":0,"result":false,"path":"$.queue.depth","factValue":0}]}},{"rule":"job-in-flight","event":"hold-active","fired":false,"conditions":{"kind":"all","result":false,"conditions":[{"kind":"fact","fact":"memory","operator":"greaterThan","value":0,"result":false,"path":"$.jobs.inflight","factValue":0}]}},{"rule":"idle","event":"dormancy","fired":true,"conditions":{"kind":"all","result":true,"conditions":[{"kind":"fact","fact":"memory","operator":"equal","value":0,"result":true,"path":"$.queue.depth","factValue":0},{"kind":"fact","fact":"memory","operator":"equal","value":0,"result":true,"path":"$.jobs.inflight","factValue":0},{"kind":"fact","fact":"state","operator":"in","value":["active","waking"],"result":true,"factValue":"active"}]}}]},"dryRun":false,"durationMs":2.003}');
CREATE TABLE `idempotency` (
	`object_id` text NOT NULL,
	`key` text NOT NULL,
	`response` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`object_id`, `key`)
);
CREATE TABLE `journal` (
	`object_id` text NOT NULL,
	`seq` integer NOT NULL,
	`patch` text NOT NULL,
	`at` integer NOT NULL, `kind` text DEFAULT 'patch' NOT NULL,
	PRIMARY KEY(`object_id`, `seq`)
);
INSERT INTO journal VALUES('q2',0,'{"account":12345678901234567000}',1796505421185,'patch');
INSERT INTO journal VALUES('q2',1,'{"queue":{"depth":2},"job":9007199254740992}',1796505421244,'patch');
INSERT INTO journal VALUES('q2',2,'{"queue":{"depth":0}}',1796505421344,'patch');
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
, `woke_at` integer);
INSERT INTO objects VALUES('q2','queue-worker','active',1796505421251,'{"account":12345678901234567000,"queue":{"depth":0},"job":9007199254740992}',2,'simulated','{}','{"status":"running","at":1796505421251}',NULL,'dec_0mxawxyqq0000332daa0f',1796505421344,1796505421185,1796505421344,1796505421244);
CREATE TABLE `timers` (
	`object_id` text NOT NULL,
	`name` text NOT NULL,
	`due_at` integer NOT NULL,
	`kind` text NOT NULL,
	PRIMARY KEY(`object_id`, `name`)
);
INSERT INTO timers VALUES('q2','dwell',1796505541244,'dwell');
CREATE INDEX `actions_status` ON `actions` (`status`,`id`);
CREATE INDEX `actions_object` ON `actions` (`object_id`);
CREATE INDEX `decisions_object` ON `decisions` (`object_id`,`id`);
CREATE INDEX `journal_at` ON `journal` (`at`);
CREATE INDEX `objects_state` ON `objects` (`state`,`id`);
CREATE INDEX `objects_policy` ON `objects` (`policy`,`id`);
CREATE INDEX `timers_due` ON `timers` (`due_at`);
