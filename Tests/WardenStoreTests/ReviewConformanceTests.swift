import Foundation
import Testing
import WardenCore
import WardenReview
@testable import WardenStore

/// Review storage on both stores: the same day of review, applied through the same planners, reads
/// back the same on SQLite and PostgreSQL; and reviewers on several nodes claiming at once never get
/// the same case.
@Suite struct ReviewConformanceTests {
    static let hour: Int64 = 3_600_000
    static let now: Int64 = 1_800_000_000_000

    static let policy: ReviewPolicy = {
        let sla = SLAPolicy(targets: [.p1: SLATargets(firstAction: hour, resolution: 4 * hour),
                                      .p2: SLATargets(firstAction: 2 * hour, resolution: 8 * hour),
                                      .p3: SLATargets(firstAction: 4 * hour, resolution: 24 * hour),
                                      .p4: SLATargets(firstAction: 8 * hour, resolution: 48 * hour)])
        return ReviewPolicy(
            configuration: ReviewConfiguration(
                queues: [QueueDefinition(name: "general", sla: sla), QueueDefinition(name: "fraud"), QueueDefinition(name: "appeals", sla: sla)],
                routing: [RoutingRule(categories: ["fraud"], queue: "fraud")], defaultQueue: "general", appealsQueue: "appeals",
                defaultReporterTrust: 0.5),
            severities: ["low", "medium", "high"], leaseMillis: 300_000)
    }()

    static let context = DecisionContext(
        catalogue: EnforcementCatalogue(
            actions: [ActionDefinition(name: "no_action"), ActionDefinition(name: "warn"),
                      ActionDefinition(name: "suspend", restriction: .account("DECISION_ACCOUNT_SUSPENDED"), needsDuration: true, reversal: "unsuspend"),
                      ActionDefinition(name: "unsuspend")],
            ladders: [], territorialScope: ["DE", "FR"], contentTypes: ["content": "CONTENT_TYPE_TEXT"]),
        dsaCategories: ["spam": "STATEMENT_CATEGORY_SCAMS_AND_FRAUD"], dsaKeywords: ["spam": ["KEYWORD_OTHER"]])

    static let ana = ActorRef(.user, "ana"), bo = ActorRef(.user, "bo"), cy = ActorRef(.user, "cy")

