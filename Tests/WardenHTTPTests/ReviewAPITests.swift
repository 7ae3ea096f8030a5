import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing
import WardenCore
import WardenReview
import WardenEngine
import WardenClassifiers
@testable import WardenStore
import GRDB
@testable import WardenHTTP

/// A clock tests move by hand.
final class MovableClock: WallClock {
    private let now: Mutex<Int64>
    init(_ start: Int64 = 1_795_428_000_000) { now = Mutex(start) }
    func nowMillis() -> Int64 { now.withLock { $0 } }
    func advance(_ millis: Int64) { now.withLock { $0 += millis } }
}

/// A product's webhook endpoint: checks every signature, records what arrived, and fails on demand.
final class WebhookReceiver: Sendable {
    struct Delivery: Sendable {
        var key: String
        var topic: String
        var body: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] ?? [:] }
        var bytes: [UInt8]
    }
    let secret = "whsec_test_secret"
    /// The receiver's idea of now (seconds), for checking signature timestamps.
    let now: @Sendable () -> Int64

    init(clock: any WallClock) {
        now = { clock.nowMillis() / 1000 }
    }
    private let state = Mutex<(received: [Delivery], attempts: [String], failNext: Int, badSignatures: Int)>(([], [], 0, 0))

    var received: [Delivery] { state.withLock { $0.received } }
    var attempts: [String] { state.withLock { $0.attempts } }
    var badSignatures: Int { state.withLock { $0.badSignatures } }
    func fail(next count: Int) { state.withLock { $0.failNext = count } }

    var router: Router<BasicRequestContext> {
        let router = Router()
        router.post("/hooks") { request, _ -> Response in
            let body = Array(buffer: try await request.body.collect(upTo: 1 << 20))
            func header(_ name: String) -> String { request.headers.first { $0.name.canonicalName == name.lowercased() }?.value ?? "" }
            let signature = header("Warden-Signature")
            let key = header("Idempotency-Key")
            let topic = header("Warden-Topic")
            let valid = WebhookSignature.verify(header: signature, secret: self.secret, body: body, now: self.now())
            let failing = self.state.withLock { state -> Bool in
                state.attempts.append(key)
                if !valid {
                    state.badSignatures += 1
                    return true
                }
                if state.failNext > 0 {
                    state.failNext -= 1
                    return true
                }
                // Applied once per idempotency key, as a product should.
                if !state.received.contains(where: { $0.key == key }) { state.received.append(Delivery(key: key, topic: topic, bytes: body)) }
                return false
            }
            return Response(status: !valid ? .unauthorized : failing ? .serviceUnavailable : .ok)
        }
        return router
    }

    func run(_ body: @Sendable (String) async throws -> Void) async throws {
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            try await body("http://127.0.0.1:\(try #require(client.port))/hooks")
        }
    }
}

extension Harness {
    func token(_ name: String, _ scopes: [Scope]) async throws -> (secret: String, actor: String) {
        let (record, secret) = try await components.tokens.create(name: name, scopes: scopes)
        return (secret, "token:\(record.id)")
    }

    func buildCases() async throws {
        _ = try await detection.processNext()
        while try await CaseBuilder(review: components.review, events: store, logger: Logger(label: "test")).step() > 0 {}
    }
}

func scamMessage(_ id: String, actor: String = "scammer") -> String {
    #"{"id":"\#(id)","type":"message.sent","occurred_at":"2026-11-23T10:00:00Z","actor":{"type":"user","id":"\#(actor)"},"entities":{"ip":"203.0.113.9"},"data":{"text":"Congratulations, you won a gift card! Claim it now","recipient":"u2"}}"#
}

