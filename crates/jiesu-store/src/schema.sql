-- Jiesu schema, version 1. Portable SQL (SQLite and PostgreSQL): TEXT timestamps in fixed-width
-- RFC 3339 UTC, INTEGER ids, no engine-specific types.
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS units (
  code TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, parent TEXT,
  population INTEGER, zone TEXT, active INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS categories (
  code TEXT PRIMARY KEY, name TEXT NOT NULL, level INTEGER NOT NULL, parent TEXT,
  domain TEXT, active INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS users (
  id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL,
  role TEXT NOT NULL, unit_code TEXT, created_at TEXT NOT NULL, active INTEGER NOT NULL);
-- Log-in sessions: `expires_at` is the absolute end, `last_seen_at` the last use (idle timeout);
-- a log-out deletes the row.
CREATE TABLE IF NOT EXISTS sessions (
  token_hash TEXT PRIMARY KEY, user_id INTEGER NOT NULL, created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL, last_seen_at TEXT);
-- The event log: the source of truth. Append-only. `sealed` holds the event's personal data
-- encrypted with its ticket's data key (see `personal_keys`); `hash` is the event's link in its
-- ticket's hash chain (chain.rs) and its leaf in the log's Merkle tree; `pos` its place in the
-- log (0, 1, 2, … in the order written).
CREATE TABLE IF NOT EXISTS events (
  ticket_id INTEGER NOT NULL, seq INTEGER NOT NULL, at TEXT NOT NULL, kind TEXT NOT NULL,
  actor TEXT NOT NULL, role TEXT NOT NULL, unit_code TEXT, payload TEXT NOT NULL,
  sealed BLOB, hash BLOB, pos INTEGER,
  PRIMARY KEY (ticket_id, seq));
-- Each ticket's data key (数据密钥), wrapped (encrypted) by a master key of the key file, which
-- is never in the database. Deleting the row erases the ticket's personal data (crypto-shredding)
-- without touching the event log.
CREATE TABLE IF NOT EXISTS personal_keys (
  ticket_id INTEGER PRIMARY KEY, key_id TEXT NOT NULL, wrapped BLOB NOT NULL);
-- Projections: recomputable from events at any time (see `rebuild_projections`).
CREATE TABLE IF NOT EXISTS tickets (
  id INTEGER PRIMARY KEY, number TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL,
  channel TEXT NOT NULL, type TEXT NOT NULL, category_code TEXT NOT NULL,
  district_code TEXT NOT NULL, street_code TEXT NOT NULL, community_code TEXT,
  status TEXT NOT NULL, title TEXT NOT NULL, phone_hash BLOB, enterprise INTEGER NOT NULL,
  lead_unit TEXT, first_dispatched_at TEXT, finish_deadline TEXT, closed_at TEXT,
  answered_directly INTEGER NOT NULL, special TEXT, round INTEGER NOT NULL,
  cb_contacted INTEGER, cb_resolution TEXT, cb_satisfaction TEXT, cb_at TEXT,
  merged_into INTEGER, exempt_reason TEXT, version INTEGER NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS assignments (
  ticket_id INTEGER NOT NULL, idx INTEGER NOT NULL, unit_code TEXT NOT NULL, role TEXT NOT NULL,
  tier TEXT NOT NULL, state TEXT NOT NULL, round INTEGER NOT NULL, dispatched_at TEXT NOT NULL,
  sign_deadline TEXT NOT NULL, respond_deadline TEXT NOT NULL, finish_deadline TEXT NOT NULL,
  signed_at TEXT, responded_at TEXT, finished_at TEXT, return_pending INTEGER NOT NULL,
  extension_pending INTEGER NOT NULL, dispatched_by TEXT NOT NULL,
  extensions_granted INTEGER NOT NULL, reminded TEXT NOT NULL, paused_since TEXT,
  PRIMARY KEY (ticket_id, idx));
-- Duty catalogue versions (派单目录): drafts, the published one, superseded ones (kept).
CREATE TABLE IF NOT EXISTS catalogues (
  version INTEGER PRIMARY KEY, status TEXT NOT NULL, created_at TEXT NOT NULL,
  created_by TEXT NOT NULL, note TEXT, rules INTEGER NOT NULL, csv TEXT NOT NULL);
-- Idempotency keys per user, with the SHA-256 of the request they were first used for.
CREATE TABLE IF NOT EXISTS idempotency (
  user_name TEXT NOT NULL, idem_key TEXT NOT NULL, ticket_id INTEGER NOT NULL, created_at TEXT NOT NULL,
  request_hash TEXT, PRIMARY KEY (user_name, idem_key));
CREATE TABLE IF NOT EXISTS attachments (
  id TEXT PRIMARY KEY, ticket_id INTEGER NOT NULL, file_name TEXT NOT NULL,
  content_type TEXT NOT NULL, size INTEGER NOT NULL, stored_path TEXT NOT NULL, created_at TEXT NOT NULL);
-- Citizens' self-rating links (回访评价链接): only the token's hash is stored.
CREATE TABLE IF NOT EXISTS rating_tokens (
  token_hash TEXT PRIMARY KEY, ticket_id INTEGER NOT NULL, round INTEGER NOT NULL,
  created_at TEXT NOT NULL, expires_at TEXT NOT NULL, used_at TEXT);
-- Partners (合作渠道) filing through Open311: the SHA-256 of their API key, never the key.
CREATE TABLE IF NOT EXISTS partners (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, channel TEXT NOT NULL,
  key_hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL);
-- The Open311 token answered for a partner's request, and its ticket.
CREATE TABLE IF NOT EXISTS partner_tokens (
  token TEXT PRIMARY KEY, partner_id INTEGER NOT NULL, ticket_id INTEGER NOT NULL, created_at TEXT NOT NULL);
-- Every read of unmasked personal data.
-- Citizens' tracking codes (查询码): random, given at intake, looked up with the ticket number.
CREATE TABLE IF NOT EXISTS tracking_codes (
  ticket_id INTEGER PRIMARY KEY, code TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit_log (
  id INTEGER PRIMARY KEY, at TEXT NOT NULL, user_name TEXT NOT NULL, action TEXT NOT NULL,
  ticket_id INTEGER, detail TEXT);
-- Supervisors' re-checks of callbacks (回访复核): audited records, never updated; one per round.
CREATE TABLE IF NOT EXISTS callback_rechecks (
  id INTEGER PRIMARY KEY, ticket_id INTEGER NOT NULL, round INTEGER NOT NULL,
  callback_at TEXT NOT NULL, verdict TEXT NOT NULL, note TEXT, user_name TEXT NOT NULL, at TEXT NOT NULL,
  UNIQUE (ticket_id, round));
-- Intake corrections (分类纠正): the agent chose another type/category than the classifier's top
-- suggestion; with 改类 events these are the corrections training weighs more (labels.rs).
-- Legacy imports (`jiesu import csv`, imports.rs): one row per imported source row, written with
-- its ticket, so a re-run of the same export imports nothing twice.
CREATE TABLE IF NOT EXISTS import_sources (
  source TEXT NOT NULL, source_key TEXT NOT NULL, ticket_id INTEGER NOT NULL,
  PRIMARY KEY (source, source_key));
CREATE TABLE IF NOT EXISTS intake_corrections (
  ticket_id INTEGER PRIMARY KEY, at TEXT NOT NULL, user_name TEXT NOT NULL,
  suggested_category TEXT, suggested_type TEXT, category_code TEXT NOT NULL,
  request_type TEXT NOT NULL, model_version TEXT);
-- The virtual agent's sessions (智能问答): one row per question and its outcome — answered,
-- handed over, or a ticket created from the hand-over (agent_sessions.rs).
CREATE TABLE IF NOT EXISTS agent_sessions (
  id TEXT PRIMARY KEY, asked_at TEXT NOT NULL, outcome TEXT NOT NULL, article_id TEXT,
  confidence REAL, ticket_id INTEGER, updated_at TEXT NOT NULL);
-- Knowledge-base articles (知识库): every version of every article with its review state
-- (kb_store.rs); the published, valid versions are what search indexes.
CREATE TABLE IF NOT EXISTS kb_articles (
  id TEXT NOT NULL, version INTEGER NOT NULL, status TEXT NOT NULL, article TEXT NOT NULL,
  author TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
  reviewed_by TEXT, reviewed_at TEXT, review_note TEXT,
  PRIMARY KEY (id, version));
-- The event log's Merkle tree (merkle.rs, ledger.rs): the hash of every complete aligned subtree
-- of 2^level leaves (level ≥ 8), node `idx` covering log positions idx·2^level … (idx+1)·2^level − 1;
-- extended when a checkpoint is made, so a proof reads a few nodes instead of the whole log.
CREATE TABLE IF NOT EXISTS log_nodes (
  level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,
  PRIMARY KEY (level, idx));
-- Signed checkpoints (签名检查点): the log's Merkle root at a size, as a C2SP signed note signed
-- with the city's Ed25519 key (the key file is never in the database).
CREATE TABLE IF NOT EXISTS checkpoints (
  tree_size INTEGER PRIMARY KEY, root BLOB NOT NULL, at TEXT NOT NULL, note TEXT NOT NULL);
-- Reports of the data platform (日通报 / 周汇总 / 月分析): one row per kind and period, the
-- computed figures as JSON (rendered to HTML or xlsx when downloaded); regenerating a period
-- replaces its row and keeps its id.
CREATE TABLE IF NOT EXISTS reports (
  id INTEGER PRIMARY KEY, kind TEXT NOT NULL, period TEXT NOT NULL, period_from TEXT NOT NULL,
  period_to TEXT NOT NULL, generated_at TEXT NOT NULL, title_zh TEXT NOT NULL,
  title_en TEXT NOT NULL, body TEXT NOT NULL, UNIQUE (kind, period));
-- Report templates a city edits (one per kind; the shipped default when absent).
CREATE TABLE IF NOT EXISTS report_templates (
  kind TEXT PRIMARY KEY, body TEXT NOT NULL, updated_at TEXT NOT NULL, updated_by TEXT NOT NULL);
-- Alerts (预警): early-warning spikes, one per cell (level, place, category) and city day, with
-- the detector's figures and the tickets behind it; risk pushes (level `risk`, one per ticket)
-- and incidents (level `incident`, similar reports merged) with their `detail` as JSON;
-- `alert_steps` records every step (raised, acknowledge, handle, dismiss) with who, when and why.
CREATE TABLE IF NOT EXISTS alerts (
  id INTEGER PRIMARY KEY, day TEXT NOT NULL, level TEXT NOT NULL, place TEXT NOT NULL,
  category TEXT NOT NULL, score REAL NOT NULL, observed INTEGER NOT NULL, expected REAL NOT NULL,
  window_days INTEGER NOT NULL, unit TEXT NOT NULL, district TEXT NOT NULL, tickets TEXT NOT NULL,
  status TEXT NOT NULL, created_at TEXT NOT NULL, detail TEXT);
CREATE UNIQUE INDEX IF NOT EXISTS alerts_cell ON alerts (day, level, place, category)
  WHERE level NOT IN ('risk', 'incident');
CREATE INDEX IF NOT EXISTS alerts_unit ON alerts (unit, day);
CREATE INDEX IF NOT EXISTS alerts_district ON alerts (district, day);
CREATE INDEX IF NOT EXISTS alerts_place ON alerts (level, place, category, id);
CREATE TABLE IF NOT EXISTS alert_steps (
  id INTEGER PRIMARY KEY, alert_id INTEGER NOT NULL REFERENCES alerts (id), action TEXT NOT NULL,
  status TEXT NOT NULL, reason TEXT NOT NULL, by_user TEXT NOT NULL, at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS alert_steps_alert ON alert_steps (alert_id);
-- Signed partner requests (HMAC-SHA256): a random salt per partner, the secret derived from it
-- with the key file's index key (the database alone cannot sign); `serves` names the emergency
-- service (110/119/120/122) whose transfers the partner replies to.
CREATE TABLE IF NOT EXISTS partner_signing (
  partner_id INTEGER PRIMARY KEY, salt TEXT NOT NULL, serves TEXT, created_at TEXT NOT NULL);
-- Nonces of signed partner requests within the accepted clock skew: a nonce seen is a replay.
CREATE TABLE IF NOT EXISTS partner_nonces (
  partner_id INTEGER NOT NULL, nonce TEXT NOT NULL, at TEXT NOT NULL,
  PRIMARY KEY (partner_id, nonce));
CREATE INDEX IF NOT EXISTS partner_nonces_at ON partner_nonces (at);
-- 报告订阅: which kinds of report a user subscribes to, with their own webhook if any and the
-- newest report id delivered to it (the outbox's cursor for the subscription).
CREATE TABLE IF NOT EXISTS report_subscriptions (
  user_name TEXT NOT NULL, kind TEXT NOT NULL, webhook_url TEXT, cursor INTEGER NOT NULL,
  since TEXT NOT NULL, PRIMARY KEY (user_name, kind));
-- 部门接口: department keys (the SHA-256 of the key, never the key; their use counted, each
-- read in audit_log as `key:<id>`), webhook subscriptions of a unit's tickets' events (each
-- with its own delivery cursor, a position in the event log), saved exports and their files.
CREATE TABLE IF NOT EXISTS dept_keys (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, unit_code TEXT NOT NULL, role TEXT NOT NULL,
  key_hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, created_by TEXT NOT NULL,
  revoked_at TEXT, last_used_at TEXT, uses INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS dept_webhooks (
  id INTEGER PRIMARY KEY, unit_code TEXT NOT NULL, url TEXT NOT NULL, secret TEXT NOT NULL,
  created_at TEXT NOT NULL, revoked_at TEXT, cursor INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS saved_exports (
  id INTEGER PRIMARY KEY, unit_code TEXT NOT NULL, name TEXT NOT NULL, columns TEXT NOT NULL,
  filters TEXT NOT NULL, format TEXT NOT NULL, schedule TEXT NOT NULL, created_at TEXT NOT NULL,
  created_by TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS export_runs (
  id INTEGER PRIMARY KEY, export_id INTEGER NOT NULL, period TEXT NOT NULL, from_day TEXT NOT NULL,
  to_day TEXT NOT NULL, format TEXT NOT NULL, rows_count INTEGER NOT NULL, content BLOB NOT NULL,
  generated_at TEXT NOT NULL, UNIQUE (export_id, period));
CREATE INDEX IF NOT EXISTS audit_log_user ON audit_log (user_name, id);
-- 每月一题 (problem of the month): every version of every adopted topic; the current one is
-- the highest version (the record itself is JSON in `body`).
CREATE TABLE IF NOT EXISTS monthly_topics (
  topic_id INTEGER NOT NULL, version INTEGER NOT NULL, month TEXT NOT NULL, theme TEXT NOT NULL,
  lead_unit TEXT NOT NULL, body TEXT NOT NULL, actor TEXT NOT NULL, note TEXT NOT NULL,
  created_at TEXT NOT NULL, PRIMARY KEY (topic_id, version));
-- 治理类街乡镇的工作 (migration 5 in PostgreSQL): interviews (约谈) of a street's leaders, its
-- problem and project lists (问题清单、项目清单) with progress, and every change to them with
-- the row after it, who and when.
CREATE TABLE IF NOT EXISTS street_interviews (
  id INTEGER PRIMARY KEY, street TEXT NOT NULL, district TEXT NOT NULL, held_on TEXT NOT NULL,
  attendees TEXT NOT NULL, findings TEXT NOT NULL, alert_id INTEGER, filed_by TEXT NOT NULL, filed_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS street_interviews_street ON street_interviews (street, held_on);
CREATE TABLE IF NOT EXISTS street_items (
  id INTEGER PRIMARY KEY, street TEXT NOT NULL, district TEXT NOT NULL, kind TEXT NOT NULL, title TEXT NOT NULL,
  owner TEXT NOT NULL, due TEXT NOT NULL, status TEXT NOT NULL, progress TEXT NOT NULL, version INTEGER NOT NULL,
  updated_by TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS street_items_street ON street_items (street);
CREATE TABLE IF NOT EXISTS street_changes (
  id INTEGER PRIMARY KEY, street TEXT NOT NULL, subject TEXT NOT NULL, subject_id INTEGER NOT NULL,
  action TEXT NOT NULL, after TEXT NOT NULL, by_user TEXT NOT NULL, at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS street_changes_street ON street_changes (street, id);
-- 报告收件箱: when each user last opened each report (a report generated again after that is
-- unread again); the inbox itself is the reports of the user's subscribed kinds.
CREATE TABLE IF NOT EXISTS report_reads (
  user_name TEXT NOT NULL, report_id INTEGER NOT NULL, read_at TEXT NOT NULL,
  PRIMARY KEY (user_name, report_id));
-- 密钥轮换: the signing salt a rotation replaced, accepted until `until` (the grace period), then
-- refused; one per partner (a later rotation replaces it).
CREATE TABLE IF NOT EXISTS partner_signing_previous (
  partner_id INTEGER PRIMARY KEY, salt TEXT NOT NULL, until TEXT NOT NULL);
-- The city's governance policies (migration 10 in PostgreSQL): every version submitted of a kind
-- (streets, reply_audit), never changed; and the reply audit's stored days and findings.
CREATE TABLE IF NOT EXISTS governance_policies (
  kind TEXT NOT NULL, version INTEGER NOT NULL, policy_id TEXT NOT NULL, effective_from TEXT NOT NULL,
  body TEXT NOT NULL, author TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (kind, version));
CREATE TABLE IF NOT EXISTS reply_audit_days (
  day TEXT PRIMARY KEY, results INTEGER NOT NULL, unit_results TEXT NOT NULL, policy_id TEXT NOT NULL,
  policy_version INTEGER NOT NULL, audited_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS reply_audit_findings (
  day TEXT NOT NULL, ticket INTEGER NOT NULL, unit TEXT NOT NULL, kinds TEXT NOT NULL, score REAL,
  detail TEXT NOT NULL, policy_version INTEGER NOT NULL, PRIMARY KEY (day, ticket));
