import Crypto
import Foundation
import GRDB
import WardenQuality
public import WardenCore
public import WardenReview

// Review: each public method that changes something is one write transaction in which the store
// loads what the operation needs, asks ``ReviewPlanner`` (the review rules, pure) for a plan and
// applies it with ``apply(_:_:)``. Refusals are the planner's; nothing here decides anything.

extension SQLiteStore: CaseStore, OutboxStore, StatementStore, AuditStore {
    static let signalCursorName = "cases.signals"
    static let reportCursorName = "cases.reports"

    // MARK: Case builder

    public func caseBuilderCursors() async throws -> (signals: Int64, reports: Int64) {
        try await pool.read { db in
            let signals = try db.cachedOne(Int64.self, sql: "SELECT seq FROM consumer_cursor WHERE name = ?", arguments: [Self.signalCursorName]) ?? 0
            let reports = try db.cachedOne(Int64.self, sql: "SELECT seq FROM consumer_cursor WHERE name = ?", arguments: [Self.reportCursorName]) ?? 0
            return (signals, reports)
        }
    }

    public func signals(after id: Int64, limit: Int) async throws -> [StoredSignal] {
        try await pool.read { db in
            try db.cachedRows(sql: "SELECT * FROM signal WHERE id > ? ORDER BY id LIMIT ?", arguments: [id, limit]).map(Self.signal(from:))
        }
    }

    @discardableResult
    public func mergeIntoCases(_ inputs: [CaseInput], signalsThrough: Int64, reportsThrough: Int64, policy: ReviewPolicy, now: Int64) async throws -> [Int64] {
        try await pool.write { db in
            let planner = ReviewPlanner(policy: policy, now: now)
            var touched: [Int64] = []
            for input in inputs {
                // Each input sees what the ones before it wrote (two reports of one subject in a batch share a case).
                let (plan, record) = planner.merge(input, try Self.mergeState(db, input))
                try Self.apply(plan, db)
                if let record { touched.append(record.id) }
            }
            for (name, seq) in [(Self.signalCursorName, signalsThrough), (Self.reportCursorName, reportsThrough)] {
                try db.run(sql: "INSERT INTO consumer_cursor (name, seq) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET seq = max(seq, excluded.seq)",
                           arguments: [name, seq])
            }
            return touched
        }
    }

    static func mergeState(_ db: Database, _ input: CaseInput) throws -> MergeState {
        if try db.cachedOne(Bool.self, sql: "SELECT 1 FROM case_item WHERE kind = ? AND ref = ?", arguments: [input.kind.rawValue, input.ref]) == true {
            return MergeState(alreadyMerged: true, openCase: nil, nextCaseID: 0)
        }
        let open = try db.cachedOne(Int64.self, sql: """
            SELECT id FROM review_case WHERE subject = ? AND kind = 'review' AND state IN \(CaseState.openStatesSQL)
                AND golden_item IS NULL
            """, arguments: [input.subject.description]).flatMap { try loadCase(db, $0) }
        var state = MergeState(alreadyMerged: false, openCase: open, nextCaseID: open == nil ? try nextID(db, "review_case") : 0)
        if input.kind == .report {
            let reporter = input.reporter ?? "unknown"
            state.reporter = try loadReporter(db, reporter)
            if let open {
                state.reporterOnCase = try db.cachedOne(Bool.self, sql: "SELECT 1 FROM case_item WHERE case_id = ? AND reporter = ?",
                                                        arguments: [open.id, reporter]) == true
            }
        }
        return state
    }

    // MARK: Claiming and moving

    public func claimNext(queue: String, reviewer: ActorRef, policy: ReviewPolicy, now: Int64) async throws -> CaseRecord? {
        try await batcher.write { db in
            // The daily exposure cap, from the tally inside the claim's own transaction.
            let exposure = policy.configuration.exposure
            let avoiding = exposure.limitsClaims
                ? exposure.avoided(claimedToday: try Self.claimsByCategory(db, by: reviewer, onDay: ExposurePolicy.startOfDay(now))) : []
            var avoid = ""
            var arguments: StatementArguments = [queue, reviewer.description]
            for category in avoiding {
                avoid += " AND category <> ? AND substr(category, 1, \(category.utf8.count + 1)) <> ?"
                arguments += [category, category + "."]
            }
            guard let id = try db.cachedOne(Int64.self, sql: """
                SELECT id FROM review_case INDEXED BY case_waiting
                WHERE queue = ? AND state IN ('open', 'escalated') AND (excluded_reviewer IS NULL OR excluded_reviewer <> ?)\(avoid)
                ORDER BY band, due_at, id LIMIT 1
                """, arguments: arguments), let record = try Self.loadCase(db, id) else { return nil }
            let (plan, claimed) = try ReviewPlanner(policy: policy, now: now).claim(record, reviewer: reviewer)
            try Self.apply(plan, db)
            return claimed
        }
    }

    public func claim(caseID: Int64, reviewer: ActorRef, policy: ReviewPolicy, now: Int64) async throws -> CaseRecord {
        try await batcher.write { db in
            let (plan, claimed) = try ReviewPlanner(policy: policy, now: now).claim(try Self.requireCase(db, caseID), reviewer: reviewer)
            try Self.apply(plan, db)
            return claimed
        }
    }

