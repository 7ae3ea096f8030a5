import Logging
import PostgresNIO

/// The PostgreSQL schema, as numbered migrations applied in order, each in one transaction with
/// its row in `schema_migration`. Nodes starting at once take turns on an advisory lock, so each
/// migration runs once. Tables keep the SQLite schema's names, columns and checks (a column the
/// SQLite schema calls `user`, a reserved word here, is `user_name`).
enum PostgresSchema {
    /// The advisory lock migrations hold (any constant no other tool uses: "warden" in ASCII).
    static let migrationLock: Int64 = 0x77_61_72_64_65_6E

    struct Migration {
        var version: Int
        var name: String
        var statements: [String]
    }

    static let migrations: [Migration] = [
        Migration(version: 1, name: "event log and entity graph", statements: [
            // Refuses any change but an insert: the event and audit logs are append-only in the database itself.
            """
            CREATE FUNCTION warden_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'the % log is append-only', TG_ARGV[0] USING ERRCODE = 'restrict_violation'; END $$
            """,
            """
            CREATE TABLE event (
                seq bigint PRIMARY KEY CHECK (seq > 0),
                id text NOT NULL UNIQUE CHECK (length(id) BETWEEN 1 AND 200),
                type text NOT NULL CHECK (length(type) BETWEEN 1 AND 100),
                occurred_at bigint NOT NULL CHECK (occurred_at >= 0),
                received_at bigint NOT NULL,
                entities text NOT NULL,
                body text NOT NULL CHECK (length(body) >= 2)
            )
            """,
            "CREATE INDEX event_by_type ON event (type, seq)",
            // Received times rise with the log (appends keep them so), which suits a block-range index.
            "CREATE INDEX event_by_received ON event USING brin (received_at)",
            """
            CREATE TRIGGER event_is_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON event
            FOR EACH STATEMENT EXECUTE FUNCTION warden_append_only('event')
            """,
            // The log's last position and receive time. Every append locks this row first and holds
            // it until commit: appends commit one at a time, in sequence order.
            """
            CREATE TABLE log_head (
                id integer PRIMARY KEY CHECK (id = 1),
                seq bigint NOT NULL CHECK (seq >= 0),
                received_at bigint NOT NULL
            )
            """,
            "INSERT INTO log_head (id, seq, received_at) VALUES (1, 0, 0)",
            """
            CREATE TABLE consumer_cursor (
                name text PRIMARY KEY,
                seq bigint NOT NULL CHECK (seq >= 0)
            )
            """,
            """
            CREATE TABLE entity (
                key bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                type text NOT NULL CHECK (length(type) BETWEEN 1 AND 40),
                id text NOT NULL CHECK (length(id) BETWEEN 1 AND 256),
                first_seen_at bigint NOT NULL,
                first_seq bigint NOT NULL CHECK (first_seq > 0),
                UNIQUE (type, id)
            )
            """,
            """
            CREATE TABLE event_entity (
                entity bigint NOT NULL,
                seq bigint NOT NULL CHECK (seq > 0),
                PRIMARY KEY (entity, seq)
            )
            """,
            """
            CREATE TABLE entity_link (
                a bigint NOT NULL,
                b bigint NOT NULL,
                first_seq bigint NOT NULL CHECK (first_seq > 0),
                PRIMARY KEY (a, b),
                CHECK (a <> b)
            )
            """,
            """
            CREATE TABLE graph_cursor (
                id integer PRIMARY KEY CHECK (id = 1),
                seq bigint NOT NULL CHECK (seq >= 0)
            )
            """,
            "INSERT INTO graph_cursor (id, seq) VALUES (1, 0)",
        ]),
        Migration(version: 2, name: "audit chain, people, sessions and tokens", statements: [
            """
            CREATE TABLE audit_log (
                seq bigint PRIMARY KEY CHECK (seq > 0),
                at bigint NOT NULL,
                actor text NOT NULL,
                action text NOT NULL,
                target text NOT NULL,
                detail text NOT NULL,
                previous_hash bytea NOT NULL CHECK (length(previous_hash) = 32),
                hash bytea NOT NULL CHECK (length(hash) = 32)
            )
            """,
            "CREATE INDEX audit_by_actor ON audit_log (actor, seq)",
            "CREATE INDEX audit_by_target ON audit_log (target, seq)",
            """
            CREATE TRIGGER audit_is_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
            FOR EACH STATEMENT EXECUTE FUNCTION warden_append_only('audit')
            """,
            // The chain's head: each entry's append locks it first, so entries chain one at a time.
            """
            CREATE TABLE audit_head (
                id integer PRIMARY KEY CHECK (id = 1),
                seq bigint NOT NULL CHECK (seq >= 0),
                hash bytea NOT NULL CHECK (length(hash) = 32)
            )
            """,
            "INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, decode(repeat('00', 32), 'hex'))",
            """
            CREATE TABLE api_token (
                id text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
                name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
                secret_hash bytea NOT NULL UNIQUE CHECK (length(secret_hash) = 32),
                scopes text NOT NULL CHECK (length(scopes) > 0),
                created_at bigint NOT NULL,
                revoked_at bigint CHECK (revoked_at IS NULL OR revoked_at >= created_at)
            )
            """,
            """
            CREATE TABLE app_user (
                name text PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 100),
                role text NOT NULL CHECK (role IN ('admin', 'lead', 'analyst', 'reviewer', 'vendor_reviewer', 'auditor')),
                queues text NOT NULL,
                teams text NOT NULL,
                password_hash text NOT NULL CHECK (length(password_hash) > 20),
                created_at bigint NOT NULL,
                disabled_at bigint
            )
            """,
            """
            CREATE TABLE user_session (
                id_hash bytea PRIMARY KEY CHECK (length(id_hash) = 32),
                user_name text NOT NULL REFERENCES app_user (name),
                csrf_token text NOT NULL,
                created_at bigint NOT NULL,
                expires_at bigint NOT NULL CHECK (expires_at > created_at),
                last_seen_at bigint NOT NULL
            )
            """,
            "CREATE INDEX session_by_user ON user_session (user_name)",
            """
            CREATE TABLE signin_link (
                id_hash bytea PRIMARY KEY CHECK (length(id_hash) = 32),
                user_name text NOT NULL REFERENCES app_user (name),
                created_at bigint NOT NULL,
                expires_at bigint NOT NULL CHECK (expires_at > created_at),
                used_at bigint
            )
            """,
        ]),
        Migration(version: 3, name: "review: signals, cases, decisions, enforcement, outbox, statements of reasons", statements: [
            """
            CREATE TABLE signal (
                id bigint PRIMARY KEY,
                event_seq bigint REFERENCES event (seq),
                case_id bigint,
                rule text NOT NULL CHECK (length(rule) > 0),
                rule_version text NOT NULL,
                category text NOT NULL,
                severity text NOT NULL,
                subject text,
                reason text,
                explanation text NOT NULL,
                queue text,
                verdict text CHECK (verdict IS NULL OR verdict IN ('allow', 'challenge', 'block')),
                effects text NOT NULL,
                occurred_at bigint NOT NULL,
                created_at bigint NOT NULL,
                CHECK (event_seq IS NOT NULL OR case_id IS NOT NULL),
                UNIQUE (event_seq, rule, rule_version)
            )
            """,
            "CREATE INDEX signal_by_subject ON signal (subject, id)",
            "CREATE INDEX signal_by_rule ON signal (rule, id)",
            "CREATE UNIQUE INDEX signal_per_case_event ON signal (case_id, rule, rule_version) WHERE case_id IS NOT NULL",
            // The case builder follows signals by id. Every transaction that inserts signals locks
            // this row first and holds it to commit, and numbers each new signal max(id) + 1, so ids
            // are taken and committed in one order (a reader that has seen id n never finds a smaller
            // one committed later) and a replayed signal, refused as a duplicate, takes no number.
            "CREATE TABLE signal_head (id integer PRIMARY KEY CHECK (id = 1))",
            "INSERT INTO signal_head (id) VALUES (1)",
            """
            CREATE TABLE review_case (
                id bigint PRIMARY KEY,
                kind text NOT NULL CHECK (kind IN ('review', 'appeal')),
                subject text NOT NULL CHECK (position(':' in subject) > 1),
                source text NOT NULL CHECK (source IN ('signal', 'report', 'appeal')),
                queue text NOT NULL CHECK (length(queue) > 0),
                state text NOT NULL CHECK (state IN ('open', 'in_review', 'on_hold', 'escalated', 'resolved', 'appealed', 'closed')),
                category text NOT NULL,
                severity text NOT NULL,
                score integer NOT NULL CHECK (score BETWEEN 0 AND 100),
                band integer NOT NULL CHECK (band BETWEEN 1 AND 4),
                signals integer NOT NULL CHECK (signals >= 0),
                reports integer NOT NULL CHECK (reports >= 0),
                reporter_weight double precision NOT NULL CHECK (reporter_weight >= 0),
                assignee text,
                lease_expires_at bigint,
                created_at bigint NOT NULL,
                updated_at bigint NOT NULL,
                content_at bigint NOT NULL,
                first_action_at bigint,
                resolved_at bigint,
                clock_accumulated bigint NOT NULL CHECK (clock_accumulated >= 0),
                clock_since bigint,
                due_at bigint NOT NULL,
                sla_next_at bigint,
                sla_raised integer NOT NULL,
                appeal_of bigint REFERENCES review_case (id),
                excluded_reviewer text,
                escalation_reason text,
                golden_item bigint,
                CHECK ((state IN ('in_review', 'on_hold')) = (assignee IS NOT NULL)),
                CHECK ((kind = 'appeal') = (appeal_of IS NOT NULL))
            )
            """,
            """
            CREATE UNIQUE INDEX case_open_per_subject ON review_case (subject)
                WHERE kind = 'review' AND golden_item IS NULL AND state IN ('open', 'in_review', 'on_hold', 'escalated')
            """,
            "CREATE INDEX case_waiting ON review_case (queue, band, due_at, id) WHERE state IN ('open', 'escalated')",
            "CREATE INDEX case_leases ON review_case (lease_expires_at) WHERE state = 'in_review'",
            "CREATE INDEX case_sla ON review_case (sla_next_at) WHERE sla_next_at IS NOT NULL",
            "CREATE INDEX case_by_assignee ON review_case (assignee) WHERE assignee IS NOT NULL",
            "CREATE INDEX case_by_queue_state ON review_case (queue, state)",
            "CREATE INDEX case_by_subject ON review_case (subject, id)",
            "CREATE INDEX case_by_created ON review_case (created_at)",
            "CREATE INDEX case_by_resolved ON review_case (resolved_at) WHERE resolved_at IS NOT NULL",
            """
            CREATE TABLE case_timeline (
                id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                case_id bigint NOT NULL REFERENCES review_case (id),
                at bigint NOT NULL,
                actor text NOT NULL CHECK (length(actor) > 0),
                kind text NOT NULL,
                from_state text,
                to_state text,
                detail text NOT NULL
            )
            """,
            "CREATE INDEX timeline_by_case ON case_timeline (case_id, id)",
            "CREATE INDEX timeline_by_actor ON case_timeline (actor, at)",
            """
            CREATE TABLE case_item (
                kind text NOT NULL CHECK (kind IN ('signal', 'report')),
                ref bigint NOT NULL,
                case_id bigint NOT NULL REFERENCES review_case (id),
                reporter text,
                weight double precision NOT NULL,
                duplicate boolean NOT NULL,
                at bigint NOT NULL,
                PRIMARY KEY (kind, ref)
            )
            """,
            "CREATE INDEX case_item_by_case ON case_item (case_id, reporter)",
            """
            CREATE TABLE reporter (
                id text PRIMARY KEY,
                trust double precision NOT NULL CHECK (trust BETWEEN 0 AND 1),
                muted boolean NOT NULL,
                reports integer NOT NULL,
                upheld integer NOT NULL,
                rejected integer NOT NULL
            )
            """,
            """
            CREATE TABLE decision (
                id bigint PRIMARY KEY,
                case_id bigint NOT NULL REFERENCES review_case (id),
                decided_by text NOT NULL,
                at bigint NOT NULL,
                category text NOT NULL,
                violation boolean NOT NULL,
                policy text,
                rationale text,
                tree_path text,
                macro text,
                appeal_outcome text CHECK (appeal_outcome IS NULL OR appeal_outcome IN ('upheld', 'overturned')),
                pack_version text
            )
            """,
            "CREATE INDEX decision_by_case ON decision (case_id, id)",
            "CREATE INDEX decision_by_time ON decision (at)",
            """
            CREATE TABLE enforcement_action (
                id bigint PRIMARY KEY,
                decision_id bigint NOT NULL REFERENCES decision (id),
                case_id bigint NOT NULL REFERENCES review_case (id),
                subject text NOT NULL,
                action text NOT NULL,
                duration bigint CHECK (duration IS NULL OR duration > 0),
                created_at bigint NOT NULL,
                reverses bigint UNIQUE REFERENCES enforcement_action (id),
                reversed_at bigint,
                reversed_by text,
                reversal_reason text
            )
            """,
            "CREATE INDEX action_by_decision ON enforcement_action (decision_id, id)",
            """
            CREATE TABLE strike (
                id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                subject text NOT NULL,
                policy text NOT NULL,
                decision_id bigint NOT NULL REFERENCES decision (id),
                at bigint NOT NULL,
                expires_at bigint NOT NULL CHECK (expires_at > at),
                removed_at bigint
            )
            """,
            "CREATE INDEX strike_by_subject ON strike (subject, policy, expires_at)",
            """
            CREATE TABLE outbox (
                id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                topic text NOT NULL,
                idempotency_key text NOT NULL UNIQUE,
                ordering_key text NOT NULL,
                body text NOT NULL,
                state text NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
                attempts integer NOT NULL CHECK (attempts >= 0),
                next_attempt_at bigint NOT NULL,
                last_error text,
                last_status integer,
                created_at bigint NOT NULL,
                delivered_at bigint,
                destination text NOT NULL DEFAULT ''
            )
            """,
            "CREATE INDEX outbox_due ON outbox (destination, next_attempt_at, id) WHERE state = 'pending'",
            "CREATE INDEX outbox_pending_in_order ON outbox (ordering_key, id) WHERE state = 'pending'",
            "CREATE INDEX outbox_by_state ON outbox (state, id)",
            """
            CREATE TABLE statement_of_reasons (
                decision_id bigint PRIMARY KEY REFERENCES decision (id),
                created_at bigint NOT NULL,
                body text NOT NULL
            )
            """,
            "CREATE INDEX statement_by_time ON statement_of_reasons (created_at, decision_id)",
            """
            CREATE TABLE statement_submission (
                decision_id bigint PRIMARY KEY REFERENCES statement_of_reasons (decision_id),
                outcome text NOT NULL CHECK (outcome IN ('created', 'already_present', 'refused')),
                database_uuid text,
                detail text,
                at bigint NOT NULL
            )
            """,
            """
            CREATE TABLE case_consult (
                id bigint PRIMARY KEY,
                case_id bigint NOT NULL REFERENCES review_case (id),
                asked_by text NOT NULL,
                reviewer text NOT NULL CHECK (length(reviewer) > 0),
                question text NOT NULL,
                asked_at bigint NOT NULL,
                answer text,
                answered_at bigint,
                CHECK ((answer IS NULL) = (answered_at IS NULL))
            )
            """,
            "CREATE INDEX consult_inbox ON case_consult (reviewer, answered_at, id)",
            "CREATE INDEX consult_by_case ON case_consult (case_id, id)",
            // Review writes that name new rows before writing them (a case, decision, action or
            // consult id in timeline entries, audit details and webhook bodies) take this row's lock
            // first: one at a time across the cluster, as under SQLite's single writer, so an id
            // read as max + 1 is still free at commit and ids rise in commit order.
            """
            CREATE TABLE review_head (
                id integer PRIMARY KEY CHECK (id = 1)
            )
            """,
            "INSERT INTO review_head (id) VALUES (1)",
        ]),
        // The quality tables review itself reads and writes: a decision on a golden copy is scored
        // against its item's key (`golden_case`), and decided texts take QA's settled verdicts.
        Migration(version: 4, name: "quality tables review reads: QA audits and items, golden items and copies", statements: [
            """
            CREATE TABLE qa_audit (
                id bigint PRIMARY KEY,
                name text NOT NULL,
                plan text NOT NULL,
                window_from bigint NOT NULL,
                window_to bigint NOT NULL,
                population integer NOT NULL CHECK (population >= 0),
                sample_size integer NOT NULL CHECK (sample_size >= 0),
                strata text NOT NULL,
                created_by text NOT NULL,
                created_at bigint NOT NULL
            )
            """,
            """
            CREATE TABLE qa_item (
                id bigint PRIMARY KEY,
                audit_id bigint NOT NULL REFERENCES qa_audit (id),
                decision_id bigint NOT NULL UNIQUE REFERENCES decision (id),
                case_id bigint NOT NULL REFERENCES review_case (id),
                decider text NOT NULL,
                queue text NOT NULL,
                category text NOT NULL,
                violation boolean NOT NULL,
                decided_at bigint NOT NULL,
                stratum text,
                state text NOT NULL CHECK (state IN ('waiting', 'in_review', 'agreed', 'disagreed', 'disputed', 'ruled')),
                reviewer text,
                claimed_at bigint,
                verdict_violation boolean,
                verdict_category text,
                verdict_errors text,
                verdict_notes text,
                verdict_at bigint,
                disputed_by text,
                dispute_reason text,
                disputed_at bigint,
                ruling text CHECK (ruling IS NULL OR ruling IN ('qa', 'original')),
                ruled_by text,
                ruling_notes text,
                ruled_at bigint
            )
            """,
            "CREATE INDEX qa_item_by_audit ON qa_item (audit_id, id)",
            "CREATE INDEX qa_item_waiting ON qa_item (id) WHERE state = 'waiting'",
            "CREATE INDEX qa_item_by_decider ON qa_item (decider, id)",
            "CREATE INDEX qa_item_by_verdict ON qa_item (verdict_at) WHERE verdict_at IS NOT NULL",
            "CREATE INDEX timeline_escalations ON case_timeline (case_id, id) WHERE kind = 'transition' AND to_state = 'escalated'",
            """
            CREATE TABLE golden_item (
                id bigint PRIMARY KEY,
                case_id bigint REFERENCES review_case (id),
                queue text NOT NULL,
                text text NOT NULL,
                answer text NOT NULL,
                explanation text NOT NULL,
                created_by text NOT NULL,
                created_at bigint NOT NULL,
                retired_at bigint
            )
            """,
            "CREATE INDEX golden_item_by_queue ON golden_item (queue, id)",
            "ALTER TABLE review_case ADD FOREIGN KEY (golden_item) REFERENCES golden_item (id)",
            """
            CREATE TABLE golden_case (
                case_id bigint PRIMARY KEY REFERENCES review_case (id),
                golden_id bigint NOT NULL REFERENCES golden_item (id),
                reviewer text NOT NULL,
                queue text NOT NULL,
                mixed_at bigint NOT NULL,
                decision_id bigint,
                decided_by text,
                answer text,
                expected text,
                correct boolean,
                decided_at bigint
            )
            """,
            "CREATE INDEX golden_case_by_reviewer ON golden_case (reviewer, golden_id)",
            "CREATE INDEX golden_case_decided ON golden_case (decided_at) WHERE decided_at IS NOT NULL",
        ]),
        Migration(version: 5, name: "detection: labels, rule hits, snapshots, classification jobs, classifier models, rule history", statements: [
            """
            CREATE TABLE entity_label (
                entity text NOT NULL CHECK (position(':' in entity) > 1),
                name text NOT NULL CHECK (length(name) > 0),
                source text NOT NULL,
                created_at bigint NOT NULL,
                expires_at bigint CHECK (expires_at IS NULL OR expires_at > created_at),
                PRIMARY KEY (entity, name)
            )
            """,
            """
            CREATE TABLE rule_hits (
                rule text NOT NULL,
                version text NOT NULL,
                mode text NOT NULL CHECK (mode IN ('active', 'shadow')),
                hour bigint NOT NULL,
                hits bigint NOT NULL CHECK (hits > 0),
                PRIMARY KEY (rule, version, mode, hour)
            )
            """,
            """
            CREATE TABLE detection_snapshot (
                name text PRIMARY KEY,
                seq bigint NOT NULL CHECK (seq >= 0),
                taken_at bigint NOT NULL,
                data bytea NOT NULL
            )
            """,
            """
            CREATE TABLE classification_job (
                id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                event_seq bigint NOT NULL REFERENCES event (seq),
                rule text NOT NULL CHECK (length(rule) > 0),
                rule_version text NOT NULL,
                mode text NOT NULL CHECK (mode IN ('active', 'shadow')),
                category text NOT NULL,
                severity text NOT NULL,
                subject text,
                reason text,
                explanation text NOT NULL,
                queue text,
                effects text NOT NULL,
                occurred_at bigint NOT NULL,
                condition text NOT NULL,
                state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'fired', 'not_fired', 'failed')),
                attempts integer NOT NULL DEFAULT 0,
                next_attempt_at bigint NOT NULL,
                last_error text,
                answers text,
                created_at bigint NOT NULL,
                settled_at bigint,
                UNIQUE (event_seq, rule, rule_version)
            )
            """,
            "CREATE INDEX classification_job_due ON classification_job (next_attempt_at, id) WHERE state = 'pending'",
            "CREATE INDEX classification_job_by_state ON classification_job (state, id)",
            """
            CREATE TABLE rule_version (
                rule text NOT NULL,
                version text NOT NULL,
                mode text NOT NULL,
                source text NOT NULL,
                first_active_at bigint NOT NULL,
                pack_version text NOT NULL,
                PRIMARY KEY (rule, version)
            )
            """,
            """
            CREATE TABLE classifier_model (
                name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
                version integer NOT NULL CHECK (version > 0),
                kind text NOT NULL,
                created_at bigint NOT NULL,
                trained_on text NOT NULL,
                examples integer NOT NULL CHECK (examples > 0),
                labels text NOT NULL,
                metrics text NOT NULL,
                data bytea NOT NULL,
                PRIMARY KEY (name, version)
            )
            """,
            """
            CREATE TABLE pack_change (
                id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                at bigint NOT NULL,
                actor text NOT NULL CHECK (length(actor) > 0),
                pack_version text,
                outcome text NOT NULL CHECK (outcome IN ('activated', 'rejected', 'unchanged')),
                detail text NOT NULL
            )
            """,
        ]),
        Migration(version: 6, name: "incidents, alerts, pages, on-call, alert series and automation runs", statements: [
            """
            CREATE TABLE incident (
                id bigint PRIMARY KEY,
                title text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
                summary text NOT NULL,
                severity text NOT NULL,
                status text NOT NULL CHECK (status IN ('investigating', 'identified', 'mitigating', 'monitoring', 'resolved', 'closed')),
                roles text NOT NULL,
                participants text NOT NULL,
                stakeholders text NOT NULL,
                source text NOT NULL,
                source_ref text,
                created_at bigint NOT NULL,
                created_by text NOT NULL,
                detected_at bigint NOT NULL,
                acknowledged_at bigint,
                acknowledged_by text,
                identified_at bigint,
                mitigated_at bigint,
                resolved_at bigint,
                closed_at bigint,
                last_update_at bigint,
                update_due_at bigint,
                review text
            )
            """,
            "CREATE INDEX incident_by_status ON incident (status, id)",
            "CREATE INDEX incident_update_due ON incident (update_due_at) WHERE update_due_at IS NOT NULL",
            "CREATE INDEX incident_by_created ON incident (created_at)",
            """
            CREATE TABLE incident_link (
                incident_id bigint NOT NULL REFERENCES incident (id),
                kind text NOT NULL,
                ref text NOT NULL,
                at bigint NOT NULL,
                by_actor text NOT NULL,
                PRIMARY KEY (incident_id, kind, ref)
            )
            """,
            "CREATE INDEX incident_link_by_item ON incident_link (kind, ref)",
            """
            CREATE TABLE incident_task (
                id bigint PRIMARY KEY,
                incident_id bigint NOT NULL REFERENCES incident (id),
                title text NOT NULL,
                owner text,
                due_at bigint,
                follow_up boolean NOT NULL,
                created_at bigint NOT NULL,
                created_by text NOT NULL,
                done_at bigint,
                done_by text,
                change text
            )
            """,
            "CREATE INDEX task_by_incident ON incident_task (incident_id, id)",
            """
            CREATE TABLE incident_timeline (
                id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                incident_id bigint NOT NULL REFERENCES incident (id),
                at bigint NOT NULL,
                actor text NOT NULL,
                kind text NOT NULL,
                detail text NOT NULL
            )
            """,
            "CREATE INDEX incident_timeline_by_incident ON incident_timeline (incident_id, id)",
            """
            CREATE TABLE alert (
                id bigint PRIMARY KEY,
                rule text NOT NULL,
                key text NOT NULL,
                series text NOT NULL,
                state text NOT NULL CHECK (state IN ('firing', 'acknowledged', 'snoozed', 'resolved')),
                first_fired_at bigint NOT NULL,
                last_fired_at bigint NOT NULL,
                firings bigint NOT NULL,
                value double precision NOT NULL,
                baseline double precision,
                score double precision,
                peak double precision NOT NULL,
                acknowledged_at bigint,
                acknowledged_by text,
                snoozed_until bigint,
                resolved_at bigint,
                resolved_by text,
                incident_id bigint REFERENCES incident (id)
            )
            """,
            "CREATE UNIQUE INDEX alert_open_per_key ON alert (rule, key) WHERE state <> 'resolved'",
            "CREATE INDEX alert_by_fired ON alert (first_fired_at)",
            """
            CREATE TABLE page (
                id bigint PRIMARY KEY,
                subject text NOT NULL,
                policy text NOT NULL,
                summary text NOT NULL,
                severity text NOT NULL,
                started_at bigint NOT NULL,
                next_step bigint NOT NULL,
                next_at bigint,
                paged text NOT NULL,
                acknowledged_at bigint,
                acknowledged_by text,
                resolved_at bigint
            )
            """,
            "CREATE INDEX page_due ON page (next_at) WHERE next_at IS NOT NULL",
            "CREATE INDEX page_by_subject ON page (subject, id)",
            """
            CREATE TABLE oncall_override (
                id bigint PRIMARY KEY,
                schedule text NOT NULL,
                person text NOT NULL,
                starts_at bigint NOT NULL,
                ends_at bigint NOT NULL CHECK (ends_at > starts_at),
                created_by text NOT NULL
            )
            """,
            """
            CREATE TABLE series_bucket (
                series text NOT NULL,
                minute bigint NOT NULL,
                key text NOT NULL,
                count bigint NOT NULL,
                PRIMARY KEY (series, minute, key)
            )
            """,
            // Written before an automation's actions run, so a crash never runs them twice.
            """
            CREATE TABLE automation_run (
                id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                automation text NOT NULL,
                trigger_seq bigint NOT NULL,
                target text NOT NULL,
                at bigint NOT NULL,
                outcome text NOT NULL CHECK (outcome IN ('running', 'done', 'partial', 'failed', 'skipped')),
                detail text NOT NULL,
                UNIQUE (automation, trigger_seq)
            )
            """,
            "CREATE INDEX automation_run_by_time ON automation_run (automation, at)",
        ]),
        Migration(version: 7, name: "calibration sessions, certifications, article acknowledgements, models' answers", statements: [
            """
            CREATE TABLE qa_session (
                id bigint PRIMARY KEY,
                kind text NOT NULL CHECK (kind IN ('calibration', 'training')),
                name text NOT NULL,
                queue text,
                raters text NOT NULL,
                items text NOT NULL,
                state text NOT NULL CHECK (state IN ('open', 'closed')),
                threshold double precision,
                created_by text NOT NULL,
                created_at bigint NOT NULL,
                closed_at bigint,
                outcome text
            )
            """,
            """
            CREATE TABLE qa_session_rater (
                session_id bigint NOT NULL REFERENCES qa_session (id),
                rater text NOT NULL,
                PRIMARY KEY (rater, session_id)
            )
            """,
            """
            CREATE TABLE qa_session_rating (
                session_id bigint NOT NULL REFERENCES qa_session (id),
                item bigint NOT NULL CHECK (item >= 1),
                rater text NOT NULL,
                answer text NOT NULL,
                notes text,
                at bigint NOT NULL,
                PRIMARY KEY (session_id, item, rater)
            )
            """,
            """
            CREATE TABLE qa_session_note (
                id bigint PRIMARY KEY,
                session_id bigint NOT NULL REFERENCES qa_session (id),
                by_actor text NOT NULL,
                at bigint NOT NULL,
                item bigint,
                text text NOT NULL,
                article text
            )
            """,
            "CREATE INDEX qa_session_note_by_session ON qa_session_note (session_id, id)",
            """
            CREATE TABLE certification (
                user_name text NOT NULL,
                queue text NOT NULL,
                session_id bigint NOT NULL REFERENCES qa_session (id),
                score double precision NOT NULL CHECK (score >= 0 AND score <= 1),
                granted_at bigint NOT NULL,
                revoked_at bigint,
                revoked_by text,
                revoke_reason text,
                PRIMARY KEY (user_name, queue)
            )
            """,
            """
            CREATE TABLE article_ack (
                article text NOT NULL,
                version text NOT NULL,
                user_name text NOT NULL,
                at bigint NOT NULL,
                PRIMARY KEY (article, version, user_name)
            )
            """,
            "CREATE INDEX article_ack_by_user ON article_ack (user_name)",
            """
            CREATE TABLE qa_model_answer (
                item_id bigint NOT NULL REFERENCES qa_item (id),
                model text NOT NULL,
                answer text NOT NULL,
                PRIMARY KEY (item_id, model)
            )
            """,
        ]),
        Migration(version: 8, name: "saved queries, hash banks, derived tables, bulk jobs", statements: [
            """
            CREATE TABLE saved_query (
                name text PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 64),
                description text NOT NULL,
                sql text NOT NULL CHECK (length(sql) > 0),
                parameters text NOT NULL,
                created_by text NOT NULL,
                created_at bigint NOT NULL,
                updated_by text NOT NULL,
                updated_at bigint NOT NULL
            )
            """,
            """
            CREATE TABLE hash_bank (
                name text PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 64),
                kind text NOT NULL CHECK (kind IN ('pdq', 'md5', 'sha256')),
                threshold integer NOT NULL CHECK (threshold BETWEEN 0 AND 256),
                negative boolean NOT NULL,
                description text NOT NULL,
                created_by text NOT NULL,
                created_at bigint NOT NULL
            )
            """,
            """
            CREATE TABLE hash_entry (
                id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                bank text NOT NULL REFERENCES hash_bank (name) ON DELETE CASCADE,
                hash text NOT NULL,
                opinion text NOT NULL CHECK (opinion IN ('unreviewed', 'confirmed', 'deconfirmed')),
                tags text NOT NULL,
                content_id text,
                added_by text NOT NULL,
                added_at bigint NOT NULL,
                UNIQUE (bank, hash)
            )
            """,
            """
            CREATE TABLE derived_table (
                query text PRIMARY KEY REFERENCES saved_query (name) ON DELETE CASCADE,
                every_ms bigint NOT NULL,
                mode text NOT NULL CHECK (mode IN ('full', 'incremental')),
                cursor_column text,
                columns text,
                row_count bigint NOT NULL DEFAULT 0,
                cursor text NOT NULL DEFAULT 'i:0',
                refreshed_at bigint,
                next_at bigint NOT NULL,
                millis double precision,
                error text,
                scheduled_by text NOT NULL
            )
            """,
            """
            CREATE TABLE derived_row (
                query text NOT NULL,
                n bigint NOT NULL,
                data text NOT NULL,
                PRIMARY KEY (query, n)
            )
            """,
            """
            CREATE TABLE bulk_job (
                id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                operation text NOT NULL,
                source text NOT NULL,
                note text,
                state text NOT NULL CHECK (state IN ('awaiting_approval', 'queued', 'running', 'done', 'cancelled', 'reversing', 'reversed')),
                requested_by text NOT NULL,
                approved_by text,
                created_at bigint NOT NULL,
                started_at bigint,
                finished_at bigint,
                total bigint NOT NULL CHECK (total >= 0),
                done bigint NOT NULL CHECK (done >= 0),
                failed bigint NOT NULL CHECK (failed >= 0),
                reversed bigint NOT NULL CHECK (reversed >= 0),
                cursor bigint NOT NULL CHECK (cursor >= 0),
                reversed_by text,
                reversal_reason text
            )
            """,
            "CREATE INDEX bulk_job_active ON bulk_job (id) WHERE state IN ('queued', 'running', 'reversing')",
            """
            CREATE TABLE bulk_item (
                job bigint NOT NULL REFERENCES bulk_job (id),
                n bigint NOT NULL,
                entity text NOT NULL CHECK (position(':' in entity) > 1),
                state text NOT NULL CHECK (state IN ('pending', 'done', 'failed', 'reversed')),
                case_id bigint,
                decision_id bigint,
                action_ids text,
                detail text,
                PRIMARY KEY (job, n)
            )
            """,
        ]),
        Migration(version: 9, name: "search: events' text and cases' text; leases for the log's consumers", statements: [
            // Events' text, written by the search indexer behind its cursor ('simple': no stemming
            // and no stop words, as SQLite's unicode61 tokenizer).
            """
            CREATE TABLE event_search (
                seq bigint PRIMARY KEY,
                type text NOT NULL,
                occurred_at bigint NOT NULL,
                entities text NOT NULL,
                text text NOT NULL,
                words tsvector GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED
            )
            """,
            "CREATE INDEX event_search_words ON event_search USING gin (words)",
            "CREATE TABLE search_cursor (id integer PRIMARY KEY CHECK (id = 1), seq bigint NOT NULL CHECK (seq >= 0))",
            "INSERT INTO search_cursor (id, seq) VALUES (1, 0)",
            // What people read on a case, kept by triggers as SQLite's case_search is.
            """
            CREATE TABLE case_search (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                case_id bigint NOT NULL,
                source text NOT NULL,
                text text NOT NULL,
                words tsvector GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED
            )
            """,
            "CREATE INDEX case_search_words ON case_search USING gin (words)",
            // Text PostgreSQL cannot read as JSON (a NUL escape, which jsonb refuses) is indexed
            // without its JSON parts rather than failing the write that feeds it.
            """
            CREATE FUNCTION warden_case_search() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_TABLE_NAME = 'review_case' THEN
                    INSERT INTO case_search (case_id, source, text) VALUES (NEW.id, 'subject', NEW.subject || ' ' || NEW.category);
                ELSIF TG_TABLE_NAME = 'case_item' THEN
                    IF NEW.kind = 'report' THEN
                        BEGIN
                            INSERT INTO case_search (case_id, source, text)
                            SELECT NEW.case_id, 'report', coalesce(body::jsonb #>> '{data,text}', '') || ' ' || coalesce(NEW.reporter, '')
                            FROM event WHERE seq = NEW.ref;
                        EXCEPTION WHEN invalid_text_representation OR untranslatable_character OR character_not_in_repertoire THEN
                            INSERT INTO case_search (case_id, source, text) VALUES (NEW.case_id, 'report', coalesce(NEW.reporter, ''));
                        END;
                    END IF;
                ELSIF TG_TABLE_NAME = 'case_timeline' THEN
                    IF NEW.kind IN ('comment', 'handoff', 'consult', 'consult_answer', 'note') OR (NEW.kind = 'transition' AND NEW.to_state = 'escalated') THEN
                        BEGIN
                            INSERT INTO case_search (case_id, source, text)
                            SELECT NEW.case_id, NEW.kind, coalesce(string_agg(e.value, ' '), '')
                            FROM jsonb_each(CASE WHEN jsonb_typeof(NEW.detail::jsonb) = 'object' THEN NEW.detail::jsonb ELSE '{}'::jsonb END) AS j(key, v),
                                 LATERAL (SELECT j.v #>> '{}' AS value WHERE jsonb_typeof(j.v) = 'string') AS e;
                        EXCEPTION WHEN invalid_text_representation OR untranslatable_character OR character_not_in_repertoire THEN
                            NULL;
                        END;
                    END IF;
                ELSIF TG_TABLE_NAME = 'decision' THEN
                    INSERT INTO case_search (case_id, source, text)
                    VALUES (NEW.case_id, 'decision', coalesce(NEW.rationale, '') || ' ' || coalesce(NEW.policy, '') || ' ' || NEW.category);
                END IF;
                RETURN NULL;
            END $$
            """,
            "CREATE TRIGGER case_search_subject AFTER INSERT ON review_case FOR EACH ROW EXECUTE FUNCTION warden_case_search()",
            "CREATE TRIGGER case_search_report AFTER INSERT ON case_item FOR EACH ROW EXECUTE FUNCTION warden_case_search()",
            "CREATE TRIGGER case_search_timeline AFTER INSERT ON case_timeline FOR EACH ROW EXECUTE FUNCTION warden_case_search()",
            "CREATE TRIGGER case_search_decision AFTER INSERT ON decision FOR EACH ROW EXECUTE FUNCTION warden_case_search()",
            """
            INSERT INTO case_search (case_id, source, text) SELECT id, 'subject', subject || ' ' || category FROM review_case
            """,
            // Which node runs each of the log's consumers: a lease its owner renews; another node
            // takes it over once it has expired (docs/scaling.md).
            """
            CREATE TABLE consumer_lease (
                name text PRIMARY KEY,
                owner text NOT NULL,
                acquired_at bigint NOT NULL,
                expires_at bigint NOT NULL
            )
            """,
        ]),
        Migration(version: 10, name: "investigation views, for investigators' read-only SQL", statements: PostgresInvestigator.schemaStatements),
        // A reviewer's claims per UTC day and case category, for the daily exposure cap read on every
        // claim (the SQLite store's v30 says why); hourly limits read a partial index of claims.
        Migration(version: 11, name: "claims tallied per reviewer, day and category", statements: [
            """
            CREATE TABLE claim_tally (
                actor text NOT NULL,
                day bigint NOT NULL,
                category text NOT NULL,
                claims bigint NOT NULL CHECK (claims > 0),
                PRIMARY KEY (actor, day, category)
            )
            """,
            """
            INSERT INTO claim_tally (actor, day, category, claims)
            SELECT t.actor, t.at - t.at % 86400000, c.category, count(*) FROM case_timeline t JOIN review_case c ON c.id = t.case_id
            WHERE t.kind = 'transition' AND t.to_state = 'in_review' AND t.from_state IN ('open', 'escalated')
            GROUP BY 1, 2, 3
            """,
            """
            CREATE FUNCTION warden_claim_tally() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO claim_tally (actor, day, category, claims)
                SELECT NEW.actor, NEW.at - NEW.at % 86400000, category, 1 FROM review_case WHERE id = NEW.case_id
                ON CONFLICT (actor, day, category) DO UPDATE SET claims = claim_tally.claims + 1;
                RETURN NULL;
            END $$
            """,
            """
            CREATE TRIGGER claim_tally_on_claim AFTER INSERT ON case_timeline FOR EACH ROW
            WHEN (NEW.kind = 'transition' AND NEW.to_state = 'in_review' AND NEW.from_state IN ('open', 'escalated'))
            EXECUTE FUNCTION warden_claim_tally()
            """,
            """
            CREATE INDEX timeline_claims_by_actor ON case_timeline (actor, at, case_id)
            WHERE kind = 'transition' AND to_state = 'in_review' AND from_state IN ('open', 'escalated')
            """,
        ]),
    ]

