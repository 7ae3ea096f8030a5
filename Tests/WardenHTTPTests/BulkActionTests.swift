import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import WardenCore
import WardenEngine
import WardenInvestigations
import WardenStore
@testable import WardenHTTP

/// Bulk action: from a list, a query or a cluster to labels, cases or enforcement, previewed,
/// capped, approved above a size, run in chunks, audited, and reversed through the existing paths.
@Suite struct BulkActionTests {
    func signup(_ id: String, user: String, ip: String) -> String {
        #"{"id":"\#(id)","type":"account.created","occurred_at":"2026-11-23T10:00:00Z","actor":{"type":"user","id":"\#(user)"},"entities":{"ip":"\#(ip)"},"data":{"email_domain":"example.org"}}"#
    }

    func runJob(_ harness: Harness) async throws {
        // The runner, detection and the case builder, as `serve` runs them side by side.
        for _ in 0..<20 {
            let worked = try await harness.components.bulk.step()
            _ = try await harness.detection.processNext()
            while try await CaseBuilder(review: harness.components.review, events: harness.store, logger: Logger(label: "test")).step() > 0 {}
            if !worked, try await harness.store.activeBulkJobs().isEmpty { return }
        }
    }

    @Test func aLabelJobFeedsRulesThroughTheLogAndItsReversalTakesTheLabelsOff() async throws {
        let harness = try await Harness.make()
        let analyst = try await harness.token("analyst", [.bulkRead, .bulkWrite, .queryRead])
        try await harness.test { client in
            let body = #"{"source":{"entities":["ip:198.51.100.7","ip:198.51.100.8","ip:198.51.100.7","not an entity"]},"operation":{"kind":"label","label":"signup_farm","expires_in":"7d"}}"#
            // The preview is a dry run: it says what will happen to whom and changes nothing.
            let preview = try await client.post("/v1/bulk/preview", token: analyst.secret, body: body)
            #expect(preview.status == .ok, "\(preview.json)")
            #expect(preview.json["entities"] as? Int == 2 && preview.json["duplicates"] as? Int == 1 && preview.json["invalid"] as? Int == 1)
            #expect(preview.json["needs_approval"] as? Bool == false && (preview.json["problems"] as? [String])?.isEmpty == true)
            #expect((preview.json["sample"] as? [[String: Any]])?.map { $0["effect"] as? String } == ["label signup_farm for 7d", "label signup_farm for 7d"])
            #expect(try await harness.store.bulkJobs(before: nil, limit: 10).isEmpty)

            let created = try await client.post("/v1/bulk", token: analyst.secret, body: body)
            #expect(created.status == .created && created.json["state"] as? String == "queued" && created.json["total"] as? Int == 2, "\(created.json)")
            let id = try #require(created.json["id"] as? Int)
            try await runJob(harness)
            let done = try await client.get("/v1/bulk/\(id)", token: analyst.secret)
            #expect(done.json["state"] as? String == "done" && done.json["done"] as? Int == 2 && done.json["progress"] as? Double == 1, "\(done.json)")

            // The label is on the IPs, set by the job, and the pack's rule reads it on the next sign-up.
            let labels = try await harness.store.labels(of: EntityRef(type: "ip", id: "198.51.100.7"), at: Harness.FixedClock().nowMillis())
            #expect(labels.map(\.name) == ["signup_farm"] && labels.first?.source == "bulk:\(id)")
            _ = try await client.post("/v1/events", token: harness.writer, body: signup("s1", user: "new1", ip: "198.51.100.8"))
            _ = try await harness.detection.processNext()
            #expect(try await harness.store.signals(before: nil, limit: 10, subject: nil, rule: "signup_from_flagged_ip").map(\.subject?.id) == ["new1"])

            // Reversal: the labels come off through the log; the next sign-up is not flagged.
            let reversed = try await client.post("/v1/bulk/\(id)/reverse", token: analyst.secret, body: #"{"reason":"wrong range"}"#)
            #expect(reversed.status == .ok && reversed.json["state"] as? String == "reversing", "\(reversed.json)")
            try await runJob(harness)
            let after = try await client.get("/v1/bulk/\(id)", token: analyst.secret)
            #expect(after.json["state"] as? String == "reversed" && after.json["reversed"] as? Int == 2, "\(after.json)")
            #expect(try await harness.store.labels(of: EntityRef(type: "ip", id: "198.51.100.7"), at: Harness.FixedClock().nowMillis()).isEmpty)
            _ = try await client.post("/v1/events", token: harness.writer, body: signup("s2", user: "new2", ip: "198.51.100.8"))
            _ = try await harness.detection.processNext()
            #expect(try await harness.store.signals(before: nil, limit: 10, subject: nil, rule: "signup_from_flagged_ip").count == 1)
            let again = try await client.post("/v1/bulk/\(id)/reverse", token: analyst.secret, body: #"{"reason":"twice"}"#)
            #expect(again.status == .conflict)

            // Items say what happened to each entity.
            let items = try await client.get("/v1/bulk/\(id)/items", token: analyst.secret)
            #expect((items.json["items"] as? [[String: Any]])?.map { $0["state"] as? String } == ["reversed", "reversed"], "\(items.json)")

            // Producers cannot write bulk steps themselves.
            let forged = #"{"id":"f1","type":"warden.bulk","occurred_at":"2026-11-23T10:00:00Z","entities":{"ip":"198.51.100.9"},"data":{"job":1,"op":"label","label":"x"}}"#
            let refused = try await client.post("/v1/events", token: harness.writer, body: forged)
            #expect(refused.results.first?["status"] as? String == "rejected", "\(refused.json)")

            let actions = try await harness.store.auditEntries(after: 0, limit: 1000).filter { $0.target == "bulk:\(id)" }.map(\.action)
            #expect(actions == ["bulk.create", "bulk.start", "bulk.finish", "bulk.reverse", "bulk.reversed"], "\(actions)")
        }
    }

    @Test
    func enforcementFromAQueryWaitsForALeadThenDecidesACaseAboutEachAndReversesThroughTheActionsPath() async throws {
        let harness = try await Harness.make(bulkLimits: BulkLimits(cap: 5, approvalAbove: 2))
        let analyst = try await harness.token("analyst", [.bulkRead, .bulkWrite, .queryRead, .casesLead])
        try await harness.test { client in
            let spam = (1...3).map { eventJSON("m\($0)", text: "cheap pills", actor: "spammer\($0)") } + [eventJSON("m9", text: "hello", actor: "friend")]
            _ = try await client.post("/v1/events", token: harness.writer, contentType: "application/x-ndjson", body: spam.joined(separator: "\n"))
            let source = #"{"sql":"SELECT DISTINCT actor AS entity FROM events WHERE json_extract(data, '$.text') = :text","parameters":{"text":"cheap pills"}}"#
            let operation = #"{"kind":"enforce","action":"suspend","duration":"7d","category":"spam","queue":"spam","rationale":"pill spam ring"}"#
            let body = #"{"source":\#(source),"operation":\#(operation),"note":"ring from the query"}"#

            let preview = try await client.post("/v1/bulk/preview", token: analyst.secret, body: body)
            #expect(preview.json["entities"] as? Int == 3 && preview.json["needs_approval"] as? Bool == true, "\(preview.json)")
            #expect((preview.json["sample"] as? [[String: Any]])?.first?["effect"] as? String
                == "suspend for 7d as a spam violation, decided on a case in spam", "\(preview.json)")

            // What the pack would refuse is refused before anything runs.
            let wrongAction = try await client.post("/v1/bulk", token: analyst.secret,
                                                    body: body.replacingOccurrences(of: #""action":"suspend""#, with: #""action":"restrict_payments""#))
            #expect(wrongAction.status == .unprocessableContent && (wrongAction.json["detail"] as? String)?.contains("not allowed in queue spam") == true,
                    "\(wrongAction.json)")
            let overCap = try await client.post("/v1/bulk", token: analyst.secret,
                                                body: #"{"source":{"entities":["user:a","user:b","user:c","user:d","user:e","user:f"]},"operation":{"kind":"label","label":"x"}}"#)
            #expect(overCap.status == .unprocessableContent && (overCap.json["detail"] as? String)?.contains("at most 5") == true, "\(overCap.json)")
            let twoSources = try await client.post("/v1/bulk/preview", token: analyst.secret,
                                                   body: #"{"source":{"entities":["user:a"],"cluster":"user:a"},"operation":{"kind":"label","label":"x"}}"#)
            #expect(twoSources.status == .unprocessableContent && twoSources.json["field"] as? String == "source")

            let created = try await client.post("/v1/bulk", token: analyst.secret, body: body)
            #expect(created.status == .created && created.json["state"] as? String == "awaiting_approval", "\(created.json)")
            let id = try #require(created.json["id"] as? Int)
            try await runJob(harness)
            #expect(try await harness.store.bulkJob(id: Int64(id))?.state == .awaitingApproval)

            // Whoever asked cannot approve it; another lead can.
            let selfApproved = try await client.post("/v1/bulk/\(id)/approve", token: analyst.secret, body: "")
            #expect(selfApproved.status == .forbidden, "\(selfApproved.json)")
            let approved = try await client.post("/v1/bulk/\(id)/approve", token: harness.admin, body: "")
            #expect(approved.status == .ok && approved.json["state"] as? String == "queued" && approved.json["approved_by"] as? String != nil)
            try await runJob(harness)

            let done = try await client.get("/v1/bulk/\(id)", token: analyst.secret)
            #expect(done.json["state"] as? String == "done" && done.json["done"] as? Int == 3 && done.json["failed"] as? Int == 0, "\(done.json)")
            let items = try #require(try await client.get("/v1/bulk/\(id)/items", token: analyst.secret).json["items"] as? [[String: Any]])
            #expect(Set(items.compactMap { $0["entity"] as? String }) == ["user:spammer1", "user:spammer2", "user:spammer3"])
            var actionIDs: [Int64] = []
            for item in items {
                let caseID = try #require(item["case_id"] as? Int)
                let decisions = try await harness.store.decisions(caseID: Int64(caseID))
                #expect(decisions.count == 1 && decisions[0].decidedBy == BulkActions.actor && decisions[0].actions.map(\.action) == ["suspend"])
                #expect(decisions[0].rationale?.contains("bulk job \(id)") == true && decisions[0].hasStatement)
                actionIDs += decisions[0].actions.map(\.id)
            }

            // Reversal goes through the actions path: each suspension is reversed, with who and why.
            _ = try await client.post("/v1/bulk/\(id)/reverse", token: harness.admin, body: #"{"reason":"false positive"}"#)
            try await runJob(harness)
            let reversed = try await client.get("/v1/bulk/\(id)", token: analyst.secret)
            #expect(reversed.json["state"] as? String == "reversed" && reversed.json["reversed"] as? Int == 3, "\(reversed.json)")
            for item in items {
                let decisions = try await harness.store.decisions(caseID: Int64(try #require(item["case_id"] as? Int)))
                let originals = decisions[0].actions.filter { $0.reverses == nil && $0.action == "suspend" }
                #expect(originals.count == 1 && originals.allSatisfy { $0.reversedAt != nil && ($0.reversalReason ?? "").contains("false positive") },
                        "\(decisions[0].actions)")
            }
            #expect(actionIDs.count == 3)
        }
    }

    @Test func aClusterOpensACaseAboutEachAccountAndJobsCanBeCancelled() async throws {
        let harness = try await Harness.make()
        let analyst = try await harness.token("analyst", [.bulkRead, .bulkWrite])
        try await harness.test { client in
            // Three accounts made from one device: a sign-up farm.
            let farm = (1...3).map { #"{"id":"f\#($0)","type":"account.created","occurred_at":"2026-11-23T10:00:00Z","actor":{"type":"user","id":"farm\#($0)"},"entities":{"device":"farm-phone","ip":"192.0.2.\#($0)"},"data":{}}"# }
            _ = try await client.post("/v1/events", token: harness.writer, contentType: "application/x-ndjson", body: farm.joined(separator: "\n"))
            while try await harness.store.indexEntities(limit: 10_000).indexed > 0 {}
            let body = #"{"source":{"cluster":"user:farm2","hours":48},"operation":{"kind":"open_cases","queue":"spam","category":"spam.fake_accounts","severity":"high","reason":"one phone, three accounts"}}"#
            let preview = try await client.post("/v1/bulk/preview", token: analyst.secret, body: body)
            #expect(preview.json["entities"] as? Int == 3 && preview.json["reversible"] as? Bool == false, "\(preview.json)")
            let created = try await client.post("/v1/bulk", token: analyst.secret, body: body)
            let id = try #require(created.json["id"] as? Int, "\(created.json)")
            try await runJob(harness)
            let cases = try await harness.components.review.cases(CaseQuery(queue: "spam", limit: 10))
            #expect(Set(cases.map(\.subject.description)) == ["user:farm1", "user:farm2", "user:farm3"] && cases.allSatisfy { $0.category == "spam.fake_accounts" })
            let notReversed = try await client.post("/v1/bulk/\(id)/reverse", token: analyst.secret, body: #"{"reason":"oops"}"#)
            #expect(notReversed.status == .conflict && (notReversed.json["detail"] as? String)?.contains("reviewers decide the cases") == true)
            let alone = try await client.post("/v1/bulk/preview", token: analyst.secret,
                                              body: #"{"source":{"cluster":"user:nobody"},"operation":{"kind":"label","label":"x"}}"#)
            #expect(alone.status == .notFound, "\(alone.json)")

            // A job cancelled before it runs does nothing; it cannot be cancelled twice.
            let queued = try await client.post("/v1/bulk", token: analyst.secret,
                                               body: #"{"source":{"entities":["user:farm1"]},"operation":{"kind":"label","label":"held"}}"#)
            let queuedID = try #require(queued.json["id"] as? Int)
            let cancelled = try await client.post("/v1/bulk/\(queuedID)/cancel", token: analyst.secret, body: "")
            #expect(cancelled.json["state"] as? String == "cancelled")
            #expect(try await client.post("/v1/bulk/\(queuedID)/cancel", token: analyst.secret, body: "").status == .conflict)
            try await runJob(harness)
            #expect(try await harness.store.labels(of: EntityRef(type: "user", id: "farm1"), at: Harness.FixedClock().nowMillis()).isEmpty)
            let list = try await client.get("/v1/bulk?limit=1", token: analyst.secret)
            #expect((list.json["jobs"] as? [[String: Any]])?.first?["id"] as? Int == queuedID && list.json["next"] as? Int == queuedID)
        }
    }

    /// A chunk finishing after its job was cancelled still records what it did, so reversing the
    /// cancelled job undoes it.
    @Test func aChunkThatFinishesAfterACancelIsStillReversed() async throws {
        let harness = try await Harness.make()
        let bulk = harness.components.bulk
        let job = try await bulk.create(.entities(["ip:198.51.100.20"]), operation: .label(name: "signup_farm", expiresAfter: nil), note: nil,
                                        actor: "user:ana", actorLeads: true)
        #expect(try await bulk.step())  // queued → running
        let running = try #require(try await harness.store.bulkJob(id: job.id))
        _ = try await bulk.cancel(id: job.id, actor: "user:ana")
        // The chunk the runner was working on lands now: its label is in the log, its outcome recorded.
        _ = try await harness.components.intake.submit(bulk: [(running.stepID(0), BulkInstruction(job: job.id, entity: EntityRef(type: "ip", id: "198.51.100.20"),
                                                                                                    operation: .label(name: "signup_farm", expiresAt: nil)))],
                                                        occurredAt: running.startedAt!)
        var progressed = running
        progressed.cursor = 1
        progressed.done = 1
        let items = try await harness.store.bulkItems(job: job.id, from: 0, limit: 10, state: nil)
        var done = items
        done[0].state = .done
        #expect(try await harness.store.recordBulkItems(done, job: progressed, expecting: .running) == false)
        _ = try await harness.detection.processNext()
        #expect(try await harness.store.labels(of: EntityRef(type: "ip", id: "198.51.100.20"), at: Harness.FixedClock().nowMillis()).count == 1)

        _ = try await bulk.reverse(id: job.id, reason: "stop", actor: "user:ana", actorLeads: true)
        while try await bulk.step() {}
        _ = try await harness.detection.processNext()
        #expect(try await harness.store.bulkJob(id: job.id)?.state == .reversed)
        #expect(try await harness.store.labels(of: EntityRef(type: "ip", id: "198.51.100.20"), at: Harness.FixedClock().nowMillis()).isEmpty)
    }
}
