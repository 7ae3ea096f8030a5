import Crypto
import Synchronization
public import WardenCore
public import WardenStore

/// API tokens for machine clients: minted here, stored as SHA-256 digests, checked per request.
/// Secrets are 160 random bits, so a fast hash is the right tool (no password stretching needed).
///
/// Every request authenticates, so active tokens found are remembered for ``cacheMillis``: a token
/// revoked by this process stops working at once, one revoked from another process (`warden tokens
/// revoke` beside a running server) within that time.
public struct AccessTokens: Sendable {
    private let store: any TokenStore
    private let clock: any WallClock
    private let cache = TokenCache()

    /// How long an active token found in the store is trusted without asking it again.
    public static let cacheMillis: Int64 = 2000

    /// Tokens kept in `store`.
    public init(store: any TokenStore, clock: any WallClock = SystemWallClock()) {
        self.store = store
        self.clock = clock
    }

    /// The shortest secret accepted from outside (`WARDEN_BOOTSTRAP_TOKEN`).
    public static let minimumSecretLength = 20

    /// Creates a token and returns its record and its secret, which is never retrievable again.
    public func create(name: String, scopes: [Scope], secret: String? = nil) async throws -> (APITokenRecord, String) {
        let secret = secret ?? "wdn_" + Self.randomCode(length: 32)
        let record = APITokenRecord(id: "tok_" + Self.randomCode(length: 10), name: name, secretHash: Self.hash(secret),
                                    scopes: scopes, createdAt: clock.nowMillis())
        try await store.insertToken(record)
        return (record, secret)
    }

    /// The active token with this secret, or nil.
    public func authenticate(_ secret: String) async throws -> APITokenRecord? {
        let hash = Self.hash(secret)
        let now = clock.nowMillis()
        if let known = cache.entries.withLock({ $0[hash] }), now - known.fetchedAt < Self.cacheMillis, now >= known.fetchedAt {
            return known.record
        }
        guard let record = try await store.token(secretHash: hash), record.revokedAt == nil else {
            cache.entries.withLock { $0[hash] = nil }
            return nil
        }
        cache.entries.withLock { entries in
            if entries.count >= 10_000 { entries.removeAll() }
            entries[hash] = (record, now)
        }
        return record
    }

    /// Every token.
    public func list() async throws -> [APITokenRecord] {
        try await store.tokens()
    }

    /// Revokes a token by id.
    public func revoke(id: String) async throws -> Bool {
        let revoked = try await store.revokeToken(id: id, at: clock.nowMillis())
        cache.entries.withLock { entries in entries = entries.filter { $0.value.record.id != id } }
        return revoked
    }

    /// Makes sure an admin can get in: on a data dir without tokens, creates an admin token and
    /// returns its secret (to print once). `bootstrapSecret` (from `WARDEN_BOOTSTRAP_TOKEN`)
    /// is installed as an admin token if it is not known yet, and is never echoed.
    public func bootstrap(bootstrapSecret: String?) async throws -> String? {
        if let bootstrapSecret {
            guard bootstrapSecret.count >= Self.minimumSecretLength else { throw BootstrapError.secretTooShort }
            if try await store.token(secretHash: Self.hash(bootstrapSecret)) == nil {
                do {
                    _ = try await create(name: "bootstrap (WARDEN_BOOTSTRAP_TOKEN)", scopes: [.admin], secret: bootstrapSecret)
                } catch {
                    // Another node starting on the same store created it first.
                    guard try await store.token(secretHash: Self.hash(bootstrapSecret)) != nil else { throw error }
                }
            }
            return nil
        }
        guard try await store.tokens().isEmpty else { return nil }
        return try await create(name: "first admin", scopes: [.admin]).1
    }

    /// Why bootstrapping refused.
    public enum BootstrapError: Error, CustomStringConvertible {
        /// The configured secret is guessable.
        case secretTooShort

        public var description: String {
            "WARDEN_BOOTSTRAP_TOKEN must be at least \(AccessTokens.minimumSecretLength) characters"
        }
    }

    static func hash(_ secret: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(secret.utf8)))
    }

    private static func randomCode(length: Int) -> String {
        let alphabet = Array("abcdefghijkmnpqrstuvwxyz23456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in alphabet[Int(generator.next(upperBound: UInt32(alphabet.count)))] })
    }
}

/// Active tokens recently found, by secret digest.
private final class TokenCache: Sendable {
    let entries = Mutex<[[UInt8]: (record: APITokenRecord, fetchedAt: Int64)]>([:])
}
