-- A start whose policy file is refused or gone served the version its objects' newest decision
-- was taken under: an edit undone with no decision since (v1, v2, v1 again) served v2 at the
-- restart. This table records, per policy, the version each load and reload serves.
CREATE TABLE `policy_served` (
	`policy` text PRIMARY KEY NOT NULL,
	`hash` text NOT NULL,
	`version` text NOT NULL,
	`document` text NOT NULL,
	`served_at` integer NOT NULL
);
