public import WardenCore

/// A stored API token. The secret itself is never stored, only its SHA-256 digest.
public struct APITokenRecord: Sendable, Equatable {
    /// Public identifier, shown in listings and logs.
    public var id: String
    /// What the token is for.
    public var name: String
    /// SHA-256 of the secret.
    public var secretHash: [UInt8]
    /// What the token may do.
    public var scopes: [Scope]
    /// When it was made (ms since the epoch).
    public var createdAt: Int64
    /// When it was revoked, if it was.
    public var revokedAt: Int64?

    /// Creates a record.
    public init(id: String, name: String, secretHash: [UInt8], scopes: [Scope], createdAt: Int64, revokedAt: Int64? = nil) {
        self.id = id
        self.name = name
        self.secretHash = secretHash
        self.scopes = scopes
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}

/// Storage for API tokens.
public protocol TokenStore: Sendable {
    /// Stores a new token.
    func insertToken(_ token: APITokenRecord) async throws
    /// The token whose secret has this digest, revoked or not.
    func token(secretHash: [UInt8]) async throws -> APITokenRecord?
    /// Every token, oldest first.
    func tokens() async throws -> [APITokenRecord]
    /// Revokes a token; false if there is no such active token.
    func revokeToken(id: String, at: Int64) async throws -> Bool
}
