-- A timer put off while its policy was not loaded (moved on a minute at a time) kept the time it
-- was first due in the server's memory only: after a restart it fired on time at the minute it
-- was put off to, though it was hours late. Its row now keeps that time; other rows have none.
ALTER TABLE `timers` ADD `first_due` integer;
