public import Hummingbird
import Logging
public import WardenStore

/// Per-request context: Hummingbird's core storage plus the authenticated API token, if any.
public struct WardenRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The token that authenticated this request, set by ``TokenAuthenticator``.
    public var token: APITokenRecord?

    public init(source: Source) {
        coreContext = .init(source: source)
    }
}
