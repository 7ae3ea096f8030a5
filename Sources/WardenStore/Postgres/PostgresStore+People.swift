import Crypto
import Foundation
import Logging
import PostgresNIO
public import WardenCore
import WardenReview

// MARK: - AuditStore

extension PostgresStore: AuditStore {
    public func audit(actor: ActorRef, action: String, target: String, detail: String, now: Int64) async throws {
        let logger = self.logger
        try await transaction { connection in
            try await Self.appendAudit(connection, logger: logger, at: now, actor: actor.description, action: action, target: target, detail: detail)
        }
    }

    public func auditEntries(after seq: Int64, limit: Int) async throws -> [AuditEntry] {
        try await rows("""
            SELECT seq, at, actor, action, target, detail, previous_hash, hash FROM audit_log WHERE seq > \(seq) ORDER BY seq LIMIT \(limit)
            """).map(AuditEntry.init(postgres:))
    }

    public func auditEntries(before seq: Int64?, actor: String?, action: String?, target: String?, limit: Int) async throws -> [AuditEntry] {
        var bindings = PostgresBindings()
        bindings.append(seq ?? Int64.max)
        var conditions = ["seq < $1"]
        if let actor { bindings.append(actor); conditions.append("actor = $\(bindings.count)") }
        if let target { bindings.append(target); conditions.append("target = $\(bindings.count)") }
        if let action { bindings.append(action); conditions.append("starts_with(action, $\(bindings.count))") }
        bindings.append(Int64(limit))
        let sql = """
            SELECT seq, at, actor, action, target, detail, previous_hash, hash FROM audit_log
            WHERE \(conditions.joined(separator: " AND ")) ORDER BY seq DESC LIMIT $\(bindings.count)
            """
        return try await rows(PostgresQuery(unsafeSQL: sql, binds: bindings)).map(AuditEntry.init(postgres:))
    }

    public func auditHead() async throws -> (seq: Int64, hash: [UInt8])? {
        guard let (seq, hash) = try await rows("SELECT seq, hash FROM audit_head WHERE id = 1").first?.decode((Int64, Data).self),
              seq > 0 else { return nil }
        return (seq, Array(hash))
    }

    /// Appends one entry to the chain inside the caller's transaction. Locking the head first makes
    /// entries from every node chain one at a time; the lock is held until the caller commits, so
    /// the change the entry records and the entry land together or not at all.
    static func appendAudit(_ connection: PostgresConnection, logger: Logger, at: Int64, actor: String, action: String, target: String,
                            detail: String) async throws {
        guard let (last, previousData) = try await connection.rows("SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE", logger: logger)
            .first?.decode((Int64, Data).self) else { throw StoreError.inconsistent("the audit chain has no head row") }
        let seq = last + 1
        let previous = last == 0 ? AuditChain.genesis : Array(previousData)
        let hash = SQLiteStore.auditDigest(AuditChain.hashInput(seq: seq, at: at, actor: actor, action: action, target: target,
                                                                detail: detail, previousHash: previous))
        // The entry and the head's move in one statement (one round trip, still one transaction).
        try await connection.query("""
            WITH entry AS (
                INSERT INTO audit_log (seq, at, actor, action, target, detail, previous_hash, hash)
                VALUES (\(seq), \(at), \(actor), \(action), \(target), \(detail), \(Data(previous)), \(Data(hash))) RETURNING seq, hash)
            UPDATE audit_head SET seq = entry.seq, hash = entry.hash FROM entry WHERE audit_head.id = 1
            """, logger: logger)
    }
}

extension AuditEntry {
    init(postgres row: PostgresRow) throws {
        let (seq, at, actor, action, target, detail, previous, hash) = try row.decode((Int64, Int64, String, String, String, String, Data, Data).self)
        self.init(seq: seq, at: at, actor: actor, action: action, target: target, detail: detail, previousHash: Array(previous), hash: Array(hash))
    }
}

// MARK: - TokenStore

extension PostgresStore: TokenStore {
    public func insertToken(_ token: APITokenRecord) async throws {
        try await rows("""
            INSERT INTO api_token (id, name, secret_hash, scopes, created_at, revoked_at)
            VALUES (\(token.id), \(token.name), \(Data(token.secretHash)), \(token.scopes.map(\.rawValue).joined(separator: " ")),
                    \(token.createdAt), \(token.revokedAt))
            """)
    }

    public func token(secretHash: [UInt8]) async throws -> APITokenRecord? {
        try await rows("SELECT id, name, secret_hash, scopes, created_at, revoked_at FROM api_token WHERE secret_hash = \(Data(secretHash))")
            .first.map(APITokenRecord.init(postgres:))
    }

