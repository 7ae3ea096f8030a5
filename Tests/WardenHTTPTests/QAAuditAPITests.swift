import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import WardenCore
import WardenEngine
import WardenReview
import WardenClassifiers
import WardenQuality
import WardenRules
import WardenStore
@testable import WardenHTTP

@Suite struct QAAuditAPITests {
    /// A lead draws an audit of every decision of the week; a QA reviewer works it blind (the original
    /// decision and who made it appear only after the verdict); a disagreeing verdict names its error
    /// types; the reviewer disputes a finding and a lead rules for the original. The audit's report and
    /// the accuracy report count the ruling, every step is in the audit log, and a decision is never
    /// drawn twice.
    @Test func aBlindAuditFromDrawToRuling() async throws {
        let harness = try await Harness.make()
        let review = harness.components.review
        let lead = try await harness.token("lead", [.qualityRead, .qualityWrite])
        let qa = try await harness.token("qa", [.qualityReview])
        let decider = try await harness.token("decider", [.casesRead, .casesReview])
        let other = try await harness.token("other", [.casesRead, .casesReview])
        let auditor = try await harness.token("auditor", [.qualityRead, .auditRead])
        try await harness.test { client in
            for (index, actor) in ["s1", "s2", "s3"].enumerated() {
                #expect(try await client.post("/v1/events", token: harness.writer, body: scamMessage("m\(index)", actor: actor)).status == .ok)
            }
            try await harness.buildCases()
            for violation in [true, true, false] {
                let claimed = try #require(try await review.claimNext(queue: "scams", reviewer: ActorRef(parsing: decider.actor)!))
                _ = try await review.decide(caseID: claimed.id, DecisionDraft(category: "fraud.scam", violation: violation,
                                                                            actions: violation ? [] : [RequestedAction(name: "no_action", duration: nil)],
                                                                            policy: "scams-v2"), actor: ActorRef(parsing: decider.actor)!)
            }

            // Bad plans are refused and change nothing.
            for (body, status) in [
                (#"{"name":"x","margin":0.05,"rate":0.1}"#, HTTPResponse.Status.unprocessableContent),
                (#"{"name":"x"}"#, .unprocessableContent),
                (#"{"name":"x","size":5,"allocation":"per_stratum"}"#, .unprocessableContent),
                (#"{"name":"x","size":5,"stratify_by":"mood"}"#, .unprocessableContent),
                (#"{"name":"x","size":5,"colour":"red"}"#, .unprocessableContent),
                (#"{"name":"x","margin":0.9}"#, .unprocessableContent),
            ] {
                let refused = try await client.post("/v1/quality/audits", token: lead.secret, body: body)
                #expect(refused.status == status || refused.status == .badRequest, "\(body) → \(refused.status)")
            }
            #expect((try await client.get("/v1/quality/audits", token: lead.secret).json["audits"] as? [Any])?.isEmpty == true)
            #expect(try await client.post("/v1/quality/audits", token: qa.secret, body: #"{"name":"x","size":1}"#).status == .forbidden)

            let created = try await client.post("/v1/quality/audits", token: lead.secret,
                                                body: #"{"name":"Week 48","days":7,"queue":"scams","size":10,"stratify_by":"reviewer","seed":3}"#)
            #expect(created.status == .created)
            let audit = created.json
            let auditID = try #require(audit["id"] as? Int)
            #expect(audit["population"] as? Int == 3 && audit["sample_size"] as? Int == 3)
            #expect((audit["plan"] as? [String: Any])?["size"] as? Int == 10)
            #expect((audit["strata"] as? [[String: Any]])?.first?["key"] as? String == decider.actor)

            var verdicts = 0
            while true {
                let next = try await client.post("/v1/quality/qa/next", token: qa.secret, body: #"{"audit_id":\#(auditID)}"#)
                if next.status == .noContent { break }
                #expect(next.status == .ok)
                let item = next.json
                let id = try #require(item["id"] as? Int)
                #expect(item["state"] as? String == "in_review")
                #expect(item["original"] == nil && item["stratum"] == nil)  // blind
                // Asking again returns the same item (the one held), not a second.
                #expect(try await client.post("/v1/quality/qa/next", token: qa.secret, body: "").json["id"] as? Int == id)
                #expect(try await client.get("/v1/quality/qa/items/\(id)", token: qa.secret).json["original"] == nil)
                // A verdict that differs without naming an error is refused; one naming an unknown error too.
                let bare = try await client.post("/v1/quality/qa/items/\(id)/verdict", token: qa.secret, body: #"{"violation":true,"category":"spam.links"}"#)
                #expect(bare.status == .unprocessableContent && (bare.json["detail"] as? String)?.contains("name at least one error type") == true)
                #expect(try await client.post("/v1/quality/qa/items/\(id)/verdict", token: qa.secret,
                                              body: #"{"violation":true,"category":"spam.links","errors":["typo"]}"#).status == .unprocessableContent)
                // Verdicts: the first decision wrong (a scam it was not), the others right.
                let body = verdicts == 0 ? #"{"violation":false,"errors":["false_positive"],"notes":"a real promotion"}"#
                    : #"{"violation":\#(verdicts == 1 ? "true" : "false")\#(verdicts == 1 ? #","category":"fraud.scam""# : "")}"#
                let judged = try await client.post("/v1/quality/qa/items/\(id)/verdict", token: qa.secret, body: body)
                #expect(judged.status == .ok)
                let original = try #require(judged.json["original"] as? [String: Any])  // revealed
                #expect(original["decider"] as? String == decider.actor)
                #expect(judged.json["state"] as? String == (verdicts == 0 ? "disagreed" : "agreed"))
                #expect(judged.json["correct"] as? Bool == (verdicts != 0))
                verdicts += 1
            }
            #expect(verdicts == 3)

            // The finding on the decider's decision: they see it and dispute it; someone else may not.
            let findings = try await client.get("/v1/quality/qa/findings", token: decider.secret).json["items"] as? [[String: Any]] ?? []
            #expect(findings.count == 1)
            let findingID = try #require(findings.first?["id"] as? Int)
            #expect(try await client.post("/v1/quality/qa/items/\(findingID)/dispute", token: other.secret, body: #"{"reason":"no"}"#).status == .forbidden)
            #expect(try await client.post("/v1/quality/qa/items/\(findingID)/dispute", token: decider.secret, body: #"{"reason":""}"#).status
                    == .unprocessableContent)
            let disputed = try await client.post("/v1/quality/qa/items/\(findingID)/dispute", token: decider.secret,
                                                 body: #"{"reason":"the gift-card text is the scam pattern in the policy"}"#)
            #expect(disputed.status == .ok && disputed.json["state"] as? String == "disputed")
            #expect(try await client.post("/v1/quality/qa/items/\(findingID)/dispute", token: decider.secret, body: #"{"reason":"again"}"#).status == .conflict)
            let disputes = try await client.get("/v1/quality/qa/disputes", token: lead.secret).json["items"] as? [[String: Any]] ?? []
            #expect(disputes.map { $0["id"] as? Int } == [findingID])
            #expect(try await client.post("/v1/quality/qa/items/\(findingID)/ruling", token: qa.secret, body: #"{"stands":"qa"}"#).status == .forbidden)

            // Before the ruling: 2 of 3 right.
            let before = try await client.get("/v1/quality/audits/\(auditID)", token: auditor.secret).json
            let beforeReport = try #require(before["report"] as? [String: Any])
            #expect((beforeReport["overall"] as? [String: Any])?["correct"] as? Int == 2)
            #expect((beforeReport["progress"] as? [String: Any])?["disputed"] as? Int == 1)

            let ruled = try await client.post("/v1/quality/qa/items/\(findingID)/ruling", token: lead.secret,
                                              body: #"{"stands":"original","notes":"matches policy 4.2"}"#)
            #expect(ruled.status == .ok && ruled.json["correct"] as? Bool == true)
            #expect((ruled.json["ruling"] as? [String: Any])?["stands"] as? String == "original")

            let after = try await client.get("/v1/quality/audits/\(auditID)?method=clopper-pearson", token: auditor.secret).json
            let report = try #require(after["report"] as? [String: Any])
            #expect(report["method"] as? String == "clopper-pearson")
            let overall = try #require(report["overall"] as? [String: Any])
            #expect(overall["correct"] as? Int == 3 && overall["checked"] as? Int == 3)
            let byReviewer = try #require(report["by_reviewer"] as? [[String: Any]])
            #expect(byReviewer.map { $0["group"] as? String } == [decider.actor])
            let errors = try #require(report["errors"] as? [[String: Any]])
            #expect(errors.first?["id"] as? String == "false_positive" && errors.first?["count"] as? Int == 1)

            let accuracy = try await client.get("/v1/quality/accuracy?days=7", token: auditor.secret)
            #expect(accuracy.status == .ok && (accuracy.json["overall"] as? [String: Any])?["checked"] as? Int == 3)
            #expect(try await client.get("/v1/quality/accuracy?method=bayes", token: auditor.secret).status == .badRequest)
            let items = try await client.get("/v1/quality/audits/\(auditID)/items", token: auditor.secret).json["items"] as? [[String: Any]] ?? []
            #expect(items.count == 3)

            // Every decision of the window is drawn: a second audit finds nothing new.
            let second = try await client.post("/v1/quality/audits", token: lead.secret, body: #"{"name":"Again","days":7,"rate":1}"#)
            #expect(second.status == .created && second.json["population"] as? Int == 0 && second.json["sample_size"] as? Int == 0)
            #expect(try await client.post("/v1/quality/qa/next", token: qa.secret, body: "").status == .noContent)
            #expect(try await client.post("/v1/quality/qa/next", token: qa.secret, body: #"{"audit_id":999}"#).status == .notFound)
            #expect(try await client.get("/v1/quality/qa/items/999", token: qa.secret).status == .notFound)

            let types = try await client.get("/v1/quality/error-types", token: qa.secret).json["error_types"] as? [[String: Any]] ?? []
            #expect(types.map { $0["id"] as? String }.contains("should_have_escalated"))

            let entries = try await harness.store.auditEntries(after: 0, limit: 1_000).map(\.action)
            #expect(entries.filter { $0 == "qa.audit" }.count == 2)
            #expect(entries.filter { $0 == "qa.claim" }.count == 3 && entries.filter { $0 == "qa.verdict" }.count == 3)
            #expect(entries.contains("qa.dispute") && entries.contains("qa.rule"))
        }
    }

    /// The QA queue never offers a reviewer their own decisions.
    @Test func nobodyAuditsTheirOwnDecisions() async throws {
        let harness = try await Harness.make()
        let review = harness.components.review
        let lead = try await harness.token("lead", [.qualityWrite])
        let both = try await harness.token("both", [.casesRead, .casesReview, .qualityReview])
        try await harness.test { client in
            #expect(try await client.post("/v1/events", token: harness.writer, body: scamMessage("m1")).status == .ok)
            try await harness.buildCases()
            let claimed = try #require(try await review.claimNext(queue: "scams", reviewer: ActorRef(parsing: both.actor)!))
            _ = try await review.decide(caseID: claimed.id, DecisionDraft(category: "fraud.scam", violation: true, actions: [], policy: "scams-v2"),
                                        actor: ActorRef(parsing: both.actor)!)
            #expect(try await client.post("/v1/quality/audits", token: lead.secret, body: #"{"name":"All","rate":1}"#).json["sample_size"] as? Int == 1)
            #expect(try await client.post("/v1/quality/qa/next", token: both.secret, body: "").status == .noContent)
            #expect(try await client.post("/v1/quality/qa/items/1/release", token: both.secret, body: "").status == .conflict)
        }
    }

    /// QA verdicts feed the classifier loop: a decision QA found wrong is labelled with the QA finding
    /// (and marked so); a ruling that keeps the original puts its label back.
    @Test func qaVerdictsBecomeClassifierLabels() async throws {
        let harness = try await Harness.make()
        let review = harness.components.review
        let lead = try await harness.token("lead", [.qualityWrite])
        let qa = try await harness.token("qa", [.qualityReview])
        let decider = try await harness.token("decider", [.casesRead, .casesReview])
        try await harness.test { client in
            #expect(try await client.post("/v1/events", token: harness.writer, body: scamMessage("m1", actor: "s1")).status == .ok)
            try await harness.buildCases()
            let claimed = try #require(try await review.claimNext(queue: "scams", reviewer: ActorRef(parsing: decider.actor)!))
            _ = try await review.decide(caseID: claimed.id, DecisionDraft(category: "fraud.scam", violation: true, actions: [], policy: "scams-v2"),
                                        actor: ActorRef(parsing: decider.actor)!)
            #expect(try await harness.store.decidedTexts(since: 0).map(\.violation) == [true])
            #expect(try await client.post("/v1/quality/audits", token: lead.secret, body: #"{"name":"All","rate":1}"#).status == .created)
            let id = try #require(try await client.post("/v1/quality/qa/next", token: qa.secret, body: "").json["id"] as? Int)
            // While in review, the decision's label is unchanged.
            #expect(try await harness.store.decidedTexts(since: 0).map(\.correctedByQA) == [false])
            #expect(try await client.post("/v1/quality/qa/items/\(id)/verdict", token: qa.secret,
                                          body: #"{"violation":false,"errors":["false_positive"]}"#).status == .ok)
            let corrected = try #require(try await harness.store.decidedTexts(since: 0).first)
            #expect(!corrected.violation && corrected.correctedByQA && corrected.category == "fraud.scam")
            let feedback = ClassifierFeedback(labels: ["ham", "scam"], benignLabel: "ham", categories: ["scam": "fraud"])
            #expect(feedback.examples([corrected]).examples.map(\.label) == ["ham"])
            #expect(try await client.post("/v1/quality/qa/items/\(id)/dispute", token: decider.secret, body: #"{"reason":"it is the scam text"}"#).status == .ok)
            #expect(try await client.post("/v1/quality/qa/items/\(id)/ruling", token: lead.secret, body: #"{"stands":"original"}"#).status == .ok)
            let kept = try #require(try await harness.store.decidedTexts(since: 0).first)
            #expect(kept.violation && !kept.correctedByQA)
        }
    }

    /// Models are raters of the QA sample too: with each verdict, every ready built-in model answers
    /// on the case's content, and the report holds it to the settled answer (the verdict's, or the
    /// original decision's once a ruling keeps it) like the people who decided.
    @Test func modelsAreHeldToTheSettledAnswers() async throws {
        struct ScamWords: TextScorer {
            func scores(of text: String) -> [String: Double] { ["fraud.scam": text.contains("gift card") ? 0.9 : 0.1] }
        }
        let harness = try await Harness.make()
        let review = harness.components.review
        let packs = harness.components.packs
        let quality = QualityService(store: harness.store, clock: review.clock, scorers: { ["scam-words": ScamWords()] }) {
            (packs.pack.quality, packs.pack.taxonomy.categoryIDs, packs.pack.review.configuration.queueOrder)
        }
        try await harness.test { client in
            for (message, actor) in [("m1", "s1"), ("m2", "s2")] {
                #expect(try await client.post("/v1/events", token: harness.writer, body: scamMessage(message, actor: actor)).status == .ok)
            }
            try await harness.buildCases()
            for _ in 0..<2 {
                let claimed = try #require(try await review.claimNext(queue: "scams", reviewer: "token:decider"))
                _ = try await review.decide(caseID: claimed.id, DecisionDraft(category: "fraud.scam", violation: true, actions: [], policy: "scams-v2"),
                                            actor: "token:decider")
            }
        }
        let audit = try await quality.createAudit(name: "All", plan: SamplingPlan(sizing: .rate(1), seed: 1), days: 1, actor: "user:lead")
        #expect(audit.sampleSize == 2)
        var items: [Int64] = []
        for verdict in [QAVerdict(violation: true, category: "fraud.scam", errors: [], notes: nil),
                        QAVerdict(violation: false, category: nil, errors: ["false_positive"], notes: nil)] {
            let item = try #require(try await quality.claimNext(auditID: audit.id, actor: "user:qa"))
            _ = try await quality.command(itemID: item.id, .verdict(verdict), actor: "user:qa", isLead: false)
            items.append(item.id)
        }
        // The model said scam on both; QA agreed on one.
        var report = try await quality.report(auditID: audit.id)
        #expect(report.byModel.map(\.group) == ["model:scam-words"])
        #expect(report.byModel.first?.checked == 2 && report.byModel.first?.correct == 1)
        #expect(report.overall.checked == 2 && report.overall.correct == 1)
        // A ruling that keeps the original decision settles the answer as scam: the model was right twice.
        _ = try await quality.command(itemID: items[1], .dispute(reason: "it is the scam text"), actor: "token:decider", isLead: false)
        _ = try await quality.command(itemID: items[1], .rule(.original, notes: nil), actor: "user:lead", isLead: true)
        report = try await quality.report(days: 1)
        #expect(report.byModel.first?.checked == 2 && report.byModel.first?.correct == 2)
        #expect(try await harness.store.modelAnswers(itemIDs: items) == [items[0]: ["model:scam-words": "fraud.scam"], items[1]: ["model:scam-words": "fraud.scam"]])
    }
}
