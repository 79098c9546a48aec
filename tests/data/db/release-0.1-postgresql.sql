SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;
SET default_tablespace = '';
SET default_table_access_method = heap;
CREATE TABLE attendance (
    id integer NOT NULL,
    event_id character varying(100) NOT NULL,
    registrant_id integer,
    name text DEFAULT ''::text NOT NULL,
    email character varying(320),
    total_minutes integer DEFAULT 0 NOT NULL,
    first_join_at timestamp without time zone,
    last_leave_at timestamp without time zone,
    is_attended boolean DEFAULT false NOT NULL,
    segments integer DEFAULT 0 NOT NULL,
    matched_by character varying(16)
);
CREATE SEQUENCE attendance_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE attendance_id_seq OWNED BY attendance.id;
CREATE TABLE deliveries (
    id integer NOT NULL,
    event_id character varying(100) NOT NULL,
    recipient character varying(320) NOT NULL,
    message_key character varying(100) NOT NULL,
    state character varying(16) DEFAULT 'pending'::character varying NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    last_error text,
    message_id character varying(300),
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    sent_at timestamp without time zone,
    next_attempt_at timestamp without time zone,
    resends integer DEFAULT 0 NOT NULL
);
CREATE SEQUENCE deliveries_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE deliveries_id_seq OWNED BY deliveries.id;
CREATE TABLE events (
    id character varying(100) NOT NULL,
    series character varying(200) DEFAULT ''::character varying NOT NULL,
    title text NOT NULL,
    start_at timestamp without time zone NOT NULL,
    end_at timestamp without time zone NOT NULL,
    timezone character varying(64) NOT NULL,
    language character varying(8) NOT NULL,
    source_path text NOT NULL,
    spec_json text NOT NULL,
    spec_hash character varying(64) NOT NULL,
    sequence integer DEFAULT 0 NOT NULL,
    status character varying(16) DEFAULT 'active'::character varying NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    purged_at timestamp without time zone,
    previous_start_at timestamp without time zone,
    previous_end_at timestamp without time zone
);
CREATE TABLE job_files (
    path text NOT NULL,
    event_id character varying(100) NOT NULL,
    mtime_ns bigint NOT NULL,
    size bigint NOT NULL,
    csv_path text,
    csv_mtime_ns bigint,
    csv_size bigint,
    applied_at timestamp without time zone NOT NULL
);
CREATE TABLE registrants (
    id integer NOT NULL,
    event_id character varying(100) NOT NULL,
    email character varying(320) NOT NULL,
    name text DEFAULT ''::text NOT NULL,
    organization text DEFAULT ''::text NOT NULL,
    department text DEFAULT ''::text NOT NULL,
    fields_json text DEFAULT '{}'::text NOT NULL,
    source character varying(16) DEFAULT 'csv'::character varying NOT NULL,
    status character varying(16) DEFAULT 'active'::character varying NOT NULL,
    zoom_registrant_id character varying(100),
    join_url text,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    family_name text DEFAULT ''::text NOT NULL,
    given_name text DEFAULT ''::text NOT NULL,
    row_number integer,
    cancel_reason character varying(32),
    zoom_status character varying(16),
    survey_token character varying(32)
);
CREATE SEQUENCE registrants_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE registrants_id_seq OWNED BY registrants.id;
CREATE TABLE report_rows (
    id integer NOT NULL,
    event_id character varying(100) NOT NULL,
    source character varying(32) NOT NULL,
    row_json text NOT NULL,
    fetched_at timestamp without time zone NOT NULL
);
CREATE SEQUENCE report_rows_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE report_rows_id_seq OWNED BY report_rows.id;
CREATE TABLE schema_migrations (
    version integer NOT NULL,
    name character varying(200) NOT NULL,
    applied_at timestamp without time zone NOT NULL
);
CREATE TABLE steps (
    id integer NOT NULL,
    event_id character varying(100) NOT NULL,
    key character varying(100) NOT NULL,
    kind character varying(50) NOT NULL,
    due_at timestamp without time zone NOT NULL,
    at_expr character varying(200) NOT NULL,
    after_key character varying(100),
    params_json text DEFAULT '{}'::text NOT NULL,
    state character varying(16) DEFAULT 'planned'::character varying NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    last_error text,
    started_at timestamp without time zone,
    finished_at timestamp without time zone,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    lease_owner character varying(100),
    lease_until timestamp without time zone,
    retry_at timestamp without time zone,
    alerted_at timestamp without time zone
);
CREATE SEQUENCE steps_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE steps_id_seq OWNED BY steps.id;
CREATE TABLE survey_responses (
    id integer NOT NULL,
    event_id character varying(100) NOT NULL,
    registrant_id integer,
    email character varying(320),
    row_number integer,
    answers_json text NOT NULL,
    imported_at timestamp without time zone NOT NULL
);
CREATE SEQUENCE survey_responses_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE survey_responses_id_seq OWNED BY survey_responses.id;
CREATE TABLE zoom_meetings (
    event_id character varying(100) NOT NULL,
    kind character varying(16) NOT NULL,
    host character varying(320) NOT NULL,
    state character varying(16) NOT NULL,
    meeting_id bigint,
    uuid character varying(100),
    join_url text,
    passcode character varying(100),
    registration_url text,
    synced_hash character varying(64),
    lease_owner character varying(100),
    lease_until timestamp without time zone,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    host_email character varying(320)
);
ALTER TABLE ONLY attendance ALTER COLUMN id SET DEFAULT nextval('attendance_id_seq'::regclass);
ALTER TABLE ONLY deliveries ALTER COLUMN id SET DEFAULT nextval('deliveries_id_seq'::regclass);
ALTER TABLE ONLY registrants ALTER COLUMN id SET DEFAULT nextval('registrants_id_seq'::regclass);
ALTER TABLE ONLY report_rows ALTER COLUMN id SET DEFAULT nextval('report_rows_id_seq'::regclass);
ALTER TABLE ONLY steps ALTER COLUMN id SET DEFAULT nextval('steps_id_seq'::regclass);
ALTER TABLE ONLY survey_responses ALTER COLUMN id SET DEFAULT nextval('survey_responses_id_seq'::regclass);
INSERT INTO deliveries VALUES (1, 'release-seminar', 'hanako@example.org', 'mail.invitation', 'pending', 0, NULL, NULL, '2026-11-26 01:00:00', '2026-11-26 01:00:00', NULL, NULL, 0);
INSERT INTO events VALUES ('release-seminar', 'fixture', 'リリース時のセミナー', '2027-02-18 09:00:00', '2027-02-18 10:30:00', 'Asia/Tokyo', 'ja', 'jobs/release.toml', '{}', 'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff', 0, 'active', '2026-11-26 01:00:00', '2026-11-26 01:00:00', NULL, NULL, NULL);
INSERT INTO job_files VALUES ('/srv/opsflow/jobs/release.toml', 'release-seminar', 1764118800000000000, 1234, NULL, NULL, NULL, '2026-11-26 01:00:00');
INSERT INTO registrants VALUES (1, 'release-seminar', 'hanako@example.org', '山田 花子', '例市', '', '{}', 'csv', 'active', NULL, NULL, '2026-11-26 01:00:00', '2026-11-26 01:00:00', '山田', '花子', 2, NULL, NULL, NULL);
INSERT INTO schema_migrations VALUES (1, 'events, steps, registrants, deliveries, attendance', '2026-12-04 05:03:34.216172');
INSERT INTO schema_migrations VALUES (2, 'step leases for runners on several hosts', '2026-12-04 05:03:34.216172');
INSERT INTO schema_migrations VALUES (3, 'the Zoom meeting of each event', '2026-12-04 05:03:34.216172');
INSERT INTO schema_migrations VALUES (4, 'registrant name parts, cancellation reasons and Zoom status; purge date', '2026-12-04 05:03:34.216172');
INSERT INTO schema_migrations VALUES (5, 'delivery retry time and resend count; the event''s previous time', '2026-12-04 05:03:34.216172');
INSERT INTO schema_migrations VALUES (6, 'report rows, attendance details, survey tokens and responses', '2026-12-04 05:03:34.216172');
INSERT INTO schema_migrations VALUES (7, 'step retry time and alert time; an index for due steps', '2026-12-04 05:03:34.216172');
INSERT INTO schema_migrations VALUES (8, 'job files and registrant CSVs as last applied', '2026-12-04 05:03:34.216172');
INSERT INTO steps VALUES (1, 'release-seminar', 'mail.invitation', 'mail.invitation', '2027-02-04 09:00:00', 'start - 14d @ 10:00', NULL, '{}', 'done', 0, NULL, NULL, '2026-11-26 01:00:00', '2026-11-26 01:00:00', '2026-11-26 01:00:00', NULL, NULL, NULL, NULL);
INSERT INTO steps VALUES (2, 'release-seminar', 'mail.reminder', 'mail.reminder', '2027-02-17 09:00:00', 'start - 1d @ 10:00', NULL, '{}', 'planned', 0, NULL, NULL, NULL, '2026-11-26 01:00:00', '2026-11-26 01:00:00', NULL, NULL, NULL, NULL);
SELECT pg_catalog.setval('attendance_id_seq', 1, false);
SELECT pg_catalog.setval('deliveries_id_seq', 1, true);
SELECT pg_catalog.setval('registrants_id_seq', 1, true);
SELECT pg_catalog.setval('report_rows_id_seq', 1, false);
SELECT pg_catalog.setval('steps_id_seq', 2, true);
SELECT pg_catalog.setval('survey_responses_id_seq', 1, false);
ALTER TABLE ONLY attendance
    ADD CONSTRAINT attendance_pkey PRIMARY KEY (id);