    public func tokens() async throws -> [APITokenRecord] {
        try await rows("SELECT id, name, secret_hash, scopes, created_at, revoked_at FROM api_token ORDER BY created_at, id")
            .map(APITokenRecord.init(postgres:))
    }

    public func revokeToken(id: String, at: Int64) async throws -> Bool {
        try await !rows("UPDATE api_token SET revoked_at = \(at) WHERE id = \(id) AND revoked_at IS NULL RETURNING id").isEmpty
    }
}

extension APITokenRecord {
    init(postgres row: PostgresRow) throws {
        let (id, name, hash, scopes, createdAt, revokedAt) = try row.decode((String, String, Data, String, Int64, Int64?).self)
        self.init(id: id, name: name, secretHash: Array(hash), scopes: scopes.split(separator: " ").compactMap { Scope(rawValue: String($0)) },
                  createdAt: createdAt, revokedAt: revokedAt)
    }
}

// MARK: - UserStore

extension PostgresStore: UserStore {
    private static let userColumns = "u.name, u.role, u.queues, u.teams, u.password_hash, u.created_at, u.disabled_at"

    public func addUser(_ user: UserRecord, actor: String) async throws {
        let logger = self.logger
        do {
            try await transaction { connection in
                try await connection.query("""
                    INSERT INTO app_user (name, role, queues, teams, password_hash, created_at)
                    VALUES (\(user.name), \(user.role.rawValue), \(user.queues.joined(separator: ",")), \(user.teams.joined(separator: ",")),
                            \(user.passwordHash), \(user.createdAt))
                    """, logger: logger)
                try await Self.appendAudit(connection, logger: logger, at: user.createdAt, actor: actor, action: "user.add", target: "user:\(user.name)",
                                           detail: #"{"role":"\#(user.role.rawValue)","queues":\#(jsonString(user.queues.joined(separator: ",")))}"#)
            }
        } catch let error as PSQLError where error.sqlState == "23505" {
            throw ReviewError(.conflict, "a user named \(user.name) already exists")
        }
    }

    public func user(named name: String) async throws -> UserRecord? {
        try await rows(PostgresQuery(unsafeSQL: "SELECT \(Self.userColumns) FROM app_user u WHERE u.name = $1", binds: Self.binds(name)))
            .first.map { try Self.userRecord($0) }
    }

    public func users() async throws -> [UserRecord] {
        try await rows(PostgresQuery(unsafeSQL: "SELECT \(Self.userColumns) FROM app_user u ORDER BY u.name")).map { try Self.userRecord($0) }
    }

    public func disableUser(_ name: String, actor: String, now: Int64) async throws -> Bool {
        let logger = self.logger
        return try await transaction { connection in
            guard try await !connection.rows("""
                UPDATE app_user SET disabled_at = \(now) WHERE name = \(name) AND disabled_at IS NULL RETURNING name
                """, logger: logger).isEmpty else { return false }
            try await connection.query("DELETE FROM user_session WHERE user_name = \(name)", logger: logger)
            try await Self.appendAudit(connection, logger: logger, at: now, actor: actor, action: "user.disable", target: "user:\(name)", detail: "{}")
            return true
        }
    }

    public func createSession(_ session: SessionRecord) async throws {
        let logger = self.logger
        try await transaction { connection in
            try await connection.query("""
                INSERT INTO user_session (id_hash, user_name, csrf_token, created_at, expires_at, last_seen_at)
                VALUES (\(Data(session.idHash)), \(session.user), \(session.csrfToken), \(session.createdAt), \(session.expiresAt), \(session.lastSeenAt))
                """, logger: logger)
            try await connection.query("DELETE FROM user_session WHERE expires_at <= \(session.createdAt)", logger: logger)
            try await Self.appendAudit(connection, logger: logger, at: session.createdAt, actor: "user:\(session.user)", action: "session.create",
                                       target: "user:\(session.user)", detail: "{}")
        }
    }

    public func session(idHash: [UInt8], now: Int64) async throws -> (SessionRecord, UserRecord)? {
        var bindings = PostgresBindings()
        try bindings.append(Data(idHash))
        bindings.append(now)
        let sql = """
            SELECT \(Self.userColumns), s.csrf_token, s.created_at, s.expires_at, s.last_seen_at
            FROM user_session s JOIN app_user u ON u.name = s.user_name
            WHERE s.id_hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL
            """
        guard let row = try await rows(PostgresQuery(unsafeSQL: sql, binds: bindings)).first else { return nil }
        let user = try Self.userRecord(row)
        let columns = row.makeRandomAccess()
        let session = SessionRecord(idHash: idHash, user: user.name, csrfToken: try columns[7].decode(String.self),
                                    createdAt: try columns[8].decode(Int64.self), expiresAt: try columns[9].decode(Int64.self),
                                    lastSeenAt: try columns[10].decode(Int64.self))
        return (session, user)
    }

    public func deleteSession(idHash: [UInt8]) async throws {
        try await rows("DELETE FROM user_session WHERE id_hash = \(Data(idHash))")
    }

    public func lastSeen(now: Int64) async throws -> [String: Int64] {
        var seen: [String: Int64] = [:]
        for row in try await rows("SELECT user_name, max(last_seen_at) FROM user_session WHERE expires_at > \(now) GROUP BY user_name") {
            let (user, at) = try row.decode((String, Int64).self)
            seen[user] = at
        }
        return seen
    }

    public func touchSession(idHash: [UInt8], now: Int64) async throws {
        try await rows("UPDATE user_session SET last_seen_at = \(now) WHERE id_hash = \(Data(idHash))")
    }

    public func setPassword(_ name: String, hash: String, keeping: [UInt8]?, actor: ActorRef, now: Int64) async throws -> Bool {
        let logger = self.logger
        return try await transaction { connection in
            guard try await !connection.rows("""
                UPDATE app_user SET password_hash = \(hash) WHERE name = \(name) AND disabled_at IS NULL RETURNING name
                """, logger: logger).isEmpty else { return false }
            try await connection.query("""
                DELETE FROM user_session WHERE user_name = \(name) AND id_hash IS DISTINCT FROM \(keeping.map { Data($0) })
                """, logger: logger)
            try await Self.appendAudit(connection, logger: logger, at: now, actor: actor.description, action: "user.password", target: "user:\(name)",
                                       detail: "{}")
            return true
        }
    }

    public func createSignInLink(_ link: SignInLinkRecord) async throws {
        let logger = self.logger
        try await transaction { connection in
            try await connection.query("DELETE FROM signin_link WHERE expires_at <= \(link.createdAt) OR used_at IS NOT NULL", logger: logger)
            try await connection.query("""
                INSERT INTO signin_link (id_hash, user_name, created_at, expires_at)
                VALUES (\(Data(link.idHash)), \(link.user), \(link.createdAt), \(link.expiresAt))
                """, logger: logger)
            try await Self.appendAudit(connection, logger: logger, at: link.createdAt, actor: "system:warden", action: "signin_link.create",
                                       target: "user:\(link.user)",
                                       detail: #"{"expires_at":\#(jsonString(Timestamp.formatRFC3339(link.expiresAt)))}"#)
        }
    }

    /// The link's row is locked by the update that spends it, so two nodes redeeming the same link
    /// at once sign in one person once.
    public func redeemSignInLink(idHash: [UInt8], now: Int64) async throws -> UserRecord? {
        let logger = self.logger
        return try await transaction { connection in
            guard let name = try await connection.rows("""
                UPDATE signin_link l SET used_at = \(now) FROM app_user u
                WHERE l.id_hash = \(Data(idHash)) AND l.used_at IS NULL AND l.expires_at > \(now)
                  AND u.name = l.user_name AND u.disabled_at IS NULL
                RETURNING l.user_name
                """, logger: logger).first?.decode(String.self) else { return nil }
            try await Self.appendAudit(connection, logger: logger, at: now, actor: "user:\(name)", action: "signin_link.use", target: "user:\(name)", detail: "{}")
            return try await connection.rows(PostgresQuery(unsafeSQL: "SELECT \(Self.userColumns) FROM app_user u WHERE u.name = $1", binds: Self.binds(name)),
                                             logger: logger).first.map { try Self.userRecord($0) }
        }
    }

    private static func binds(_ value: String) -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(value)
        return bindings
    }

    /// A user from the first seven columns (``userColumns``).
    private static func userRecord(_ row: PostgresRow) throws -> UserRecord {
        let columns = row.makeRandomAccess()
        let queues = try columns[2].decode(String.self)
        let teams = try columns[3].decode(String.self)
        return UserRecord(name: try columns[0].decode(String.self), role: Role(rawValue: try columns[1].decode(String.self)) ?? .reviewer,
                          queues: queues.split(separator: ",").map(String.init), teams: teams.split(separator: ",").map(String.init),
                          passwordHash: try columns[4].decode(String.self), createdAt: try columns[5].decode(Int64.self),
                          disabledAt: try columns[6].decode(Int64?.self))
    }
}
