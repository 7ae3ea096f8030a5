import Crypto
import Foundation
import HummingbirdBcrypt
public import WardenCore
public import WardenStore

/// People: passwords hashed with bcrypt, sessions for the web console (a random id in an
/// HttpOnly cookie, stored as its SHA-256, with a CSRF token that unsafe requests must echo).
public final class UserAccounts: Sendable {
    private let store: any UserStore
    private let clock: any WallClock
    /// bcrypt cost (12 by default; tests lower it).
    private let cost: UInt8
    /// How long a session lasts (ms).
    public let sessionMillis: Int64

    public init(store: any UserStore, clock: any WallClock = SystemWallClock(), cost: UInt8 = 12, sessionMillis: Int64 = 12 * 3_600_000) {
        self.store = store
        self.clock = clock
        self.cost = cost
        self.sessionMillis = sessionMillis
    }

    /// Why adding a user was refused.
    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    /// Adds a user with a password (at least 12 characters). Vendor reviewers need at least one queue.
    public func add(name: String, role: Role, password: String, queues: [String] = [], teams: [String] = [], actor: String) async throws -> UserRecord {
        guard name.range(of: #"^[a-z0-9][a-z0-9._-]{0,99}$"#, options: .regularExpression) != nil else {
            throw Invalid(description: "\(name) is not a valid user name: use lower-case letters, digits, dots, dashes and underscores")
        }
        guard password.count >= 12 else { throw Invalid(description: "the password must be at least 12 characters") }
        if role == .vendorReviewer, queues.isEmpty {
            throw Invalid(description: "a vendor reviewer only sees assigned queues: give at least one --queue")
        }
        let user = UserRecord(name: name, role: role, queues: queues, teams: teams, passwordHash: Bcrypt.hash(password, cost: cost),
                              createdAt: clock.nowMillis())
        try await store.addUser(user, actor: actor)
        return user
    }

    /// A new session for the user when the password is right (and the user is enabled).
    public func login(name: String, password: String) async throws -> (secret: String, session: SessionRecord, user: UserRecord)? {
        guard let user = try await store.user(named: name), user.disabledAt == nil, Bcrypt.verify(password, hash: user.passwordHash) else {
            return nil
        }
        let secret = Self.random(bytes: 32)
        let now = clock.nowMillis()
        let session = SessionRecord(idHash: Self.hash(secret), user: user.name, csrfToken: Self.random(bytes: 24), createdAt: now,
                                    expiresAt: now + sessionMillis)
        try await store.createSession(session)
        return (secret, session, user)
    }

    /// The live session and user for a cookie's secret.
    public func session(secret: String) async throws -> (SessionRecord, UserRecord)? {
        try await store.session(idHash: Self.hash(secret), now: clock.nowMillis())
    }

    public func logout(secret: String) async throws {
        try await store.deleteSession(idHash: Self.hash(secret))
    }

    static func hash(_ secret: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(secret.utf8)))
    }

    static func random(bytes count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }.hexString
    }
}
