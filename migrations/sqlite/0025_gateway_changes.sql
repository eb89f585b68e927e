-- PostgreSQL's 0025 adds triggers that tell every node when what the
-- gateway reads for a call changes. An embedded SQLite file has one
-- serving process and no notices; its gateway reads before each call
-- (hints are off by default there). Nothing to change.
SELECT 1;