    /// The newest version this build knows.
    static var currentVersion: Int { migrations.last?.version ?? 0 }

    /// Applies the migrations the database lacks; refuses a database migrated by a newer build.
    static func migrate(_ client: PostgresClient, logger: Logger) async throws {
        try await client.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(\(migrationLock))", logger: logger)
            do {
                try await applyMissing(connection, logger: logger)
                try await connection.query("SELECT pg_advisory_unlock(\(migrationLock))", logger: logger)
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(migrationLock))", logger: logger)
                throw error
            }
        }
    }

    private static func applyMissing(_ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("""
            CREATE TABLE IF NOT EXISTS schema_migration (
                version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
            """, logger: logger)
        var applied = Set<Int>()
        for try await version in try await connection.query("SELECT version FROM schema_migration", logger: logger).decode(Int.self) {
            applied.insert(version)
        }
        if let newest = applied.max(), newest > currentVersion {
            throw PostgresConfigurationError("the database is at schema version \(newest), newer than this build of Warden knows (\(currentVersion)): upgrade Warden")
        }
        for migration in migrations where !applied.contains(migration.version) {
            try await connection.withTransaction(logger: logger) { connection in
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("INSERT INTO schema_migration (version, name) VALUES (\(migration.version), \(migration.name))", logger: logger)
            }
            logger.info("migrated the database", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
        }
    }
}
