import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import WardenCore
import WardenEngine
import WardenReview
@testable import WardenHTTP

@Suite struct QualityAPITests {
    /// Decisions, an overturned appeal and an escalation made through the review service show up in
    /// `GET /v1/quality/health` per reviewer, queue and policy; the route needs `quality:read`.
    @Test func theHealthReportCountsWhatReviewersDid() async throws {
        let harness = try await Harness.make()
        let review = harness.components.review
        let lead = try await harness.token("lead", [.qualityRead])
        let reviewer = try await harness.token("reviewer", [.casesRead, .casesReview])
        try await harness.test { client in
            for (index, actor) in ["s1", "s2", "s3", "s4"].enumerated() {
                #expect(try await client.post("/v1/events", token: harness.writer, body: scamMessage("m\(index)", actor: actor)).status == .ok)
            }
            try await harness.buildCases()
            var decided: [Int64] = []
            for violation in [true, true, false] {
                let claimed = try #require(try await review.claimNext(queue: "scams", reviewer: "token:r"))
                _ = try await review.decide(caseID: claimed.id, DecisionDraft(category: "fraud.scam", violation: violation,
                                                                            actions: violation ? [] : [RequestedAction(name: "no_action", duration: nil)],
                                                                            policy: "scams-v2"), actor: "token:r")
                decided.append(claimed.id)
            }
            // The fourth is escalated by r and decided (a violation) by the next tier.
            let fourth = try #require(try await review.claimNext(queue: "scams", reviewer: "token:r"))
            _ = try await review.change(caseID: fourth.id, .escalate(queue: "urgent", reason: "organised ring"), actor: "token:r")
            let escalated = try #require(try await review.claimNext(queue: "urgent", reviewer: "token:t2"))
            #expect(escalated.id == fourth.id)
            _ = try await review.decide(caseID: fourth.id, DecisionDraft(category: "fraud.scam", violation: true, actions: [], policy: "scams-v2", rationale: "a ring of accounts"),
                                        actor: "token:t2")
            // The second decision is overturned on appeal.
            _ = try await review.openAppeal(caseID: decided[1], appellant: EntityRef(type: "user", id: "s2"), statement: nil, actor: "token:product")
            let appeal = try #require(try await review.claimNext(queue: "appeals", reviewer: "token:other"))
            _ = try await review.decide(caseID: appeal.id, DecisionDraft(category: "fraud.scam", violation: false, actions: [], rationale: "genuine",
                                                                       appealOutcome: .overturned), actor: "token:other")

            let response = try await client.get("/v1/quality/health?days=7", token: lead.secret)
            #expect(response.status == .ok)
            let body = response.json
            #expect(body["days"] as? Int == 7)
            let overall = try #require(body["overall"] as? [String: Any])
            #expect(overall["decisions"] as? Int == 4)  // review cases only: the appeal's own decision is not counted
            let rows = try #require(body["by_reviewer"] as? [[String: Any]])
            let r = try #require(rows.first { $0["group"] as? String == "token:r" })
            #expect(r["decisions"] as? Int == 3)
            let overturned = try #require(r["overturned"] as? [String: Any])
            #expect(overturned["count"] as? Int == 1 && overturned["of"] as? Int == 1 && overturned["value"] as? Double == 1)
            let violations = try #require(r["violations"] as? [String: Any])
            #expect(violations["count"] as? Int == 2 && violations["of"] as? Int == 3)
            let escalations = try #require(body["escalations"] as? [[String: Any]])
            #expect(escalations.count == 1 && escalations[0]["escalator"] as? String == "token:r")
            #expect((escalations[0]["agreed"] as? [String: Any])?["count"] as? Int == 1)
            let queues = try #require(body["by_queue"] as? [[String: Any]]).compactMap { $0["group"] as? String }
            #expect(Set(queues) == ["scams", "urgent"])
            #expect(try #require(body["weeks"] as? [[String: Any]]).count >= 1)
            // Every case is decided: the pack's queues are listed with an empty backlog.
            let backlog = try #require(body["backlog"] as? [[String: Any]])
            #expect(backlog.count == harness.components.packs.pack.review.configuration.queueOrder.count)
            #expect(backlog.allSatisfy { $0["undecided"] as? Int == 0 && $0["oldest_age_millis"] == nil })

            #expect(try await client.get("/v1/quality/health", token: reviewer.secret).status == .forbidden)
            #expect(try await client.get("/v1/quality/health?days=0", token: lead.secret).status == .badRequest)
            #expect(try await client.get("/v1/quality/health?days=367", token: lead.secret).status == .badRequest)
        }
    }