    public func change(caseID: Int64, _ change: CaseChange, actor: ActorRef, policy: ReviewPolicy, now: Int64) async throws -> CaseRecord {
        try await batcher.write { db in
            let record = try Self.requireCase(db, caseID)
            var nextConsultID: Int64 = 0
            if case .consult = change { nextConsultID = try Self.nextID(db, "case_consult") }
            let (plan, changed) = try ReviewPlanner(policy: policy, now: now).change(record, change, actor: actor, nextConsultID: nextConsultID)
            try Self.apply(plan, db)
            return changed
        }
    }

    public func expireLeases(policy: ReviewPolicy, now: Int64) async throws -> Int {
        try await pool.write { db in
            let ids = try db.cachedAll(Int64.self, sql: """
                SELECT id FROM review_case INDEXED BY case_leases WHERE state = 'in_review' AND lease_expires_at <= ? LIMIT 1000
                """, arguments: [now])
            let planner = ReviewPlanner(policy: policy, now: now)
            for id in ids {
                guard let record = try Self.loadCase(db, id) else { continue }
                try Self.apply(try planner.expireLease(record), db)
            }
            return ids.count
        }
    }

    public func raiseSLAEvents(policy: ReviewPolicy, now: Int64, limit: Int) async throws -> [RaisedSLAEvent] {
        try await pool.write { db in
            let ids = try db.cachedAll(Int64.self, sql: "SELECT id FROM review_case INDEXED BY case_sla WHERE sla_next_at <= ? ORDER BY sla_next_at LIMIT ?",
                                       arguments: [now, limit])
            let planner = ReviewPlanner(policy: policy, now: now)
            var raised: [RaisedSLAEvent] = []
            for id in ids {
                guard let record = try Self.loadCase(db, id) else { continue }
                let (plan, events) = planner.raiseSLAEvents(record)
                try Self.apply(plan, db)
                raised += events
            }
            return raised
        }
    }

    // MARK: Consults and reporters

    static let consultSelect = """
        SELECT c.*, r.queue, r.state, r.subject, r.category, r.assignee FROM case_consult c JOIN review_case r ON r.id = c.case_id
        """

    public func consults(for reviewer: ActorRef, answered: Bool?, limit: Int) async throws -> [ConsultRecord] {
        try await pool.read { db in
            let filter = answered.map { $0 ? " AND c.answered_at IS NOT NULL" : " AND c.answered_at IS NULL" } ?? ""
            return try db.fetchAll(ConsultRecord.self, sql: "\(Self.consultSelect) WHERE c.reviewer = ?\(filter) ORDER BY c.id DESC LIMIT ?",
                                              arguments: [reviewer.description, limit])
        }
    }

    public func consult(id: Int64) async throws -> ConsultRecord? {
        try await pool.read { db in try Self.loadConsult(db, id) }
    }

    static func loadConsult(_ db: Database, _ id: Int64) throws -> ConsultRecord? {
        try db.fetchOne(ConsultRecord.self, sql: "\(consultSelect) WHERE c.id = ?", arguments: [id])
    }

    public func answerConsult(id: Int64, answer: String, actor: ActorRef, policy: ReviewPolicy, now: Int64) async throws -> ConsultRecord {
        try await batcher.write { db in
            guard let consult = try Self.loadConsult(db, id) else { throw ReviewError(.notFound, "there is no consult \(id)") }
            let (plan, answered) = try ReviewPlanner(policy: policy, now: now).answer(consult, answer: answer, actor: actor)
            try Self.apply(plan, db)
            return answered
        }
    }

    public func setReporter(_ reporter: String, muted: Bool, actor: ActorRef, policy: ReviewPolicy, now: Int64) async throws {
        try await batcher.write { db in
            let plan = ReviewPlanner(policy: policy, now: now).setReporter(try Self.loadReporter(db, reporter), id: reporter, muted: muted, actor: actor)
            try Self.apply(plan, db)
        }
    }

    static func loadReporter(_ db: Database, _ id: String) throws -> ReporterRecord? {
        try db.fetchOne(ReporterRecord.self, sql: "SELECT * FROM reporter WHERE id = ?", arguments: [id])
    }

    // MARK: Decisions, actions, appeals

    public func decide(caseID: Int64, _ draft: DecisionDraft, actor: ActorRef, context: DecisionContext, policy: ReviewPolicy, now: Int64) async throws -> DecisionRecord {
        try await batcher.write { db in
            let record = try Self.requireCase(db, caseID)
            let reporters = try Self.reporters(db, caseID: caseID).compactMap { try Self.loadReporter(db, $0) }
            var appealed: AppealedDecision?
            if record.kind == .appeal, let original = record.appealOf, let appealedCase = try Self.loadCase(db, original) {
                let latest = try db.cachedRow(sql: "SELECT id, category FROM decision WHERE case_id = ? ORDER BY id DESC LIMIT 1", arguments: [original])
                let decisionID: Int64? = latest?["id"]
                let live = try decisionID.map { id in
                    try db.fetchAll(ActionRecord.self, sql: """
                        SELECT * FROM enforcement_action WHERE decision_id = ? AND reverses IS NULL AND reversed_at IS NULL ORDER BY id
                        """, arguments: [id])
                } ?? []
                appealed = AppealedDecision(record: appealedCase, decisionID: decisionID, category: latest?["category"], liveActions: live)
            }
            let golden = try db.cachedRow(sql: """
                SELECT g.id, g.answer FROM review_case c JOIN golden_item g ON g.id = c.golden_item WHERE c.id = ?
                """, arguments: [caseID]).map { GoldenKey(id: $0[0], answer: $0[1]) }
            let strikes = try ReviewPlanner.ladder(for: draft, on: record, context: context)
                .map { try Self.liveStrikes(db, subject: record.subject.description, policy: $0.category, now: now) } ?? 0
            let state = DecisionState(record: record, reporters: reporters, nextDecisionID: try Self.nextID(db, "decision"),
                                      nextActionID: try Self.nextID(db, "enforcement_action"), appealed: appealed, golden: golden,
                                      liveStrikes: strikes)
            let (plan, decision) = try ReviewPlanner(policy: policy, now: now).decide(state, draft, actor: actor, context: context)
            try Self.apply(plan, db)
            return decision
        }
    }

