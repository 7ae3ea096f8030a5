import Foundation
import Hummingbird
import HummingbirdTesting
import HTTPTypes
import Testing
import WardenCore
import WardenReview
import WardenEngine
import WardenStore
@testable import WardenHTTP

/// A signed-in person: the session cookie and the CSRF token.
struct SignedIn {
    var cookie: String
    var csrf: String

    var headers: HTTPFields {
        var headers: HTTPFields = [.cookie: cookie, .contentType: "application/json"]
        headers[HTTPField.Name("X-CSRF-Token")!] = csrf
        return headers
    }
}

extension Harness {
    func signIn(_ client: some TestClientProtocol, _ name: String, role: Role, queues: [String] = [], teams: [String] = ["trust", "fraud", "vendor"]) async throws -> SignedIn {
        _ = try await components.users!.add(name: name, role: role, password: "correct horse battery", queues: queues, teams: teams, actor: "test")
        let response = try await client.post("/v1/sessions", token: nil, body: #"{"name":"\#(name)","password":"correct horse battery"}"#)
        #expect(response.status == .created)
        let cookie = try #require(response.headers[.setCookie]).split(separator: ";").first.map(String.init) ?? ""
        return SignedIn(cookie: cookie, csrf: try #require(response.json["csrf_token"] as? String))
    }
}

@Suite struct PermissionsTests {
    static let docPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/permissions.md").path

    /// The documented matrix: "METHOD /path" → role → allowed.
    static func documentedMatrix() throws -> [String: [String: Bool]] {
        let text = try String(contentsOfFile: docPath, encoding: .utf8)
        let lines = text.split(separator: "\n").drop { !$0.hasPrefix("## Routes × roles") }.filter { $0.hasPrefix("|") }
        let header = try #require(lines.first).split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
        let roles = Array(header.dropFirst(2))
        var matrix: [String: [String: Bool]] = [:]
        for line in lines.dropFirst(2) {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            let route = cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            matrix[route] = Dictionary(uniqueKeysWithValues: zip(roles, cells.dropFirst(2).map { $0 == "✓" }))
        }
        return matrix
    }

    /// Every route × every role, called for real with a signed-in session, against the documented matrix.
    @Test func everyRouteAndRoleMatchesTheDocumentedMatrix() async throws {
        let harness = try await Harness.make()
        let routes = WardenApplication.buildRouter(harness.components).1.routes
        let matrix = try Self.documentedMatrix()
        #expect(Set(matrix.keys) == Set(routes.map { "\($0.method) \($0.path)" }), "docs/permissions.md lists exactly the registered routes")
        try await harness.test { client in
            for role in Role.allCases {
                let session = try await harness.signIn(client, "person-\(role.rawValue)", role: role, queues: ["spam"])
                // Signing out last, so the session serves every other route first.
                for route in routes.sorted(by: { ($0.method == "DELETE" ? 1 : 0) < ($1.method == "DELETE" ? 1 : 0) }) {
                    let path = route.path.replacingOccurrences(of: "{type}", with: "user").replacingOccurrences(of: "{id}", with: "999")
                        .replacingOccurrences(of: "{queue}", with: "spam").replacingOccurrences(of: "{reporter}", with: "user:r1")
                        .replacingOccurrences(of: "{task}", with: "1").replacingOccurrences(of: "{name}", with: "signal_spike")
                    let response = try await client.execute(uri: path, method: HTTPRequest.Method(rawValue: route.method)!, headers: session.headers,
                                                            body: ByteBuffer(string: "{}"))
                    let allowed = response.status != .forbidden && response.status != .unauthorized
                    let key = "\(route.method) \(route.path)"
                    #expect(matrix[key]?[role.rawValue] == allowed, "\(key) as \(role.rawValue): answered \(response.status.code)")
                }
            }
        }
    }

    @Test func cookieChangesNeedTheCSRFTokenAndDisabledUsersAreSignedOut() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let lead = try await harness.signIn(client, "lead1", role: .lead)
            let noToken = try await client.execute(uri: "/v1/outbox/redrive", method: .post, headers: [.cookie: lead.cookie, .contentType: "application/json"],
                                                   body: ByteBuffer(string: "{}"))
            #expect(noToken.status == .forbidden)
            #expect(noToken.json["type"] as? String == "urn:warden:problem:csrf")
            #expect(try await client.execute(uri: "/v1/outbox/redrive", method: .post, headers: lead.headers, body: ByteBuffer(string: "{}")).status == .ok)
            let me = try await client.execute(uri: "/v1/me", method: .get, headers: lead.headers)
            #expect(me.json["actor"] as? String == "user:lead1" && me.json["role"] as? String == "lead")
            let wrong = try await client.post("/v1/sessions", token: nil, body: #"{"name":"lead1","password":"nope nope nope"}"#)
            #expect(wrong.status == .unauthorized)
            #expect(try await harness.store.disableUser("lead1", actor: "test", now: 1_795_428_000_000))
            #expect(try await client.execute(uri: "/v1/me", method: .get, headers: lead.headers).status == .unauthorized)
            #expect(try await client.post("/v1/sessions", token: nil, body: #"{"name":"lead1","password":"correct horse battery"}"#).status == .unauthorized)
            // A browser still holding the dead cookie can sign in as someone else.
            _ = try await harness.components.users!.add(name: "lead3", role: .lead, password: "another long password", actor: "test")
            let again = try await client.execute(uri: "/v1/sessions", method: .post, headers: [.cookie: lead.cookie, .contentType: "application/json"],
                                                 body: ByteBuffer(string: #"{"name":"lead3","password":"another long password"}"#))
            #expect(again.status == .created)
        }
    }

    @Test func vendorReviewersSeeOnlyTheirQueuesWithPersonalDataMasked() async throws {
        let harness = try await Harness.make()
        let policy = harness.components.review.policy
        try await harness.store.mergeIntoCases([
            CaseInput(kind: .report, ref: 1, subject: EntityRef(type: "email", id: "jo.doe@example.com"), category: "spam", severity: "low",
                      reporter: "user:r1", at: 1),
            CaseInput(kind: .report, ref: 2, subject: EntityRef(type: "user", id: "scammer"), category: "fraud.scam", severity: "low",
                      reporter: "user:r1", at: 1),
        ], signalsThrough: 0, reportsThrough: 2, policy: policy, now: 1_795_428_000_000)
        try await harness.test { client in
            let vendor = try await harness.signIn(client, "vendor1", role: .vendorReviewer, queues: ["spam"])
            let queues = try await client.execute(uri: "/v1/queues", method: .get, headers: vendor.headers)
            #expect((queues.json["queues"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["spam"])
            #expect(try await client.execute(uri: "/v1/queues/scams/next", method: .post, headers: vendor.headers).status == .forbidden)
            let claimed = try await client.execute(uri: "/v1/queues/spam/next", method: .post, headers: vendor.headers)
            #expect(claimed.json["subject"] as? String == "email:j***@example.com")
            #expect(claimed.json["assignee"] as? String == "user:vendor1")
            let cases = try await client.execute(uri: "/v1/cases", method: .get, headers: vendor.headers)
            #expect((cases.json["cases"] as? [[String: Any]])?.compactMap { $0["queue"] as? String } == ["spam"])
            let other = try #require(try await harness.store.cases(queue: "scams", state: nil, assignee: nil, before: nil, limit: 1).first)
            #expect(try await client.execute(uri: "/v1/cases/\(other.id)", method: .get, headers: vendor.headers).status == .forbidden)
            let id = try #require(claimed.json["id"] as? Int)
            let shown = try await client.execute(uri: "/v1/cases/\(id)", method: .get, headers: vendor.headers)
            #expect(!String(buffer: shown.body).contains("jo.doe@example.com"))
            // A lead sees it unmasked.
            // Queue access: a reviewer outside the scams team cannot work it; a lead can.
            let outsider = try await harness.signIn(client, "outsider", role: .reviewer, teams: ["trust"])
            let refused = try await client.execute(uri: "/v1/queues/scams/next", method: .post, headers: outsider.headers)
            #expect(refused.status == .forbidden)
            #expect((refused.json["detail"] as? String)?.contains("belongs to team fraud") == true)
            let lead = try await harness.signIn(client, "lead2", role: .lead, teams: [])
            let unmasked = try await client.execute(uri: "/v1/cases/\(id)", method: .get, headers: lead.headers)
            #expect(unmasked.json["subject"] as? String == "email:jo.doe@example.com")
        }
    }
}

@Suite struct PersonalDataTests {
    @Test func masksEmailsIPsAndPhones() {
        #expect(PersonalData.mask(entity: "email:jo@example.com") == "email:j***@example.com")
        #expect(PersonalData.mask(entity: "ip:203.0.113.7") == "ip:203.x.x.x")
        #expect(PersonalData.mask(entity: "phone:+44 20 7946 0958") == "phone:**********58")
        #expect(PersonalData.mask(entity: "user:u1") == "user:u1")
        #expect(PersonalData.mask(text: #"{"reporter":"email:a.b@c.org","ip":"198.51.100.4","n":"1.5"}"#)
                == #"{"reporter":"email:a***@c.org","ip":"198.x.x.x","n":"1.5"}"#)
    }
}
