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

    struct Credentials: RequestBody {
        var name: String
        var password: String
        enum CodingKeys: String, CodingKey, CaseIterable { case name, password }

        func validate() throws(Problem) {
            try Bounds.text(name, "name", max: 100)
            try Bounds.text(password, "password", max: 1000)
        }
    }

    @Sendable func login(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        guard let users else { throw Problem(.serviceUnavailable, "no-accounts", title: "No user accounts", detail: "this server only takes API tokens") }
        let credentials = try await RequestInput(request: request, limit: maxBodyBytes).body(Credentials.self)
        let signedIn: (secret: String, session: SessionRecord, user: UserRecord)
        do {
            signedIn = try await users.login(name: credentials.name, password: credentials.password, address: context.remoteAddress)
        } catch let refusal as UserAccounts.Refusal {
            throw Problem(refusal)
        }
        let (secret, session, user) = signedIn
        let answer = SessionResponse(user: user.name, role: user.role, scopes: user.role.scopes.map(\.rawValue).sorted(),
                                     queues: user.role.isLimitedToAssignedQueues ? user.queues : nil, csrfToken: session.csrfToken,
                                     expiresAt: Timestamp.formatRFC3339(session.expiresAt))
        var response = try answer.response(from: request, context: context)
        response.status = .created
        let seconds = (session.expiresAt - session.createdAt) / 1000
        response.headers[.setCookie] = Authenticator.sessionCookie(secret, maxAge: seconds)
        return response
    }

    @Sendable func logout(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        if let users, let secret = request.cookies[Authenticator.cookie]?.value {
            try await users.logout(secret: secret)
        }
        var response = Response(status: .noContent)
        response.headers[.setCookie] = Authenticator.sessionCookie("", maxAge: 0)
        return response
    }

    @Sendable func me(_ request: Request, _ context: WardenRequestContext) async throws -> CallerResponse {
        guard let scopes = context.scopes else { throw Problem.unauthorized("sign in with POST /v1/sessions or send a bearer token") }
        return CallerResponse(actor: context.actor.description, role: context.user?.role, scopes: scopes.map(\.rawValue).sorted(), queues: context.assignedQueues?.sorted())
    }
}

extension Problem {
    /// A refused sign-in: 401 for a wrong name or password, 429 with `Retry-After` while locked out.
    init(_ refusal: UserAccounts.Refusal) {
        switch refusal {
        case .invalid:
            self.init(.unauthorized, "invalid-credentials", title: "Sign-in failed", detail: "the name or password is wrong, or the account is disabled")
        case .lockedOut(let until, let retryAfter):
            self.init(.tooManyRequests, "sign-in-locked", title: "Too many failed sign-ins",
                      detail: "too many failed sign-ins for this account or from this address; try again after \(Timestamp.formatRFC3339(until))")
            headers[.retryAfter] = String(retryAfter)
        }
    }
}
