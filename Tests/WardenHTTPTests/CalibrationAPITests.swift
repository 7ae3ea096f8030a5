import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import WardenCore
import WardenEngine
import WardenQuality
import WardenReview
import WardenRules
import WardenStore
@testable import WardenHTTP

/// A keyword model: scores harassment.bullying 0.9 for text with "idiot", else 0.1.
struct KeywordScorer: TextScorer {
    func scores(of text: String) -> [String: Double] { ["harassment.bullying": text.contains("idiot") ? 0.9 : 0.1, "ham": 0.5] }
}

@Suite struct CalibrationAPITests {
    /// A person signed in: the API with their session cookie and CSRF token.
    struct Person {
        let cookie: String
        let csrf: String
        let client: any TestClientProtocol

        func post(_ path: String, _ body: String) async throws -> TestResponse {
            try await client.execute(uri: path, method: .post, headers: [.cookie: cookie, .contentType: "application/json", HTTPField.Name("X-CSRF-Token")!: csrf],
                                     body: ByteBuffer(string: body))
        }

        func get(_ path: String) async throws -> TestResponse {
            try await client.execute(uri: path, method: .get, headers: [.cookie: cookie])
        }
    }

    static func signIn(_ client: any TestClientProtocol, _ name: String) async throws -> Person {
        let session = try await ConsoleTests.signIn(client, name)
        return Person(cookie: session.cookie, csrf: session.csrf, client: client)
    }

