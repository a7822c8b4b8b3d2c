-- The single row that hands out event seqs (see schema.ts eventHead).
INSERT INTO "event_head" ("id", "seq") VALUES (1, 0) ON CONFLICT DO NOTHING;
