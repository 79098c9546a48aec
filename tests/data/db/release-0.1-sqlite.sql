PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE schema_migrations (
	version INTEGER NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	applied_at DATETIME NOT NULL, 
	PRIMARY KEY (version)
);
INSERT INTO schema_migrations VALUES(1,'events, steps, registrants, deliveries, attendance','2026-12-04 05:03:33.939799');
INSERT INTO schema_migrations VALUES(2,'step leases for runners on several hosts','2026-12-04 05:03:33.939799');
INSERT INTO schema_migrations VALUES(3,'the Zoom meeting of each event','2026-12-04 05:03:33.939799');
INSERT INTO schema_migrations VALUES(4,'registrant name parts, cancellation reasons and Zoom status; purge date','2026-12-04 05:03:33.939799');
INSERT INTO schema_migrations VALUES(5,'delivery retry time and resend count; the event''s previous time','2026-12-04 05:03:33.939799');
INSERT INTO schema_migrations VALUES(6,'report rows, attendance details, survey tokens and responses','2026-12-04 05:03:33.939799');
INSERT INTO schema_migrations VALUES(7,'step retry time and alert time; an index for due steps','2026-12-04 05:03:33.939799');
INSERT INTO schema_migrations VALUES(8,'job files and registrant CSVs as last applied','2026-12-04 05:03:33.939799');
CREATE TABLE events (
	id VARCHAR(100) NOT NULL, 
	series VARCHAR(200) DEFAULT '' NOT NULL, 
	title TEXT NOT NULL, 
	start_at DATETIME NOT NULL, 
	end_at DATETIME NOT NULL, 
	timezone VARCHAR(64) NOT NULL, 
	language VARCHAR(8) NOT NULL, 
	source_path TEXT NOT NULL, 
	spec_json TEXT NOT NULL, 
	spec_hash VARCHAR(64) NOT NULL, 
	sequence INTEGER DEFAULT '0' NOT NULL, 
	status VARCHAR(16) DEFAULT 'active' NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, purged_at DATETIME, previous_start_at DATETIME, previous_end_at DATETIME, 
	PRIMARY KEY (id)
);
INSERT INTO events VALUES('release-seminar','fixture','リリース時のセミナー','2027-02-18 09:00:00.000000','2027-02-18 10:30:00.000000','Asia/Tokyo','ja','jobs/release.toml','{}','ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',0,'active','2026-11-26 01:00:00.000000','2026-11-26 01:00:00.000000',NULL,NULL,NULL);
CREATE TABLE steps (
	id INTEGER NOT NULL, 
	event_id VARCHAR(100) NOT NULL, 
	"key" VARCHAR(100) NOT NULL, 
	kind VARCHAR(50) NOT NULL, 
	due_at DATETIME NOT NULL, 
	at_expr VARCHAR(200) NOT NULL, 
	after_key VARCHAR(100), 
	params_json TEXT DEFAULT '{}' NOT NULL, 
	state VARCHAR(16) DEFAULT 'planned' NOT NULL, 
	attempts INTEGER DEFAULT '0' NOT NULL, 
	last_error TEXT, 
	started_at DATETIME, 
	finished_at DATETIME, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, lease_owner VARCHAR(100), lease_until DATETIME, retry_at DATETIME, alerted_at DATETIME, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_steps_event_key UNIQUE (event_id, "key"), 
	FOREIGN KEY(event_id) REFERENCES events (id) ON DELETE CASCADE
);
INSERT INTO steps VALUES(1,'release-seminar','mail.invitation','mail.invitation','2027-02-04 09:00:00.000000','start - 14d @ 10:00',NULL,'{}','done',0,NULL,NULL,'2026-11-26 01:00:00.000000','2026-11-26 01:00:00.000000','2026-11-26 01:00:00.000000',NULL,NULL,NULL,NULL);
INSERT INTO steps VALUES(2,'release-seminar','mail.reminder','mail.reminder','2027-02-17 09:00:00.000000','start - 1d @ 10:00',NULL,'{}','planned',0,NULL,NULL,NULL,'2026-11-26 01:00:00.000000','2026-11-26 01:00:00.000000',NULL,NULL,NULL,NULL);
CREATE TABLE registrants (
	id INTEGER NOT NULL, 
	event_id VARCHAR(100) NOT NULL, 
	email VARCHAR(320) NOT NULL, 
	name TEXT DEFAULT '' NOT NULL, 
	organization TEXT DEFAULT '' NOT NULL, 
	department TEXT DEFAULT '' NOT NULL, 
	fields_json TEXT DEFAULT '{}' NOT NULL, 
	source VARCHAR(16) DEFAULT 'csv' NOT NULL, 
	status VARCHAR(16) DEFAULT 'active' NOT NULL, 
	zoom_registrant_id VARCHAR(100), 
	join_url TEXT, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, family_name TEXT NOT NULL DEFAULT '', given_name TEXT NOT NULL DEFAULT '', row_number INTEGER, cancel_reason VARCHAR(32), zoom_status VARCHAR(16), survey_token VARCHAR(32), 
	PRIMARY KEY (id), 
	CONSTRAINT uq_registrants_event_email UNIQUE (event_id, email), 
	FOREIGN KEY(event_id) REFERENCES events (id) ON DELETE CASCADE
);
INSERT INTO registrants VALUES(1,'release-seminar','hanako@example.org','山田 花子','例市','','{}','csv','active',NULL,NULL,'2026-11-26 01:00:00.000000','2026-11-26 01:00:00.000000','山田','花子',2,NULL,NULL,NULL);
CREATE TABLE deliveries (
	id INTEGER NOT NULL, 
	event_id VARCHAR(100) NOT NULL, 
	recipient VARCHAR(320) NOT NULL, 
	message_key VARCHAR(100) NOT NULL, 
	state VARCHAR(16) DEFAULT 'pending' NOT NULL, 
	attempts INTEGER DEFAULT '0' NOT NULL, 
	last_error TEXT, 
	message_id VARCHAR(300), 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	sent_at DATETIME, next_attempt_at DATETIME, resends INTEGER NOT NULL DEFAULT 0, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_deliveries_claim UNIQUE (event_id, recipient, message_key), 
	FOREIGN KEY(event_id) REFERENCES events (id) ON DELETE CASCADE
);
INSERT INTO deliveries VALUES(1,'release-seminar','hanako@example.org','mail.invitation','pending',0,NULL,NULL,'2026-11-26 01:00:00.000000','2026-11-26 01:00:00.000000',NULL,NULL,0);
CREATE TABLE attendance (
	id INTEGER NOT NULL, 
	event_id VARCHAR(100) NOT NULL, 
	registrant_id INTEGER, 
	name TEXT DEFAULT '' NOT NULL, 
	email VARCHAR(320), 
	total_minutes INTEGER DEFAULT '0' NOT NULL, 
	first_join_at DATETIME, 
	last_leave_at DATETIME, 
	is_attended BOOLEAN DEFAULT 0 NOT NULL, segments INTEGER NOT NULL DEFAULT 0, matched_by VARCHAR(16), 
	PRIMARY KEY (id), 
	FOREIGN KEY(event_id) REFERENCES events (id) ON DELETE CASCADE, 
	FOREIGN KEY(registrant_id) REFERENCES registrants (id) ON DELETE SET NULL
);
CREATE TABLE zoom_meetings (
	event_id VARCHAR(100) NOT NULL, 
	kind VARCHAR(16) NOT NULL, 
	host VARCHAR(320) NOT NULL, 
	state VARCHAR(16) NOT NULL, 
	meeting_id BIGINT, 
	uuid VARCHAR(100), 
	join_url TEXT, 
	passcode VARCHAR(100), 
	registration_url TEXT, 
	synced_hash VARCHAR(64), 
	lease_owner VARCHAR(100), 
	lease_until DATETIME, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, host_email VARCHAR(320), 
	PRIMARY KEY (event_id), 
	FOREIGN KEY(event_id) REFERENCES events (id) ON DELETE CASCADE
);
CREATE TABLE report_rows (
	id INTEGER NOT NULL, 
	event_id VARCHAR(100) NOT NULL, 
	source VARCHAR(32) NOT NULL, 
	row_json TEXT NOT NULL, 
	fetched_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(event_id) REFERENCES events (id) ON DELETE CASCADE
);
CREATE TABLE survey_responses (
	id INTEGER NOT NULL, 
	event_id VARCHAR(100) NOT NULL, 
	registrant_id INTEGER, 
	email VARCHAR(320), 
	row_number INTEGER, 
	answers_json TEXT NOT NULL, 
	imported_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_survey_responses_person UNIQUE (event_id, registrant_id), 
	FOREIGN KEY(event_id) REFERENCES events (id) ON DELETE CASCADE, 
	FOREIGN KEY(registrant_id) REFERENCES registrants (id) ON DELETE SET NULL
);
CREATE TABLE job_files (
	path TEXT NOT NULL, 
	event_id VARCHAR(100) NOT NULL, 
	mtime_ns BIGINT NOT NULL, 
	size BIGINT NOT NULL, 
	csv_path TEXT, 
	csv_mtime_ns BIGINT, 
	csv_size BIGINT, 
	applied_at DATETIME NOT NULL, 
	PRIMARY KEY (path)
);
INSERT INTO job_files VALUES('/srv/opsflow/jobs/release.toml','release-seminar',1764118800000000000,1234,NULL,NULL,NULL,'2026-11-26 01:00:00.000000');
CREATE INDEX ix_steps_state_due ON steps (state, due_at);
COMMIT;
