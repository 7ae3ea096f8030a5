import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import WardenCore
import WardenEngine
import WardenReview
import WardenStore
@testable import WardenHTTP

/// Golden items mixed unseen into a live queue (quality.yaml `golden_mix`).
@Suite struct GoldenMixTests {
    /// With every claim mixing (rate 1), a reviewer's claim-next in the queue is a copy of the golden
    /// item's source case: its API answer has the same members as a live case's and nothing golden
    /// in it, new signals about the subject open a real case beside it, deciding it enforces nothing
    /// (no action, strike, statement or delivery) and is scored against the key; the person who decided
    /// the source never gets it, nobody gets it twice; the health report leaves it out; audited.
    @Test func mixedGoldenItemsAreUnseenEnforceNothingAndAreScored() async throws {
        let pack = FileManager.default.temporaryDirectory.appendingPathComponent("warden-pack-\(UUID().uuidString)")
        try FileManager.default.copyItem(atPath: Harness.packDirectory, toPath: pack.path)
        let qualityFile = pack.appendingPathComponent("quality.yaml")
        let original = try String(contentsOf: qualityFile, encoding: .utf8)
        #expect(original.contains("  harassment: 0.02\n"))
        try original.replacingOccurrences(of: "  harassment: 0.02\n", with: "  scams: 1\n").write(to: qualityFile, atomically: true, encoding: .utf8)
        let harness = try await Harness.make(packDirectory: pack.path)
        let users = try #require(harness.components.users)
        _ = try await users.add(name: "lee", role: .lead, password: ConsoleTests.password, teams: [], actor: "test")
        _ = try await users.add(name: "ana", role: .reviewer, password: ConsoleTests.password, teams: ["fraud"], actor: "test")
        _ = try await users.add(name: "bo", role: .reviewer, password: ConsoleTests.password, teams: ["fraud"], actor: "test")
        let decision = #"{"category":"fraud.scam","violation":true,"policy":"scams-v2","rationale":"Prize lure"}"#
        try await harness.test { client in
            let lee = try await CalibrationAPITests.signIn(client, "lee")
            let ana = try await CalibrationAPITests.signIn(client, "ana")
            let bo = try await CalibrationAPITests.signIn(client, "bo")
            #expect(try await client.post("/v1/events", token: harness.writer, body: scamMessage("m1", actor: "s1")).status == .ok)
            try await harness.buildCases()
            let source = try #require(try await harness.store.cases(CaseQuery(subject: EntityRef(type: "user", id: "s1"), limit: 1)).first?.id)
            // Ana decides the source case: the ladder's first step (suspend 7d), a strike.
            #expect(try await ana.post("/v1/cases/\(source)/claim", "").status == .ok)
            let decided = try await ana.post("/v1/cases/\(source)/decision", decision)
            #expect(decided.status == .created && (decided.json["actions"] as? [[String: Any]])?.count == 1)
            let confirmed = try await lee.post("/v1/quality/golden", #"{"case_id":\#(source),"explanation":"aimed at one person, repeatedly"}"#)
            #expect(confirmed.status == .created && confirmed.json["answer"] as? String == "fraud.scam")

            // Ana decided the source, so her claim is a live case.
            #expect(try await client.post("/v1/events", token: harness.writer, body: scamMessage("m2", actor: "s2")).status == .ok)
            try await harness.buildCases()
            let live = try #require(try await harness.store.cases(CaseQuery(subject: EntityRef(type: "user", id: "s2"), limit: 1)).first?.id)
            let anaClaim = try await ana.post("/v1/queues/scams/next", "")
            #expect(anaClaim.status == .ok && anaClaim.json["id"] as? Int == Int(live))

            // Bo's claim is the golden copy: a new case about the source's subject, like any other.
            let deliveries = try await harness.store.outbox(state: nil, limit: 1000).count
            let boClaim = try await bo.post("/v1/queues/scams/next", "")
            #expect(boClaim.status == .ok)
            let copy = try #require(boClaim.json["id"] as? Int)
            #expect(copy != Int(source) && copy != Int(live))
            #expect(boClaim.json["subject"] as? String == "user:s1" && boClaim.json["category"] as? String == "fraud.scam")
            #expect(boClaim.json["state"] as? String == "in_review" && boClaim.json["assignee"] as? String == "user:bo" && boClaim.json["signals"] as? Int == 1)
            #expect(Set(boClaim.json.keys) == Set(anaClaim.json.keys))
            let shownCopy = try await bo.get("/v1/cases/\(copy)")
            let shownLive = try await ana.get("/v1/cases/\(live)")
            #expect(Set(shownCopy.json.keys) == Set(shownLive.json.keys))
            let kinds = { (response: TestResponse) in (response.json["timeline"] as? [[String: Any]] ?? []).map { $0["kind"] as? String ?? "" } }
            #expect(kinds(shownCopy) == kinds(shownLive) && kinds(shownCopy) == ["created", "signal", "transition"])
            for body in [boClaim.body, shownCopy.body] {
                #expect(!String(buffer: body).lowercased().contains("golden"))
            }

            // A new signal about the subject opens a real case; the copy gathers nothing.
            #expect(try await client.post("/v1/events", token: harness.writer, body: scamMessage("m3", actor: "s1")).status == .ok)
            try await harness.buildCases()
            let merged = try #require(try await harness.store.cases(CaseQuery(subject: EntityRef(type: "user", id: "s1"), limit: 5))
                .first { $0.id != source && $0.id != Int64(copy) }?.id)
            #expect(try await bo.get("/v1/cases/\(copy)").json["signals"] as? Int == 1)

            // Deciding it records the decision and enforces nothing.
            let strikes = try await harness.store.liveStrikes(subject: "user:s1", policy: "fraud", now: harness.components.review.clock.nowMillis())
            let golden = try await bo.post("/v1/cases/\(copy)/decision", decision)
            #expect(golden.status == .created && golden.json["statement_of_reasons"] as? Bool == false)
            #expect((golden.json["actions"] as? [Any])?.isEmpty == true)
            #expect(try await harness.store.liveStrikes(subject: "user:s1", policy: "fraud", now: harness.components.review.clock.nowMillis()) == strikes)
            #expect(try await harness.store.outbox(state: nil, limit: 1000).count == deliveries)
            #expect(try await bo.get("/v1/cases/\(copy)").json["state"] as? String == "resolved")

            // Nobody gets an item twice: Bo's next claim is the real case.
            let next = try await bo.post("/v1/queues/scams/next", "")
            #expect(next.json["id"] as? Int == Int(merged))

            // Scored against the key, for those who read quality.
            #expect(try await ana.get("/v1/quality/golden-checks").status == .forbidden)
            let checks = try await lee.get("/v1/quality/golden-checks?days=7")
            #expect(checks.status == .ok)
            let overall = try #require(checks.json["overall"] as? [String: Any])
            #expect(overall["correct"] as? Int == 1 && overall["checked"] as? Int == 1 && overall["below_target"] as? Bool == false)
            let reviewers = checks.json["by_reviewer"] as? [[String: Any]] ?? []
            #expect(reviewers.map { $0["group"] as? String } == ["user:bo"])
            #expect((checks.json["mix"] as? [[String: Any]])?.first?["queue"] as? String == "scams")
            #expect(try await lee.get("/v1/quality/golden-checks?days=0").status == .badRequest)

            // The health report counts Ana's decision only.
            let health = try await lee.get("/v1/quality/health?days=7")
            #expect((health.json["overall"] as? [String: Any])?["decisions"] as? Int == 1)
            // The calibration page shows Bo's accuracy on mixed items.
            let page = try await client.execute(uri: "/calibration", method: .get, headers: [.cookie: lee.cookie])
            let html = String(buffer: page.body)
            #expect(html.contains("id=\"golden-checks\"") && html.contains("user:bo") && html.contains("Mixed into scams (100.0% of claims)."))
        }
        let actions = try await harness.store.auditEntries(after: 0, limit: 1000).map(\.action)
        #expect(actions.filter { $0 == "golden.mix" }.count == 1 && actions.filter { $0 == "golden.check" }.count == 1)
    }
}
