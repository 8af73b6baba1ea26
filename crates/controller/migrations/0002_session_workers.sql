-- The workers a session was offered to (the `worker_info` of its authorization token), as
-- a JSON array of worker ids. Only these workers may fetch the session's TLS material or
-- act on it. Sessions authorized before this migration offered no recorded worker: they
-- get an empty list and can no longer be served (clients authorize again).
ALTER TABLE sessions ADD COLUMN offered_worker_ids TEXT NOT NULL DEFAULT '[]';
