import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import WardenCore
import WardenEngine
@testable import WardenHTTP

/// The console's query page without a browser: an analyst runs a query and sees the table and its
/// chart, saves it with a parameter and runs it again from the list; a refusal is shown with the
/// query kept; reviewers and vendor reviewers cannot open the page; an auditor runs but cannot save.
@Suite struct QueryConsoleTests {
    @Test
    func analystsQueryAndSaveReviewersCannot() async throws {
        let harness = try await Harness.make()
        let users = try #require(harness.components.users)
        _ = try await users.add(name: "ann", role: .analyst, password: ConsoleTests.password, actor: "test")
        _ = try await users.add(name: "aud", role: .auditor, password: ConsoleTests.password, actor: "test")
        _ = try await users.add(name: "rev", role: .reviewer, password: ConsoleTests.password, teams: ["trust"], actor: "test")
        _ = try await users.add(name: "ven", role: .vendorReviewer, password: ConsoleTests.password, queues: ["spam"], teams: ["vendor"], actor: "test")
        try await harness.test { client in
            let lines = (1...4).map { eventJSON("c\($0)", text: "hello \($0)", actor: "u\($0 % 2)") }
            _ = try await client.post("/v1/events", token: harness.writer, contentType: "application/x-ndjson", body: lines.joined(separator: "\n"))
            func post(_ form: String, as session: (cookie: String, csrf: String)) async throws -> TestResponse {
                try await client.execute(uri: "/query", method: .post, headers: [.cookie: session.cookie, .contentType: "application/x-www-form-urlencoded"],
                                         body: ByteBuffer(string: "_csrf=\(session.csrf)&" + form))
            }
            func encoded(_ text: String) -> String { text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text }

            let analyst = try await ConsoleTests.signIn(client, "ann")
            let page = try await client.execute(uri: "/query", method: .get, headers: [.cookie: analyst.cookie])
            #expect(page.status == .ok && String(buffer: page.body).contains(#"<dt><code>mentions</code></dt>"#))
            let ran = try await post("action=run&sql=" + encoded("SELECT hour(received_at) AS hour, actor, count(*) AS n FROM events GROUP BY 1, 2 ORDER BY 2"), as: analyst)
            let html = String(buffer: ran.body)
            #expect(ran.status == .ok)
            #expect(html.contains("<th scope=\"col\">actor</th>") && html.contains("<td>user:u0</td>") && html.contains("2 rows in"))
            let refused = try await post("action=run&sql=" + encoded("SELECT * FROM api_token"), as: analyst)
            let refusal = String(buffer: refused.body)
            #expect(refused.status == .unprocessableContent && refusal.contains("a query reads only the investigation views"))
            #expect(refusal.contains("SELECT * FROM api_token</textarea>"))

            let saved = try await post("action=save&name=by-actor&description=Events+of+one+account&sql=" + encoded("SELECT seq FROM events WHERE actor = :actor"), as: analyst)
            #expect(saved.status == .seeOther && saved.headers[.location] == "/query?saved=by-actor")
            let reopened = String(buffer: try await client.execute(uri: "/query?saved=by-actor", method: .get, headers: [.cookie: analyst.cookie]).body)
            #expect(reopened.contains(#"name="param.actor""#) && reopened.contains("Events of one account"))
            let csv = try await post("action=csv&saved=by-actor&param.actor=user%3Au1&sql=" + encoded("SELECT seq FROM events WHERE actor = :actor"), as: analyst)
            #expect(csv.headers[.contentType] == "text/csv; charset=utf-8" && String(buffer: csv.body) == "seq\r\n1\r\n3\r\n")
            let runs = try await harness.store.auditEntries(after: 0, limit: 100).filter { $0.action == "query.run" }
            #expect(runs.count == 3 && runs.last?.target == "query:by-actor")

            let auditor = try await ConsoleTests.signIn(client, "aud")
            #expect(try await post("action=run&sql=SELECT+1", as: auditor).status == .ok)
            #expect(try await post("action=save&name=mine&sql=SELECT+1", as: auditor).status == .forbidden)
            for name in ["rev", "ven"] {
                let session = try await ConsoleTests.signIn(client, name)
                #expect(try await client.execute(uri: "/query", method: .get, headers: [.cookie: session.cookie]).status == .forbidden)
                #expect(try await post("action=run&sql=SELECT+1", as: session).status == .forbidden)
            }
        }
    }
}
