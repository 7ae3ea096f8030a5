import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import WardenCore
import WardenEngine
@testable import WardenHTTP

@Suite struct CalibrationConsoleTests {
    /// Through the console: a lead imports golden items; a reviewer trains for a queue and sees the
    /// key after each answer, is certified, and the lead sees it; the lead opens a calibration session,
    /// two reviewers answer blind, the lead closes it and the agreement report, the discussion and
    /// the CSV appear.
    @Test func trainCertifyAndCalibrateInTheConsole() async throws {
        let harness = try await Harness.make()
        let users = try #require(harness.components.users)
        _ = try await users.add(name: "lee", role: .lead, password: ConsoleTests.password, teams: ["trust"], actor: "test")
        _ = try await users.add(name: "ana", role: .reviewer, password: ConsoleTests.password, teams: ["trust"], actor: "test")
        _ = try await users.add(name: "bo", role: .reviewer, password: ConsoleTests.password, teams: ["trust"], actor: "test")
        try await harness.test { client in
            func post(_ path: String, _ form: String, as session: (cookie: String, csrf: String)) async throws -> TestResponse {
                try await client.execute(uri: path, method: .post, headers: [.cookie: session.cookie, .contentType: "application/x-www-form-urlencoded"],
                                         body: ByteBuffer(string: "_csrf=\(session.csrf)&" + form))
            }
            func page(_ path: String, as session: (cookie: String, csrf: String)) async throws -> (HTTPResponse.Status, String) {
                let response = try await client.execute(uri: path, method: .get, headers: [.cookie: session.cookie])
                return (response.status, String(buffer: response.body))
            }
            let lee = try await ConsoleTests.signIn(client, "lee")
            let ana = try await ConsoleTests.signIn(client, "ana")
            let bo = try await ConsoleTests.signIn(client, "bo")
            let (status, empty) = try await page("/calibration", as: lee)
            #expect(status == .ok && empty.contains("No golden item yet.") && empty.contains("5 golden items, 80% right to pass"))
            #expect(empty.contains(#"href="/calibration""#))  // in the navigation
            #expect(try await post("/calibration/golden", "queue=harassment&text=x&answer=rudeness&explanation=e", as: lee).status == .unprocessableContent)
            #expect(try await post("/calibration/golden", "queue=harassment&text=x&answer=none&explanation=e", as: ana).status == .forbidden)
            for n in 1...5 {
                let answer = n % 2 == 0 ? "none" : "harassment.bullying"
                #expect(try await post("/calibration/golden", "queue=harassment&text=golden+\(n)&answer=\(answer)&explanation=because+\(n)", as: lee).status
                        == .seeOther)
            }
            let (_, anaPage) = try await page("/calibration", as: ana)
            #expect(anaPage.contains("Train for harassment") && anaPage.contains("Not certified") && !anaPage.contains("golden-import") && !anaPage.contains("id=\"certifications\""))
            let started = try await post("/calibration/training", "queue=harassment", as: ana)
            #expect(started.status == .seeOther && started.headers[.location] == "/calibration/sessions/1")
            let (_, run) = try await page("/calibration/sessions/1", as: ana)
            #expect(run.contains("A sandbox") && !run.contains("Key:"))
            #expect(try await page("/calibration/sessions/1", as: bo).0 == .notFound)
            for n in 1...5 {
                // Items come in a drawn order; answer each by its text (golden N: odd is bullying).
                let (_, current) = try await page("/calibration/sessions/1", as: ana)
                let marker = try #require(current.range(of: #"<li id="item-\#(n)">"#))
                let after = current[marker.upperBound...]
                let text = try #require(after.range(of: #"<p class="text">golden "#).map { after[$0.upperBound...].prefix { $0.isNumber } })
                let answer = Int(text)! % 2 == 0 ? "none" : "harassment.bullying"
                let answered = try await post("/calibration/sessions/1/rate", "item=\(n)&answer=\(answer)", as: ana)
                #expect(answered.status == .seeOther)
                let (_, feedback) = try await page("/calibration/sessions/1", as: ana)
                #expect(feedback.contains("Item \(n): right.") && feedback.contains("Key: <strong>\(answer)</strong> — because \(text)"))
            }
            let (_, done) = try await page("/calibration/sessions/1", as: ana)
            #expect(done.contains("5 of 5 right: passed, certified for harassment"))
            let again = try await post("/calibration/sessions/1/rate", "item=1&answer=none", as: ana)
            #expect(again.status == .unprocessableContent && String(buffer: again.body).contains("closed"))
            let (_, certified) = try await page("/calibration", as: lee)
            #expect(certified.contains(#"<th scope="row">user:ana</th><td>harassment</td><td>100%</td>"#))

            // A calibration session over the golden items.
            #expect(try await post("/calibration/sessions", "name=Week+48&raters=ana,bo&golden=1,2,x", as: lee).status == .unprocessableContent)
            let opened = try await post("/calibration/sessions", "name=Week+48&raters=ana,+bo&golden=1,2,3", as: lee)
            #expect(opened.status == .seeOther && opened.headers[.location] == "/calibration/sessions/2")
            for (person, answers) in [(ana, ["harassment.bullying", "none", "harassment.bullying"]), (bo, ["none", "none", "harassment.bullying"])] {
                for (n, answer) in answers.enumerated() {
                    #expect(try await post("/calibration/sessions/2/rate", "item=\(n + 1)&answer=\(answer)", as: person).status == .seeOther)
                }
            }
            let (_, blind) = try await page("/calibration/sessions/2", as: bo)
            #expect(!blind.contains("user:ana: <strong>") && blind.contains("user:bo: <strong>none</strong>") && !blind.contains("Key:"))
            #expect(try await post("/calibration/sessions/2/close", "", as: ana).status == .forbidden)
            #expect(try await post("/calibration/sessions/2/close", "outcome=item+1+is+bullying", as: lee).status == .seeOther)
            let (_, revealed) = try await page("/calibration/sessions/2", as: bo)
            #expect(revealed.contains("user:ana: <strong>harassment.bullying</strong> ✓") && revealed.contains("user:bo: <strong>none</strong> ✗"))
            #expect(revealed.contains(#"id="session-overall""#) && revealed.contains("Krippendorff") && revealed.contains("Items to discuss"))
            #expect(try await post("/calibration/sessions/2/notes", "item=1&text=policy+3.1+needs+a+pattern&article=harassment-basics", as: bo).status == .seeOther)
            let (_, discussed) = try await page("/calibration/sessions/2", as: lee)
            #expect(discussed.contains("policy 3.1 needs a pattern") && discussed.contains(#"article: <a href="/articles/harassment-basics">harassment-basics</a>"#))
            // The note appears once, in the discussion, not beside each answer.
            #expect(discussed.components(separatedBy: "policy 3.1 needs a pattern").count == 2)
            let csv = try await client.execute(uri: "/calibration/sessions/2/ratings.csv", method: .get, headers: [.cookie: lee.cookie])
            let text = String(buffer: csv.body)
            #expect(csv.status == .ok && text.hasPrefix("item,rater,category\r\n1,gold,harassment.bullying\r\n") && text.contains("1,user:bo,none"))

            // Revoking from the console.
            #expect(try await post("/calibration/revoke", "user=user:ana&queue=harassment&reason=QA+accuracy", as: lee).status == .seeOther)
            let (_, revoked) = try await page("/calibration", as: ana)
            #expect(revoked.contains("Revoked on") && revoked.contains("QA accuracy"))
        }
    }
}