@Suite struct ReviewAPITests {
    /// The issue's "done means": a simulated event becomes a case, a decision, a delivered signed
    /// action with a statement of reasons, an appeal reviewed by someone else that reverses it, all
    /// on an unbroken audit chain.
    @Test func eventToSignedReversibleActionWithStatementOfReasonsAndAppeal() async throws {
        let harness = try await Harness.make()
        let reviewer = try await harness.token("reviewer one", [.casesRead, .casesReview])
        let other = try await harness.token("reviewer two", [.casesRead, .casesReview])
        let lead = try await harness.token("lead", [.casesRead, .casesLead])
        let product = try await harness.token("product", [.appealsWrite, .reportsWrite])
        let exporter = try await harness.token("exports", [.exportsRead])
        let auditor = try await harness.token("auditor", [.auditRead])
        let clock = MovableClock()
        let receiver = WebhookReceiver(clock: clock)
        try await receiver.run { url in
            try await harness.test { client in
                #expect(try await client.post("/v1/events", token: harness.writer, body: scamMessage("m1")).status == .ok)
                let report = #"{"reporter":{"type":"user","id":"r1"},"subject":{"type":"user","id":"scammer"},"reason":"fraud.scam"}"#
                #expect(try await client.post("/v1/reports", token: product.secret, body: report).status == .ok)
                try await harness.buildCases()

                // One case: the rule's signal and the report merged, in the queue the rule routed to.
                let queues = try await client.get("/v1/queues", token: reviewer.secret).json["queues"] as? [[String: Any]] ?? []
                let scams = queues.first { $0["name"] as? String == "scams" }
                #expect((scams?["counts"] as? [String: Any])?["open"] as? Int == 1)

                let claimed = try await client.post("/v1/queues/scams/next", token: reviewer.secret, body: "")
                #expect(claimed.status == .ok)
                let caseID = try #require(claimed.json["id"] as? Int)
                #expect(claimed.json["state"] as? String == "in_review")
                #expect(claimed.json["assignee"] as? String == reviewer.actor)
                #expect(claimed.json["signals"] as? Int == 1 && claimed.json["reports"] as? Int == 1)
                #expect((claimed.json["sla"] as? [String: Any])?["resolution_target"] as? String == "8h")
                #expect(try await client.post("/v1/queues/scams/next", token: other.secret, body: "").status == .noContent)

                // Only the holder decides, and the queue's required policy is enforced.
                let decision = #"{"category":"fraud.scam","violation":true,"policy":"scams-v2","rationale":"Prize lure with a link"}"#
                #expect(try await client.post("/v1/cases/\(caseID)/decision", token: other.secret, body: decision).status == .conflict)
                let noPolicy = try await client.post("/v1/cases/\(caseID)/decision", token: reviewer.secret, body: #"{"category":"fraud.scam","violation":true}"#)
                #expect(noPolicy.status == .unprocessableContent)
                #expect((noPolicy.json["detail"] as? String)?.contains("requires a policy") == true)
                let notAllowed = try await client.post("/v1/cases/\(caseID)/decision", token: reviewer.secret,
                                                       body: #"{"category":"fraud.scam","violation":true,"policy":"p","actions":[{"action":"restrict_messaging","duration":"1d"}]}"#)
                #expect((notAllowed.json["detail"] as? String)?.contains("not allowed in queue scams") == true)

                // No actions named: the fraud ladder's first step (suspend 7d) applies.
                let decided = try await client.post("/v1/cases/\(caseID)/decision", token: reviewer.secret, body: decision)
                #expect(decided.status == .created)
                let actions = decided.json["actions"] as? [[String: Any]] ?? []
                #expect(actions.map { $0["action"] as? String } == ["suspend"])
                #expect(actions.first?["duration"] as? String == "7d")
                #expect(decided.json["statement_of_reasons"] as? Bool == true)
                let actionID = try #require(actions.first?["id"] as? Int)

                // Delivered, signed, once.
                var settings = WebhookSettings(url: url, secret: receiver.secret)
                settings.baseDelay = 10
                let frozen = settings
                let deliverer = OutboxDeliverer(store: harness.store, settings: { frozen }, clock: clock, logger: Logger(label: "test"))
                #expect(try await deliverer.deliverDue(settings) == 1)
                #expect(receiver.received.map(\.topic) == ["action.applied"])
                #expect(receiver.received.first?.key == "action:\(actionID)")
                let data = receiver.received.first?.body["data"] as? [String: Any]
                #expect(data?["action"] as? String == "suspend" && data?["subject"] as? String == "user:scammer" && data?["reversible"] as? Bool == true)

                // The statement of reasons, in the export.
                let export = try await client.get("/v1/exports/statements-of-reasons?from=2026-11-01", token: exporter.secret)
                #expect(export.headers[.contentType] == "application/x-ndjson")
                let lines = String(buffer: export.body).split(separator: "\n")
                #expect(lines.count == 1)
                let statement = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
                #expect(statement["decision_account"] as? String == "DECISION_ACCOUNT_SUSPENDED")
                #expect(statement["end_date_account_restriction"] as? String == "2026-11-30")
                #expect(statement["category"] as? String == "STATEMENT_CATEGORY_SCAMS_AND_FRAUD")
                #expect(statement["source_type"] as? String == "SOURCE_ARTICLE_16")
                #expect(statement["automated_detection"] as? String == "Yes")
                #expect(statement["incompatible_content_explanation"] as? String == "Prize lure with a link")
                #expect(TransparencyDatabase.problems(try #require(JSONValue.parse(Array(lines[0].utf8)))) == [])
                #expect(try await client.get("/v1/exports/statements-of-reasons?from=2027-01-01", token: exporter.secret).body.readableBytes == 0)

                // The user appeals; the original decider may not review it; another reviewer overturns.
                let appeal = try await client.post("/v1/appeals", token: product.secret,
                                                   body: #"{"case_id":\#(caseID),"appellant":"user:scammer","statement":"It was a real giveaway"}"#)
                #expect(appeal.status == .created)
                #expect(appeal.json["queue"] as? String == "appeals")
                #expect(try await client.post("/v1/queues/appeals/next", token: reviewer.secret, body: "").status == .noContent)
                let appealCase = try await client.post("/v1/queues/appeals/next", token: other.secret, body: "")
                let appealID = try #require(appealCase.json["id"] as? Int)
                let noRationale = try await client.post("/v1/cases/\(appealID)/decision", token: other.secret, body: #"{"outcome":"overturned"}"#)
                #expect(noRationale.status == .unprocessableContent)
                let overturned = try await client.post("/v1/cases/\(appealID)/decision", token: other.secret,
                                                       body: #"{"outcome":"overturned","rationale":"The promotion was genuine","macro":"appeal_overturned"}"#)
                #expect(overturned.status == .created)
                let original = try await client.get("/v1/cases/\(caseID)", token: reviewer.secret)
                #expect(original.json["state"] as? String == "closed")
                let reversed = ((original.json["decisions"] as? [[String: Any]])?.first?["actions"] as? [[String: Any]])?.first?["reversed"] as? [String: Any]
                #expect((reversed?["reason"] as? String)?.contains("appeal overturned") == true)

                // The compensating action, then the user's notice (one subject's deliveries go out in
                // order, one at a time); a second reversal is refused.
                #expect(try await deliverer.deliverDue(settings) == 1)
                #expect(try await deliverer.deliverDue(settings) == 1)
                #expect(receiver.received.map(\.topic) == ["action.applied", "action.reversed", "user.notice"])
                #expect((receiver.received[1].body["data"] as? [String: Any])?["action"] as? String == "unsuspend")
                #expect((receiver.received[2].body["data"] as? [String: Any])?["outcome"] as? String == "overturned")
                #expect(try await client.post("/v1/actions/\(actionID)/reverse", token: reviewer.secret, body: #"{"reason":"x"}"#).status == .forbidden)
                #expect(try await client.post("/v1/actions/\(actionID)/reverse", token: lead.secret, body: #"{"reason":"again"}"#).status == .conflict)
                #expect(receiver.badSignatures == 0)

                // Every step is on the audit chain, and the chain holds.
                let audit = try await client.get("/v1/audit?limit=1000", token: auditor.secret).json["entries"] as? [[String: Any]] ?? []
                let steps = audit.compactMap { $0["action"] as? String }
                for step in ["case.create", "case.claim", "decision.create", "case.read", "export.statements_of_reasons",
                             "appeal.create", "action.reverse", "case.close"] {
                    #expect(steps.contains(step), "\(step)")
                }
                var verifier = AuditChain.Verifier(digest: SQLiteStore.auditDigest)
                for entry in try await harness.store.auditEntries(after: 0, limit: 10_000) { try verifier.check(entry) }
                try verifier.finish(expectedHead: try await harness.store.auditHead())
                #expect(verifier.count == Int64(audit.count))
            }
        }
    }

    /// A reviewer walks the pack's scam tree and decides by it: the outcome's actions are taken, the
    /// path is recorded, and the outcome's macro is rendered into the user's notice.
    @Test func decisionsByTreeRecordThePathAndSendTheMacro() async throws {
        let harness = try await Harness.make()
        let reviewer = try await harness.token("reviewer", [.casesRead, .casesReview])
        try await harness.test { client in
            #expect(try await client.post("/v1/events", token: harness.writer, body: scamMessage("m1")).status == .ok)
            try await harness.buildCases()
            let trees = try await client.get("/v1/trees", token: reviewer.secret).json["trees"] as? [[String: Any]] ?? []
            #expect(trees.compactMap { $0["name"] as? String } == ["harassment", "scam_message"])
            let first = try await client.post("/v1/trees/scam_message/walk", token: reviewer.secret, body: #"{"answers":[]}"#)
            #expect((first.json["question"] as? [String: Any])?["answers"] as? [String] == ["Yes", "No"])
            let done = try await client.post("/v1/trees/scam_message/walk", token: reviewer.secret, body: #"{"answers":["Yes","Yes"]}"#)
            #expect((done.json["outcome"] as? [String: Any])?["id"] as? String == "scam_with_payment")
            let wrong = try await client.post("/v1/trees/scam_message/walk", token: reviewer.secret, body: #"{"answers":["Maybe"]}"#)
            #expect(wrong.status == .unprocessableContent)

            let claimed = try await client.post("/v1/queues/scams/next", token: reviewer.secret, body: "")
            let id = try #require(claimed.json["id"] as? Int)
            let unfinished = try await client.post("/v1/cases/\(id)/decision", token: reviewer.secret, body: #"{"tree":"scam_message","answers":["Yes"]}"#)
            #expect(unfinished.status == .unprocessableContent)
            let decided = try await client.post("/v1/cases/\(id)/decision", token: reviewer.secret,
                                                body: #"{"tree":"scam_message","answers":["Yes","Yes"],"rationale":"Asks for card details"}"#)
            #expect(decided.status == .created)
            #expect((decided.json["actions"] as? [[String: Any]])?.compactMap { $0["action"] as? String } == ["remove_content", "suspend"])
            #expect(decided.json["policy"] as? String == "scams-v2 §1 (payment requests)")
            let path = decided.json["tree_path"] as? [String] ?? []
            #expect(path.first == "tree: scam_message" && path.last == "outcome: scam_with_payment" && path.count == 4)
            let notice = try #require(try await harness.store.outbox(state: nil, limit: 10).first { $0.topic == "user.notice" })
            #expect(notice.body.contains("broke our rules on Scam messages"))
            #expect(notice.body.contains("suspend for 7d"))
            #expect(notice.body.contains("Case reference: \(id)"))
        }
    }

    @Test func manyReviewersNeverHoldTheSameCase() async throws {
        let harness = try await Harness.make()
        let review = harness.components.review
        let inputs = (1...200).map { index in
            CaseInput(kind: .report, ref: Int64(index), subject: EntityRef(type: "user", id: "s\(index)"), category: "spam",
                      severity: index % 7 == 0 ? "high" : "low", reporter: "user:r\(index)", at: 1_795_428_000_000)
        }
        try await harness.store.mergeIntoCases(inputs, signalsThrough: 0, reportsThrough: 200, policy: review.policy, now: 1_795_428_000_000)
        let claims = try await withThrowingTaskGroup(of: [(Int64, String)].self) { group in
            for reviewer in 0..<25 {
                group.addTask {
                    var mine: [(Int64, String)] = []
                    while let claimed = try await review.claimNext(queue: "spam", reviewer: ActorRef(.token, "r\(reviewer)")) {
                        mine.append((claimed.id, claimed.assignee?.description ?? ""))
                    }
                    return mine
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(claims.count == 200)
        #expect(Set(claims.map(\.0)).count == 200)
        for (id, holder) in claims {
            #expect(try await harness.store.caseRecord(id: id)?.assignee?.description == holder)
        }
        // Claims take the most urgent first: on a fresh copy of the queue, the first claim is a high-severity case.
        let fresh = try await Harness.make()
        try await fresh.store.mergeIntoCases(inputs, signalsThrough: 0, reportsThrough: 200, policy: review.policy, now: 1_795_428_000_000)
        let first = try await fresh.components.review.claimNext(queue: "spam", reviewer: "token:x")
        #expect(first?.severity == "high")
    }

    @Test func leasesLapseHoldsPauseTheClockAndSLAEventsAreRaisedOnce() async throws {
        let harness = try await Harness.make()
        let clock = MovableClock()
        let review = ReviewService(store: harness.store, packs: harness.components.packs, clock: clock, leaseMillis: 60_000)
        let timers = ReviewTimers(review: review, logger: Logger(label: "test"))
        let input = CaseInput(kind: .signal, ref: 1, subject: EntityRef(type: "user", id: "bully"), category: "harassment.bullying",
                              severity: "high", rule: "r", requestedQueue: "harassment", at: clock.nowMillis())
        let created = try #require(try await harness.store.mergeIntoCases([input], signalsThrough: 1, reportsThrough: 0, policy: review.policy,
                                                                          now: clock.nowMillis()).first)
        var record = try #require(try await harness.store.caseRecord(id: created))
        // high severity alone scores 45: band p2, 2h to first action and 12h to resolution in this queue.
        #expect(record.band == .p2)
        #expect(record.dueAt == clock.nowMillis() + 12 * 3_600_000)

        _ = try await review.claimNext(queue: "harassment", reviewer: "token:a")
        clock.advance(30_000)
        _ = try await review.change(caseID: created, .renew, actor: "token:a")
        clock.advance(59_000)
        try await timers.tick()
        #expect(try await harness.store.caseRecord(id: created)?.state == .inReview)
        clock.advance(2_000)
        try await timers.tick()
        record = try #require(try await harness.store.caseRecord(id: created))
        #expect(record.state == .open && record.assignee == nil)
        #expect(try await harness.store.timeline(caseID: created).contains { $0.actor == "system:leases" })

        // On hold, the clock stops: the deadline moves by the time held.
        _ = try await review.claim(caseID: created, reviewer: "token:b")
        let dueBefore = try #require(try await harness.store.caseRecord(id: created)?.dueAt)
        _ = try await review.change(caseID: created, .command(.hold, note: "waiting for the reporter"), actor: "token:b")
        #expect(try await harness.store.caseRecord(id: created)?.dueAt == ReviewPolicy.noDeadline)
        clock.advance(3_600_000)
        _ = try await review.change(caseID: created, .command(.resume, note: nil), actor: "token:b")
        #expect(try await harness.store.caseRecord(id: created)?.dueAt == dueBefore + 3_600_000)
        // Hold was the first action, so only resolution events remain; run past the deadline.
        clock.advance(12 * 3_600_000)
        try await timers.tick()
        try await timers.tick()
        let deliveries = try await harness.store.outbox(state: nil, limit: 100)
        #expect(deliveries.map(\.idempotencyKey).sorted() == ["sla:\(created):resolution.breached", "sla:\(created):resolution.warning"])
        #expect(try await harness.store.timeline(caseID: created).filter { $0.kind == .sla }.count == 2)
        // They are signals too, about the case: the breach at the highest severity. The case
        // builder leaves them alone (no new case, no new item on this one).
        let itemsBefore = try await harness.store.caseRecord(id: created).map { $0.signals + $0.reports }
        let sla = try await harness.store.signals(before: nil, limit: 10, subject: nil, rule: "sla")
        #expect(sla.map(\.ruleVersion) == ["resolution.breached", "resolution.warning"])
        #expect(sla.allSatisfy { $0.caseID == created && $0.eventSeq == nil })
        #expect(sla.first?.severity == harness.components.packs.pack.taxonomy.severities.last)
        #expect(sla.first?.reason?.hasPrefix("resolution SLA breached: case \(created)") == true)
        while try await CaseBuilder(review: review, events: harness.store, logger: Logger(label: "test")).step() > 0 {}
        #expect(try await harness.store.caseRecord(id: created).map { $0.signals + $0.reports } == itemsBefore)
        #expect(try await harness.store.cases(queue: nil, state: nil, assignee: nil, before: nil, limit: 100).count == 1)
        try await harness.test { client in
            let listed = try await client.get("/v1/signals?rule=sla", token: harness.reader).json["signals"] as? [[String: Any]] ?? []
            #expect(listed.count == 2 && listed.allSatisfy { $0["case_id"] as? Int == Int(created) && $0["event_seq"] == nil })
        }
    }

    /// A consult lands in the asked reviewer's inbox; only they answer, once, and the answer is on
    /// the case's timeline for the holder.
    @Test func consultsLandInTheAskedReviewersInboxAndTheAnswerOnTheTimeline() async throws {
        let harness = try await Harness.make()
        let holder = try await harness.token("holder", [.casesRead, .casesReview])
        let expert = try await harness.token("expert", [.casesRead, .casesReview])
        let bystander = try await harness.token("bystander", [.casesRead, .casesReview])
        try await harness.test { client in
            #expect(try await client.post("/v1/events", token: harness.writer, body: scamMessage("c1")).status == .ok)
            try await harness.buildCases()
            let claimed = try await client.post("/v1/queues/scams/next", token: holder.secret, body: "{}").json
            let id = try #require(claimed["id"] as? Int)
            let ask = #"{"reviewer":"\#(expert.actor)","question":"Is this the gift-card ring from last week?"}"#
            #expect(try await client.post("/v1/cases/\(id)/consult", token: bystander.secret, body: ask).status == .conflict)
            #expect(try await client.post("/v1/cases/\(id)/consult", token: holder.secret,
                                          body: #"{"reviewer":"\#(holder.actor)","question":"me?"}"#).status == .unprocessableContent)
            #expect(try await client.post("/v1/cases/\(id)/consult", token: holder.secret, body: ask).status == .ok)

            let inbox = try await client.get("/v1/consults?answered=false", token: expert.secret).json["consults"] as? [[String: Any]] ?? []
            #expect(inbox.count == 1)
            let consult = try #require(inbox.first)
            #expect(consult["question"] as? String == "Is this the gift-card ring from last week?")
            #expect(consult["asked_by"] as? String == holder.actor)
            #expect((consult["case"] as? [String: Any])?["assignee"] as? String == holder.actor)
            #expect((consult["case"] as? [String: Any])?["queue"] as? String == "scams")
            #expect((try await client.get("/v1/consults", token: holder.secret).json["consults"] as? [Any])?.isEmpty == true)
            #expect(try await client.get("/v1/consults?answered=maybe", token: expert.secret).status == .badRequest)

            let consultID = try #require(consult["id"] as? Int)
            let answer = #"{"answer":"Yes: same card seller, same wording."}"#
            #expect(try await client.post("/v1/consults/\(consultID)/answer", token: bystander.secret, body: answer).status == .forbidden)
            #expect(try await client.post("/v1/consults/\(consultID)/answer", token: expert.secret, body: #"{"answer":"  "}"#).status == .unprocessableContent)
            let answered = try await client.post("/v1/consults/\(consultID)/answer", token: expert.secret, body: answer)
            #expect(answered.status == .ok && answered.json["answer"] as? String == "Yes: same card seller, same wording.")
            #expect(try await client.post("/v1/consults/\(consultID)/answer", token: expert.secret, body: answer).status == .conflict)
            #expect(try await client.post("/v1/consults/999/answer", token: expert.secret, body: answer).status == .notFound)

            let timeline = try await harness.store.timeline(caseID: Int64(id))
            #expect(timeline.contains { $0.kind == .consult && $0.detail.contains("\"consult_id\":\(consultID)") })
            #expect(timeline.contains { $0.kind == .consultAnswer && $0.actor.description == expert.actor && $0.detail.contains("same card seller") })
            #expect((try await client.get("/v1/consults?answered=false", token: expert.secret).json["consults"] as? [Any])?.isEmpty == true)
            #expect((try await client.get("/v1/consults?answered=true", token: expert.secret).json["consults"] as? [Any])?.count == 1)
            // The holder still holds the case.
            #expect(try await harness.store.caseRecord(id: Int64(id))?.assignee?.description == holder.actor)
        }
    }

    /// Decisions are ground truth: the texts behind decided cases come back with the final verdict
    /// (an overturned appeal flips it) and the policy version, become labelled examples for the model
    /// that covers their category, and measure the model's agreement with reviewers.
    @Test func decisionsBecomeLabelledExamplesAndMeasureDrift() async throws {
        let harness = try await Harness.make()
        let review = harness.components.review
        try await harness.test { client in
            for (index, actor) in ["s1", "s2", "s3"].enumerated() {
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
            // The second decision is overturned on appeal.
            _ = try await review.openAppeal(caseID: decided[1], appellant: EntityRef(type: "user", id: "s2"), statement: nil, actor: "token:product")
            let appeal = try #require(try await review.claimNext(queue: "appeals", reviewer: "token:other"))
            _ = try await review.decide(caseID: appeal.id, DecisionDraft(category: "fraud.scam", violation: false, actions: [], rationale: "genuine",
                                                                       appealOutcome: .overturned), actor: "token:other")

            let texts = try await harness.store.decidedTexts(since: 0)
            #expect(texts.map(\.caseID) == decided)
            #expect(texts.map(\.violation) == [true, false, false])
            #expect(texts.map(\.overturned) == [false, true, false])
            #expect(texts.allSatisfy { $0.packVersion == harness.components.packs.pack.version && $0.text.contains("gift card") })

            let feedback = ClassifierFeedback(labels: ["ham", "scam"], benignLabel: "ham", categories: ["scam": "fraud"])
            #expect(feedback.label(for: "fraud.scam") == "scam")
            #expect(feedback.label(for: "harassment") == nil)
            let (examples, skipped) = feedback.examples(texts)
            #expect(examples.map(\.label) == ["scam", "ham", "ham"] && skipped == 0)

            // A model that flags everything about gift cards agrees with reviewers once in three.
            let model = try TextModel.train([LabelledText(text: "you won a gift card claim it now", label: "scam"),
                                             LabelledText(text: "lunch at noon?", label: "ham")], kind: .naiveBayes, options: TrainingOptions())
            let drift = feedback.drift(texts, classifier: TextModelClassifier(name: "m", version: 1, model: model))
            #expect(drift.rows.count == 1)
            #expect(drift.rows.first?.reviewed == 3 && drift.rows.first?.agreed == 1 && drift.rows.first?.falsePositives == 2)
            #expect(drift.rows.first?.period == "2026-11-23")
            #expect(Set(drift.disagreements.map(\.text.caseID)) == [decided[1], decided[2]])
        }
    }

    @Test func theExposureLimitCapsClaimsPerReviewerPerHour() async throws {
        let harness = try await Harness.make()
        let clock = MovableClock()
        let review = ReviewService(store: harness.store, packs: harness.components.packs, clock: clock)
        // The urgent queue allows 20 cases per reviewer per hour.
        try await harness.store.mergeIntoCases((1...25).map {
            CaseInput(kind: .signal, ref: Int64($0), subject: EntityRef(type: "user", id: "c\($0)"), category: "child_safety", severity: "critical",
                      rule: "r", requestedQueue: "urgent", at: 1)
        }, signalsThrough: 25, reportsThrough: 0, policy: review.policy, now: clock.nowMillis())
        for _ in 0..<20 {
            let claimed = try #require(try await review.claimNext(queue: "urgent", reviewer: "token:tired"))
            _ = try await review.change(caseID: claimed.id, .command(.release, note: nil), actor: "token:tired")
            clock.advance(60_000)
        }
        await #expect(throws: ReviewError.self) { try await review.claimNext(queue: "urgent", reviewer: "token:tired") }
        #expect(try await review.claimNext(queue: "urgent", reviewer: "token:fresh") != nil)
        clock.advance(3_600_000)
        #expect(try await review.claimNext(queue: "urgent", reviewer: "token:tired") != nil)
    }

    @Test func reportsCountOncePerReporterAndMutedReportersWeighNothing() async throws {
        let harness = try await Harness.make()
        let policy = harness.components.review.policy
        try await harness.store.setReporter("user:troll", muted: true, actor: "token:lead", policy: policy, now: 1)
        let subject = EntityRef(type: "user", id: "target")
        let inputs = [("user:r1", 1), ("user:r1", 2), ("user:r2", 3), ("user:troll", 4)].map { reporter, ref in
            CaseInput(kind: .report, ref: Int64(ref), subject: subject, category: "harassment", severity: "medium", reporter: reporter, at: 1)
        }
        try await harness.store.mergeIntoCases(inputs, signalsThrough: 0, reportsThrough: 4, policy: policy, now: 1_795_428_000_000)
        // Merging the same inputs again changes nothing.
        try await harness.store.mergeIntoCases(inputs, signalsThrough: 0, reportsThrough: 4, policy: policy, now: 1_795_428_000_000)
        let cases = try await harness.store.cases(queue: nil, state: nil, assignee: nil, before: nil, limit: 10)
        #expect(cases.count == 1)
        #expect(cases.first?.reports == 3)
        #expect(cases.first?.reporterWeight == 1.0)
        let timeline = try await harness.store.timeline(caseID: try #require(cases.first?.id))
        #expect(timeline.filter { $0.kind == .report }.count == 4)
        #expect(timeline.contains { $0.detail.contains("already reported") })
        #expect(timeline.contains { $0.detail.contains("muted") })
    }

    @Test func deliveriesSurviveAReceiverOutageAndDeadLettersCanBeRedriven() async throws {
        let harness = try await Harness.make()
        let clock = MovableClock()
        let receiver = WebhookReceiver(clock: clock)
        try await receiver.run { url in
            var settings = WebhookSettings(url: url, secret: receiver.secret)
            settings.baseDelay = 1000
            settings.maxAttempts = 4
            let frozen = settings
            let deliverer = OutboxDeliverer(store: harness.store, settings: { frozen }, clock: clock, logger: Logger(label: "test"))
            try await harness.store.audit(actor: "system:test", action: "setup", target: "x", detail: "{}", now: 1)
            // Twenty actions' webhooks, with the receiver failing the first 25 attempts.
            try await harness.store.mergeIntoCases((1...20).map {
                CaseInput(kind: .report, ref: Int64($0), subject: EntityRef(type: "user", id: "u\($0)"), category: "spam", severity: "low",
                          reporter: "user:r", at: 1)
            }, signalsThrough: 0, reportsThrough: 20, policy: harness.components.review.policy, now: clock.nowMillis())
            let review = ReviewService(store: harness.store, packs: harness.components.packs, clock: clock)
            while let claimed = try await review.claimNext(queue: "spam", reviewer: "token:r") {
                _ = try await review.decide(caseID: claimed.id, DecisionDraft(category: "spam", violation: true, actions: [RequestedAction(name: "warn", duration: nil)]),
                                            actor: "token:r")
            }
            receiver.fail(next: 25)
            for _ in 0..<20 {
                try await deliverer.deliverDue(settings)
                clock.advance(60_000)
            }
            #expect(receiver.received.count == 20)
            #expect(Set(receiver.received.map(\.key)).count == 20)
            #expect(receiver.attempts.count == 45)
            #expect(try await harness.store.outbox(state: .pending, limit: 100).isEmpty)

            // A receiver that never answers well: dead after max_attempts, then redriven and delivered.
            _ = try await harness.store.redrive(ids: nil, actor: "system:test", now: clock.nowMillis())
            let claimedAgain = try await harness.store.mergeIntoCases([CaseInput(kind: .report, ref: 99, subject: EntityRef(type: "user", id: "late"),
                                                                                 category: "spam", severity: "low", reporter: "user:r", at: 1)],
                                                                      signalsThrough: 0, reportsThrough: 99, policy: review.policy, now: clock.nowMillis())
            #expect(claimedAgain.count == 1)
            let late = try #require(try await review.claimNext(queue: "spam", reviewer: "token:r"))
            _ = try await review.decide(caseID: late.id, DecisionDraft(category: "spam", violation: true, actions: [RequestedAction(name: "warn", duration: nil)]),
                                        actor: "token:r")
            receiver.fail(next: 1000)
            for _ in 0..<10 {
                try await deliverer.deliverDue(settings)
                clock.advance(600_000)
            }
            let dead = try await harness.store.outbox(state: .dead, limit: 10)
            #expect(dead.count == 1)
            #expect(dead.first?.attempts == 4)
            receiver.fail(next: 0)
            #expect(try await harness.store.redrive(ids: nil, actor: "token:lead", now: clock.nowMillis()) == 1)
            try await deliverer.deliverDue(settings)
            #expect(receiver.received.count == 21)
            #expect(receiver.badSignatures == 0)
        }
    }

    @Test(.enabled(if: Harness.onSQLite, "edits SQLite's file behind the store's back (the PostgreSQL log's triggers are tested in WardenStoreTests)"))
    func auditVerifyFindsAnEditedOrDeletedEntryAndSaysWhere() async throws {
        let harness = try await Harness.make()
        let sqlite = try #require(harness.sqlite)
        // Entries the server made at start (the pack's banks and queries) come first.
        let base = Int64(try await harness.store.auditEntries(after: 0, limit: 1000).count)
        for index in 1...10 {
            try await harness.store.audit(actor: "token:t", action: "case.read", target: "case:\(index)", detail: "{}", now: Int64(index))
        }
        func verify() async throws -> AuditChain.Break? {
            var verifier = AuditChain.Verifier(digest: SQLiteStore.auditDigest)
            do {
                for entry in try await harness.store.auditEntries(after: 0, limit: 100) { try verifier.check(entry) }
                try verifier.finish(expectedHead: try await harness.store.auditHead())
                return nil
            } catch let error as AuditChain.Break {
                return error
            }
        }
        #expect(try await verify() == nil)
        // The log refuses edits through SQL; someone with the file can drop the guard, and verify notices.
        await #expect(throws: (any Error).self) { try await sqlite.tamper("UPDATE audit_log SET target = 'case:99' WHERE seq = \(base + 4)") }
        try await sqlite.tamper("DROP TRIGGER audit_is_append_only_update")
        try await sqlite.tamper("UPDATE audit_log SET target = 'case:99' WHERE seq = \(base + 4)")
        #expect(try await verify()?.seq == base + 4)
        try await sqlite.tamper("UPDATE audit_log SET target = 'case:4' WHERE seq = \(base + 4)")
        #expect(try await verify() == nil)
        try await sqlite.tamper("DROP TRIGGER audit_is_append_only_delete")
        try await sqlite.tamper("DELETE FROM audit_log WHERE seq = \(base + 7)")
        #expect(try await verify()?.seq == base + 8)
    }
}

extension SQLiteStore {
    /// Runs SQL behind the store's back, as someone with the database file could.
    func tamper(_ sql: String) async throws {
        try await pool.writeWithoutTransaction { db in try db.execute(sql: sql) }
    }
}