    static func harassmentCase(_ harness: Harness, _ n: Int64) async throws -> Int64 {
        let review = harness.components.review
        let input = CaseInput(kind: .signal, ref: n, subject: EntityRef(type: "user", id: "bully\(n)"), category: "harassment.bullying",
                              severity: "high", rule: "r", requestedQueue: "harassment", at: 1_795_428_000_000)
        return try #require(try await harness.store.mergeIntoCases([input], signalsThrough: n, reportsThrough: 0, policy: review.policy,
                                                                   now: 1_795_428_000_000).first)
    }

    /// A queue that requires certification gives its work to nobody uncertified; a lead imports
    /// golden items; a reviewer's training shows the key after each answer, fails below the pass mark
    /// (no certification), passes on a second run and then claims the queue's work; a revoked
    /// certification closes the queue again; every step is audited.
    @Test func trainingCertifiesAndCertificationGatesTheQueue() async throws {
        let pack = FileManager.default.temporaryDirectory.appendingPathComponent("warden-pack-\(UUID().uuidString)")
        try FileManager.default.copyItem(atPath: Harness.packDirectory, toPath: pack.path)
        let qualityFile = pack.appendingPathComponent("quality.yaml")
        let original = try String(contentsOf: qualityFile, encoding: .utf8)
        try original.replacingOccurrences(of: "required: false", with: "required: true").write(to: qualityFile, atomically: true, encoding: .utf8)
        let harness = try await Harness.make(packDirectory: pack.path)
        let users = try #require(harness.components.users)
        _ = try await users.add(name: "lee", role: .lead, password: ConsoleTests.password, teams: [], actor: "test")
        _ = try await users.add(name: "ana", role: .reviewer, password: ConsoleTests.password, teams: ["trust"], actor: "test")
        _ = try await users.add(name: "bo", role: .reviewer, password: ConsoleTests.password, teams: ["trust"], actor: "test")
        let caseID = try await Self.harassmentCase(harness, 1)
        try await harness.test { client in
            let lee = try await Self.signIn(client, "lee")
            let ana = try await Self.signIn(client, "ana")
            let bo = try await Self.signIn(client, "bo")
            for person in [ana, bo] {
                let refused = try await person.post("/v1/queues/harassment/next", "")
                #expect(refused.status == .forbidden && (refused.json["detail"] as? String)?.contains("not certified for queue harassment") == true)
                #expect(try await person.post("/v1/cases/\(caseID)/claim", "").status == .forbidden)
            }
            // Nothing to train on yet.
            let early = try await ana.post("/v1/quality/training", #"{"queue":"harassment"}"#)
            #expect(early.status == .unprocessableContent && (early.json["detail"] as? String)?.contains("has 0 golden items") == true)
            #expect(try await ana.post("/v1/quality/training", #"{"queue":"spam"}"#).status == .unprocessableContent)

            // Golden items: bad ones refused, nothing stored.
            for body in [#"{"text":"x","queue":"harassment","answer":"rudeness","explanation":"e"}"#,
                         #"{"text":"x","queue":"nowhere","answer":"none","explanation":"e"}"#,
                         #"{"case_id":1,"text":"x","explanation":"e"}"#,
                         #"{"text":"x","queue":"harassment","explanation":"e"}"#,
                         #"{"text":"x","queue":"harassment","answer":"none","explanation":" "}"#] {
                let refused = try await lee.post("/v1/quality/golden", body)
                #expect(refused.status == .unprocessableContent, "\(body) → \(refused.status)")
            }
            #expect(try await ana.post("/v1/quality/golden", #"{"text":"x","queue":"harassment","answer":"none","explanation":"e"}"#).status == .forbidden)
            #expect((try await lee.get("/v1/quality/golden").json["items"] as? [Any])?.isEmpty == true)
            var key: [String: String] = [:]
            for n in 1...6 {
                let answer = n % 2 == 0 ? "none" : "harassment.bullying"
                let text = n % 2 == 0 ? "golden \(n): see you at practice" : "golden \(n): nobody likes you, idiot"
                let added = try await lee.post("/v1/quality/golden", #"{"text":"\#(text)","queue":"harassment","answer":"\#(answer)","explanation":"why \#(n)"}"#)
                #expect(added.status == .created && added.json["answer"] as? String == answer)
                key[text] = answer
            }
            // A case with nothing to rate is not confirmed.
            let empty = try await lee.post("/v1/quality/golden", #"{"case_id":\#(caseID),"answer":"harassment.bullying","explanation":"targets one person"}"#)
            #expect(empty.status == .unprocessableContent && (empty.json["detail"] as? String)?.contains("no content") == true)

            // First run: two wrong of five, below 0.8: no certification.
            let run = try await ana.post("/v1/quality/training", #"{"queue":"harassment"}"#)
            #expect(run.status == .created)
            let runID = try #require(run.json["id"] as? Int)
            let items = try #require(run.json["items"] as? [[String: Any]])
            #expect(items.count == 5 && items.allSatisfy { $0["gold"] == nil })
            // Starting again resumes the open run.
            #expect(try await ana.post("/v1/quality/training", #"{"queue":"harassment"}"#).json["id"] as? Int == runID)
            #expect(try await bo.get("/v1/quality/sessions/\(runID)").status == .notFound)
            for (index, item) in items.enumerated() {
                let number = try #require(item["number"] as? Int)
                let right = try #require(key[item["text"] as? String ?? ""])
                let answer = index < 2 ? (right == "none" ? "harassment.bullying" : "none") : right
                let rated = try await ana.post("/v1/quality/sessions/\(runID)/ratings", #"{"item":\#(number),"answer":"\#(answer)"}"#)
                #expect(rated.status == .ok)
                let shown = try #require((rated.json["items"] as? [[String: Any]])?.first { $0["number"] as? Int == number })
                #expect(shown["gold"] as? String == right && (shown["explanation"] as? String)?.hasPrefix("why") == true)  // feedback
                #expect((rated.json["ratings"] as? [[String: Any]])?.first { $0["item"] as? Int == number }?["correct"] as? Bool == (index >= 2))
                let again = try await ana.post("/v1/quality/sessions/\(runID)/ratings", #"{"item":\#(number),"answer":"none"}"#)
                #expect(again.status == .conflict)
            }
            let failed = try await ana.get("/v1/quality/sessions/\(runID)").json
            #expect(failed["state"] as? String == "closed")
            #expect((failed["score"] as? [String: Any])?["right"] as? Int == 3 && (failed["score"] as? [String: Any])?["passed"] as? Bool == false)
            #expect(try await ana.post("/v1/queues/harassment/next", "").status == .forbidden)

            // Second run: all right: certified, and the queue's work comes.
            let second = try await ana.post("/v1/quality/training", #"{"queue":"harassment"}"#)
            let secondID = try #require(second.json["id"] as? Int)
            #expect(secondID != runID)
            var last: [String: Any] = [:]
            for item in try #require(second.json["items"] as? [[String: Any]]) {
                last = try await ana.post("/v1/quality/sessions/\(secondID)/ratings",
                                          #"{"item":\#(item["number"] as? Int ?? 0),"answer":"\#(key[item["text"] as? String ?? ""] ?? "")"}"#).json
            }
            #expect((last["score"] as? [String: Any])?["passed"] as? Bool == true)
            let mine = try await ana.get("/v1/quality/certifications").json
            let held = try #require((mine["certifications"] as? [[String: Any]])?.first)
            #expect(held["user"] as? String == "user:ana" && held["queue"] as? String == "harassment" && held["score"] as? Double == 1 && held["active"] as? Bool == true)
            let rule = try #require((mine["rules"] as? [[String: Any]])?.first)
            #expect(rule["required"] as? Bool == true && rule["golden_items"] as? Int == 6)
            // bo sees only his own (none); the lead sees every certification.
            #expect((try await bo.get("/v1/quality/certifications").json["certifications"] as? [Any])?.isEmpty == true)
            #expect((try await lee.get("/v1/quality/certifications?queue=harassment").json["certifications"] as? [Any])?.count == 1)
            let claimed = try await ana.post("/v1/queues/harassment/next", "")
            #expect(claimed.status == .ok && claimed.json["id"] as? Int == Int(caseID))
            #expect(try await bo.post("/v1/queues/harassment/next", "").status == .forbidden)

            // Revoked: the queue closes to ana again.
            #expect(try await ana.post("/v1/quality/certifications/revoke", #"{"user":"ana","queue":"harassment","reason":"r"}"#).status == .forbidden)
            let revoked = try await lee.post("/v1/quality/certifications/revoke", #"{"user":"ana","queue":"harassment","reason":"QA accuracy 70% in November"}"#)
            #expect(revoked.status == .ok && revoked.json["active"] as? Bool == false)
            #expect(try await lee.post("/v1/quality/certifications/revoke", #"{"user":"ana","queue":"harassment","reason":"again"}"#).status == .conflict)
            #expect(try await ana.post("/v1/cases/\(caseID)/claim", "").status == .forbidden)

            // Retiring a golden item keeps it but stops drawing it.
            #expect(try await lee.post("/v1/quality/golden/1/retire", "").json["retired_at"] != nil)
            #expect(try await lee.post("/v1/quality/golden/1/retire", "").status == .conflict)
            #expect((try await lee.get("/v1/quality/golden?queue=harassment").json["items"] as? [Any])?.count == 5)
            #expect((try await lee.get("/v1/quality/golden?queue=harassment&retired=true").json["items"] as? [Any])?.count == 6)
        }
        let actions = try await harness.store.auditEntries(after: 0, limit: 1000).map(\.action)
        for action in ["golden.add", "training.start", "session.rate", "training.finish", "certification.grant", "certification.revoke", "golden.retire"] {
            #expect(actions.contains(action), "no \(action) in the audit log")
        }
    }

    /// A calibration session: a lead names people and a model as raters over golden items and a live
    /// case; people rate blind; the lead closes it and everyone sees the answers, the key and the
    /// agreement report; the discussion records an article change.
    @Test func aCalibrationSessionWithPeopleAndAModel() async throws {
        let harness = try await Harness.make()
        let users = try #require(harness.components.users)
        _ = try await users.add(name: "lee", role: .lead, password: ConsoleTests.password, teams: [], actor: "test")
        _ = try await users.add(name: "ana", role: .reviewer, password: ConsoleTests.password, teams: [], actor: "test")
        _ = try await users.add(name: "bo", role: .reviewer, password: ConsoleTests.password, teams: [], actor: "test")
        _ = try await users.add(name: "cy", role: .reviewer, password: ConsoleTests.password, teams: [], actor: "test")
        let packs = harness.components.packs
        let quality = QualityService(store: harness.store, clock: Harness.FixedClock(), scorers: { ["keywords": KeywordScorer()] }, pack: {
            (packs.pack.quality, packs.pack.taxonomy.categoryIDs, packs.pack.review.configuration.queueOrder)
        })
        for (n, text) in ["you are an idiot", "lovely weather", "idiot idiot"].enumerated() {
            _ = try await quality.importGolden(text: text, queue: "harassment", answer: n == 1 ? "none" : "harassment.bullying",
                                               explanation: "e", actor: "user:lee")
        }
        // Unknown people, models and items are refused.
        let refusals: [([String], [String], [Int64])] = [(["ana", "zed"], [], [1]), (["ana"], ["gpt"], [1]), (["ana", "bo"], [], [99])]
        for (people, models, golden) in refusals {
            await #expect(throws: QualityError.self) {
                _ = try await quality.createCalibration(name: "x", queue: nil, caseIDs: [], goldenIDs: golden, people: people, models: models, actor: "user:lee")
            }
        }
        let session = try await quality.createCalibration(name: "Week 48", queue: "harassment", caseIDs: [], goldenIDs: [1, 2, 3],
                                                          people: ["ana", "user:bo"], models: ["keywords"], actor: "user:lee")
        #expect(session.raters == ["user:ana", "user:bo", "model:keywords"])
        #expect(session.ratings.map(\.answer) == ["harassment.bullying", "none", "harassment.bullying"])
        try await harness.test { client in
            let lee = try await Self.signIn(client, "lee")
            let ana = try await Self.signIn(client, "ana")
            let bo = try await Self.signIn(client, "bo")
            let cy = try await Self.signIn(client, "cy")
            // A decided case confirmed as golden: its content, its queue, its decision's answer by default.
            #expect(try await client.post("/v1/events", token: harness.writer, body: scamMessage("m1", actor: "s1")).status == .ok)
            try await harness.buildCases()
            let review = harness.components.review
            let decided = try #require(try await review.claimNext(queue: "scams", reviewer: "token:x"))
            _ = try await review.decide(caseID: decided.id, DecisionDraft(category: "fraud.scam", violation: true, actions: [], policy: "scams-v2"),
                                        actor: "token:x")
            let confirmed = try await lee.post("/v1/quality/golden", #"{"case_id":\#(decided.id),"explanation":"the gift-card pattern"}"#)
            #expect(confirmed.status == .created && confirmed.json["answer"] as? String == "fraud.scam" && confirmed.json["queue"] as? String == "scams")
            #expect((confirmed.json["text"] as? String)?.contains("gift card") == true && confirmed.json["case_id"] as? Int == Int(decided.id))
            #expect(try await lee.post("/v1/quality/golden", #"{"case_id":999,"explanation":"e"}"#).status == .notFound)
            #expect(try await lee.post("/v1/quality/sessions", #"{"name":"x","raters":["ana","bo"]}"#).status == .unprocessableContent)
            #expect(try await lee.post("/v1/quality/sessions", #"{"name":"x","golden_ids":[1,1],"raters":["ana","bo"]}"#).status == .unprocessableContent)
            #expect(try await lee.post("/v1/quality/sessions", #"{"name":"x","golden_ids":[1],"raters":["ana"]}"#).status == .unprocessableContent)
            #expect(try await ana.post("/v1/quality/sessions", #"{"name":"x","golden_ids":[1],"raters":["ana","bo"]}"#).status == .forbidden)
            let made = try await lee.post("/v1/quality/sessions", #"{"name":"Spare","golden_ids":[1,2],"raters":["ana","bo","cy"]}"#)
            #expect(made.status == .created && made.json["kind"] as? String == "calibration")

            for (person, answers) in [(ana, ["harassment.bullying", "none", "harassment.bullying"]), (bo, ["none", "none", "harassment.bullying"])] {
                for (n, answer) in answers.enumerated() {
                    #expect(try await person.post("/v1/quality/sessions/1/ratings", #"{"item":\#(n + 1),"answer":"\#(answer)"}"#).status == .ok)
                }
            }
            // Blind: each sees only their own answers and no key; cy is not a rater.
            let seen = try await ana.get("/v1/quality/sessions/1").json
            #expect((seen["ratings"] as? [[String: Any]])?.allSatisfy { $0["rater"] as? String == "user:ana" } == true)
            #expect((seen["items"] as? [[String: Any]])?.allSatisfy { $0["gold"] == nil } == true && seen["report"] == nil)
            #expect(try await cy.get("/v1/quality/sessions/1").status == .notFound)
            #expect(try await cy.post("/v1/quality/sessions/1/ratings", #"{"item":1,"answer":"none"}"#).status == .forbidden)
            #expect(try await ana.post("/v1/quality/sessions/1/ratings", #"{"item":1,"answer":"rude"}"#).status == .unprocessableContent)
            #expect(try await ana.post("/v1/quality/sessions/1/close", "").status == .forbidden)
            // The lead sees progress, not answers, until it closes.
            let progress = try await lee.get("/v1/quality/sessions/1").json
            #expect((progress["raters"] as? [[String: Any]])?.map { $0["rated"] as? Int } == [3, 3, 3])
            #expect((progress["ratings"] as? [Any])?.isEmpty == true)
            let list = try await ana.get("/v1/quality/sessions?kind=calibration").json["sessions"] as? [[String: Any]] ?? []
            #expect(list.map { $0["id"] as? Int } == [2, 1])
            #expect((try await cy.get("/v1/quality/sessions").json["sessions"] as? [[String: Any]])?.map { $0["id"] as? Int } == [2])

            let closed = try await lee.post("/v1/quality/sessions/1/close", #"{"outcome":"Item 1 is bullying under 3.1"}"#)
            #expect(closed.status == .ok && closed.json["state"] as? String == "closed")
            let report = try #require(closed.json["report"] as? [String: Any])
            #expect(report["raters"] as? Int == 3 && report["items"] as? Int == 3)
            let perRater = try #require(report["per_rater"] as? [[String: Any]])
            let bos = try #require(perRater.first { $0["name"] as? String == "user:bo" }?["agreement"] as? [String: Any])
            #expect(bos["correct"] as? Int == 2 && bos["checked"] as? Int == 3)
            #expect(try await ana.post("/v1/quality/sessions/1/ratings", #"{"item":1,"answer":"none"}"#).status == .conflict)
            let revealed = try await bo.get("/v1/quality/sessions/1").json
            #expect((revealed["ratings"] as? [Any])?.count == 9 && (revealed["items"] as? [[String: Any]])?.first?["gold"] as? String == "harassment.bullying")
            let noted = try await bo.post("/v1/quality/sessions/1/notes", #"{"item":1,"text":"I read 3.1 as needing a pattern","article":"harassment-basics"}"#)
            #expect(noted.status == .ok && (noted.json["discussion"] as? [[String: Any]])?.first?["article"] as? String == "harassment-basics")
            #expect(try await cy.post("/v1/quality/sessions/1/notes", #"{"text":"hi"}"#).status == .forbidden)
        }
        let actions = try await harness.store.auditEntries(after: 0, limit: 1000).map(\.action)
        for action in ["session.create", "session.rate", "session.close", "session.note"] { #expect(actions.contains(action)) }
    }
}
