import GRDB

/// The SQLite schema, as GRDB migrations. Constraints live in the database ("trust SQLite more
/// than yourself"): types, lengths, foreign keys, uniqueness, and triggers that keep the event log
/// append-only.
enum Schema {
    /// Claims counted from the timeline as the trigger of v30 counts them as they are written: the
    /// migration fills the tally with it, and a test checks the two agree.
    static let claimTallyFromTimeline = """
        INSERT INTO claim_tally (actor, day, category, claims)
            SELECT t.actor, t.at - t.at % 86400000, c.category, count(*) FROM case_timeline t JOIN review_case c ON c.id = t.case_id
            WHERE t.kind = 'transition' AND t.to_state = 'in_review' AND t.from_state IN ('open', 'escalated')
            GROUP BY 1, 2, 3
        """

    /// Undecided cases counted per queue, band, state and raised SLA events, as the triggers of
    /// v31 count them as cases change: the migration fills the tally with it, and a test checks
    /// the two agree.
    static let queueTallyFromCases = """
        INSERT INTO queue_tally (queue, band, state, sla_raised, cases)
            SELECT queue, band, state, sla_raised, count(*) FROM review_case INDEXED BY case_open_stats
            WHERE state IN ('open', 'in_review', 'on_hold', 'escalated')
            GROUP BY queue, band, state, sla_raised
        """

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: event log, entities, tokens") { db in
            try db.execute(sql: """
                CREATE TABLE entity (
                    key INTEGER PRIMARY KEY,
                    type TEXT NOT NULL CHECK (length(type) BETWEEN 1 AND 40),
                    id TEXT NOT NULL CHECK (length(id) BETWEEN 1 AND 256),
                    first_seen_at INTEGER NOT NULL,
                    first_seq INTEGER NOT NULL CHECK (first_seq > 0),
                    UNIQUE (type, id)
                );

                CREATE TABLE consumer_cursor (
                    name TEXT PRIMARY KEY,
                    seq INTEGER NOT NULL CHECK (seq >= 0)
                );

                CREATE TABLE event (
                    seq INTEGER PRIMARY KEY,
                    id TEXT NOT NULL UNIQUE CHECK (length(id) BETWEEN 1 AND 200),
                    type TEXT NOT NULL CHECK (length(type) BETWEEN 1 AND 100),
                    occurred_at INTEGER NOT NULL CHECK (occurred_at >= 0),
                    received_at INTEGER NOT NULL,
                    entities TEXT NOT NULL,
                    body TEXT NOT NULL CHECK (length(body) >= 2)
                );
                CREATE INDEX event_by_type ON event(type, seq);

                CREATE TRIGGER event_is_append_only_update BEFORE UPDATE ON event
                BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
                CREATE TRIGGER event_is_append_only_delete BEFORE DELETE ON event
                BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;

                CREATE TABLE event_entity (
                    entity INTEGER NOT NULL REFERENCES entity(key),
                    seq INTEGER NOT NULL REFERENCES event(seq),
                    PRIMARY KEY (entity, seq)
                ) WITHOUT ROWID;

                CREATE TABLE entity_link (
                    a INTEGER NOT NULL REFERENCES entity(key),
                    b INTEGER NOT NULL REFERENCES entity(key),
                    first_seq INTEGER NOT NULL REFERENCES event(seq),
                    PRIMARY KEY (a, b),
                    CHECK (a <> b)
                ) WITHOUT ROWID;

                CREATE TABLE api_token (
                    id TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
                    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
                    secret_hash BLOB NOT NULL UNIQUE CHECK (length(secret_hash) = 32),
                    scopes TEXT NOT NULL CHECK (length(scopes) > 0),
                    created_at INTEGER NOT NULL,
                    revoked_at INTEGER CHECK (revoked_at IS NULL OR revoked_at >= created_at)
                );
                """)
        }
        migrator.registerMigration("v2: detection") { db in
            try db.execute(sql: """
                CREATE TABLE signal (
                    id INTEGER PRIMARY KEY,
                    event_seq INTEGER NOT NULL REFERENCES event(seq),
                    rule TEXT NOT NULL CHECK (length(rule) > 0),
                    rule_version TEXT NOT NULL,
                    category TEXT NOT NULL,
                    severity TEXT NOT NULL,
                    subject TEXT,
                    reason TEXT,
                    explanation TEXT NOT NULL,
                    queue TEXT,
                    verdict TEXT CHECK (verdict IS NULL OR verdict IN ('allow', 'challenge', 'block')),
                    effects TEXT NOT NULL,
                    occurred_at INTEGER NOT NULL,
                    created_at INTEGER NOT NULL,
                    UNIQUE (event_seq, rule, rule_version)
                );
                CREATE INDEX signal_by_subject ON signal(subject, id);
                CREATE INDEX signal_by_rule ON signal(rule, id);

                CREATE TABLE entity_label (
                    entity TEXT NOT NULL CHECK (instr(entity, ':') > 1),
                    name TEXT NOT NULL CHECK (length(name) > 0),
                    source TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    expires_at INTEGER CHECK (expires_at IS NULL OR expires_at > created_at),
                    PRIMARY KEY (entity, name)
                ) WITHOUT ROWID;

                CREATE TABLE rule_hits (
                    rule TEXT NOT NULL,
                    version TEXT NOT NULL,
                    mode TEXT NOT NULL CHECK (mode IN ('active', 'shadow')),
                    hour INTEGER NOT NULL,
                    hits INTEGER NOT NULL CHECK (hits > 0),
                    PRIMARY KEY (rule, version, mode, hour)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v3: rule versions and pack changes") { db in
            try db.execute(sql: """
                CREATE TABLE rule_version (
                    rule TEXT NOT NULL,
                    version TEXT NOT NULL,
                    mode TEXT NOT NULL,
                    source TEXT NOT NULL,
                    first_active_at INTEGER NOT NULL,
                    pack_version TEXT NOT NULL,
                    PRIMARY KEY (rule, version)
                ) WITHOUT ROWID;

                CREATE TABLE pack_change (
                    id INTEGER PRIMARY KEY,
                    at INTEGER NOT NULL,
                    actor TEXT NOT NULL CHECK (length(actor) > 0),
                    pack_version TEXT,
                    outcome TEXT NOT NULL CHECK (outcome IN ('activated', 'rejected', 'unchanged')),
                    detail TEXT NOT NULL
                );
                """)
        }
        migrator.registerMigration("v4: detection snapshots") { db in
            try db.execute(sql: """
                CREATE TABLE detection_snapshot (
                    name TEXT PRIMARY KEY,
                    seq INTEGER NOT NULL CHECK (seq >= 0),
                    taken_at INTEGER NOT NULL,
                    data BLOB NOT NULL
                );
                """)
        }
        migrator.registerMigration("v5: classifier models") { db in
            try db.execute(sql: """
                CREATE TABLE classifier_model (
                    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
                    version INTEGER NOT NULL CHECK (version > 0),
                    kind TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    trained_on TEXT NOT NULL,
                    examples INTEGER NOT NULL CHECK (examples > 0),
                    labels TEXT NOT NULL,
                    metrics TEXT NOT NULL,
                    data BLOB NOT NULL,
                    PRIMARY KEY (name, version)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v6: review") { db in
            try db.execute(sql: """
                CREATE TABLE review_case (
                    id INTEGER PRIMARY KEY,
                    kind TEXT NOT NULL CHECK (kind IN ('review', 'appeal')),
                    subject TEXT NOT NULL CHECK (instr(subject, ':') > 1),
                    source TEXT NOT NULL CHECK (source IN ('signal', 'report', 'appeal')),
                    queue TEXT NOT NULL CHECK (length(queue) > 0),
                    state TEXT NOT NULL CHECK (state IN ('open', 'in_review', 'on_hold', 'escalated', 'resolved', 'appealed', 'closed')),
                    category TEXT NOT NULL,
                    severity TEXT NOT NULL,
                    score INTEGER NOT NULL CHECK (score BETWEEN 0 AND 100),
                    band INTEGER NOT NULL CHECK (band BETWEEN 1 AND 4),
                    signals INTEGER NOT NULL CHECK (signals >= 0),
                    reports INTEGER NOT NULL CHECK (reports >= 0),
                    reporter_weight REAL NOT NULL CHECK (reporter_weight >= 0),
                    assignee TEXT,
                    lease_expires_at INTEGER,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL,
                    content_at INTEGER NOT NULL,
                    first_action_at INTEGER,
                    resolved_at INTEGER,
                    clock_accumulated INTEGER NOT NULL CHECK (clock_accumulated >= 0),
                    clock_since INTEGER,
                    due_at INTEGER NOT NULL,
                    sla_next_at INTEGER,
                    sla_raised INTEGER NOT NULL,
                    appeal_of INTEGER REFERENCES review_case(id),
                    excluded_reviewer TEXT,
                    escalation_reason TEXT,
                    CHECK ((state IN ('in_review', 'on_hold')) = (assignee IS NOT NULL)),
                    CHECK ((kind = 'appeal') = (appeal_of IS NOT NULL))
                );
                CREATE UNIQUE INDEX case_open_per_subject ON review_case(subject)
                    WHERE kind = 'review' AND state IN ('open', 'in_review', 'on_hold', 'escalated');
                CREATE INDEX case_waiting ON review_case(queue, band, due_at, id) WHERE state IN ('open', 'escalated');
                CREATE INDEX case_leases ON review_case(lease_expires_at) WHERE state = 'in_review';
                CREATE INDEX case_sla ON review_case(sla_next_at) WHERE sla_next_at IS NOT NULL;
                CREATE INDEX case_by_assignee ON review_case(assignee) WHERE assignee IS NOT NULL;
                CREATE INDEX case_by_queue_state ON review_case(queue, state);

                CREATE TABLE case_timeline (
                    id INTEGER PRIMARY KEY,
                    case_id INTEGER NOT NULL REFERENCES review_case(id),
                    at INTEGER NOT NULL,
                    actor TEXT NOT NULL CHECK (length(actor) > 0),
                    kind TEXT NOT NULL,
                    from_state TEXT,
                    to_state TEXT,
                    detail TEXT NOT NULL
                );
                CREATE INDEX timeline_by_case ON case_timeline(case_id, id);

                CREATE TABLE case_item (
                    kind TEXT NOT NULL CHECK (kind IN ('signal', 'report')),
                    ref INTEGER NOT NULL,
                    case_id INTEGER NOT NULL REFERENCES review_case(id),
                    reporter TEXT,
                    weight REAL NOT NULL,
                    duplicate INTEGER NOT NULL CHECK (duplicate IN (0, 1)),
                    at INTEGER NOT NULL,
                    PRIMARY KEY (kind, ref)
                ) WITHOUT ROWID;
                CREATE INDEX case_item_by_case ON case_item(case_id, reporter);

                CREATE TABLE reporter (
                    id TEXT PRIMARY KEY,
                    trust REAL NOT NULL CHECK (trust BETWEEN 0 AND 1),
                    muted INTEGER NOT NULL CHECK (muted IN (0, 1)),
                    reports INTEGER NOT NULL,
                    upheld INTEGER NOT NULL,
                    rejected INTEGER NOT NULL
                ) WITHOUT ROWID;

                CREATE TABLE decision (
                    id INTEGER PRIMARY KEY,
                    case_id INTEGER NOT NULL REFERENCES review_case(id),
                    decided_by TEXT NOT NULL,
                    at INTEGER NOT NULL,
                    category TEXT NOT NULL,
                    violation INTEGER NOT NULL CHECK (violation IN (0, 1)),
                    policy TEXT,
                    rationale TEXT,
                    tree_path TEXT,
                    macro TEXT,
                    appeal_outcome TEXT CHECK (appeal_outcome IS NULL OR appeal_outcome IN ('upheld', 'overturned'))
                );
                CREATE INDEX decision_by_case ON decision(case_id, id);

                CREATE TABLE enforcement_action (
                    id INTEGER PRIMARY KEY,
                    decision_id INTEGER NOT NULL REFERENCES decision(id),
                    case_id INTEGER NOT NULL REFERENCES review_case(id),
                    subject TEXT NOT NULL,
                    action TEXT NOT NULL,
                    duration INTEGER CHECK (duration IS NULL OR duration > 0),
                    created_at INTEGER NOT NULL,
                    reverses INTEGER UNIQUE REFERENCES enforcement_action(id),
                    reversed_at INTEGER,
                    reversed_by TEXT,
                    reversal_reason TEXT
                );
                CREATE INDEX action_by_decision ON enforcement_action(decision_id, id);

                CREATE TABLE strike (
                    id INTEGER PRIMARY KEY,
                    subject TEXT NOT NULL,
                    policy TEXT NOT NULL,
                    decision_id INTEGER NOT NULL REFERENCES decision(id),
                    at INTEGER NOT NULL,
                    expires_at INTEGER NOT NULL CHECK (expires_at > at),
                    removed_at INTEGER
                );
                CREATE INDEX strike_by_subject ON strike(subject, policy, expires_at);

                CREATE TABLE outbox (
                    id INTEGER PRIMARY KEY,
                    topic TEXT NOT NULL,
                    idempotency_key TEXT NOT NULL UNIQUE,
                    ordering_key TEXT NOT NULL,
                    body TEXT NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
                    attempts INTEGER NOT NULL CHECK (attempts >= 0),
                    next_attempt_at INTEGER NOT NULL,
                    last_error TEXT,
                    last_status INTEGER,
                    created_at INTEGER NOT NULL,
                    delivered_at INTEGER
                );
                CREATE INDEX outbox_due ON outbox(next_attempt_at, id) WHERE state = 'pending';
                CREATE INDEX outbox_pending_in_order ON outbox(ordering_key, id) WHERE state = 'pending';
                CREATE INDEX outbox_by_state ON outbox(state, id);

                CREATE TABLE statement_of_reasons (
                    decision_id INTEGER PRIMARY KEY REFERENCES decision(id),
                    created_at INTEGER NOT NULL,
                    body TEXT NOT NULL
                );
                CREATE INDEX statement_by_time ON statement_of_reasons(created_at, decision_id);

                CREATE TABLE audit_log (
                    seq INTEGER PRIMARY KEY,
                    at INTEGER NOT NULL,
                    actor TEXT NOT NULL,
                    action TEXT NOT NULL,
                    target TEXT NOT NULL,
                    detail TEXT NOT NULL,
                    previous_hash BLOB NOT NULL CHECK (length(previous_hash) = 32),
                    hash BLOB NOT NULL CHECK (length(hash) = 32)
                );
                CREATE TRIGGER audit_is_append_only_update BEFORE UPDATE ON audit_log
                BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                CREATE TRIGGER audit_is_append_only_delete BEFORE DELETE ON audit_log
                BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

                CREATE TABLE audit_head (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    seq INTEGER NOT NULL,
                    hash BLOB NOT NULL CHECK (length(hash) = 32)
                );
                """)
        }
        migrator.registerMigration("v7: people and sessions") { db in
            try db.execute(sql: """
                CREATE TABLE app_user (
                    name TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 100),
                    role TEXT NOT NULL CHECK (role IN ('admin', 'lead', 'analyst', 'reviewer', 'vendor_reviewer', 'auditor')),
                    queues TEXT NOT NULL,
                    teams TEXT NOT NULL,
                    password_hash TEXT NOT NULL CHECK (length(password_hash) > 20),
                    created_at INTEGER NOT NULL,
                    disabled_at INTEGER
                ) WITHOUT ROWID;

                CREATE TABLE user_session (
                    id_hash BLOB PRIMARY KEY CHECK (length(id_hash) = 32),
                    user TEXT NOT NULL REFERENCES app_user(name),
                    csrf_token TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    expires_at INTEGER NOT NULL CHECK (expires_at > created_at)
                ) WITHOUT ROWID;
                CREATE INDEX session_by_user ON user_session(user);
                """)
        }
        migrator.registerMigration("v8: claims per reviewer") { db in
            try db.execute(sql: "CREATE INDEX timeline_by_actor ON case_timeline(actor, at)")
        }
        migrator.registerMigration("v9: decisions remember the policy version") { db in
            try db.execute(sql: "ALTER TABLE decision ADD COLUMN pack_version TEXT")
        }
        migrator.registerMigration("v10: classification jobs") { db in
            try db.execute(sql: """
                CREATE TABLE classification_job (
                    id INTEGER PRIMARY KEY,
                    event_seq INTEGER NOT NULL REFERENCES event(seq),
                    rule TEXT NOT NULL CHECK (length(rule) > 0),
                    rule_version TEXT NOT NULL,
                    mode TEXT NOT NULL CHECK (mode IN ('active', 'shadow')),
                    category TEXT NOT NULL,
                    severity TEXT NOT NULL,
                    subject TEXT,
                    reason TEXT,
                    explanation TEXT NOT NULL,
                    queue TEXT,
                    effects TEXT NOT NULL,
                    occurred_at INTEGER NOT NULL,
                    condition TEXT NOT NULL,
                    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'fired', 'not_fired', 'failed')),
                    attempts INTEGER NOT NULL DEFAULT 0,
                    next_attempt_at INTEGER NOT NULL,
                    last_error TEXT,
                    answers TEXT,
                    created_at INTEGER NOT NULL,
                    settled_at INTEGER,
                    UNIQUE (event_seq, rule, rule_version)
                );
                CREATE INDEX classification_job_due ON classification_job(next_attempt_at, id) WHERE state = 'pending';
                CREATE INDEX classification_job_by_state ON classification_job(state, id);
                """)
        }
        migrator.registerMigration("v11: signals about review cases (SLA warnings and breaches)") { db in
            // SQLite cannot relax a NOT NULL column in place: the table is rebuilt.
            try db.execute(sql: """
                CREATE TABLE signal_new (
                    id INTEGER PRIMARY KEY,
                    event_seq INTEGER REFERENCES event(seq),
                    case_id INTEGER REFERENCES review_case(id),
                    rule TEXT NOT NULL CHECK (length(rule) > 0),
                    rule_version TEXT NOT NULL,
                    category TEXT NOT NULL,
                    severity TEXT NOT NULL,
                    subject TEXT,
                    reason TEXT,
                    explanation TEXT NOT NULL,
                    queue TEXT,
                    verdict TEXT CHECK (verdict IS NULL OR verdict IN ('allow', 'challenge', 'block')),
                    effects TEXT NOT NULL,
                    occurred_at INTEGER NOT NULL,
                    created_at INTEGER NOT NULL,
                    CHECK (event_seq IS NOT NULL OR case_id IS NOT NULL),
                    UNIQUE (event_seq, rule, rule_version)
                );
                INSERT INTO signal_new (id, event_seq, rule, rule_version, category, severity, subject, reason, explanation, queue, verdict,
                                        effects, occurred_at, created_at)
                    SELECT id, event_seq, rule, rule_version, category, severity, subject, reason, explanation, queue, verdict,
                           effects, occurred_at, created_at FROM signal;
                DROP TABLE signal;
                ALTER TABLE signal_new RENAME TO signal;
                CREATE INDEX signal_by_subject ON signal(subject, id);
                CREATE INDEX signal_by_rule ON signal(rule, id);
                CREATE UNIQUE INDEX signal_per_case_event ON signal(case_id, rule, rule_version) WHERE case_id IS NOT NULL;
                """)
        }
        migrator.registerMigration("v12: consults") { db in
            try db.execute(sql: """
                CREATE TABLE case_consult (
                    id INTEGER PRIMARY KEY,
                    case_id INTEGER NOT NULL REFERENCES review_case(id),
                    asked_by TEXT NOT NULL,
                    reviewer TEXT NOT NULL CHECK (length(reviewer) > 0),
                    question TEXT NOT NULL,
                    asked_at INTEGER NOT NULL,
                    answer TEXT,
                    answered_at INTEGER,
                    CHECK ((answer IS NULL) = (answered_at IS NULL))
                );
                CREATE INDEX consult_inbox ON case_consult(reviewer, answered_at, id);
                CREATE INDEX consult_by_case ON case_consult(case_id, id);
                """)
        }
        migrator.registerMigration("v13: statement submissions to the DSA Transparency Database") { db in
            try db.execute(sql: """
                CREATE TABLE statement_submission (
                    decision_id INTEGER PRIMARY KEY REFERENCES statement_of_reasons(decision_id),
                    outcome TEXT NOT NULL CHECK (outcome IN ('created', 'already_present', 'refused')),
                    database_uuid TEXT,
                    detail TEXT,
                    at INTEGER NOT NULL
                );
                """)
        }
        migrator.registerMigration("v14: queue statistics for the operations metrics") { db in
            // Covers the sampler's one query per interval: counts, the oldest case and SLA flags
            // per queue, band and state, without reading the cases themselves.
            try db.execute(sql: """
                CREATE INDEX case_open_stats ON review_case(queue, band, state, created_at, sla_raised)
                    WHERE state IN ('open', 'in_review', 'on_hold', 'escalated');
                """)
        }
        migrator.registerMigration("v15: the entity graph moves to its own database") { db in
            // The graph is derived from the log: the indexer rebuilds it in `<name>-graph.sqlite`
            // from the first event (GraphSchema), with a writer of its own.
            try db.execute(sql: """
                DROP TABLE event_entity;
                DROP TABLE entity_link;
                DROP TABLE entity;
                DELETE FROM consumer_cursor WHERE name = 'entity_index';
                """)
        }
        migrator.registerMigration("v16: the web console's sessions and one-time sign-in links") { db in
            try db.execute(sql: """
                ALTER TABLE user_session ADD COLUMN last_seen_at INTEGER;
                UPDATE user_session SET last_seen_at = created_at;

                CREATE TABLE signin_link (
                    id_hash BLOB PRIMARY KEY CHECK (length(id_hash) = 32),
                    user TEXT NOT NULL REFERENCES app_user(name),
                    created_at INTEGER NOT NULL,
                    expires_at INTEGER NOT NULL CHECK (expires_at > created_at),
                    used_at INTEGER
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v17: case search and cases by subject") { db in
            // Free-text search over what people read on a case: its subject, report texts, comments,
            // notes and questions on its timeline, and decisions' rationales. Kept by triggers, so
            // every writer (case builder, review, appeals) feeds it in its own transaction.
            try db.execute(sql: """
                CREATE INDEX case_by_subject ON review_case(subject, id);

                CREATE VIRTUAL TABLE case_search USING fts5(case_id UNINDEXED, source UNINDEXED, text, tokenize = 'unicode61');

                CREATE TRIGGER case_search_subject AFTER INSERT ON review_case BEGIN
                    INSERT INTO case_search (case_id, source, text) VALUES (NEW.id, 'subject', NEW.subject || ' ' || NEW.category);
                END;
                CREATE TRIGGER case_search_report AFTER INSERT ON case_item WHEN NEW.kind = 'report' BEGIN
                    INSERT INTO case_search (case_id, source, text)
                    SELECT NEW.case_id, 'report', coalesce(json_extract(body, '$.data.text'), '') || ' ' || coalesce(NEW.reporter, '')
                    FROM event WHERE seq = NEW.ref;
                END;
                CREATE TRIGGER case_search_timeline AFTER INSERT ON case_timeline
                WHEN NEW.kind IN ('comment', 'handoff', 'consult', 'consult_answer', 'note') OR (NEW.kind = 'transition' AND NEW.to_state = 'escalated') BEGIN
                    INSERT INTO case_search (case_id, source, text)
                    SELECT NEW.case_id, NEW.kind, group_concat(value, ' ') FROM json_each(NEW.detail) WHERE type = 'text';
                END;
                CREATE TRIGGER case_search_decision AFTER INSERT ON decision BEGIN
                    INSERT INTO case_search (case_id, source, text)
                    VALUES (NEW.case_id, 'decision', coalesce(NEW.rationale, '') || ' ' || coalesce(NEW.policy, '') || ' ' || NEW.category);
                END;

                INSERT INTO case_search (case_id, source, text) SELECT id, 'subject', subject || ' ' || category FROM review_case;
                INSERT INTO case_search (case_id, source, text)
                    SELECT i.case_id, 'report', coalesce(json_extract(e.body, '$.data.text'), '') || ' ' || coalesce(i.reporter, '')
                    FROM case_item i JOIN event e ON e.seq = i.ref WHERE i.kind = 'report';
                INSERT INTO case_search (case_id, source, text)
                    SELECT t.case_id, t.kind, (SELECT group_concat(value, ' ') FROM json_each(t.detail) WHERE type = 'text') FROM case_timeline t
                    WHERE t.kind IN ('comment', 'handoff', 'consult', 'consult_answer', 'note') OR (t.kind = 'transition' AND t.to_state = 'escalated');
                INSERT INTO case_search (case_id, source, text)
                    SELECT case_id, 'decision', coalesce(rationale, '') || ' ' || coalesce(policy, '') || ' ' || category FROM decision;
                """)
        }
        migrator.registerMigration("v18: dashboard indexes") { db in
            // The console's dashboards count cases by when they were opened and resolved, and
            // decisions by when they were made, over a window of days.
            try db.execute(sql: """
                CREATE INDEX case_by_created ON review_case(created_at);
                CREATE INDEX case_by_resolved ON review_case(resolved_at) WHERE resolved_at IS NOT NULL;
                CREATE INDEX decision_by_time ON decision(at);
                """)
        }
        migrator.registerMigration("v19: incidents, alerts, on-call and alert series") { db in
            try db.execute(sql: """
                ALTER TABLE outbox ADD COLUMN destination TEXT NOT NULL DEFAULT '';
                DROP INDEX outbox_due;
                CREATE INDEX outbox_due ON outbox(destination, next_attempt_at, id) WHERE state = 'pending';

                CREATE TABLE incident (
                    id INTEGER PRIMARY KEY,
                    title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
                    summary TEXT NOT NULL,
                    severity TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('investigating', 'identified', 'mitigating', 'monitoring', 'resolved', 'closed')),
                    roles TEXT NOT NULL,
                    participants TEXT NOT NULL,
                    stakeholders TEXT NOT NULL,
                    source TEXT NOT NULL,
                    source_ref TEXT,
                    created_at INTEGER NOT NULL,
                    created_by TEXT NOT NULL,
                    detected_at INTEGER NOT NULL,
                    acknowledged_at INTEGER,
                    acknowledged_by TEXT,
                    identified_at INTEGER,
                    mitigated_at INTEGER,
                    resolved_at INTEGER,
                    closed_at INTEGER,
                    last_update_at INTEGER,
                    update_due_at INTEGER,
                    review TEXT
                );
                CREATE INDEX incident_by_status ON incident(status, id);
                CREATE INDEX incident_update_due ON incident(update_due_at) WHERE update_due_at IS NOT NULL;
                CREATE INDEX incident_by_created ON incident(created_at);

                CREATE TABLE incident_link (
                    incident_id INTEGER NOT NULL REFERENCES incident(id),
                    kind TEXT NOT NULL,
                    ref TEXT NOT NULL,
                    at INTEGER NOT NULL,
                    by TEXT NOT NULL,
                    PRIMARY KEY (incident_id, kind, ref)
                ) WITHOUT ROWID;
                CREATE INDEX incident_link_by_item ON incident_link(kind, ref);

                CREATE TABLE incident_task (
                    id INTEGER PRIMARY KEY,
                    incident_id INTEGER NOT NULL REFERENCES incident(id),
                    title TEXT NOT NULL,
                    owner TEXT,
                    due_at INTEGER,
                    follow_up INTEGER NOT NULL,
                    created_at INTEGER NOT NULL,
                    created_by TEXT NOT NULL,
                    done_at INTEGER,
                    done_by TEXT,
                    change TEXT
                );
                CREATE INDEX task_by_incident ON incident_task(incident_id, id);

                CREATE TABLE incident_timeline (
                    id INTEGER PRIMARY KEY,
                    incident_id INTEGER NOT NULL REFERENCES incident(id),
                    at INTEGER NOT NULL,
                    actor TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    detail TEXT NOT NULL
                );
                CREATE INDEX incident_timeline_by_incident ON incident_timeline(incident_id, id);

                CREATE TABLE alert (
                    id INTEGER PRIMARY KEY,
                    rule TEXT NOT NULL,
                    key TEXT NOT NULL,
                    series TEXT NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ('firing', 'acknowledged', 'snoozed', 'resolved')),
                    first_fired_at INTEGER NOT NULL,
                    last_fired_at INTEGER NOT NULL,
                    firings INTEGER NOT NULL,
                    value REAL NOT NULL,
                    baseline REAL,
                    score REAL,
                    peak REAL NOT NULL,
                    acknowledged_at INTEGER,
                    acknowledged_by TEXT,
                    snoozed_until INTEGER,
                    resolved_at INTEGER,
                    resolved_by TEXT,
                    incident_id INTEGER REFERENCES incident(id)
                );
                CREATE UNIQUE INDEX alert_open_per_key ON alert(rule, key) WHERE state != 'resolved';
                CREATE INDEX alert_by_fired ON alert(first_fired_at);

                CREATE TABLE page (
                    id INTEGER PRIMARY KEY,
                    subject TEXT NOT NULL,
                    policy TEXT NOT NULL,
                    summary TEXT NOT NULL,
                    severity TEXT NOT NULL,
                    started_at INTEGER NOT NULL,
                    next_step INTEGER NOT NULL,
                    next_at INTEGER,
                    paged TEXT NOT NULL,
                    acknowledged_at INTEGER,
                    acknowledged_by TEXT,
                    resolved_at INTEGER
                );
                CREATE INDEX page_due ON page(next_at) WHERE next_at IS NOT NULL;
                CREATE INDEX page_by_subject ON page(subject, id);

                CREATE TABLE oncall_override (
                    id INTEGER PRIMARY KEY,
                    schedule TEXT NOT NULL,
                    person TEXT NOT NULL,
                    starts_at INTEGER NOT NULL,
                    ends_at INTEGER NOT NULL CHECK (ends_at > starts_at),
                    created_by TEXT NOT NULL
                );

                CREATE TABLE series_bucket (
                    series TEXT NOT NULL,
                    minute INTEGER NOT NULL,
                    key TEXT NOT NULL,
                    count INTEGER NOT NULL,
                    PRIMARY KEY (series, minute, key)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v20: automation runs") { db in
            // One row per automation and triggering audit entry: written before the actions run, so
            // a crash never runs them twice (at most once), finished with what each action did.
            try db.execute(sql: """
                CREATE TABLE automation_run (
                    id INTEGER PRIMARY KEY,
                    automation TEXT NOT NULL,
                    trigger_seq INTEGER NOT NULL,
                    target TEXT NOT NULL,
                    at INTEGER NOT NULL,
                    outcome TEXT NOT NULL CHECK (outcome IN ('running', 'done', 'partial', 'failed', 'skipped')),
                    detail TEXT NOT NULL,
                    UNIQUE (automation, trigger_seq)
                );
                CREATE INDEX automation_run_by_time ON automation_run(automation, at);
                """)
        }
        migrator.registerMigration("v21: saved queries") { db in
            try db.execute(sql: """
                CREATE TABLE saved_query (
                    name TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 64),
                    description TEXT NOT NULL,
                    sql TEXT NOT NULL CHECK (length(sql) > 0),
                    parameters TEXT NOT NULL,
                    created_by TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    updated_by TEXT NOT NULL,
                    updated_at INTEGER NOT NULL
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v22: hash banks") { db in
            try db.execute(sql: """
                CREATE TABLE hash_bank (
                    name TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 64),
                    kind TEXT NOT NULL CHECK (kind IN ('pdq', 'md5', 'sha256')),
                    threshold INTEGER NOT NULL CHECK (threshold BETWEEN 0 AND 256),
                    negative INTEGER NOT NULL,
                    description TEXT NOT NULL,
                    created_by TEXT NOT NULL,
                    created_at INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE TABLE hash_entry (
                    id INTEGER PRIMARY KEY,
                    bank TEXT NOT NULL REFERENCES hash_bank(name) ON DELETE CASCADE,
                    hash TEXT NOT NULL,
                    opinion TEXT NOT NULL CHECK (opinion IN ('unreviewed', 'confirmed', 'deconfirmed')),
                    tags TEXT NOT NULL,
                    content_id TEXT,
                    added_by TEXT NOT NULL,
                    added_at INTEGER NOT NULL,
                    UNIQUE (bank, hash)
                );
                """)
        }
        migrator.registerMigration("v23: derived tables") { db in
            try db.execute(sql: """
                CREATE TABLE derived_table (
                    query TEXT PRIMARY KEY REFERENCES saved_query(name) ON DELETE CASCADE,
                    every_ms INTEGER NOT NULL,
                    mode TEXT NOT NULL CHECK (mode IN ('full', 'incremental')),
                    cursor_column TEXT,
                    columns TEXT,
                    row_count INTEGER NOT NULL DEFAULT 0,
                    cursor TEXT NOT NULL DEFAULT 'i:0',
                    refreshed_at INTEGER,
                    next_at INTEGER NOT NULL,
                    millis REAL,
                    error TEXT,
                    scheduled_by TEXT NOT NULL
                ) WITHOUT ROWID;
                CREATE TABLE derived_row (
                    query TEXT NOT NULL,
                    n INTEGER NOT NULL,
                    data TEXT NOT NULL,
                    PRIMARY KEY (query, n)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v24: bulk jobs") { db in
            try db.execute(sql: """
                CREATE TABLE bulk_job (
                    id INTEGER PRIMARY KEY,
                    operation TEXT NOT NULL,
                    source TEXT NOT NULL,
                    note TEXT,
                    state TEXT NOT NULL CHECK (state IN ('awaiting_approval', 'queued', 'running', 'done', 'cancelled', 'reversing', 'reversed')),
                    requested_by TEXT NOT NULL,
                    approved_by TEXT,
                    created_at INTEGER NOT NULL,
                    started_at INTEGER,
                    finished_at INTEGER,
                    total INTEGER NOT NULL CHECK (total >= 0),
                    done INTEGER NOT NULL CHECK (done >= 0),
                    failed INTEGER NOT NULL CHECK (failed >= 0),
                    reversed INTEGER NOT NULL CHECK (reversed >= 0),
                    cursor INTEGER NOT NULL CHECK (cursor >= 0),
                    reversed_by TEXT,
                    reversal_reason TEXT
                );
                CREATE INDEX bulk_job_active ON bulk_job(id) WHERE state IN ('queued', 'running', 'reversing');
                CREATE TABLE bulk_item (
                    job INTEGER NOT NULL REFERENCES bulk_job(id),
                    n INTEGER NOT NULL,
                    entity TEXT NOT NULL CHECK (instr(entity, ':') > 1),
                    state TEXT NOT NULL CHECK (state IN ('pending', 'done', 'failed', 'reversed')),
                    case_id INTEGER,
                    decision_id INTEGER,
                    action_ids TEXT,
                    detail TEXT,
                    PRIMARY KEY (job, n)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v25: QA audits, and escalations found without a per-decision probe") { db in
            try db.execute(sql: """
                CREATE TABLE qa_audit (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL,
                    plan TEXT NOT NULL,
                    window_from INTEGER NOT NULL,
                    window_to INTEGER NOT NULL,
                    population INTEGER NOT NULL CHECK (population >= 0),
                    sample_size INTEGER NOT NULL CHECK (sample_size >= 0),
                    strata TEXT NOT NULL,
                    created_by TEXT NOT NULL,
                    created_at INTEGER NOT NULL
                );
                CREATE TABLE qa_item (
                    id INTEGER PRIMARY KEY,
                    audit_id INTEGER NOT NULL REFERENCES qa_audit(id),
                    decision_id INTEGER NOT NULL UNIQUE REFERENCES decision(id),
                    case_id INTEGER NOT NULL REFERENCES review_case(id),
                    decider TEXT NOT NULL,
                    queue TEXT NOT NULL,
                    category TEXT NOT NULL,
                    violation INTEGER NOT NULL CHECK (violation IN (0, 1)),
                    decided_at INTEGER NOT NULL,
                    stratum TEXT,
                    state TEXT NOT NULL CHECK (state IN ('waiting', 'in_review', 'agreed', 'disagreed', 'disputed', 'ruled')),
                    reviewer TEXT,
                    claimed_at INTEGER,
                    verdict_violation INTEGER CHECK (verdict_violation IS NULL OR verdict_violation IN (0, 1)),
                    verdict_category TEXT,
                    verdict_errors TEXT,
                    verdict_notes TEXT,
                    verdict_at INTEGER,
                    disputed_by TEXT,
                    dispute_reason TEXT,
                    disputed_at INTEGER,
                    ruling TEXT CHECK (ruling IS NULL OR ruling IN ('qa', 'original')),
                    ruled_by TEXT,
                    ruling_notes TEXT,
                    ruled_at INTEGER
                );
                CREATE INDEX qa_item_by_audit ON qa_item(audit_id, id);
                CREATE INDEX qa_item_waiting ON qa_item(id) WHERE state = 'waiting';
                CREATE INDEX qa_item_by_decider ON qa_item(decider, id);
                CREATE INDEX qa_item_by_verdict ON qa_item(verdict_at) WHERE verdict_at IS NOT NULL;
                CREATE INDEX timeline_escalations ON case_timeline(case_id, id) WHERE kind = 'transition' AND to_state = 'escalated';
                """)
        }
        migrator.registerMigration("v26: golden items, calibration sessions, training and certifications") { db in
            try db.execute(sql: """
                CREATE TABLE golden_item (
                    id INTEGER PRIMARY KEY,
                    case_id INTEGER REFERENCES review_case(id),
                    queue TEXT NOT NULL,
                    text TEXT NOT NULL,
                    answer TEXT NOT NULL,
                    explanation TEXT NOT NULL,
                    created_by TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    retired_at INTEGER
                );
                CREATE INDEX golden_item_by_queue ON golden_item(queue, id);
                CREATE TABLE qa_session (
                    id INTEGER PRIMARY KEY,
                    kind TEXT NOT NULL CHECK (kind IN ('calibration', 'training')),
                    name TEXT NOT NULL,
                    queue TEXT,
                    raters TEXT NOT NULL,
                    items TEXT NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ('open', 'closed')),
                    threshold REAL,
                    created_by TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    closed_at INTEGER,
                    outcome TEXT
                );
                CREATE TABLE qa_session_rater (
                    session_id INTEGER NOT NULL REFERENCES qa_session(id),
                    rater TEXT NOT NULL,
                    PRIMARY KEY (rater, session_id)
                ) WITHOUT ROWID;
                CREATE TABLE qa_session_rating (
                    session_id INTEGER NOT NULL REFERENCES qa_session(id),
                    item INTEGER NOT NULL CHECK (item >= 1),
                    rater TEXT NOT NULL,
                    answer TEXT NOT NULL,
                    notes TEXT,
                    at INTEGER NOT NULL,
                    PRIMARY KEY (session_id, item, rater)
                ) WITHOUT ROWID;
                CREATE TABLE qa_session_note (
                    id INTEGER PRIMARY KEY,
                    session_id INTEGER NOT NULL REFERENCES qa_session(id),
                    by TEXT NOT NULL,
                    at INTEGER NOT NULL,
                    item INTEGER,
                    text TEXT NOT NULL,
                    article TEXT
                );
                CREATE INDEX qa_session_note_by_session ON qa_session_note(session_id, id);
                CREATE TABLE certification (
                    user TEXT NOT NULL,
                    queue TEXT NOT NULL,
                    session_id INTEGER NOT NULL REFERENCES qa_session(id),
                    score REAL NOT NULL CHECK (score >= 0 AND score <= 1),
                    granted_at INTEGER NOT NULL,
                    revoked_at INTEGER,
                    revoked_by TEXT,
                    revoke_reason TEXT,
                    PRIMARY KEY (user, queue)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v27: knowledge article acknowledgements") { db in
            try db.execute(sql: """
                CREATE TABLE article_ack (
                    article TEXT NOT NULL,
                    version TEXT NOT NULL,
                    user TEXT NOT NULL,
                    at INTEGER NOT NULL,
                    PRIMARY KEY (article, version, user)
                ) WITHOUT ROWID;
                CREATE INDEX article_ack_by_user ON article_ack(user);
                """)
        }
        migrator.registerMigration("v28: golden items mixed into live queues") { db in
            // A mixed case is marked on the case itself, so that a subject's one open case (the
            // unique index) and the case builder's lookup leave it out: a golden copy of a past case
            // may be open beside the subject's live case, and new signals never join it. One row per
            // golden item mixed into a live queue; the decision's answer, scored against the item's
            // key, fills in the rest.
            try db.execute(sql: """
                ALTER TABLE review_case ADD COLUMN golden_item INTEGER REFERENCES golden_item(id);
                DROP INDEX case_open_per_subject;
                CREATE UNIQUE INDEX case_open_per_subject ON review_case(subject)
                    WHERE kind = 'review' AND golden_item IS NULL AND state IN ('open', 'in_review', 'on_hold', 'escalated');
                CREATE TABLE golden_case (
                    case_id INTEGER PRIMARY KEY REFERENCES review_case(id),
                    golden_id INTEGER NOT NULL REFERENCES golden_item(id),
                    reviewer TEXT NOT NULL,
                    queue TEXT NOT NULL,
                    mixed_at INTEGER NOT NULL,
                    decision_id INTEGER,
                    decided_by TEXT,
                    answer TEXT,
                    expected TEXT,
                    correct INTEGER CHECK (correct IN (0, 1)),
                    decided_at INTEGER
                );
                CREATE INDEX golden_case_by_reviewer ON golden_case(reviewer, golden_id);
                CREATE INDEX golden_case_decided ON golden_case(decided_at) WHERE decided_at IS NOT NULL;
                """)
        }
        migrator.registerMigration("v29: models' answers on QA items") { db in
            // Each ready built-in model's answer on a QA item's case content, scored when the verdict
            // was given: models are raters of the QA sample like the people who decided it.
            try db.execute(sql: """
                CREATE TABLE qa_model_answer (
                    item_id INTEGER NOT NULL REFERENCES qa_item(id),
                    model TEXT NOT NULL,
                    answer TEXT NOT NULL,
                    PRIMARY KEY (item_id, model)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v30: claims tallied per reviewer, day and category") { db in
            // A reviewer's sensitive claims today are read on every claim (the daily exposure cap).
            // Counting them from the timeline read every claim the reviewer made that day, each
            // joined to its case: 38 % of a 1M-case review run's CPU, the run down to 128 of the 500
            // decisions/s asked (316 with the tally). The tally holds one row per reviewer, UTC day and the
            // case's category when claimed, so the answer is a few rows however busy the day was.
            // Hourly limits per queue read the claims of the last hour through a partial index of
            // claims alone (the limit keeps those few).
            try db.execute(sql: """
                CREATE TABLE claim_tally (
                    actor TEXT NOT NULL,
                    day INTEGER NOT NULL,
                    category TEXT NOT NULL,
                    claims INTEGER NOT NULL CHECK (claims > 0),
                    PRIMARY KEY (actor, day, category)
                ) WITHOUT ROWID;
                \(claimTallyFromTimeline);
                CREATE TRIGGER claim_tally_on_claim AFTER INSERT ON case_timeline
                WHEN NEW.kind = 'transition' AND NEW.to_state = 'in_review' AND NEW.from_state IN ('open', 'escalated') BEGIN
                    INSERT INTO claim_tally (actor, day, category, claims)
                        SELECT NEW.actor, NEW.at - NEW.at % 86400000, category, 1 FROM review_case WHERE id = NEW.case_id
                        ON CONFLICT (actor, day, category) DO UPDATE SET claims = claims + 1;
                END;
                CREATE INDEX timeline_claims_by_actor ON case_timeline(actor, at, case_id)
                    WHERE kind = 'transition' AND to_state = 'in_review' AND from_state IN ('open', 'escalated');
                """)
        }
        migrator.registerMigration("v31: undecided cases tallied per queue, band, state and SLA events raised") { db in
            // The queue board, the operations gauges (every 10 s) and QA's queue mix counted every
            // undecided case through an index: 136-163 ms of a core at 1M open cases, every time,
            // and growing with the backlog; on 2 cores the review run's decide p99 doubled in the
            // seconds it ran. Triggers keep the counts as cases change, so reading them is a few
            // rows; the oldest case of each group is one seek of `case_open_stats`. A row whose
            // count fell to 0 stays (the groups are few) and is not read.
            try db.execute(sql: """
                CREATE TABLE queue_tally (
                    queue TEXT NOT NULL,
                    band INTEGER NOT NULL,
                    state TEXT NOT NULL,
                    sla_raised INTEGER NOT NULL,
                    cases INTEGER NOT NULL CHECK (cases >= 0),
                    PRIMARY KEY (queue, band, state, sla_raised)
                ) WITHOUT ROWID;
                \(queueTallyFromCases);
                CREATE TRIGGER queue_tally_on_insert AFTER INSERT ON review_case
                WHEN NEW.state IN ('open', 'in_review', 'on_hold', 'escalated') BEGIN
                    INSERT INTO queue_tally (queue, band, state, sla_raised, cases) VALUES (NEW.queue, NEW.band, NEW.state, NEW.sla_raised, 1)
                        ON CONFLICT (queue, band, state, sla_raised) DO UPDATE SET cases = cases + 1;
                END;
                CREATE TRIGGER queue_tally_on_delete AFTER DELETE ON review_case
                WHEN OLD.state IN ('open', 'in_review', 'on_hold', 'escalated') BEGIN
                    UPDATE queue_tally SET cases = cases - 1
                        WHERE queue = OLD.queue AND band = OLD.band AND state = OLD.state AND sla_raised = OLD.sla_raised;
                END;
                CREATE TRIGGER queue_tally_on_update AFTER UPDATE OF queue, band, state, sla_raised ON review_case
                WHEN OLD.queue <> NEW.queue OR OLD.band <> NEW.band OR OLD.state <> NEW.state OR OLD.sla_raised <> NEW.sla_raised BEGIN
                    UPDATE queue_tally SET cases = cases - 1
                        WHERE queue = OLD.queue AND band = OLD.band AND state = OLD.state AND sla_raised = OLD.sla_raised
                        AND OLD.state IN ('open', 'in_review', 'on_hold', 'escalated');
                    INSERT INTO queue_tally (queue, band, state, sla_raised, cases)
                        SELECT NEW.queue, NEW.band, NEW.state, NEW.sla_raised, 1 WHERE NEW.state IN ('open', 'in_review', 'on_hold', 'escalated')
                        ON CONFLICT (queue, band, state, sla_raised) DO UPDATE SET cases = cases + 1;
                END;
                """)
        }
        return migrator
    }
}