ALTER TABLE ONLY deliveries
    ADD CONSTRAINT deliveries_pkey PRIMARY KEY (id);
ALTER TABLE ONLY events
    ADD CONSTRAINT events_pkey PRIMARY KEY (id);
ALTER TABLE ONLY job_files
    ADD CONSTRAINT job_files_pkey PRIMARY KEY (path);
ALTER TABLE ONLY registrants
    ADD CONSTRAINT registrants_pkey PRIMARY KEY (id);
ALTER TABLE ONLY report_rows
    ADD CONSTRAINT report_rows_pkey PRIMARY KEY (id);
ALTER TABLE ONLY schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);
ALTER TABLE ONLY steps
    ADD CONSTRAINT steps_pkey PRIMARY KEY (id);
ALTER TABLE ONLY survey_responses
    ADD CONSTRAINT survey_responses_pkey PRIMARY KEY (id);
ALTER TABLE ONLY deliveries
    ADD CONSTRAINT uq_deliveries_claim UNIQUE (event_id, recipient, message_key);
ALTER TABLE ONLY registrants
    ADD CONSTRAINT uq_registrants_event_email UNIQUE (event_id, email);
ALTER TABLE ONLY steps
    ADD CONSTRAINT uq_steps_event_key UNIQUE (event_id, key);
