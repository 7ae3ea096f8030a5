import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import WardenCore
import WardenEngine
import WardenReview
@testable import WardenHTTP

@Suite struct QAConsoleTests {
    /// Through the console: a lead draws an audit, a QA reviewer re-reviews blind (the page shows the
    /// content and no decision) and disagrees, the reviewer who decided disputes on the QA page, the
    /// lead rules, and the audit's page and the CSV show the accuracy.
    @Test func drawReviewDisputeAndRuleInTheConsole() async throws {
        let harness = try await Harness.make()
        let users = try #require(harness.components.users)
        _ = try await users.add(name: "lee", role: .lead, password: ConsoleTests.password, teams: ["trust"], actor: "test")
        _ = try await users.add(name: "qa", role: .reviewer, password: ConsoleTests.password, teams: ["trust"], actor: "test")
        _ = try await users.add(name: "vic", role: .reviewer, password: ConsoleTests.password, teams: ["vendor-a"], actor: "test")
        let review = harness.components.review
        try await harness.test { client in
            #expect(try await client.post("/v1/events", token: harness.writer, body: scamMessage("m1", actor: "s1")).status == .ok)
            try await harness.buildCases()
            let claimed = try #require(try await review.claimNext(queue: "scams", reviewer: "user:vic"))
            _ = try await review.decide(caseID: claimed.id, DecisionDraft(category: "fraud.scam", violation: true, actions: [], policy: "scams-v2"),
                                        actor: "user:vic")
            func post(_ path: String, _ form: String, as session: (cookie: String, csrf: String)) async throws -> TestResponse {
                try await client.execute(uri: path, method: .post, headers: [.cookie: session.cookie, .contentType: "application/x-www-form-urlencoded"],
                                         body: ByteBuffer(string: "_csrf=\(session.csrf)&" + form))
            }
            func page(_ path: String, as session: (cookie: String, csrf: String)) async throws -> (HTTPResponse.Status, String) {
                let response = try await client.execute(uri: path, method: .get, headers: [.cookie: session.cookie])
                return (response.status, String(buffer: response.body))
            }
            let lead = try await ConsoleTests.signIn(client, "lee")
            let (status, qaPage) = try await page("/qa", as: lead)
            #expect(status == .ok && qaPage.contains("Draw an audit") && qaPage.contains("No audit yet."))
            #expect(qaPage.contains(#"<form method="post" action="/qa/audits" id="qa-draw" class="stack"><input type="hidden" name="_csrf" value="\#(lead.csrf)">"#))
            #expect(try await post("/qa/audits", "name=Vendor+ramp&days=7&sizing=size&amount=abc", as: lead).status == .unprocessableContent)
            let drawn = try await post("/qa/audits", "name=Vendor+ramp&days=7&team=vendor-a&sizing=size&amount=10&stratify_by=reviewer", as: lead)
            #expect(drawn.status == .seeOther && drawn.headers[.location] == "/qa/audits/1")
            let (_, auditPage) = try await page("/qa/audits/1", as: lead)
            #expect(auditPage.contains("Vendor ramp") && auditPage.contains("1 drawn of 1") && auditPage.contains("hidden until the verdict"))

            let qa = try await ConsoleTests.signIn(client, "qa")
            let (_, queuePage) = try await page("/qa", as: qa)
            #expect(queuePage.contains(#"<p id="qa-waiting">1 sampled decisions"#) && !queuePage.contains("Draw an audit"))
            let next = try await post("/qa/next", "", as: qa)
            #expect(next.status == .seeOther && next.headers[.location] == "/qa/items/1")
            let (_, itemPage) = try await page("/qa/items/1", as: qa)
            #expect(itemPage.contains("Blind re-review") && itemPage.contains("Congratulations, you won a gift card"))
            #expect(!itemPage.contains("user:vic") && !itemPage.contains("qa-comparison"))
            let bare = try await post("/qa/items/1/verdict", "violation=no", as: qa)
            #expect(bare.status == .unprocessableContent && String(buffer: bare.body).contains("name at least one error type"))
            let judged = try await post("/qa/items/1/verdict", "violation=no&error=false_positive&notes=a+real+promotion", as: qa)
            #expect(judged.status == .seeOther)
            let (_, revealed) = try await page("/qa/items/1", as: qa)
            #expect(revealed.contains("violation: fraud.scam by user:vic") && revealed.contains("The QA verdict differs"))

            let vic = try await ConsoleTests.signIn(client, "vic")
            let (_, findings) = try await page("/qa", as: vic)
            #expect(findings.contains("Findings on your decisions") && findings.contains(#"action="/qa/items/1/dispute""#))
            #expect(try await post("/qa/items/1/dispute", "reason=the+gift+card+text+is+the+scam+pattern", as: vic).status == .seeOther)
            #expect(try await post("/qa/items/1/ruling", "stands=original", as: vic).status == .forbidden)

            let (_, disputes) = try await page("/qa", as: lead)
            #expect(disputes.contains("the gift card text is the scam pattern"))
            #expect(try await post("/qa/items/1/ruling", "stands=original&notes=policy+4.2", as: lead).status == .seeOther)
            let (_, ruled) = try await page("/qa/audits/1", as: lead)
            #expect(ruled.contains("1 of 1 re-reviewed decisions were right: 100.0%"))
            #expect(ruled.contains(#"<th scope="row">vendor-a</th>"#))
            let csv = try await client.execute(uri: "/qa/accuracy.csv", method: .get, headers: [.cookie: lead.cookie])
            #expect(csv.status == .ok && String(buffer: csv.body).contains("reviewer,user:vic,1,1,1.0000,"))
            #expect(try await client.execute(uri: "/qa/accuracy.csv", method: .get, headers: [.cookie: qa.cookie]).status == .forbidden)
        }
    }
}
