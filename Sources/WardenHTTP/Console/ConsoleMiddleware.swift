import Foundation
import HTTPTypes
import Hummingbird
import Logging
import WardenEngine

/// Wraps every console page: resolves the session cookie into the person (ending idle sessions),
/// sends people who are not signed in to the sign-in page, turns refusals into HTML pages with
/// their status, and adds the security headers (a Content-Security-Policy with no inline script,
/// no framing, no caching of pages).
struct ConsoleMiddleware: RouterMiddleware {
    typealias Context = WardenRequestContext
    let users: UserAccounts?

    static let securityHeaders: [(HTTPField.Name, String)] = [
        (HTTPField.Name("Content-Security-Policy")!, "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
        (HTTPField.Name("X-Frame-Options")!, "DENY"),
        (HTTPField.Name("X-Content-Type-Options")!, "nosniff"),
        (HTTPField.Name("Referrer-Policy")!, "same-origin"),
    ]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let users, let secret = request.cookies[Authenticator.cookie]?.value, !secret.isEmpty,
           let (session, user) = try await users.session(secret: secret) {
            context.user = user
            context.session = session
        }
        var response: Response
        do {
            response = try await next(request, context)
        } catch is ConsoleSignInRequired {
            let target = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
            let next = request.method == .get ? target : "/"
            response = Response(status: .seeOther, headers: [.location: "/login?next=" + ConsolePage.queryEscape(next)])
        } catch let problem as Problem {
            response = ConsolePage.error(status: problem.status, title: problem.title, detail: problem.detail, context: context)
            for field in problem.headers where field.name == .retryAfter { response.headers.append(field) }
        } catch let refusal as ConsoleRefusal {
            response = ConsolePage.error(status: .unprocessableContent, title: "Not done", detail: refusal.message, context: context)
        } catch let error as any HTTPResponseError {
            response = ConsolePage.error(status: error.status, title: "Not done", detail: "\(error)", context: context)
        }
        for (name, value) in Self.securityHeaders { response.headers[name] = value }
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }
}

/// Thrown by a page that needs a signed-in person when nobody is.
struct ConsoleSignInRequired: Error {}
