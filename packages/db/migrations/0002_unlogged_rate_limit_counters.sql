-- Rate-limit counters need no crash safety: skipping the WAL makes each hit a cheap write.
ALTER TABLE "rate_limit_counters" SET UNLOGGED;