    public func reverse(actionID: Int64, reason: String, actor: ActorRef, context: DecisionContext, policy: ReviewPolicy, now: Int64) async throws -> ActionRecord {
        try await batcher.write { db in
            guard let action = try Self.action(db, actionID) else { throw ReviewError(.notFound, "there is no action \(actionID)") }
            guard let record = try Self.loadCase(db, action.caseID) else { throw ReviewError(.notFound, "case \(action.caseID) is missing") }
            let category = try db.cachedOne(String.self, sql: "SELECT category FROM decision WHERE id = ?", arguments: [action.decisionID]) ?? record.category
            let state = ReversalState(action: action, record: record, category: category, nextActionID: try Self.nextID(db, "enforcement_action"))
            let (plan, reversed) = try ReviewPlanner(policy: policy, now: now).reverse(state, reason: reason, actor: actor, context: context)
            try Self.apply(plan, db)
            return reversed
        }
    }

    public func openAppeal(caseID: Int64, appellant: EntityRef, statement: String?, actor: ActorRef, policy: ReviewPolicy, now: Int64) async throws -> CaseRecord {
        try await batcher.write { db in
            let record = try Self.requireCase(db, caseID)
            let decider = try db.cachedOne(String.self, sql: "SELECT decided_by FROM decision WHERE case_id = ? ORDER BY id DESC LIMIT 1", arguments: [caseID])
                .map { text throws in try ActorRef(stored: text, table: "decision", column: "decided_by") }
            let state = AppealState(record: record, decider: decider, nextCaseID: try Self.nextID(db, "review_case"))
            let (plan, appeal) = try ReviewPlanner(policy: policy, now: now).openAppeal(state, appellant: appellant, statement: statement, actor: actor)
            try Self.apply(plan, db)
            return appeal
        }
    }

    // MARK: Applying plans

    /// The identifier the next row of `table` gets. Review writes run one at a time (one writer),
    /// so the identifier read inside the write transaction is the one the insert then uses.
    static func nextID(_ db: Database, _ table: String) throws -> Int64 {
        try db.cachedOne(Int64.self, sql: "SELECT coalesce(max(id), 0) + 1 FROM \(table)") ?? 1
    }

