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