ALTER TABLE ONLY survey_responses
    ADD CONSTRAINT uq_survey_responses_person UNIQUE (event_id, registrant_id);
ALTER TABLE ONLY zoom_meetings
    ADD CONSTRAINT zoom_meetings_pkey PRIMARY KEY (event_id);
CREATE INDEX ix_steps_state_due ON steps USING btree (state, due_at);
ALTER TABLE ONLY attendance
    ADD CONSTRAINT attendance_event_id_fkey FOREIGN KEY (event_id) REFERENCES events(id) ON DELETE CASCADE;
ALTER TABLE ONLY attendance
    ADD CONSTRAINT attendance_registrant_id_fkey FOREIGN KEY (registrant_id) REFERENCES registrants(id) ON DELETE SET NULL;
ALTER TABLE ONLY deliveries
    ADD CONSTRAINT deliveries_event_id_fkey FOREIGN KEY (event_id) REFERENCES events(id) ON DELETE CASCADE;
ALTER TABLE ONLY registrants
    ADD CONSTRAINT registrants_event_id_fkey FOREIGN KEY (event_id) REFERENCES events(id) ON DELETE CASCADE;
ALTER TABLE ONLY report_rows
    ADD CONSTRAINT report_rows_event_id_fkey FOREIGN KEY (event_id) REFERENCES events(id) ON DELETE CASCADE;
ALTER TABLE ONLY steps
    ADD CONSTRAINT steps_event_id_fkey FOREIGN KEY (event_id) REFERENCES events(id) ON DELETE CASCADE;
ALTER TABLE ONLY survey_responses
    ADD CONSTRAINT survey_responses_event_id_fkey FOREIGN KEY (event_id) REFERENCES events(id) ON DELETE CASCADE;
ALTER TABLE ONLY survey_responses
    ADD CONSTRAINT survey_responses_registrant_id_fkey FOREIGN KEY (registrant_id) REFERENCES registrants(id) ON DELETE SET NULL;
ALTER TABLE ONLY zoom_meetings
    ADD CONSTRAINT zoom_meetings_event_id_fkey FOREIGN KEY (event_id) REFERENCES events(id) ON DELETE CASCADE;
