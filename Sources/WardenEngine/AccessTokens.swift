import Crypto
public import WardenCore
public import WardenStore

/// API tokens for machine clients: minted here, stored as SHA-256 digests, checked per request.
/// Secrets are 160 random bits, so a fast hash is the right tool (no password stretching needed).
public struct AccessTokens: Sendable {
    private let store: any TokenStore
    private let clock: any WallClock

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
        guard let record = try await store.token(secretHash: Self.hash(secret)), record.revokedAt == nil else { return nil }
        return record
    }

    /// Every token.
    public func list() async throws -> [APITokenRecord] {
        try await store.tokens()
    }

    /// Revokes a token by id.
    public func revoke(id: String) async throws -> Bool {
        try await store.revokeToken(id: id, at: clock.nowMillis())
    }

    /// Makes sure an admin can get in: on a data dir without tokens, creates an admin token and
    /// returns its secret (to print once). `bootstrapSecret` (from `WARDEN_BOOTSTRAP_TOKEN`)
    /// is installed as an admin token if it is not known yet, and is never echoed.
    public func bootstrap(bootstrapSecret: String?) async throws -> String? {
        if let bootstrapSecret {
            guard bootstrapSecret.count >= Self.minimumSecretLength else { throw BootstrapError.secretTooShort }
            if try await store.token(secretHash: Self.hash(bootstrapSecret)) == nil {
                _ = try await create(name: "bootstrap (WARDEN_BOOTSTRAP_TOKEN)", scopes: [.admin], secret: bootstrapSecret)
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