    /// A day of review, written as lines: every answer and every read the store gives.
    static func reviewDay(_ store: any ConformingStore) async throws -> [String] {
        var lines: [String] = []
        func note(_ label: String, _ value: Any) { lines.append("\(label): \(value)") }
        let u1 = EntityRef(type: "user", id: "u1"), u2 = EntityRef(type: "user", id: "u2")
        let inputs = [
            CaseInput(kind: .signal, ref: 1, subject: u1, category: "spam", severity: "medium", rule: "spam_burst", at: now - hour),
            CaseInput(kind: .signal, ref: 2, subject: u2, category: "spam", severity: "low", rule: "spam_burst", at: now - hour),
            CaseInput(kind: .signal, ref: 3, subject: EntityRef(type: "user", id: "u3"), category: "fraud", severity: "high", rule: "cards", at: now - hour),
            CaseInput(kind: .report, ref: 10, subject: u1, category: "spam", severity: "medium", reporter: "r1", at: now - hour / 2),
            CaseInput(kind: .report, ref: 11, subject: u1, category: "spam", severity: "medium", reporter: "r2", at: now - hour / 2),
            CaseInput(kind: .report, ref: 11, subject: u1, category: "spam", severity: "medium", reporter: "r2", at: now - hour / 2),
        ]
        note("merged", try await store.mergeIntoCases(inputs, signalsThrough: 3, reportsThrough: 11, policy: policy, now: now))
        note("cursors", try await store.caseBuilderCursors())
        note("reporters", try await store.reporters(caseID: 1))
        let claimed = try #require(try await store.claimNext(queue: "general", reviewer: ana, policy: policy, now: now))
        note("claimed", claimed)
        await #expect(throws: ReviewError.self) { try await store.claim(caseID: claimed.id, reviewer: bo, policy: policy, now: now) }
        note("comment", try await store.change(caseID: claimed.id, .comment("looks like a bot"), actor: ana, policy: policy, now: now + 1))
        note("consult", try await store.change(caseID: claimed.id, .consult(with: bo, question: "seen this one?"), actor: ana, policy: policy, now: now + 2))
        let consult = try #require(try await store.consults(for: bo, answered: false, limit: 10).first)
        note("consult asked", consult)
        note("consult answered", try await store.answerConsult(id: consult.id, answer: "yes, twice", actor: bo, policy: policy, now: now + 3))
        let decision = try await store.decide(caseID: claimed.id, DecisionDraft(category: "spam", violation: true,
                                              actions: [RequestedAction(name: "suspend", duration: 24 * hour)], policy: "spam-v1", rationale: "bulk links"),
                                              actor: ana, context: context, policy: policy, now: now + 4)
        note("decision", decision)
        note("strikes", try await store.liveStrikeList(subject: u1, now: now + 5))
        note("live strikes", try await store.liveStrikes(subject: u1.description, policy: "spam", now: now + 5))
        let action = try #require(decision.actions.first)
        note("reversed", try await store.reverse(actionID: action.id, reason: "wrong account", actor: cy, context: context, policy: policy, now: now + 6))
        let appeal = try await store.openAppeal(caseID: claimed.id, appellant: u1, statement: "not me", actor: ActorRef(.system, "appeals"), policy: policy,
                                                now: now + 7)
        note("appeal", appeal)
        note("appeal claimed", try await store.claim(caseID: appeal.id, reviewer: bo, policy: policy, now: now + 8))
        note("appeal decided", try await store.decide(caseID: appeal.id, DecisionDraft(category: "spam", violation: false, actions: [],
                                                      rationale: "a shared device", appealOutcome: .overturned),
                                                      actor: bo, context: context, policy: policy, now: now + 9))
        // A second case claimed and left: its lease lapses.
        note("claimed again", try await store.claimNext(queue: "general", reviewer: ana, policy: policy, now: now + 10) as Any)
        note("leases expired", try await store.expireLeases(policy: policy, now: now + 10 + policy.leaseMillis + 1))
        note("sla events", try await store.raiseSLAEvents(policy: policy, now: now + 30 * hour, limit: 100))
        note("muted", try await store.setReporter("r1", muted: true, actor: cy, policy: policy, now: now + 11))

        for id in Int64(1)...4 {
            note("case \(id)", try await store.caseRecord(id: id) as Any)
            note("timeline \(id)", try await store.timeline(caseID: id))
            note("decisions \(id)", try await store.decisions(caseID: id))
        }
        note("cases", try await store.cases(CaseQuery(limit: 10)).map(\.id))
        var waiting = CaseQuery(queue: "general", limit: 10)
        waiting.waitingInClaimOrder = true
        note("waiting", try await store.cases(waiting).map(\.id))
        note("by subject", try await store.cases(CaseQuery(subject: u1, limit: 10)).map(\.id))
        note("by category", try await store.cases(CaseQuery(category: "spam", limit: 10)).map(\.id))
        note("inbound", try await store.inboundCounts(since: 0))
        note("decision counts", try await store.decisionCounts(since: 0))
        note("resolved", try await store.resolvedCases(since: 0, limit: 10).map(\.id))
        note("queues", try await store.queueCounts(now: now + hour))
        note("queue stats", try await store.queueStats(warningFlags: QueueTallyTests.warningFlags, breachFlags: QueueTallyTests.breachFlags)
            .sorted { ($0.queue, $0.band, $0.state) < ($1.queue, $1.band, $1.state) })
        note("claims", try await store.claims(by: ana, queue: "general", since: 0))
        note("claims by category", try await store.claimsByCategory(by: ana, onDay: ExposurePolicy.startOfDay(now)).sorted { $0.key < $1.key })
        note("claims by category, the day before", try await store.claimsByCategory(by: ana, onDay: ExposurePolicy.startOfDay(now) - 86_400_000))
        note("activity", try await store.activity(by: ana, kind: .comment, since: 0, limit: 10).map { "\($0.caseID) \($0.entry)" })
        note("answered consults", try await store.consults(for: bo, answered: true, limit: 10))

        let due = try await store.dueDeliveries(now: now + 100 * hour, limit: 100)
        note("due", due)
        if let first = due.first {
            try await store.markDelivered([(first.id, 200)], now: now + 12)
        }
        if due.count > 1 {
            try await store.markFailed(due[1].id, error: "HTTP 500", retryAt: now + 20, now: now + 13)
            try await store.markFailed(due[1].id, error: "HTTP 500 again", retryAt: nil, now: now + 14)
        }
        note("outbox", try await store.outbox(state: nil, limit: 100))
        note("dead", try await store.outbox(state: .dead, limit: 100).map(\.id))
        note("redriven", try await store.redrive(ids: nil, actor: cy, now: now + 15))

        let statements = try await store.statements(from: 0, to: Int64.max, after: 0, limit: 10)
        note("statements", statements)
        note("unsubmitted", try await store.unsubmittedStatements(after: 0, limit: 10, refused: false).map(\.decisionID))
        if let statement = statements.first {
            try await store.recordSubmissions([StatementSubmission(decisionID: statement.decisionID, outcome: .refused, detail: "bad field")], now: now + 16)
            note("refused again", try await store.unsubmittedStatements(after: 0, limit: 10, refused: true).map(\.decisionID))
            try await store.recordSubmissions([StatementSubmission(decisionID: statement.decisionID, outcome: .created, uuid: "abc")], now: now + 17)
        }
        note("submission counts", try await store.submissionCounts().sorted { $0.key < $1.key })
        let audit = try await store.auditEntries(after: 0, limit: 1_000)
        var verifier = AuditChain.Verifier(digest: SQLiteStore.auditDigest)
        for entry in audit { try verifier.check(entry) }
        try verifier.finish(expectedHead: try await store.auditHead())
        note("audit", audit.map { "\($0.seq) \($0.actor) \($0.action) \($0.target) \($0.detail)" })
        return lines
    }