    /// Writes a plan: every list in the order the planner made it.
    static func apply(_ plan: ReviewPlan, _ db: Database) throws {
        for record in plan.insertedCases { try insertCase(db, record, golden: plan.goldenCases.first { $0.caseID == record.id }?.goldenID) }
        for record in plan.updatedCases { try saveCase(db, record) }
        for item in plan.items {
            try db.run(sql: "INSERT INTO case_item (kind, ref, case_id, reporter, weight, duplicate, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       arguments: [item.kind.rawValue, item.ref, item.caseID, item.reporter, item.weight, item.duplicate, item.at])
        }
        for reporter in plan.reporters {
            try db.run(sql: """
                INSERT INTO reporter (id, trust, muted, reports, upheld, rejected) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET trust = excluded.trust, muted = excluded.muted, reports = excluded.reports,
                    upheld = excluded.upheld, rejected = excluded.rejected
                """, arguments: [reporter.id, reporter.trust, reporter.muted, reporter.reports, reporter.upheld, reporter.rejected])
        }
        for decision in plan.decisions {
            let draft = decision.draft
            try db.run(sql: """
                INSERT INTO decision (id, case_id, decided_by, at, category, violation, policy, rationale, tree_path, macro, appeal_outcome, pack_version)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [decision.id, decision.caseID, decision.decidedBy.description, decision.at, draft.category, draft.violation, draft.policy,
                                 draft.rationale, draft.treePath, draft.macro, draft.appealOutcome?.rawValue, draft.packVersion])
        }
        for action in plan.actions {
            try db.run(sql: """
                INSERT INTO enforcement_action (id, decision_id, case_id, subject, action, duration, created_at, reverses) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [action.id, action.decisionID, action.caseID, action.subject.description, action.action, action.duration, action.createdAt, action.reverses])
        }
        for reversal in plan.reversals {
            try db.run(sql: "UPDATE enforcement_action SET reversed_at = ?, reversed_by = ?, reversal_reason = ? WHERE id = ?",
                       arguments: [reversal.at, reversal.by.description, reversal.reason, reversal.actionID])
        }
        for strike in plan.strikes {
            try db.run(sql: "INSERT INTO strike (subject, policy, decision_id, at, expires_at) VALUES (?, ?, ?, ?, ?)",
                       arguments: [strike.subject.description, strike.policy, strike.decisionID, strike.at, strike.expiresAt])
        }
        for lifted in plan.liftedStrikes {
            try db.run(sql: "UPDATE strike SET removed_at = ? WHERE decision_id = ? AND removed_at IS NULL", arguments: [lifted.at, lifted.decisionID])
        }
        for statement in plan.statements {
            try db.run(sql: "INSERT INTO statement_of_reasons (decision_id, created_at, body) VALUES (?, ?, ?)",
                       arguments: [statement.decisionID, statement.createdAt, statement.body])
        }
        for consult in plan.consults {
            try db.run(sql: "INSERT INTO case_consult (id, case_id, asked_by, reviewer, question, asked_at) VALUES (?, ?, ?, ?, ?, ?)",
                       arguments: [consult.id, consult.caseID, consult.askedBy.description, consult.reviewer.description, consult.question, consult.askedAt])
        }
        for answer in plan.answers {
            try db.run(sql: "UPDATE case_consult SET answer = ?, answered_at = ? WHERE id = ?", arguments: [answer.answer, answer.at, answer.consultID])
        }
        for signal in plan.caseSignals {
            try db.run(sql: """
                INSERT INTO signal (case_id, rule, rule_version, category, severity, subject, reason, explanation, queue, effects, occurred_at, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '[]', ?, ?) ON CONFLICT DO NOTHING
                """, arguments: [signal.caseID, signal.rule, signal.ruleVersion, signal.category, signal.severity, signal.subject.description, signal.reason,
                                 signal.explanation, signal.queue, signal.at, signal.at])
        }
        for entry in plan.timeline {
            try db.run(sql: "INSERT INTO case_timeline (case_id, at, actor, kind, from_state, to_state, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       arguments: [entry.caseID, entry.at, entry.actor.description, entry.kind.rawValue, entry.from?.rawValue, entry.to?.rawValue, entry.detail])
        }
        for entry in plan.audit {
            try appendAudit(db, at: entry.at, actor: entry.actor.description, action: entry.action, target: entry.target, detail: entry.detail)
        }
        try enqueue(plan.outbox, db)
        for golden in plan.goldenCases {
            try db.run(sql: "INSERT INTO golden_case (case_id, golden_id, reviewer, queue, mixed_at) VALUES (?, ?, ?, ?, ?)",
                       arguments: [golden.caseID, golden.goldenID, golden.reviewer.description, golden.queue, golden.at])
        }
        for check in plan.goldenChecks {
            try db.run(sql: """
                UPDATE golden_case SET decision_id = ?, decided_by = ?, answer = ?, expected = ?, correct = ?, decided_at = ? WHERE case_id = ?
                """, arguments: [check.decisionID, check.decidedBy.description, check.answer, check.expected, check.correct, check.at, check.caseID])
        }
    }

    /// Queues deliveries (once per idempotency key).
    static func enqueue(_ messages: [OutboxMessage], _ db: Database) throws {
        for message in messages {
            try db.run(sql: """
                INSERT INTO outbox (topic, idempotency_key, ordering_key, body, state, attempts, next_attempt_at, created_at, destination)
                VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING
                """, arguments: [message.topic, message.idempotencyKey, message.orderingKey, message.body, message.at, message.at, message.destination])
        }
    }

    // MARK: Reads


    public func caseRecord(id: Int64) async throws -> CaseRecord? {
        try await pool.read { db in try Self.loadCase(db, id) }
    }

    public func timeline(caseID: Int64) async throws -> [TimelineEntry] {
        try await pool.read { db in
            try db.fetchAll(TimelineEntry.self, sql: "SELECT * FROM case_timeline WHERE case_id = ? ORDER BY id", arguments: [caseID])
        }
    }

    public func claimsByCategory(by reviewer: ActorRef, onDay day: Int64) async throws -> [String: Int] {
        try await pool.read { db in try Self.claimsByCategory(db, by: reviewer, onDay: day) }
    }

    static func claimsByCategory(_ db: Database, by reviewer: ActorRef, onDay day: Int64) throws -> [String: Int] {
        var claims: [String: Int] = [:]
        for row in try db.cachedRows(sql: "SELECT category, claims FROM claim_tally WHERE actor = ? AND day = ?", arguments: [reviewer.description, day]) {
            claims[row[0]] = row[1]
        }
        return claims
    }

    public func activity(by actor: ActorRef, kind: TimelineEntry.Kind, since: Int64, limit: Int) async throws -> [(caseID: Int64, entry: TimelineEntry)] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM case_timeline WHERE actor = ? AND at >= ? AND kind = ? ORDER BY at DESC, id DESC LIMIT ?
                """, arguments: [actor.description, since, kind.rawValue, limit]).map { row in
                (row["case_id"], try TimelineEntry(row: row))
            }
        }
    }

    public func decisions(caseID: Int64) async throws -> [DecisionRecord] {
        try await pool.read { db in try Self.decisionRecords(db, caseID: caseID) }
    }

    public func cases(_ query: CaseQuery) async throws -> [CaseRecord] {
        try await pool.read { db in
            var conditions: [String] = []
            var arguments = StatementArguments()
            func add(_ condition: String, _ values: [any DatabaseValueConvertible]) {
                conditions.append(condition)
                arguments += StatementArguments(values)
            }
            if let queue = query.queue { add("queue = ?", [queue]) }
            if query.waitingInClaimOrder {
                add("state IN ('open', 'escalated')", [])
            } else {
                add("id < ?", [query.before ?? Int64.max])
                if let state = query.state { add("state = ?", [state.rawValue]) }
            }
            if let assignee = query.assignee { add("assignee = ?", [assignee.description]) }
            if query.held { add("assignee IS NOT NULL AND state IN ('in_review', 'on_hold')", []) }
            if let subject = query.subject { add("subject = ?", [subject.description]) }
            if let category = query.category {
                add("(category = ? OR substr(category, 1, length(?) + 1) = ? || '.')", [category, category, category])
            }
            if let from = query.createdFrom { add("created_at >= ?", [from]) }
            if let to = query.createdBefore { add("created_at < ?", [to]) }
            if let match = query.ftsQuery { add("id IN (SELECT case_id FROM case_search WHERE case_search MATCH ?)", [match]) }
            arguments += [query.limit]
            // Waiting cases of a queue come in the claim path's own order and index (what a reviewer gets next).
            let (index, order) = query.waitingInClaimOrder && query.queue != nil ? ("INDEXED BY case_waiting", "band, due_at, id") : ("", "id DESC")
            return try db.fetchAll(CaseRecord.self, sql: """
                SELECT \(CaseColumn.selectList) FROM review_case \(index) WHERE \(conditions.joined(separator: " AND ")) ORDER BY \(order) LIMIT ?
                """, arguments: arguments)
        }
    }

    public func inboundCounts(since: Int64) async throws -> [InboundCount] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT created_at - (created_at % 86400000) AS day, source, category, count(*) AS n
                FROM review_case INDEXED BY case_by_created WHERE created_at >= ? GROUP BY day, source, category ORDER BY day
                """, arguments: [since]).map { InboundCount(day: $0["day"], source: $0["source"], category: $0["category"], count: $0["n"]) }
        }
    }

    public func decisionCounts(since: Int64) async throws -> [DecisionCount] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT at - (at % 86400000) AS day,
                       coalesce(appeal_outcome, CASE WHEN violation = 1 THEN 'violation' ELSE 'no_violation' END) AS outcome, count(*) AS n
                FROM decision INDEXED BY decision_by_time WHERE at >= ? GROUP BY day, outcome ORDER BY day
                """, arguments: [since]).map { DecisionCount(day: $0["day"], outcome: $0["outcome"], count: $0["n"]) }
        }
    }

    public func resolvedCases(since: Int64, limit: Int) async throws -> [CaseRecord] {
        try await pool.read { db in
            try db.fetchAll(CaseRecord.self, sql: """
                SELECT \(CaseColumn.selectList) FROM review_case INDEXED BY case_by_resolved WHERE resolved_at >= ? ORDER BY resolved_at DESC LIMIT ?
                """, arguments: [since, limit])
        }
    }

    public func liveStrikeList(subject: EntityRef, now: Int64) async throws -> [Strike] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT policy, decision_id, at, expires_at FROM strike WHERE subject = ? AND expires_at > ? AND removed_at IS NULL ORDER BY at DESC
                """, arguments: [subject.description, now]).map { row in
                Strike(subject: subject, policy: row["policy"], decisionID: row["decision_id"], at: row["at"], expiresAt: row["expires_at"])
            }
        }
    }

    public func queueCounts(now: Int64) async throws -> [QueueCount] {
        try await pool.read { db in
            try db.cachedRows(sql: """
                SELECT queue, state, count(*) AS n, sum(CASE WHEN due_at <= ? THEN 1 ELSE 0 END) AS breached
                FROM review_case INDEXED BY case_by_queue_state WHERE state IN \(CaseState.openStatesSQL) GROUP BY queue, state ORDER BY queue, state
                """, arguments: [now]).map { row in
                QueueCount(queue: row["queue"], state: try row.decode(CaseState.self, "state", table: "review_case"), count: row["n"], breached: row["breached"])
            }
        }
    }

    public func decidedTexts(since: Int64) async throws -> [DecidedText] {
        try await pool.read { db in
            // The latest decision of each review case; an overturning appeal reverses its verdict.
            let rows = try Row.fetchAll(db, sql: """
                SELECT d.id, d.case_id, d.at, d.category, d.violation, d.pack_version, e.body,
                       EXISTS (SELECT 1 FROM review_case a JOIN decision ad ON ad.case_id = a.id
                               WHERE a.appeal_of = d.case_id AND ad.appeal_outcome = 'overturned') AS overturned,
                       q.verdict_violation, q.verdict_category, q.ruling
                FROM decision d
                JOIN review_case c ON c.id = d.case_id AND c.kind = 'review'
                LEFT JOIN qa_item q ON q.decision_id = d.id
                JOIN case_item ci INDEXED BY case_item_by_case ON ci.case_id = d.case_id AND ci.kind = 'signal'
                JOIN signal s ON s.id = ci.ref
                JOIN event e ON e.seq = s.event_seq
                WHERE d.at >= ? AND d.id = (SELECT max(id) FROM decision WHERE case_id = d.case_id)
                ORDER BY d.id, e.seq
                """, arguments: [since])
            var seen = Set<String>()
            var texts: [DecidedText] = []
            for row in rows {
                let body: String = row[6]
                guard let text = JSONValue.parse(Array(body.utf8))?["data"]?["text"], case .string(let content) = text, !content.isEmpty else { continue }
                let decisionID: Int64 = row[0]
                guard seen.insert("\(decisionID)\u{0}\(content)").inserted else { continue }
                // The store loads the decision, the appeal and the QA verdict; FinalFinding says which wins.
                let verdict = (row[8] as Bool?).map { QAVerdict(violation: $0, category: row[9], errors: [], notes: nil) }
                let final = FinalFinding.of(violation: row[4], category: row[3], overturned: row[7], qaVerdict: verdict,
                                            ruling: (row[10] as String?).flatMap(QARuling.init(rawValue:)))
                texts.append(DecidedText(decisionID: decisionID, caseID: row[1], at: row[2], category: final.category, violation: final.violation,
                                         overturned: row[7], correctedByQA: final.correctedByQA, packVersion: row[5], text: content))
            }
            return texts
        }
    }

    public func claims(by reviewer: ActorRef, queue: String, since: Int64) async throws -> Int {
        try await pool.read { db in
            try db.cachedOne(Int.self, sql: """
                SELECT count(*) FROM case_timeline t INDEXED BY timeline_claims_by_actor JOIN review_case c ON c.id = t.case_id
                WHERE t.actor = ? AND t.at > ? AND t.kind = 'transition' AND t.to_state = 'in_review' AND t.from_state IN ('open', 'escalated')
                  AND c.queue = ?
                """, arguments: [reviewer.description, since, queue]) ?? 0
        }
    }

    public func liveStrikes(subject: String, policy: String, now: Int64) async throws -> Int {
        try await pool.read { db in try Self.liveStrikes(db, subject: subject, policy: policy, now: now) }
    }

    public func reporters(caseID: Int64) async throws -> [String] {
        try await pool.read { db in try Self.reporters(db, caseID: caseID) }
    }

    /// The policy's own strikes and those of its sub-policies (`policy.*`). The sub-policies are the
    /// names from `policy.` up to `policy/` (the next byte after the dot), a range the cached
    /// statement keeps: a `LIKE` with a bound pattern makes SQLite prepare the statement again on
    /// every binding, which a profile of the review path found costing as much as the read itself.
    /// Case-sensitive, as PostgreSQL's `starts_with`.
    private static func liveStrikes(_ db: Database, subject: String, policy: String, now: Int64) throws -> Int {
        try db.cachedOne(Int.self, sql: """
            SELECT count(*) FROM strike WHERE subject = ? AND (policy = ? OR (policy >= ? AND policy < ?)) AND expires_at > ? AND removed_at IS NULL
            """, arguments: [subject, policy, policy + ".", policy + "/", now]) ?? 0
    }

    // MARK: Outbox

    public func dueDeliveries(now: Int64, limit: Int, destination: String) async throws -> [OutboxItem] {
        try await pool.read { db in
            // Only the first pending delivery of each ordering key is ever due.
            try db.cachedRows(sql: """
                SELECT * FROM outbox o INDEXED BY outbox_due WHERE state = 'pending' AND destination = ? AND next_attempt_at <= ?
                AND NOT EXISTS (SELECT 1 FROM outbox p INDEXED BY outbox_pending_in_order
                                WHERE p.state = 'pending' AND p.ordering_key = o.ordering_key AND p.id < o.id)
                ORDER BY next_attempt_at, id LIMIT ?
                """, arguments: [destination, now, limit]).map(OutboxItem.init(row:))
        }
    }

    public func markDelivered(_ receipts: [(id: Int64, status: Int)], now: Int64) async throws {
        guard !receipts.isEmpty else { return }
        try await batcher.write { db in
            for receipt in receipts {
                try db.run(sql: """
                    UPDATE outbox SET state = 'delivered', attempts = attempts + 1, last_status = ?, last_error = NULL, delivered_at = ?
                    WHERE id = ? AND state = 'pending'
                    """, arguments: [receipt.status, now, receipt.id])
            }
        }
    }

    public func markFailed(_ id: Int64, error: String, retryAt: Int64?, now: Int64) async throws {
        try await batcher.write { db in
            if let retryAt {
                try db.run(sql: "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ? AND state = 'pending'",
                               arguments: [error, retryAt, id])
            } else {
                try db.run(sql: "UPDATE outbox SET attempts = attempts + 1, last_error = ?, state = 'dead' WHERE id = ? AND state = 'pending'",
                               arguments: [error, id])
                try Self.appendAudit(db, at: now, actor: "system:outbox", action: "outbox.dead", target: "delivery:\(id)", detail: #"{"error":\#(jsonString(error))}"#)
            }
        }
    }

    public func redrive(ids: [Int64]?, actor: ActorRef, now: Int64) async throws -> Int {
        try await pool.write { db in
            let targets = try ids ?? db.cachedAll(Int64.self, sql: "SELECT id FROM outbox INDEXED BY outbox_by_state WHERE state = 'dead'")
            var count = 0
            for id in targets {
                try db.run(sql: "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = ? WHERE id = ? AND state = 'dead'", arguments: [now, id])
                if db.changesCount > 0 {
                    count += 1
                    try Self.appendAudit(db, at: now, actor: actor.description, action: "outbox.redrive", target: "delivery:\(id)", detail: "{}")
                }
            }
            return count
        }
    }

    public func outbox(state: OutboxItem.State?, limit: Int) async throws -> [OutboxItem] {
        try await pool.read { db in
            if let state {
                return try db.cachedRows(sql: "SELECT * FROM outbox INDEXED BY outbox_by_state WHERE state = ? ORDER BY id DESC LIMIT ?",
                                        arguments: [state.rawValue, limit]).map(OutboxItem.init(row:))
            }
            return try db.cachedRows(sql: "SELECT * FROM outbox ORDER BY id DESC LIMIT ?", arguments: [limit]).map(OutboxItem.init(row:))
        }
    }

    // MARK: Statements and audit

    public func statements(from: Int64, to: Int64, after: Int64, limit: Int) async throws -> [StoredStatement] {
        try await pool.read { db in
            // Decisions are numbered in time order, so the export pages by decision id: it starts at
            // the first statement made at or after `from` (found through the time index).
            let first = try db.cachedOne(Int64.self, sql: "SELECT min(decision_id) FROM statement_of_reasons WHERE created_at >= ?", arguments: [from]) ?? Int64.max
            return try db.cachedRows(sql: """
                SELECT decision_id, created_at, body FROM statement_of_reasons
                WHERE decision_id > ? AND decision_id >= ? AND created_at >= ? AND created_at < ? ORDER BY decision_id LIMIT ?
                """, arguments: [after, first, from, to, limit]).map { row in
                StoredStatement(decisionID: row["decision_id"], createdAt: row["created_at"], body: row["body"])
            }
        }
    }

    public func unsubmittedStatements(after: Int64, limit: Int, refused: Bool) async throws -> [StoredStatement] {
        try await pool.read { db in
            try db.cachedRows(sql: """
                SELECT s.decision_id, s.created_at, s.body FROM statement_of_reasons s
                LEFT JOIN statement_submission t ON t.decision_id = s.decision_id
                WHERE s.decision_id > ? AND (t.decision_id IS NULL OR (? AND t.outcome = 'refused'))
                ORDER BY s.decision_id LIMIT ?
                """, arguments: [after, refused, limit]).map { row in
                StoredStatement(decisionID: row["decision_id"], createdAt: row["created_at"], body: row["body"])
            }
        }
    }

    public func recordSubmissions(_ outcomes: [StatementSubmission], now: Int64) async throws {
        guard !outcomes.isEmpty else { return }
        try await batcher.write { db in
            for outcome in outcomes {
                try db.run(sql: "INSERT OR REPLACE INTO statement_submission (decision_id, outcome, database_uuid, detail, at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [outcome.decisionID, outcome.outcome.rawValue, outcome.uuid, outcome.detail, now])
            }
        }
    }

    public func submissionCounts() async throws -> [String: Int] {
        try await pool.read { db in
            var counts = ["unsubmitted": 0, "created": 0, "already_present": 0, "refused": 0]
            let total = try db.cachedOne(Int.self, sql: "SELECT count(*) FROM statement_of_reasons", arguments: []) ?? 0
            var submitted = 0
            for row in try db.cachedRows(sql: "SELECT outcome, count(*) AS n FROM statement_submission GROUP BY outcome", arguments: []) {
                let n: Int = row["n"]
                counts[row["outcome"]] = n
                submitted += n
            }
            counts["unsubmitted"] = total - submitted
            return counts
        }
    }

    public func audit(actor: ActorRef, action: String, target: String, detail: String, now: Int64) async throws {
        try await batcher.write { db in
            try Self.appendAudit(db, at: now, actor: actor.description, action: action, target: target, detail: detail)
        }
    }

    public func auditEntries(after seq: Int64, limit: Int) async throws -> [AuditEntry] {
        try await pool.read { db in
            try db.cachedRows(sql: "SELECT * FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [seq, limit]).map { row in
                let previous: Data = row["previous_hash"]
                let hash: Data = row["hash"]
                return AuditEntry(seq: row["seq"], at: row["at"], actor: row["actor"], action: row["action"], target: row["target"],
                                  detail: row["detail"], previousHash: Array(previous), hash: Array(hash))
            }
        }
    }

    public func auditEntries(before seq: Int64?, actor: String?, action: String?, target: String?, limit: Int) async throws -> [AuditEntry] {
        try await pool.read { db in
            var conditions = ["seq < ?"]
            var arguments: StatementArguments = [seq ?? Int64.max]
            if let actor { conditions.append("actor = ?"); arguments += [actor] }
            if let target { conditions.append("target = ?"); arguments += [target] }
            if let action { conditions.append("substr(action, 1, length(?)) = ?"); arguments += [action, action] }
            arguments += [limit]
            return try Row.fetchAll(db, sql: "SELECT * FROM audit_log WHERE \(conditions.joined(separator: " AND ")) ORDER BY seq DESC LIMIT ?",
                                    arguments: arguments).map { row in
                let previous: Data = row["previous_hash"]
                let hash: Data = row["hash"]
                return AuditEntry(seq: row["seq"], at: row["at"], actor: row["actor"], action: row["action"], target: row["target"],
                                  detail: row["detail"], previousHash: Array(previous), hash: Array(hash))
            }
        }
    }

    public func auditHead() async throws -> (seq: Int64, hash: [UInt8])? {
        try await pool.read { db in
            try db.cachedRow(sql: "SELECT seq, hash FROM audit_head WHERE id = 1").map { row in
                let hash: Data = row["hash"]
                return (row["seq"], Array(hash))
            }
        }
    }

    /// SHA-256, the audit chain's digest.
    public static func auditDigest(_ bytes: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: bytes))
    }

    static func appendAudit(_ db: Database, at: Int64, actor: String, action: String, target: String, detail: String) throws {
        let head = try db.cachedRow(sql: "SELECT seq, hash FROM audit_head WHERE id = 1")
        let seq: Int64 = (head?[0] ?? 0) + 1
        let previous: [UInt8] = (head?[1] as Data?).map(Array.init) ?? AuditChain.genesis
        let hash = auditDigest(AuditChain.hashInput(seq: seq, at: at, actor: actor, action: action, target: target, detail: detail, previousHash: previous))
        try db.run(sql: "INSERT INTO audit_log (seq, at, actor, action, target, detail, previous_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       arguments: [seq, at, actor, action, target, detail, Data(previous), Data(hash)])
        try db.run(sql: "INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
                       arguments: [seq, Data(hash)])
    }


    // MARK: Rows

    static func requireCase(_ db: Database, _ id: Int64) throws -> CaseRecord {
        guard let record = try loadCase(db, id) else { throw ReviewError(.notFound, "there is no case \(id)") }
        return record
    }

    static func loadCase(_ db: Database, _ id: Int64) throws -> CaseRecord? {
        try db.fetchOne(CaseRecord.self, sql: "SELECT \(CaseColumn.selectList) FROM review_case WHERE id = ?", arguments: [id])
    }

    /// Inserts a case; a golden item mixed into a live queue is marked with the item (v28).
    static func insertCase(_ db: Database, _ record: CaseRecord, golden: Int64? = nil) throws {
        let values = CaseColumn.allCases.map { _ in "?" }.joined(separator: ", ")
        if let golden {
            try db.run(sql: "INSERT INTO review_case (\(CaseColumn.selectList), golden_item) VALUES (\(values), ?)",
                       arguments: StatementArguments(CaseColumn.allCases.map { $0.value(of: record) } + [golden.databaseValue]))
        } else {
            try db.run(sql: "INSERT INTO review_case (\(CaseColumn.selectList)) VALUES (\(values))",
                       arguments: StatementArguments(CaseColumn.allCases.map { $0.value(of: record) }))
        }
    }

    /// Writes the columns of a case that differ from what is stored, and nothing when none do.
    /// SQLite rewrites an index entry whenever one of its columns (or one its `WHERE` reads) is
    /// assigned, even to the value it already holds, and `review_case` has six indexes: assigning
    /// every column made each merge, lease renewal or SLA tick rewrite all six (on a 300,000-case
    /// table, 97 µs an update against 28 µs assigning only what changed). The stored row is read
    /// back by its key first; its page is in cache, as the case was just read. Each set of columns
    /// is a statement of its own, compiled once per connection: the callers change a few dozen sets.
    static func saveCase(_ db: Database, _ record: CaseRecord) throws {
        guard let stored = try db.cachedRow(sql: "SELECT \(CaseColumn.selectList) FROM review_case WHERE id = ?", arguments: [record.id]) else { return }
        var assignments: [String] = []
        var arguments: [DatabaseValue] = []
        for column in CaseColumn.values {
            let value = column.value(of: record)
            guard (stored[column.rawValue] as DatabaseValue) != value else { continue }
            assignments.append("\(column.name) = ?")
            arguments.append(value)
        }
        guard !assignments.isEmpty else { return }
        arguments.append(record.id.databaseValue)
        try db.run(sql: "UPDATE review_case SET \(assignments.joined(separator: ", ")) WHERE id = ?", arguments: StatementArguments(arguments))
    }

    static func action(_ db: Database, _ id: Int64) throws -> ActionRecord? {
        try db.fetchOne(ActionRecord.self, sql: "SELECT * FROM enforcement_action WHERE id = ?", arguments: [id])
    }

    static func decisionRecords(_ db: Database, caseID: Int64) throws -> [DecisionRecord] {
        try db.cachedRows(sql: """
            SELECT d.*, EXISTS (SELECT 1 FROM statement_of_reasons s WHERE s.decision_id = d.id) AS has_statement
            FROM decision d WHERE case_id = ? ORDER BY id
            """, arguments: [caseID]).map { row in
            let id: Int64 = row["id"]
            let actions = try db.fetchAll(ActionRecord.self, sql: "SELECT * FROM enforcement_action WHERE decision_id = ? ORDER BY id", arguments: [id])
            return DecisionRecord(id: id, caseID: row["case_id"], decidedBy: try row.actor("decided_by", table: "decision"), at: row["at"], category: row["category"],
                                  violation: row["violation"], policy: row["policy"], rationale: row["rationale"], treePath: row["tree_path"],
                                  macro: row["macro"], appealOutcome: try row.decodeIfPresent(DecisionDraft.AppealOutcome.self, "appeal_outcome", table: "decision"),
                                  packVersion: row["pack_version"], actions: actions, hasStatement: row["has_statement"])
        }
    }

    static func reporters(_ db: Database, caseID: Int64) throws -> [String] {
        try db.cachedAll(String.self, sql: """
            SELECT DISTINCT reporter FROM case_item INDEXED BY case_item_by_case WHERE case_id = ? AND kind = 'report' AND duplicate = 0 AND reporter IS NOT NULL
            """, arguments: [caseID])
    }
}

