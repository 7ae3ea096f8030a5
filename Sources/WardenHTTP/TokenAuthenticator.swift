import Hummingbird
import WardenEngine

/// Resolves `Authorization: Bearer <secret>` into the request's token. It never refuses a
/// request itself: each route states the scope it needs (``RouteTable``), so public routes stay public.
struct TokenAuthenticator: RouterMiddleware {
    typealias Context = WardenRequestContext
    let tokens: AccessTokens

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