    /// The console's quality page shows the same numbers to a lead, with both CSV exports; a reviewer
    /// is refused, and an unknown export is a 404.
    @Test func theQualityPageAndItsExports() async throws {
        let harness = try await Harness.make()
        let users = try #require(harness.components.users)
        _ = try await users.add(name: "lee", role: .lead, password: ConsoleTests.password, teams: ["trust"], actor: "test")
        _ = try await users.add(name: "rev", role: .reviewer, password: ConsoleTests.password, teams: ["vendor-a"], actor: "test")
        let review = harness.components.review
        try await harness.test { client in
            for (index, actor) in ["s1", "s2"].enumerated() {
                #expect(try await client.post("/v1/events", token: harness.writer, body: scamMessage("m\(index)", actor: actor)).status == .ok)
            }
            try await harness.buildCases()
            for violation in [true, false] {
                let claimed = try #require(try await review.claimNext(queue: "scams", reviewer: "user:rev"))
                _ = try await review.decide(caseID: claimed.id, DecisionDraft(category: "fraud.scam", violation: violation,
                                                                            actions: violation ? [] : [RequestedAction(name: "no_action", duration: nil)],
                                                                            policy: "scams-v2"), actor: "user:rev")
            }
            let lead = try await ConsoleTests.signIn(client, "lee")
            let page = try await client.execute(uri: "/quality?days=7", method: .get, headers: [.cookie: lead.cookie])
            #expect(page.status == .ok)
            let html = String(buffer: page.body)
            #expect(html.contains("2 decisions since") && html.contains("appeals overturned: none appealed; SLA met: 100.0% of 2."))
            #expect(html.contains(#"<th scope="row">user:rev</th><td class="num">2</td><td>50.0% of 2</td>"#))
            #expect(html.contains(#"<th scope="row">vendor-a</th>"#))  // the reviewer's team is a row of its own
            #expect(html.contains(#"<h2 id="policies-title">By policy area (category)</h2>"#) && html.contains(#"<th scope="row">fraud.scam</th>"#))
            #expect(html.contains(#"aria-current="page">7 days</a>"#))
            #expect(html.contains(#"<th scope="row"><a href="/queues/scams">scams</a></th><td class="num">0</td>"#))  // the backlog, empty now
            #expect(html.contains("<svg"))

            let csv = try await client.execute(uri: "/quality/scorecards.csv?days=7", method: .get, headers: [.cookie: lead.cookie])
            #expect(csv.status == .ok && csv.headers[.contentType] == "text/csv; charset=utf-8")
            let lines = String(buffer: csv.body).split(separator: "\r\n").map(String.init)
            #expect(lines.first?.hasPrefix("dimension,group,decisions,violations,violation_rate,") == true)
            #expect(lines.contains { $0.hasPrefix("reviewer,user:rev,2,1,0.5000,0,0,,,") })
            let weeks = try await client.execute(uri: "/quality/weeks.csv", method: .get, headers: [.cookie: lead.cookie])
            #expect(String(buffer: weeks.body).hasPrefix("week,decisions,overturned,appealed,"))
            #expect(try await client.execute(uri: "/quality/other.csv", method: .get, headers: [.cookie: lead.cookie]).status == .notFound)

            let reviewer = try await ConsoleTests.signIn(client, "rev")
            #expect(try await client.execute(uri: "/quality", method: .get, headers: [.cookie: reviewer.cookie]).status == .forbidden)
            #expect(try await client.execute(uri: "/quality/scorecards.csv", method: .get, headers: [.cookie: reviewer.cookie]).status == .forbidden)
        }
    }
}
