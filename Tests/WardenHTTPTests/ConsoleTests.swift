import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import WardenCore
import WardenEngine
@testable import WardenHTTP

/// The console's rules seen from outside, without a browser (scripts/console_test.py drives Chromium):
/// sign-in needs the form's token, pages carry the security headers, changes need the session's
/// token, roles and queue access hold, and a lock-out answers 429 with Retry-After on the API.
@Suite struct ConsoleTests {
    static let password = "correct horse battery"

    /// Signs `name` in through the sign-in page; returns the session cookie and the page's CSRF token.
    static func signIn(_ client: any TestClientProtocol, _ name: String) async throws -> (cookie: String, csrf: String) {
        let page = try await client.execute(uri: "/login", method: .get)
        let loginCookie = try #require(page.headers[.setCookie]?.split(separator: ";").first.map(String.init))
        let token = String(loginCookie.dropFirst("warden_login=".count))
        let form = "_csrf=\(token)&name=\(name)&password=\(password.replacingOccurrences(of: " ", with: "+"))&next=%2F"
        let answer = try await client.execute(uri: "/login", method: .post, headers: [.cookie: loginCookie, .contentType: "application/x-www-form-urlencoded"],
                                              body: ByteBuffer(string: form))
        #expect(answer.status == .seeOther && answer.headers[.location] == "/")
        let cookies = answer.headers[values: .setCookie]
        let session = try #require(cookies.first { $0.hasPrefix("warden_session=") })
        #expect(session.contains("HttpOnly") && session.contains("Secure") && session.contains("SameSite=Strict"))
        let cookie = String(session.split(separator: ";")[0])
        let home = try await client.execute(uri: "/", method: .get, headers: [.cookie: cookie])
        let html = String(buffer: home.body)
        let csrf = try #require(html.range(of: #"data-csrf="([0-9a-f]+)""#, options: .regularExpression).map { String(html[$0].dropFirst(11).dropLast()) })
        return (cookie, csrf)
    }

    @Test func pagesNeedASessionAndCarryTheSecurityHeaders() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let home = try await client.execute(uri: "/queues", method: .get)
            #expect(home.status == .seeOther && home.headers[.location] == "/login?next=/queues")
            let login = try await client.execute(uri: "/login", method: .get)
            let policy = login.headers[HTTPField.Name("Content-Security-Policy")!] ?? ""
            #expect(policy.contains("script-src 'self'") && !policy.contains("unsafe-inline") && policy.contains("frame-ancestors 'none'"))
            #expect(login.headers[HTTPField.Name("X-Frame-Options")!] == "DENY" && login.headers[.cacheControl] == "no-store")
            // Signing in without the form's token (another site's form) is refused.
            let forged = try await client.execute(uri: "/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                                                  body: ByteBuffer(string: "name=x&password=y"))
            #expect(forged.status == .forbidden)
        }
    }

    @Test func changesNeedTheSessionsTokenAndTheRole() async throws {
        let harness = try await Harness.make()
        let users = try #require(harness.components.users)
        _ = try await users.add(name: "rev", role: .reviewer, password: Self.password, teams: ["trust"], actor: "test")
        _ = try await users.add(name: "aud", role: .auditor, password: Self.password, actor: "test")
        _ = try await users.add(name: "ven", role: .vendorReviewer, password: Self.password, queues: ["spam"], teams: ["vendor"], actor: "test")
        try await harness.test { client in
            let reviewer = try await Self.signIn(client, "rev")
            let form: HTTPFields = [.cookie: reviewer.cookie, .contentType: "application/x-www-form-urlencoded"]
            let noToken = try await client.execute(uri: "/queues/spam/next", method: .post, headers: form, body: ByteBuffer(string: ""))
            #expect(noToken.status == .forbidden && String(buffer: noToken.body).contains("security token"))
            let wrongToken = try await client.execute(uri: "/queues/spam/next", method: .post, headers: form, body: ByteBuffer(string: "_csrf=00"))
            #expect(wrongToken.status == .forbidden)
            let claim = try await client.execute(uri: "/queues/spam/next", method: .post, headers: form, body: ByteBuffer(string: "_csrf=\(reviewer.csrf)"))
            #expect(claim.status == .seeOther && claim.headers[.location] == "/", "an empty queue sends the reviewer home")

            let auditor = try await Self.signIn(client, "aud")
            let auditorClaim = try await client.execute(uri: "/queues/spam/next", method: .post,
                                                        headers: [.cookie: auditor.cookie, .contentType: "application/x-www-form-urlencoded"],
                                                        body: ByteBuffer(string: "_csrf=\(auditor.csrf)"))
            #expect(auditorClaim.status == .forbidden)
            #expect(try await client.execute(uri: "/audit", method: .get, headers: [.cookie: auditor.cookie]).status == .ok)
            #expect(try await client.execute(uri: "/audit", method: .get, headers: [.cookie: reviewer.cookie]).status == .forbidden)

            let vendor = try await Self.signIn(client, "ven")
            #expect(try await client.execute(uri: "/queues/spam", method: .get, headers: [.cookie: vendor.cookie]).status == .ok)
            #expect(try await client.execute(uri: "/queues/harassment", method: .get, headers: [.cookie: vendor.cookie]).status == .forbidden)

            // Signing out ends the session: its cookie no longer opens a page.
            let out = try await client.execute(uri: "/logout", method: .post, headers: [.cookie: reviewer.cookie, .contentType: "application/x-www-form-urlencoded"],
                                               body: ByteBuffer(string: "_csrf=\(reviewer.csrf)"))
            #expect(out.status == .seeOther)
            #expect(try await client.execute(uri: "/", method: .get, headers: [.cookie: reviewer.cookie]).status == .seeOther)
        }
    }

    @Test func lockOutsAnswer429WithRetryAfter() async throws {
        let harness = try await Harness.make()
        let users = try #require(harness.components.users)
        _ = try await users.add(name: "ana", role: .reviewer, password: Self.password, actor: "test")
        try await harness.test { client in
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<6 {
                statuses.append(try await client.post("/v1/sessions", token: nil, body: #"{"name":"ana","password":"wrong password"}"#).status)
            }
            #expect(statuses == [.unauthorized, .unauthorized, .unauthorized, .unauthorized, .tooManyRequests, .tooManyRequests])
            let locked = try await client.post("/v1/sessions", token: nil, body: #"{"name":"ana","password":"\#(Self.password)"}"#)
            #expect(locked.status == .tooManyRequests && locked.headers[.retryAfter] == "900", "15 minutes, on the server's clock")
        }
        #expect(try await harness.store.auditEntries(after: 0, limit: 100).contains { $0.action == "sign_in.locked" && $0.target == "user:ana" })
    }
}
