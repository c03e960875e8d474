-- Migration 0003 added objects.decision_count (what retention by count looks at) as 0 for every
-- object it found: the decisions stored before it were never counted, so VIGIL_DECISIONS_PER_OBJECT
-- never trimmed them. Every object's count is the number of its decisions stored.
UPDATE `objects` SET `decision_count` = (SELECT COUNT(*) FROM `decisions` WHERE `decisions`.`object_id` = `objects`.`id`);
