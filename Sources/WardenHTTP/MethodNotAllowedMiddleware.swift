import Hummingbird

/// A route's path template, segment by segment; `{name}` matches any one segment.
struct PathTemplate: Sendable {
    let segments: [Substring?]

    init(_ path: String) {
        segments = path.split(separator: "/").map { $0.hasPrefix("{") ? nil : $0 }
    }

    /// Literal segments: of two templates matching a path (`/v1/bulk/preview`, `/v1/bulk/{id}`),
    /// the router takes the one with more.
    var literals: Int { segments.count { $0 != nil } }

    func matches(_ path: String) -> Bool {
        let parts = path.split(separator: "/")
        return parts.count == segments.count && zip(parts, segments).allSatisfy { part, segment in segment.map { $0 == part } ?? true }
    }
}

/// Turns the router's 404 into 405 when the path exists under other methods.
struct MethodNotAllowedMiddleware: RouterMiddleware {
    typealias Context = WardenRequestContext
    let templates: [(PathTemplate, [String])]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let matching = templates.filter { $0.0.matches(request.uri.path) }
            guard let allowed = matching.max(by: { $0.0.literals < $1.0.literals })?.1 else { throw error }
            let allow = allowed.joined(separator: ", ")
            var problem = Problem(.methodNotAllowed, "method-not-allowed", title: "Method not allowed",
                                  detail: "\(request.uri.path) takes \(allow), not \(request.method.rawValue)")
            problem.headers[.allow] = allow
            throw problem
        }
    }
}
