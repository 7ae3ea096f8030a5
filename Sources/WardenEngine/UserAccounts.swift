import Crypto
import Foundation
import HummingbirdBcrypt
import Synchronization
public import WardenCore
public import WardenStore

/// People: passwords hashed with bcrypt, sessions for the web console (a random id in an
/// HttpOnly cookie, stored as its SHA-256, with a CSRF token that unsafe requests must echo),
/// an idle timeout, sign-in attempts throttled per account and per address (lock-outs audited),
/// and one-time sign-in links for the first admin and the demo's people.
public final class UserAccounts: Sendable {
    private let store: any UserStore
    private let clock: any WallClock
    /// bcrypt cost (12 by default; tests lower it).
    private let cost: UInt8
    /// How long a session lasts at most (ms).
    public let sessionMillis: Int64
    /// How long a session may go unused before it ends (ms).
    public let idleMillis: Int64
    /// How long a one-time sign-in link stays usable (ms).
    public let linkMillis: Int64
    private let throttle: Mutex<SignInThrottle>

    public init(store: any UserStore, clock: any WallClock = SystemWallClock(), cost: UInt8 = 12, sessionMillis: Int64 = 12 * 3_600_000,
                idleMillis: Int64 = 30 * 60_000, linkMillis: Int64 = 24 * 3_600_000, throttle: SignInThrottle.Limits = .init()) {
        self.store = store
        self.clock = clock
        self.cost = cost
        self.sessionMillis = sessionMillis
        self.idleMillis = idleMillis
        self.linkMillis = linkMillis
        self.throttle = Mutex(SignInThrottle(limits: throttle))
    }

    /// Why adding a user was refused.
    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    /// Why a sign-in was refused.
    public enum Refusal: Error, Equatable {
        /// The name or password is wrong, or the account is disabled (not told apart, on purpose).
        case invalid
        /// Too many failures for the account or from the address: try again at `until`, in
        /// `retryAfter` seconds.
        case lockedOut(until: Int64, retryAfter: Int64)
    }

    /// Adds a user with a password (at least 12 characters). Vendor reviewers need at least one queue.
    public func add(name: String, role: Role, password: String, queues: [String] = [], teams: [String] = [], actor: String) async throws -> UserRecord {
        guard name.range(of: #"^[a-z0-9][a-z0-9._-]{0,99}$"#, options: .regularExpression) != nil else {
            throw Invalid(description: "\(name) is not a valid user name: use lower-case letters, digits, dots, dashes and underscores")
        }
        try Self.checkPassword(password)
        if role == .vendorReviewer, queues.isEmpty {
            throw Invalid(description: "a vendor reviewer only sees assigned queues: give at least one --queue")
        }
        let user = UserRecord(name: name, role: role, queues: queues, teams: teams, passwordHash: Bcrypt.hash(password, cost: cost),
                              createdAt: clock.nowMillis())
        try await store.addUser(user, actor: actor)
        return user
    }

    static func checkPassword(_ password: String) throws {
        guard password.count >= 12 else { throw Invalid(description: "the password must be at least 12 characters") }
        guard password.count <= 1000 else { throw Invalid(description: "the password must be at most 1,000 characters") }
    }

    /// A new session for the user when the password is right (and the user is enabled), unless the
    /// account or the address is locked out. Lock-outs are audited as they start.
    public func login(name: String, password: String, address: String? = nil) async throws -> (secret: String, session: SessionRecord, user: UserRecord) {
        let now = clock.nowMillis()
        if let until = throttle.withLock({ $0.lockedUntil(account: name, address: address, now: now) }) {
            throw Refusal.lockedOut(until: until, retryAfter: max(1, (until - now + 999) / 1000))
        }
        guard let user = try await store.user(named: name), user.disabledAt == nil, Bcrypt.verify(password, hash: user.passwordHash) else {
            let lockouts = throttle.withLock { $0.recordFailure(account: name, address: address, now: now) }
            for lockout in lockouts {
                try await store.audit(actor: .system("sign-in"), action: "sign_in.locked", target: lockout.key.description,
                                      detail: Self.lockoutDetail(lockout, address: address), now: now)
            }
            if let until = lockouts.map(\.until).max() { throw Refusal.lockedOut(until: until, retryAfter: max(1, (until - now + 999) / 1000)) }
            throw Refusal.invalid
        }
        throttle.withLock { $0.recordSuccess(account: name) }
        return try await startSession(for: user, now: now)
    }

