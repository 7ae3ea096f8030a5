import Hummingbird
public import WardenCore

/// A route as the API documents it: method, path template and the scope it requires.
public struct DocumentedRoute: Sendable, Hashable {
    /// HTTP method, upper case.
    public var method: String
    /// Path template with `{name}` parameters.
    public var path: String
    /// The scope a token needs, or nil for public routes.
    public var scope: Scope?
}

/// The one place routes are registered: it adds each to the router behind its scope check and
/// remembers it, so tests can hold the OpenAPI document and the permission table against the
/// routes that really exist.
public final class RouteTable {
    let router: Router<WardenRequestContext>
    /// Every registered route, in registration order.
    public private(set) var routes: [DocumentedRoute] = []

    init(router: Router<WardenRequestContext>) {
        self.router = router
    }

    /// Adds a route whose handler answers with a typed response (encoded by the context's
    /// encoder) or a ``Response``; `status` replaces the success status (201 for creations).
    func add<Output: ResponseGenerator>(
        _ method: HTTPRequest.Method, _ path: String, scope: Scope?, status: HTTPResponse.Status? = nil,
        _ handler: @escaping @Sendable (Request, WardenRequestContext) async throws -> Output
    ) {
        routes.append(DocumentedRoute(method: method.rawValue, path: path, scope: scope))
        router.on(RouterPath(path), method: method) { request, context -> Response in
            if let scope {
                guard let granted = context.scopes else {
                    throw Problem.unauthorized("this route needs a bearer token with the \(scope.rawValue) scope, or a signed-in session whose role has it")
                }
                guard scope.isSatisfied(by: granted) else {
                    let who = context.user.map { "user \($0.name) (role \($0.role.rawValue))" } ?? "token \(context.token?.id ?? "")"
                    throw Problem(.forbidden, "forbidden", title: "Not allowed",
                                  detail: "this route needs the \(scope.rawValue) scope; \(who) has \(granted.map(\.rawValue).sorted().joined(separator: ", "))")
                }
            }
            var response = try await handler(request, context).response(from: request, context: context)
            if let status { response.status = status }
            return response
        }
    }

    /// Answers a request for a path the API has, with a method it does not take, with 405 and an
    /// `Allow` header (instead of the router's 404). Added once every route is: it sees only what
    /// no route matched.
    func refuseOtherMethods() {
        var methods: [String: [String]] = [:]
        for route in routes {
            methods[route.path, default: []].append(route.method)
            if route.method == "GET" { methods[route.path, default: []].append("HEAD") }
        }
        router.add(middleware: MethodNotAllowedMiddleware(templates: methods.map { (PathTemplate($0.key), $0.value) }))
    }
}
