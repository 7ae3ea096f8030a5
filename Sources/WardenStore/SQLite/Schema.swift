import GRDB

/// The SQLite schema, as GRDB migrations. Constraints live in the database ("trust SQLite more
/// than yourself"): types, lengths, foreign keys, uniqueness, and triggers that keep the event log
/// append-only.
enum Schema {
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
        return migrator
    }
}
