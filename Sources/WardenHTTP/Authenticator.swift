import Hummingbird
import WardenEngine

/// Resolves who is calling: `Authorization: Bearer <secret>` (an API token) or, on API paths, the
/// `warden_session` cookie (a person; the console's pages have ``ConsoleMiddleware``). It never
/// refuses a request for lacking credentials: each
/// route states the scope it needs (``RouteTable``), so public routes stay public. A request
/// authenticated by cookie that changes something must echo the session's CSRF token in
/// `X-CSRF-Token`, so another site cannot make a signed-in browser act.
struct Authenticator: RouterMiddleware {
    typealias Context = WardenRequestContext
    let tokens: AccessTokens
    let users: UserAccounts?

    static let cookie = "warden_session"

    /// The session cookie: HttpOnly (no script reads it), SameSite=Strict (no other site sends it),
    /// Secure (browsers keep it over HTTPS, and over plain HTTP only to loopback addresses).
    static func sessionCookie(_ secret: String, maxAge: Int64) -> String {
        "\(cookie)=\(secret); Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=\(maxAge)"
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else {
                throw Problem.unauthorized("the Authorization header must be \"Bearer <token>\"")
            }
            guard let token = try await tokens.authenticate(String(parts[1]).trimmingCharacters(in: .whitespaces)) else {
                throw Problem.unauthorized("the bearer token is unknown or revoked")
            }
            context.token = token
        } else if let users, request.uri.path.hasPrefix("/v1/"), request.uri.path != "/v1/sessions", let secret = request.cookies[Self.cookie]?.value {
            // Signing in and out work whatever cookie the browser still holds.
            guard let (session, user) = try await users.session(secret: secret) else {
                throw Problem.unauthorized("the session has expired or was ended; sign in again with POST /v1/sessions")
            }
            if ![.get, .head, .options].contains(request.method) {
                guard request.headers.first(where: { $0.name.canonicalName == "x-csrf-token" })?.value == session.csrfToken else {
                    throw Problem(.forbidden, "csrf", title: "Missing CSRF token",
                                  detail: "requests signed in by cookie that change something must send the session's csrf_token in X-CSRF-Token")
                }
            }
            context.user = user
            context.session = session
        }
        return try await next(request, context)
    }
}

extension Problem {
    static func unauthorized(_ detail: String) -> Problem {
        var problem = Problem(.unauthorized, "unauthorized", title: "Authentication required", detail: detail)
        problem.headers[.wwwAuthenticate] = "Bearer realm=\"warden\""
        return problem
    }
}
