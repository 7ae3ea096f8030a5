public import Foundation
public import Hummingbird
import Logging
public import WardenCore

public import WardenStore

/// Per-request context: Hummingbird's core storage plus who is calling: an API token, or a person
/// signed in with a session cookie.
public struct WardenRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The token that authenticated this request, set by ``Authenticator``.
    public var token: APITokenRecord?
    /// The person whose session cookie authenticated this request.
    public var user: UserRecord?
    /// The session that signed the person in (cookie), with its CSRF token.
    public var session: SessionRecord?

    /// The peer's IP address (for throttling sign-in attempts), when the channel has one.
    public var remoteAddress: String?

    public init(source: Source) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress?.ipAddress
    }

    /// What the caller may do (nil when anonymous).
    public var scopes: Set<Scope>? {
        if let token { return Set(token.scopes) }
        if let user { return user.role.scopes }
        return nil
    }

    /// Who the caller is, as the timeline and audit log name them. Routes that record an actor
    /// need a scope, so an anonymous caller never reaches them; `system:anonymous` is never stored.
    public var actor: ActorRef {
        if let user { return ActorRef(.user, user.name) }
        if let token { return ActorRef(.token, token.id) }
        return .system("anonymous")
    }

    /// The queues the caller is limited to (vendor reviewers), or nil for no limit.
    public var assignedQueues: Set<String>? {
        guard let user, user.role.isLimitedToAssignedQueues else { return nil }
        return Set(user.queues)
    }

    /// How typed responses are written: snake_case members, keys sorted (stable output), slashes as
    /// they are. One encoder for every request (configured once; encoding does not change it).
    public var responseEncoder: JSONEncoder { Self.encoder }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// Whether personal data must be masked for the caller.
    public var masksPersonalData: Bool { user?.role.seesMaskedPersonalData ?? false }
}