    @Test func aDayOfReviewReadsBackTheSameOnBothStores() async throws {
        let sqlite = try await Backend.sqlite.withStore { store, _ in try await Self.reviewDay(store) }
        if let path = ProcessInfo.processInfo.environment["WARDEN_TEST_TRANSCRIPT"] {
            try sqlite.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        }
        // What the day must show on any store.
        let text = sqlite.joined(separator: "\n")
        #expect(text.contains("merged: [1, 2, 3, 1, 1]") && text.contains("reporters: [\"r1\", \"r2\"]"))
        #expect(text.contains("leases expired: 1") && text.contains("redriven: 1"))
        #expect(sqlite.first { $0.hasPrefix("statements:") }?.contains("STATEMENT_CATEGORY_SCAMS_AND_FRAUD") == true)
        guard Backend.underTest.contains(.postgres) else { return }
        let postgres = try await Backend.postgres.withStore { store, _ in try await Self.reviewDay(store) }
        if let path = ProcessInfo.processInfo.environment["WARDEN_TEST_TRANSCRIPT"] {
            try postgres.joined(separator: "\n").write(toFile: path + ".postgres", atomically: true, encoding: .utf8)
        }
        #expect(postgres.count == sqlite.count)
        for (left, right) in zip(sqlite, postgres) where left != right {
            Issue.record("SQLite and PostgreSQL differ:\n  sqlite:   \(left)\n  postgres: \(right)")
        }
    }

