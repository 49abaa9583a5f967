CREATE INDEX IF NOT EXISTS tickets_created ON tickets (created_at);
CREATE INDEX IF NOT EXISTS tickets_first_dispatch ON tickets (first_dispatched_at);
CREATE INDEX IF NOT EXISTS tickets_status ON tickets (status, created_at);
CREATE INDEX IF NOT EXISTS tickets_category ON tickets (category_code, created_at);
CREATE INDEX IF NOT EXISTS tickets_street ON tickets (street_code, created_at);
CREATE INDEX IF NOT EXISTS assignments_unit ON assignments (unit_code, state, finish_deadline);
CREATE INDEX IF NOT EXISTS assignments_dispatched ON assignments (dispatched_at);
CREATE UNIQUE INDEX IF NOT EXISTS events_pos ON events (pos);
CREATE INDEX IF NOT EXISTS tickets_phone ON tickets (phone_hash);
