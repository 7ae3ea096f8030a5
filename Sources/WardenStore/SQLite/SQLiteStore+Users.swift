import Foundation
import GRDB
public import WardenCore
import WardenReview

extension SQLiteStore: UserStore {
    public func addUser(_ user: UserRecord, actor: String) async throws {
        try await pool.write { db in
            do {
                try db.execute(sql: """
                    INSERT INTO app_user (name, role, queues, teams, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)
                    """, arguments: [user.name, user.role.rawValue, user.queues.joined(separator: ","), user.teams.joined(separator: ","),
                                     user.passwordHash, user.createdAt])
            } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
                throw ReviewError(.conflict, "a user named \(user.name) already exists")
            }
            try Self.appendAudit(db, at: user.createdAt, actor: actor, action: "user.add", target: "user:\(user.name)",
                                 detail: #"{"role":"\#(user.role.rawValue)","queues":\#(jsonString(user.queues.joined(separator: ",")))}"#)
        }
    }

    public func user(named name: String) async throws -> UserRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM app_user WHERE name = ?", arguments: [name]).map(Self.userRecord(from:))
        }
    }

    public func users() async throws -> [UserRecord] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM app_user ORDER BY name").map(Self.userRecord(from:))
        }
    }

    public func disableUser(_ name: String, actor: String, now: Int64) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "UPDATE app_user SET disabled_at = ? WHERE name = ? AND disabled_at IS NULL", arguments: [now, name])
            guard db.changesCount > 0 else { return false }
            try db.execute(sql: "DELETE FROM user_session WHERE user = ?", arguments: [name])
            try Self.appendAudit(db, at: now, actor: actor, action: "user.disable", target: "user:\(name)", detail: "{}")
            return true
        }
    }

    public func createSession(_ session: SessionRecord) async throws {
        try await pool.write { db in
            try db.execute(sql: "INSERT INTO user_session (id_hash, user, csrf_token, created_at, expires_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [Data(session.idHash), session.user, session.csrfToken, session.createdAt, session.expiresAt, session.lastSeenAt])
            try db.execute(sql: "DELETE FROM user_session WHERE expires_at <= ?", arguments: [session.createdAt])
            try Self.appendAudit(db, at: session.createdAt, actor: "user:\(session.user)", action: "session.create", target: "user:\(session.user)", detail: "{}")
        }
    }

    public func session(idHash: [UInt8], now: Int64) async throws -> (SessionRecord, UserRecord)? {
        try await pool.read { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT s.user AS s_user, s.csrf_token, s.created_at AS s_created, s.expires_at, s.last_seen_at, u.*
                FROM user_session s JOIN app_user u ON u.name = s.user
                WHERE s.id_hash = ? AND s.expires_at > ? AND u.disabled_at IS NULL
                """, arguments: [Data(idHash), now]) else { return nil }
            let session = SessionRecord(idHash: idHash, user: row["s_user"], csrfToken: row["csrf_token"], createdAt: row["s_created"],
                                        expiresAt: row["expires_at"], lastSeenAt: row["last_seen_at"])
            return (session, Self.userRecord(from: row))
        }
    }

    public func deleteSession(idHash: [UInt8]) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM user_session WHERE id_hash = ?", arguments: [Data(idHash)])
        }
    }

    public func lastSeen(now: Int64) async throws -> [String: Int64] {
        try await pool.read { db in
            var seen: [String: Int64] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT user, max(last_seen_at) AS seen FROM user_session WHERE expires_at > ? GROUP BY user",
                                        arguments: [now]) {
                seen[row["user"]] = row["seen"]
            }
            return seen
        }
    }

    public func touchSession(idHash: [UInt8], now: Int64) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE user_session SET last_seen_at = ? WHERE id_hash = ?", arguments: [now, Data(idHash)])
        }
    }

    public func setPassword(_ name: String, hash: String, keeping: [UInt8]?, actor: ActorRef, now: Int64) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "UPDATE app_user SET password_hash = ? WHERE name = ? AND disabled_at IS NULL", arguments: [hash, name])
            guard db.changesCount > 0 else { return false }
            try db.execute(sql: "DELETE FROM user_session WHERE user = ? AND id_hash IS NOT ?", arguments: [name, keeping.map { Data($0) }])
            try Self.appendAudit(db, at: now, actor: actor.description, action: "user.password", target: "user:\(name)", detail: "{}")
            return true
        }
    }

    public func createSignInLink(_ link: SignInLinkRecord) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM signin_link WHERE expires_at <= ? OR used_at IS NOT NULL", arguments: [link.createdAt])
            try db.execute(sql: "INSERT INTO signin_link (id_hash, user, created_at, expires_at) VALUES (?, ?, ?, ?)",
                           arguments: [Data(link.idHash), link.user, link.createdAt, link.expiresAt])
            try Self.appendAudit(db, at: link.createdAt, actor: "system:warden", action: "signin_link.create", target: "user:\(link.user)",
                                 detail: #"{"expires_at":\#(jsonString(Timestamp.formatRFC3339(link.expiresAt)))}"#)
        }
    }

    public func redeemSignInLink(idHash: [UInt8], now: Int64) async throws -> UserRecord? {
        try await pool.write { db in
            guard let name = try String.fetchOne(db, sql: """
                SELECT l.user FROM signin_link l JOIN app_user u ON u.name = l.user
                WHERE l.id_hash = ? AND l.used_at IS NULL AND l.expires_at > ? AND u.disabled_at IS NULL
                """, arguments: [Data(idHash), now]) else { return nil }
            try db.execute(sql: "UPDATE signin_link SET used_at = ? WHERE id_hash = ?", arguments: [now, Data(idHash)])
            try Self.appendAudit(db, at: now, actor: "user:\(name)", action: "signin_link.use", target: "user:\(name)", detail: "{}")
            return try Row.fetchOne(db, sql: "SELECT * FROM app_user WHERE name = ?", arguments: [name]).map(Self.userRecord(from:))
        }
    }

    static func userRecord(from row: Row) -> UserRecord {
        let queues: String = row["queues"]
        let teams: String = row["teams"]
        return UserRecord(name: row["name"], role: Role(rawValue: row["role"]) ?? .reviewer,
                          queues: queues.split(separator: ",").map(String.init), teams: teams.split(separator: ",").map(String.init),
                          passwordHash: row["password_hash"], createdAt: row["created_at"], disabledAt: row["disabled_at"])
    }
}
