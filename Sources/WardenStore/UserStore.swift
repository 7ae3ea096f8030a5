public import WardenCore

/// A person who signs in to Warden.
public struct UserRecord: Sendable, Equatable {
    /// Login name (unique).
    public var name: String
    public var role: Role
    /// Queues a vendor reviewer may work (others ignore it).
    public var queues: [String]
    /// Teams, for queue access.
    public var teams: [String]
    /// bcrypt hash of the password.
    public var passwordHash: String
    public var createdAt: Int64
    public var disabledAt: Int64?

    public init(name: String, role: Role, queues: [String], teams: [String], passwordHash: String, createdAt: Int64, disabledAt: Int64? = nil) {
        self.name = name
        self.role = role
        self.queues = queues
        self.teams = teams
        self.passwordHash = passwordHash
        self.createdAt = createdAt
        self.disabledAt = disabledAt
    }
}

/// A signed-in session (the id is stored only as its SHA-256).
public struct SessionRecord: Sendable, Equatable {
    public var idHash: [UInt8]
    public var user: String
    /// The token unsafe requests must echo in `X-CSRF-Token`.
    public var csrfToken: String
    public var createdAt: Int64
    public var expiresAt: Int64
    /// When the session was last used (kept to the minute), for the idle timeout.
    public var lastSeenAt: Int64

    public init(idHash: [UInt8], user: String, csrfToken: String, createdAt: Int64, expiresAt: Int64, lastSeenAt: Int64? = nil) {
        self.idHash = idHash
        self.user = user
        self.csrfToken = csrfToken
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.lastSeenAt = lastSeenAt ?? createdAt
    }
}

/// A one-time sign-in link (the first admin's, the demo people's): its secret is stored only as
/// its SHA-256, and it works once, before it expires.
public struct SignInLinkRecord: Sendable, Equatable {
    public var idHash: [UInt8]
    public var user: String
    public var createdAt: Int64
    public var expiresAt: Int64

    public init(idHash: [UInt8], user: String, createdAt: Int64, expiresAt: Int64) {
        self.idHash = idHash
        self.user = user
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// People and their sessions. Sign-in events (lock-outs) go to the audit log.
public protocol UserStore: AuditStore {
    /// Adds a user; fails if the name is taken.
    func addUser(_ user: UserRecord, actor: String) async throws
    func user(named name: String) async throws -> UserRecord?
    func users() async throws -> [UserRecord]
    /// Disables a user and ends their sessions; false when there is no such user.
    func disableUser(_ name: String, actor: String, now: Int64) async throws -> Bool
    func createSession(_ session: SessionRecord) async throws
    /// A live session by its id's hash, with its user.
    func session(idHash: [UInt8], now: Int64) async throws -> (SessionRecord, UserRecord)?
    func deleteSession(idHash: [UInt8]) async throws
    /// When each person's live sessions were last used (the latest per person).
    func lastSeen(now: Int64) async throws -> [String: Int64]
    /// Records that a session was used at `now`.
    func touchSession(idHash: [UInt8], now: Int64) async throws
    /// Replaces a user's password hash and ends their other sessions (all but `keeping`).
    func setPassword(_ name: String, hash: String, keeping: [UInt8]?, actor: ActorRef, now: Int64) async throws -> Bool
    /// Stores a one-time sign-in link.
    func createSignInLink(_ link: SignInLinkRecord) async throws
    /// Uses a link: the user it signs in, once, while it is live and the user enabled; nil otherwise.
    func redeemSignInLink(idHash: [UInt8], now: Int64) async throws -> UserRecord?
}
