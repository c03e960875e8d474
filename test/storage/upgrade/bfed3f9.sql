-- A database left by Vigil at commit bfed3f9, one object (q1) kept: objects, journal, decisions, actions, timers, idempotency as that Vigil wrote them.
CREATE TABLE IF NOT EXISTS "__drizzle_migrations" (
			id SERIAL PRIMARY KEY,
			hash text NOT NULL,
			created_at numeric
		);
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
CREATE INDEX `actions_status` ON `actions` (`status`,`id`);
CREATE INDEX `actions_object` ON `actions` (`object_id`);
CREATE TABLE `decisions` (
	`id` text PRIMARY KEY NOT NULL,
	`object_id` text NOT NULL,
	`at` integer NOT NULL,
	`outcome` text NOT NULL,
	`trigger_kind` text NOT NULL,
	`body` text NOT NULL
);
CREATE INDEX `decisions_object` ON `decisions` (`object_id`,`id`);
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
CREATE INDEX `journal_at` ON `journal` (`at`);
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
CREATE INDEX `objects_state` ON `objects` (`state`,`id`);
CREATE INDEX `objects_policy` ON `objects` (`policy`,`id`);
CREATE TABLE `timers` (
	`object_id` text NOT NULL,
	`name` text NOT NULL,
	`due_at` integer NOT NULL,
	`kind` text NOT NULL,
	PRIMARY KEY(`object_id`, `name`)
);
CREATE INDEX `timers_due` ON `timers` (`due_at`);
INSERT INTO __drizzle_migrations VALUES(NULL,'3103da82cbbaefc0679586b36c5ed692679898d844dca57c9e9bed2cf866f891',1795929698670);
INSERT INTO __drizzle_migrations VALUES(NULL,'85e0bb2ff0e5af899ca72b4ace67df334a388ab2de5abedda5ee19d3218fbed8',1795931205465);
INSERT INTO __drizzle_migrations VALUES(NULL,'d39f41a162f058ecbe6d294aeb897a67e90397e1a493c2ba90989ab23a8ecc4b',1796057635890);
INSERT INTO objects VALUES('q1','queue-worker','active',1796163829654,'{"queue":{"depth":0},"jobs":{"inflight":0}}',3,'simulated','{}','{"status":"running","at":1796163829654}',1796163891198,'dec_0mx59ki44000000cedf67',1796163831219,1796163829524,1796163831219,1796163829646);
INSERT INTO journal VALUES('q1',0,'{}',1796163829524,'patch');
INSERT INTO journal VALUES('q1',1,'{"queue":{"depth":3},"jobs":{"inflight":0}}',1796163829646,'patch');
INSERT INTO journal VALUES('q1',2,'{"jobs":{"inflight":1}}',1796163831198,'patch');
INSERT INTO journal VALUES('q1',3,'{"queue":{"depth":0},"jobs":{"inflight":0}}',1796163831219,'patch');
INSERT INTO decisions VALUES('dec_0mx59kgt9000000cedf67','q1',1796163829524,'none','create','{"id":"dec_0mx59kgt9000000cedf67","objectId":"q1","at":1796163829524,"trigger":{"kind":"create"},"policy":{"name":"queue-worker","version":"1","hash":"3bdf66d983cabe386b13e6dd17f4204812d9a4cfa2b7a8ca59001e757091a347"},"memoryVersion":0,"fired":[],"outcome":"none","fromState":"dormant","toState":"dormant","actions":[],"timers":[],"notes":[],"explanation":{"summary":"outcome none (no rule fired); state stays dormant","rules":[{"rule":"backlog-wake","event":"wake","fired":false,"conditions":{"kind":"all","result":false,"conditions":[{"kind":"fact","fact":"memory","operator":"greaterThan","value":0,"result":false,"path":"$.queue.depth","factValue":0}]}},{"rule":"job-in-flight","event":"hold-active","fired":false,"conditions":{"kind":"all","result":false,"conditions":[{"kind":"fact","fact":"memory","operator":"greaterThan","value":0,"result":false,"path":"$.jobs.inflight","factValue":0}]}},{"rule":"idle","event":"dormancy","fired":false,"conditions":{"kind":"all","result":false,"conditions":[{"kind":"fact","fact":"memory","operator":"equal","value":0,"result":true,"path":"$.queue.depth","factValue":0},{"kind":"fact","fact":"memory","operator":"equal","value":0,"result":true,"path":"$.jobs.inflight","factValue":0},{"kind":"fact","fact":"state","operator":"in","value":["active","waking"],"result":false,"factValue":"dormant"}]}}]},"dryRun":false,"durationMs":9.059}');
INSERT INTO decisions VALUES('dec_0mx59kgwf000100cedf67','q1',1796163829646,'wake','facts','{"id":"dec_0mx59kgwf000100cedf67","objectId":"q1","at":1796163829646,"trigger":{"kind":"facts"},"policy":{"name":"queue-worker","version":"1","hash":"3bdf66d983cabe386b13e6dd17f4204812d9a4cfa2b7a8ca59001e757091a347"},"memoryVersion":1,"fired":[{"rule":"backlog-wake","event":"wake","params":{"reason":"work is queued"}}],"outcome":"wake","fromState":"dormant","toState":"waking","actions":[{"id":"act_0mx59kgwf000000cedf67","kind":"start","status":"pending"}],"timers":[],"notes":[],"explanation":{"summary":"outcome wake (fired: backlog-wake); dormant -> waking; start issued","rules":[{"rule":"backlog-wake","event":"wake","fired":true,"conditions":{"kind":"all","result":true,"conditions":[{"kind":"fact","fact":"memory","operator":"greaterThan","value":0,"result":true,"path":"$.queue.depth","factValue":3}]}},{"rule":"job-in-flight","event":"hold-active","fired":false,"conditions":{"kind":"all","result":false,"conditions":[{"kind":"fact","fact":"memory","operator":"greaterThan","value":0,"result":false,"path":"$.jobs.inflight","factValue":0}]}},{"rule":"idle","event":"dormancy","fired":false,"conditions":{"kind":"all","result":false,"conditions":[{"kind":"fact","fact":"memory","operator":"equal","value":0,"result":false,"path":"$.queue.depth","factValue":3},{"kind":"fact","fact":"memory","operator":"equal","value":0,"result":true,"path":"$.jobs.inflight","factValue":0},{"kind":"fact","fact":"state","operator":"in","value":["active","waking"],"result":false,"factValue":"dormant"}]}}]},"dryRun":false,"durationMs":0.817}');
INSERT INTO decisions VALUES('dec_0mx59ki3i000000cedf67','q1',1796163831198,'hold-active','facts','{"id":"dec_0mx59ki3i000000cedf67","objectId":"q1","at":1796163831198,"trigger":{"kind":"facts"},"policy":{"name":"queue-worker","version":"1","hash":"3bdf66d983cabe386b13e6dd17f4204812d9a4cfa2b7a8ca59001e757091a347"},"memoryVersion":2,"fired":[{"rule":"backlog-wake","event":"wake","params":{"reason":"work is queued"}},{"rule":"job-in-flight","event":"hold-active","params":{"for":"PT1M","reason":"never sleep mid-job"}}],"outcome":"hold-active","fromState":"active","toState":"active","actions":[],"timers":[{"name":"hold","op":"set","dueAt":1796163891198,"kind":"hold"}],"notes":[],"explanation":{"summary":"outcome hold-active (fired: backlog-wake, job-in-flight); state stays active","rules":[{"rule":"backlog-wake","event":"wake","fired":true,"conditions":{"kind":"all","result":true,"conditions":[{"kind":"fact","fact":"memory","operator":"greaterThan","value":0,"result":true,"path":"$.queue.depth","factValue":3}]}},{"rule":"job-in-flight","event":"hold-active","fired":true,"conditions":{"kind":"all","result":true,"conditions":[{"kind":"fact","fact":"memory","operator":"greaterThan","value":0,"result":true,"path":"$.jobs.inflight","factValue":1}]}},{"rule":"idle","event":"dormancy","fired":false,"conditions":{"kind":"all","result":false,"conditions":[{"kind":"fact","fact":"memory","operator":"equal","value":0,"result":false,"path":"$.queue.depth","factValue":3},{"kind":"fact","fact":"memory","operator":"equal","value":0,"result":false,"path":"$.jobs.inflight","factValue":1},{"kind":"fact","fact":"state","operator":"in","value":["active","waking"],"result":true,"factValue":"active"}]}}]},"dryRun":false,"durationMs":0.879}');
INSERT INTO decisions VALUES('dec_0mx59ki44000000cedf67','q1',1796163831219,'hold-active','facts','{"id":"dec_0mx59ki44000000cedf67","objectId":"q1","at":1796163831219,"trigger":{"kind":"facts"},"policy":{"name":"queue-worker","version":"1","hash":"3bdf66d983cabe386b13e6dd17f4204812d9a4cfa2b7a8ca59001e757091a347"},"memoryVersion":3,"fired":[{"rule":"idle","event":"dormancy","params":{"wakeAfter":"PT6H"}},{"rule":"hold:lease","event":"hold-active","params":{"until":"2026-12-01T22:24:51.198Z"}}],"outcome":"hold-active","fromState":"active","toState":"active","actions":[],"timers":[],"notes":["dormancy (idle) vetoed by hold-active rule hold:lease"],"explanation":{"summary":"outcome hold-active (fired: idle, hold:lease); state stays active","rules":[{"rule":"backlog-wake","event":"wake","fired":false,"conditions":{"kind":"all","result":false,"conditions":[{"kind":"fact","fact":"memory","operator":"greaterThan","value":0,"result":false,"path":"$.queue.depth","factValue":0}]}},{"rule":"job-in-flight","event":"hold-active","fired":false,"conditions":{"kind":"all","result":false,"conditions":[{"kind":"fact","fact":"memory","operator":"greaterThan","value":0,"result":false,"path":"$.jobs.inflight","factValue":0}]}},{"rule":"idle","event":"dormancy","fired":true,"conditions":{"kind":"all","result":true,"conditions":[{"kind":"fact","fact":"memory","operator":"equal","value":0,"result":true,"path":"$.queue.depth","factValue":0},{"kind":"fact","fact":"memory","operator":"equal","value":0,"result":true,"path":"$.jobs.inflight","factValue":0},{"kind":"fact","fact":"state","operator":"in","value":["active","waking"],"result":true,"factValue":"active"}]}}]},"dryRun":false,"durationMs":1.043}');
INSERT INTO actions VALUES('act_0mx59kgwf000000cedf67','q1','dec_0mx59kgwf000100cedf67','start','confirmed',1,1796163829646,NULL,1796163829646,1796163829654);
INSERT INTO timers VALUES('q1','hold',1796163891198,'hold');
INSERT INTO idempotency VALUES('q1','key-q1-a','{"request":"ab515e1411f9968156ba3f046ea4a24e5226260c16fc8d9a755c383766d1468a","object":{"id":"q1","policy":"queue-worker","state":"waking","stateSince":1796163829646,"wokeAt":1796163829646,"memory":{"queue":{"depth":3},"jobs":{"inflight":0}},"memoryVersion":1,"substrate":{"driver":"simulated","config":{},"observed":null},"holdUntil":null,"timers":[],"lastDecisionId":"dec_0mx59kgwf000100cedf67","lastFactAt":1796163829646,"createdAt":1796163829524,"updatedAt":1796163829646},"decision":{"id":"dec_0mx59kgwf000100cedf67","objectId":"q1","at":1796163829646,"trigger":{"kind":"facts"},"policy":{"name":"queue-worker","version":"1","hash":"3bdf66d983cabe386b13e6dd17f4204812d9a4cfa2b7a8ca59001e757091a347"},"memoryVersion":1,"fired":[{"rule":"backlog-wake","event":"wake","params":{"reason":"work is queued"}}],"outcome":"wake","fromState":"dormant","toState":"waking","actions":[{"id":"act_0mx59kgwf000000cedf67","kind":"start","status":"pending"}],"timers":[],"notes":[],"explanation":{"summary":"outcome wake (fired: backlog-wake); dormant -> waking; start issued","rules":[{"rule":"backlog-wake","event":"wake","fired":true,"conditions":{"kind":"all","result":true,"conditions":[{"kind":"fact","fact":"memory","operator":"greaterThan","value":0,"result":true,"path":"$.queue.depth","factValue":3}]}},{"rule":"job-in-flight","event":"hold-active","fired":false,"conditions":{"kind":"all","result":false,"conditions":[{"kind":"fact","fact":"memory","operator":"greaterThan","value":0,"result":false,"path":"$.jobs.inflight","factValue":0}]}},{"rule":"idle","event":"dormancy","fired":false,"conditions":{"kind":"all","result":false,"conditions":[{"kind":"fact","fact":"memory","operator":"equal","value":0,"result":false,"path":"$.queue.depth","factValue":3},{"kind":"fact","fact":"memory","operator":"equal","value":0,"result":true,"path":"$.jobs.inflight","factValue":0},{"kind":"fact","fact":"state","operator":"in","value":["active","waking"],"result":false,"factValue":"dormant"}]}}]},"dryRun":false,"durationMs":0.817}}',1796163829646);
INSERT INTO idempotency VALUES('q1','key-q1-b','{"request":"536387c125028dbcffae5bbf0e5aefa4d9670f9a6d85a86172da3f42314261f4","object":{"id":"q1","policy":"queue-worker","state":"active","stateSince":1796163829654,"wokeAt":1796163829646,"memory":{"queue":{"depth":0},"jobs":{"inflight":0}},"memoryVersion":3,"substrate":{"driver":"simulated","config":{},"observed":{"status":"running","at":1796163829654}},"holdUntil":1796163891198,"timers":[{"name":"hold","dueAt":1796163891198,"kind":"hold"}],"lastDecisionId":"dec_0mx59ki44000000cedf67","lastFactAt":1796163831219,"createdAt":1796163829524,"updatedAt":1796163831219},"decision":{"id":"dec_0mx59ki44000000cedf67","objectId":"q1","at":1796163831219,"trigger":{"kind":"facts"},"policy":{"name":"queue-worker","version":"1","hash":"3bdf66d983cabe386b13e6dd17f4204812d9a4cfa2b7a8ca59001e757091a347"},"memoryVersion":3,"fired":[{"rule":"idle","event":"dormancy","params":{"wakeAfter":"PT6H"}},{"rule":"hold:lease","event":"hold-active","params":{"until":"2026-12-01T22:24:51.198Z"}}],"outcome":"hold-active","fromState":"active","toState":"active","actions":[],"timers":[],"notes":["dormancy (idle) vetoed by hold-active rule hold:lease"],"explanation":{"summary":"outcome hold-active (fired: idle, hold:lease); state stays active","rules":[{"rule":"backlog-wake","event":"wake","fired":false,"conditions":{"kind":"all","result":false,"conditions":[{"kind":"fact","fact":"memory","operator":"greaterThan","value":0,"result":false,"path":"$.queue.depth","factValue":0}]}},{"rule":"job-in-flight","event":"hold-active","fired":false,"conditions":{"kind":"all","result":false,"conditions":[{"kind":"fact","fact":"memory","operator":"greaterThan","value":0,"result":false,"path":"$.jobs.inflight","factValue":0}]}},{"rule":"idle","event":"dormancy","fired":true,"conditions":{"kind":"all","result":true,"conditions":[{"kind":"fact","fact":"memory","operator":"equal","value":0,"result":true,"path":"$.queue.depth","factValue":0},{"kind":"fact","fact":"memory","operator":"equal","value":0,"result":true,"path":"$.jobs.inflight","factValue":0},{"kind":"fact","fact":"state","operator":"in","value":["active","waking"],"result":true,"factValue":"active"}]}}]},"dryRun":false,"durationMs":1.043}}',1796163831219);