    private static func lockoutDetail(_ lockout: SignInThrottle.Lockout, address: String?) -> String {
        var writer = JSONWriter(capacity: 128)
        writer.beginObject()
        writer.field("failures", Int64(lockout.failures))
        writer.field("until", Timestamp.formatRFC3339(lockout.until))
        if let address { writer.field("address", address) }
        writer.endObject()
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    private func startSession(for user: UserRecord, now: Int64) async throws -> (secret: String, session: SessionRecord, user: UserRecord) {
        let secret = Self.random(bytes: 32)
        let session = SessionRecord(idHash: Self.hash(secret), user: user.name, csrfToken: Self.random(bytes: 24), createdAt: now,
                                    expiresAt: now + sessionMillis)
        try await store.createSession(session)
        return (secret, session, user)
    }

    /// The live session and user for a cookie's secret. A session unused for longer than the idle
    /// timeout ends; use is recorded at most once a minute.
    public func session(secret: String) async throws -> (SessionRecord, UserRecord)? {
        let now = clock.nowMillis()
        let idHash = Self.hash(secret)
        guard let (session, user) = try await store.session(idHash: idHash, now: now) else { return nil }
        if now - session.lastSeenAt > idleMillis {
            try await store.deleteSession(idHash: idHash)
            return nil
        }
        if now - session.lastSeenAt > 60_000 { try await store.touchSession(idHash: idHash, now: now) }
        return (session, user)
    }

    public func logout(secret: String) async throws {
        try await store.deleteSession(idHash: Self.hash(secret))
    }

    /// Sets a user's password (at least 12 characters); the user's other sessions end.
    public func setPassword(_ name: String, password: String, keepingSession secret: String?, actor: ActorRef) async throws -> Bool {
        try Self.checkPassword(password)
        return try await store.setPassword(name, hash: Bcrypt.hash(password, cost: cost), keeping: secret.map(Self.hash), actor: actor,
                                           now: clock.nowMillis())
    }

    /// A one-time sign-in link's secret for `user` (the path is `/signin/<secret>`).
    public func signInLink(for user: String) async throws -> String {
        let secret = Self.random(bytes: 24)
        let now = clock.nowMillis()
        try await store.createSignInLink(SignInLinkRecord(idHash: Self.hash(secret), user: user, createdAt: now, expiresAt: now + linkMillis))
        return secret
    }

    /// Signs in with a one-time link: a new session, or nil when the link is unknown, used or expired.
    public func redeem(link secret: String) async throws -> (secret: String, session: SessionRecord, user: UserRecord)? {
        let now = clock.nowMillis()
        guard let user = try await store.redeemSignInLink(idHash: Self.hash(secret), now: now) else { return nil }
        return try await startSession(for: user, now: now)
    }

    /// On a data directory with nobody in it, adds the first admin (`admin`, with a password no one
    /// knows) and returns a one-time link to sign in and choose one; nil when people exist.
    public func firstAdminLink() async throws -> String? {
        guard try await store.users().isEmpty else { return nil }
        do {
            _ = try await add(name: "admin", role: .admin, password: Self.random(bytes: 32), actor: "system:first-start")
        } catch {
            // Another node starting on the same store added the first admin first: it prints the link.
            guard try await store.users().isEmpty else { return nil }
            throw error
        }
        return try await signInLink(for: "admin")
    }

    /// The demo's people: added when missing (with passwords no one knows), each with a fresh
    /// one-time sign-in link. Returns (name, role, link secret).
    public func demoPeople(queues: [String]) async throws -> [(name: String, role: Role, link: String)] {
        let people: [(String, Role, [String], [String])] = [
            ("demo-reviewer", .reviewer, [], ["trust", "fraud", "tier2"]),
            ("demo-reviewer-2", .reviewer, [], ["trust", "fraud", "tier2"]),
            ("demo-lead", .lead, [], ["trust", "fraud", "tier2"]),
            ("demo-vendor", .vendorReviewer, Array(queues.prefix(2)), ["vendor"]),
            ("demo-analyst", .analyst, [], []),
            ("demo-auditor", .auditor, [], []),
        ]
        var links: [(String, Role, String)] = []
        for (name, role, assigned, teams) in people {
            if try await store.user(named: name) == nil {
                _ = try await add(name: name, role: role, password: Self.random(bytes: 32), queues: assigned, teams: teams, actor: "system:demo")
            }
            links.append((name, role, try await signInLink(for: name)))
        }
        return links
    }

    static func hash(_ secret: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(secret.utf8)))
    }

    static func random(bytes count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }.hexString
    }
}