    /// Six reviewers on three connections (on PostgreSQL, three nodes) claim from one queue at once
    /// until it is empty: every case is claimed once, by one of them.
    @Test(arguments: Backend.underTest) func claimsFromSeveralNodesNeverDoubleUp(_ backend: Backend) async throws {
        try await backend.withStore { store, reopen in
            let cases = 60
            let inputs = (1...cases).map { n in
                CaseInput(kind: .signal, ref: Int64(n), subject: EntityRef(type: "user", id: "c\(n)"), category: "spam",
                          severity: ["low", "medium", "high"][n % 3], rule: "r", at: Self.now - Int64(n) * 1000)
            }
            try await store.mergeIntoCases(inputs, signalsThrough: Int64(cases), reportsThrough: 0, policy: Self.policy, now: Self.now)
            let nodes = [store, try await reopen(), try await reopen()]
            let claims = try await withThrowingTaskGroup(of: [(Int64, String)].self) { group in
                for (index, node) in nodes.enumerated() {
                    for seat in 0..<2 {
                        let reviewer = ActorRef(.user, "r\(index)-\(seat)")
                        group.addTask {
                            var mine: [(Int64, String)] = []
                            while let record = try await node.claimNext(queue: "general", reviewer: reviewer, policy: Self.policy, now: Self.now) {
                                #expect(record.assignee == reviewer && record.state == .inReview)
                                mine.append((record.id, reviewer.description))
                            }
                            return mine
                        }
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(claims.count == cases)
            #expect(Set(claims.map(\.0)).count == cases)
            for (id, reviewer) in claims {
                #expect(try await store.caseRecord(id: id)?.assignee?.description == reviewer)
            }
            var verifier = AuditChain.Verifier(digest: SQLiteStore.auditDigest)
            for entry in try await store.auditEntries(after: 0, limit: 10_000) { try verifier.check(entry) }
            try verifier.finish(expectedHead: try await store.auditHead())
        }
    }

    /// Violations that name no actions take the category's ladder step from the subject's strikes
    /// counted inside the decision's own transaction (sub-policies count under their policy), and the
    /// macro's message names the step actually taken.
    @Test(arguments: Backend.underTest) func violationsWithoutActionsClimbTheLadder(_ backend: Backend) async throws {
        var context = Self.context
        context.catalogue.ladders = [EnforcementLadder(category: "spam", steps: [LadderStep(action: "warn"), LadderStep(action: "suspend", duration: Self.hour),
                                                                                LadderStep(action: "suspend", duration: 24 * Self.hour)],
                                                       strikeExpiry: 90 * 24 * Self.hour)]
        context.renderMacro = { draft, record in
            OutgoingMessage(kind: .userNotice, macro: draft.macro ?? "", text: "\(record.subject) gets \(draft.actions.map(\.name).joined(separator: ", "))")
        }
        try await backend.withStore { store, _ in
            let subject = EntityRef(type: "user", id: "repeat")
            var steps: [String] = []
            // One open case per subject at a time: each signal opens the next case once the last is decided.
            for (n, category) in ["spam", "spam.links", "spam", "spam.links"].enumerated() {
                let at = Self.now + Int64(n) * 10
                let input = CaseInput(kind: .signal, ref: Int64(n + 1), subject: subject, category: category, severity: "high", rule: "r", at: at)
                try await store.mergeIntoCases([input], signalsThrough: Int64(n + 1), reportsThrough: 0, policy: Self.policy, now: at)
                let record = try #require(try await store.claimNext(queue: "general", reviewer: Self.ana, policy: Self.policy, now: at + 1))
                let decision = try await store.decide(caseID: record.id, DecisionDraft(category: category, violation: true, actions: [], macro: "notice"),
                                                      actor: Self.ana, context: context, policy: Self.policy, now: at + 2)
                let step = decision.actions.map { "\($0.action)\($0.duration.map { " \($0 / Self.hour)h" } ?? "")" }.joined(separator: ", ")
                steps.append(step)
                let notice = try await store.outbox(state: nil, limit: 100).first { $0.idempotencyKey == "decision:\(decision.id):notice" }
                #expect(notice?.body.contains("\(subject) gets \(decision.actions.map(\.action).joined(separator: ", "))") == true)
            }
            #expect(steps == ["warn", "suspend 1h", "suspend 24h", "suspend 24h"])
            #expect(try await store.liveStrikes(subject: subject.description, policy: "spam", now: Self.now + 100) == 4)
            // A decision that names its actions takes them as named.
            let input = CaseInput(kind: .signal, ref: 9, subject: subject, category: "spam", severity: "high", rule: "r", at: Self.now + 100)
            try await store.mergeIntoCases([input], signalsThrough: 9, reportsThrough: 0, policy: Self.policy, now: Self.now + 100)
            let record = try #require(try await store.claimNext(queue: "general", reviewer: Self.ana, policy: Self.policy, now: Self.now + 101))
            let named = try await store.decide(caseID: record.id, DecisionDraft(category: "spam", violation: true, actions: [RequestedAction(name: "warn", duration: nil)]),
                                               actor: Self.ana, context: context, policy: Self.policy, now: Self.now + 102)
            #expect(named.actions.map(\.action) == ["warn"])
        }
    }

    /// A reviewer who has reached the daily exposure cap is passed over the sensitive categories'
    /// cases by claim-next, from the tally read inside the claim's own transaction.
    @Test(arguments: Backend.underTest) func claimNextPassesOverSensitiveCasesAtTheCap(_ backend: Backend) async throws {
        var policy = Self.policy
        policy.configuration.routing = []
        policy.configuration.exposure = ExposurePolicy(sensitiveCategories: ["fraud"], dailyCap: 2)
        try await backend.withStore { store, _ in
            // Most urgent first: four fraud cases (high), then two spam cases (low).
            let categories = ["fraud", "fraud", "fraud.cards", "fraud", "spam", "spam"]
            let inputs = categories.enumerated().map { n, category -> CaseInput in
                CaseInput(kind: .signal, ref: Int64(n + 1), subject: EntityRef(type: "user", id: "s\(n)"), category: category,
                          severity: category == "spam" ? "low" : "high", rule: "r", at: Self.now - Int64(n + 1) * 1000)
            }
            try await store.mergeIntoCases(inputs, signalsThrough: 6, reportsThrough: 0, policy: policy, now: Self.now)
            let ana = Self.ana
            var claimed: [String] = []
            while let record = try await store.claimNext(queue: "general", reviewer: ana, policy: policy, now: Self.now) {
                claimed.append(record.category)
            }
            // Two fraud cases reach the cap; the rest (a sub-category among them) are passed over for the spam.
            #expect(claimed == ["fraud", "fraud", "spam", "spam"])
            #expect(try await store.claimsByCategory(by: ana, onDay: ExposurePolicy.startOfDay(Self.now)) == ["fraud": 2, "spam": 2])
            // Someone else is not capped, and the next UTC day starts afresh.
            #expect(try await store.claimNext(queue: "general", reviewer: Self.bo, policy: policy, now: Self.now)?.category == "fraud.cards")
            let tomorrow = ExposurePolicy.startOfDay(Self.now) + 86_400_000
            #expect(try await store.claimNext(queue: "general", reviewer: ana, policy: policy, now: tomorrow)?.category == "fraud")
        }
    }
}
