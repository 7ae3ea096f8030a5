import Foundation
import Hummingbird
import WardenCore
import WardenEngine
import WardenStore

/// Sign-in for people: `POST /v1/sessions` sets an HttpOnly, SameSite=Strict session cookie and
/// answers the CSRF token; `DELETE /v1/sessions` ends it; `GET /v1/me` says who is calling.
struct SessionsController {
    let users: UserAccounts?
    let maxBodyBytes: Int

    func addRoutes(to routes: RouteTable) {
        routes.add(.post, "/v1/sessions", scope: nil, login)
        routes.add(.delete, "/v1/sessions", scope: nil, logout)
        routes.add(.get, "/v1/me", scope: nil, me)
    }

    struct Credentials: Decodable {
        var name: String
        var password: String
    }

    @Sendable func login(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        guard let users else { throw Problem(.serviceUnavailable, "no-accounts", title: "No user accounts", detail: "this server only takes API tokens") }
        try EventsController.requireJSON(request, "{\"name\", \"password\"}")
        let body = try await EventsController.collect(request, limit: maxBodyBytes)
        guard let credentials = try? JSONDecoder().decode(Credentials.self, from: Data(buffer: body)) else {
            throw Problem(.unprocessableContent, "invalid-body", title: "Invalid body", detail: "send {\"name\": \"…\", \"password\": \"…\"}")
        }
        guard let (secret, session, user) = try await users.login(name: credentials.name, password: credentials.password) else {
            throw Problem(.unauthorized, "invalid-credentials", title: "Sign-in failed", detail: "the name or password is wrong, or the account is disabled")
        }
        var writer = JSONWriter(capacity: 256)
        writer.beginObject()
        writer.field("user", user.name)
        writer.field("role", user.role.rawValue)
        writer.key("scopes")
        writer.beginArray()
        for scope in user.role.scopes.map(\.rawValue).sorted() { writer.string(scope) }
        writer.endArray()
        if user.role.isLimitedToAssignedQueues {
            writer.key("queues")
            writer.beginArray()
            for queue in user.queues { writer.string(queue) }
            writer.endArray()
        }
        writer.field("csrf_token", session.csrfToken)
        writer.field("expires_at", Timestamp.formatRFC3339(session.expiresAt))
        writer.endObject()
        var response = Response.json(writer.bytes, status: .created)
        let seconds = (session.expiresAt - session.createdAt) / 1000
        response.headers[.setCookie] = "\(Authenticator.cookie)=\(secret); Path=/; HttpOnly; SameSite=Strict; Max-Age=\(seconds)"
        return response
    }

    @Sendable func logout(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        if let users, let secret = request.cookies[Authenticator.cookie]?.value {
            try await users.logout(secret: secret)
        }
        var response = Response(status: .noContent)
        response.headers[.setCookie] = "\(Authenticator.cookie)=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
        return response
    }

    @Sendable func me(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        guard let scopes = context.scopes else { throw Problem.unauthorized("sign in with POST /v1/sessions or send a bearer token") }
        var writer = JSONWriter(capacity: 256)
        writer.beginObject()
        writer.field("actor", context.actor)
        if let user = context.user { writer.field("role", user.role.rawValue) }
        writer.key("scopes")
        writer.beginArray()
        for scope in scopes.map(\.rawValue).sorted() { writer.string(scope) }
        writer.endArray()
        if let queues = context.assignedQueues {
            writer.key("queues")
            writer.beginArray()
            for queue in queues.sorted() { writer.string(queue) }
            writer.endArray()
        }
        writer.endObject()
        return .json(writer.bytes)
    }
}