extension Database {
    // Review's statements are few and run often: each is compiled once per connection and reused
    // (compiling, with GRDB's authorizer, cost more than running most of them).

    func run(sql: String, arguments: StatementArguments = []) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }

    func cachedRow(sql: String, arguments: StatementArguments = []) throws -> Row? {
        try Row.fetchOne(cachedStatement(sql: sql), arguments: arguments)
    }

    func cachedRows(sql: String, arguments: StatementArguments = []) throws -> [Row] {
        try Row.fetchAll(cachedStatement(sql: sql), arguments: arguments)
    }

    func cachedOne<T: DatabaseValueConvertible & StatementColumnConvertible>(_ type: T.Type, sql: String, arguments: StatementArguments = []) throws -> T? {
        try T.fetchOne(cachedStatement(sql: sql), arguments: arguments)
    }

    func cachedAll<T: DatabaseValueConvertible & StatementColumnConvertible>(_ type: T.Type, sql: String, arguments: StatementArguments = []) throws -> [T] {
        try T.fetchAll(cachedStatement(sql: sql), arguments: arguments)
    }
}

/// A JSON string literal.
func jsonString(_ text: String) -> String {
    var writer = JSONWriter(capacity: text.utf8.count + 2)
    writer.string(text)
    return String(decoding: writer.bytes, as: UTF8.self)
}
