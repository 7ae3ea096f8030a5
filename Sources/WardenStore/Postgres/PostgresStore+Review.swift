import Foundation
import Logging
import PostgresNIO
public import WardenCore
import WardenQuality
public import WardenReview

// Review on PostgreSQL: each public method that changes something is one transaction in which the
// store loads what the operation needs, asks ``ReviewPlanner`` for a plan and applies it with
// ``apply(_:_:)``, exactly as the SQLite store does; nothing here decides anything.
//
// What several writers change (docs/scaling.md): every case a write plans from is read with
// `FOR UPDATE`, so a concurrent change to it waits and the plan never rests on a stale read;
// claim-next and the timers pass over cases another node holds (`SKIP LOCKED`); and writes that
// name new rows before writing them (`max(id) + 1`) take `review_head` first; signals are written
// under `signal_head`, which the case builder's id cursor relies on. Locks are taken in one order —
// `review_head`, then cases, then (in `apply`) `signal_head` and `audit_head` — so two writers never
// wait on each other in a circle.

extension PostgresStore: CaseStore, OutboxStore, StatementStore {
    static let signalCursorName = "cases.signals"
    static let reportCursorName = "cases.reports"
    static let caseColumns = CaseColumn.selectList

    // MARK: Case builder

    public func caseBuilderCursors() async throws -> (signals: Int64, reports: Int64) {
        var cursors: [String: Int64] = [:]
        for row in try await rows("SELECT name, seq FROM consumer_cursor WHERE name IN (\(Self.signalCursorName), \(Self.reportCursorName))") {
            let (name, seq) = try row.decode((String, Int64).self)
            cursors[name] = seq
        }
        return (cursors[Self.signalCursorName] ?? 0, cursors[Self.reportCursorName] ?? 0)
    }

    public func signals(after id: Int64, limit: Int) async throws -> [StoredSignal] {
        try await rows("SELECT \(unescaped: Self.signalColumns) FROM signal WHERE id > \(id) ORDER BY id LIMIT \(limit)").map(Self.signal(from:))
    }

    @discardableResult
    public func mergeIntoCases(_ inputs: [CaseInput], signalsThrough: Int64, reportsThrough: Int64, policy: ReviewPolicy, now: Int64) async throws -> [Int64] {
        let logger = self.logger
        return try await transaction { connection in
            try await Self.lockReviewHead(connection, logger)
            // Every open case the inputs may join, locked now and in one order: applying one
            // input's plan takes audit_head, and a case locked after it would break the lock order.
            let subjects = Array(Set(inputs.map(\.subject.description))).sorted()
            try await connection.query("""
                SELECT id FROM review_case WHERE subject = ANY(\(subjects)) AND kind = 'review' AND state IN \(unescaped: CaseState.openStatesSQL)
                    AND golden_item IS NULL ORDER BY id FOR UPDATE
                """, logger: logger)
            let planner = ReviewPlanner(policy: policy, now: now)
            var touched: [Int64] = []
            for input in inputs {
                let (plan, record) = planner.merge(input, try await Self.mergeState(connection, logger, input))
                try await Self.apply(plan, connection, logger)
                if let record { touched.append(record.id) }
            }
            for (name, seq) in [(Self.signalCursorName, signalsThrough), (Self.reportCursorName, reportsThrough)] {
                try await connection.query("""
                    INSERT INTO consumer_cursor (name, seq) VALUES (\(name), \(seq))
                    ON CONFLICT (name) DO UPDATE SET seq = greatest(consumer_cursor.seq, excluded.seq)
                    """, logger: logger)
            }
            return touched
        }
    }

    static func mergeState(_ connection: PostgresConnection, _ logger: Logger, _ input: CaseInput) async throws -> MergeState {
        if try await !connection.rows("SELECT 1 FROM case_item WHERE kind = \(input.kind.rawValue) AND ref = \(input.ref)", logger: logger).isEmpty {
            return MergeState(alreadyMerged: true, openCase: nil, nextCaseID: 0)
        }
        let open = try await connection.rows("""
            SELECT \(unescaped: caseColumns) FROM review_case WHERE subject = \(input.subject.description) AND kind = 'review'
                AND state IN \(unescaped: CaseState.openStatesSQL) AND golden_item IS NULL FOR UPDATE
            """, logger: logger).first.map(CaseRecord.init(postgres:))
        var state = MergeState(alreadyMerged: false, openCase: open, nextCaseID: open == nil ? try await nextID(connection, logger, "review_case") : 0)
        if input.kind == .report {
            let reporter = input.reporter ?? "unknown"
            state.reporter = try await loadReporter(connection, logger, reporter)
            if let open {
                state.reporterOnCase = try await !connection.rows(
                    "SELECT 1 FROM case_item WHERE case_id = \(open.id) AND reporter = \(reporter)", logger: logger).isEmpty
            }
        }
        return state
    }

    // MARK: Claiming and moving

    /// The queue's most urgent waiting case that no other transaction holds: a case another node is
    /// claiming is passed over, not waited for, so two reviewers never get the same case.
    public func claimNext(queue: String, reviewer: ActorRef, policy: ReviewPolicy, now: Int64) async throws -> CaseRecord? {
        let logger = self.logger
        return try await transaction { connection -> CaseRecord? in
            // The daily exposure cap, from the tally inside the claim's own transaction.
            let exposure = policy.configuration.exposure
            let avoiding = exposure.limitsClaims
                ? exposure.avoided(claimedToday: try await Self.claimsByCategory(connection, logger, by: reviewer, onDay: ExposurePolicy.startOfDay(now))) : []
            var bindings = PostgresBindings()
            bindings.append(queue)
            bindings.append(reviewer.description)
            var avoid = ""
            for category in avoiding {
                bindings.append(category)
                bindings.append(category + ".")
                avoid += " AND category <> $\(bindings.count - 1) AND NOT starts_with(category, $\(bindings.count))"
            }
            let sql = """
                SELECT \(Self.caseColumns) FROM review_case
                WHERE queue = $1 AND state IN ('open', 'escalated') AND (excluded_reviewer IS NULL OR excluded_reviewer <> $2)\(avoid)
                ORDER BY band, due_at, id LIMIT 1 FOR UPDATE SKIP LOCKED
                """
            guard let record = try await connection.rows(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger).first
                .map(CaseRecord.init(postgres:)) else { return nil }
            let (plan, claimed) = try ReviewPlanner(policy: policy, now: now).claim(record, reviewer: reviewer)
            try await Self.apply(plan, connection, logger)
            return claimed
        }
    }

    public func claim(caseID: Int64, reviewer: ActorRef, policy: ReviewPolicy, now: Int64) async throws -> CaseRecord {
        let logger = self.logger
        return try await transaction { connection in
            let (plan, claimed) = try ReviewPlanner(policy: policy, now: now).claim(try await Self.requireCase(connection, logger, caseID), reviewer: reviewer)
            try await Self.apply(plan, connection, logger)
            return claimed
        }
    }

    public func change(caseID: Int64, _ change: CaseChange, actor: ActorRef, policy: ReviewPolicy, now: Int64) async throws -> CaseRecord {
        let logger = self.logger
        return try await transaction { connection in
            var nextConsultID: Int64 = 0
            if case .consult = change {
                try await Self.lockReviewHead(connection, logger)
                nextConsultID = try await Self.nextID(connection, logger, "case_consult")
            }
            let record = try await Self.requireCase(connection, logger, caseID)
            let (plan, changed) = try ReviewPlanner(policy: policy, now: now).change(record, change, actor: actor, nextConsultID: nextConsultID)
            try await Self.apply(plan, connection, logger)
            return changed
        }
    }

    public func expireLeases(policy: ReviewPolicy, now: Int64) async throws -> Int {
        let logger = self.logger
        return try await transaction { connection in
            let records = try await connection.rows("""
                SELECT \(unescaped: Self.caseColumns) FROM review_case WHERE state = 'in_review' AND lease_expires_at <= \(now)
                LIMIT 1000 FOR UPDATE SKIP LOCKED
                """, logger: logger).map(CaseRecord.init(postgres:))
            let planner = ReviewPlanner(policy: policy, now: now)
            for record in records { try await Self.apply(try planner.expireLease(record), connection, logger) }
            return records.count
        }
    }

    public func raiseSLAEvents(policy: ReviewPolicy, now: Int64, limit: Int) async throws -> [RaisedSLAEvent] {
        let logger = self.logger
        return try await transaction { connection in
            let records = try await connection.rows("""
                SELECT \(unescaped: Self.caseColumns) FROM review_case WHERE sla_next_at <= \(now) ORDER BY sla_next_at LIMIT \(limit)
                FOR UPDATE SKIP LOCKED
                """, logger: logger).map(CaseRecord.init(postgres:))
            let planner = ReviewPlanner(policy: policy, now: now)
            var raised: [RaisedSLAEvent] = []
            for record in records {
                let (plan, events) = planner.raiseSLAEvents(record)
                try await Self.apply(plan, connection, logger)
                raised += events
            }
            return raised
        }
    }

    // MARK: Consults and reporters

    static let consultSelect = """
        SELECT c.id, c.case_id, c.asked_by, c.reviewer, c.question, c.asked_at, c.answer, c.answered_at,
               r.queue, r.state, r.subject, r.category, r.assignee
        FROM case_consult c JOIN review_case r ON r.id = c.case_id
        """

    public func consults(for reviewer: ActorRef, answered: Bool?, limit: Int) async throws -> [ConsultRecord] {
        let filter = answered.map { $0 ? " AND c.answered_at IS NOT NULL" : " AND c.answered_at IS NULL" } ?? ""
        return try await rows("\(unescaped: Self.consultSelect) WHERE c.reviewer = \(reviewer.description)\(unescaped: filter) ORDER BY c.id DESC LIMIT \(limit)")
            .map(ConsultRecord.init(postgres:))
    }

    public func consult(id: Int64) async throws -> ConsultRecord? {
        try await rows("\(unescaped: Self.consultSelect) WHERE c.id = \(id)").first.map(ConsultRecord.init(postgres:))
    }

    public func answerConsult(id: Int64, answer: String, actor: ActorRef, policy: ReviewPolicy, now: Int64) async throws -> ConsultRecord {
        let logger = self.logger
        return try await transaction { connection in
            guard let consult = try await connection.rows("\(unescaped: Self.consultSelect) WHERE c.id = \(id) FOR UPDATE OF c", logger: logger)
                .first.map(ConsultRecord.init(postgres:)) else { throw ReviewError(.notFound, "there is no consult \(id)") }
            let (plan, answered) = try ReviewPlanner(policy: policy, now: now).answer(consult, answer: answer, actor: actor)
            try await Self.apply(plan, connection, logger)
            return answered
        }
    }

    public func setReporter(_ reporter: String, muted: Bool, actor: ActorRef, policy: ReviewPolicy, now: Int64) async throws {
        let logger = self.logger
        try await transaction { connection in
            try await Self.lockReviewHead(connection, logger)
            let plan = ReviewPlanner(policy: policy, now: now)
                .setReporter(try await Self.loadReporter(connection, logger, reporter), id: reporter, muted: muted, actor: actor)
            try await Self.apply(plan, connection, logger)
        }
    }

    static func loadReporter(_ connection: PostgresConnection, _ logger: Logger, _ id: String) async throws -> ReporterRecord? {
        try await connection.rows("SELECT id, trust, muted, reports, upheld, rejected FROM reporter WHERE id = \(id)", logger: logger).first.map { row in
            let (id, trust, muted, reports, upheld, rejected) = try row.decode((String, Double, Bool, Int, Int, Int).self)
            return ReporterRecord(id: id, trust: trust, muted: muted, reports: reports, upheld: upheld, rejected: rejected)
        }
    }

    // MARK: Decisions, actions, appeals

    public func decide(caseID: Int64, _ draft: DecisionDraft, actor: ActorRef, context: DecisionContext, policy: ReviewPolicy, now: Int64) async throws -> DecisionRecord {
        let logger = self.logger
        return try await transaction { connection in
            try await Self.lockReviewHead(connection, logger)
            let record = try await Self.requireCase(connection, logger, caseID)
            // The case's reporters in one read (in the order `reporters(caseID:)` lists them).
            let reporters = try await connection.rows("""
                SELECT id, trust, muted, reports, upheld, rejected FROM reporter WHERE id IN (
                    SELECT reporter FROM case_item WHERE case_id = \(caseID) AND kind = 'report' AND NOT duplicate AND reporter IS NOT NULL)
                ORDER BY id
                """, logger: logger).map { row in
                    let (id, trust, muted, reports, upheld, rejected) = try row.decode((String, Double, Bool, Int, Int, Int).self)
                    return ReporterRecord(id: id, trust: trust, muted: muted, reports: reports, upheld: upheld, rejected: rejected)
                }
            var appealed: AppealedDecision?
            if record.kind == .appeal, let original = record.appealOf, let appealedCase = try await Self.loadCase(connection, logger, original, lock: true) {
                let latest = try await connection.rows("SELECT id, category FROM decision WHERE case_id = \(original) ORDER BY id DESC LIMIT 1",
                                                       logger: logger).first.map { try $0.decode((Int64, String).self) }
                var live: [ActionRecord] = []
                if let decisionID = latest?.0 {
                    live = try await connection.rows("""
                        SELECT \(unescaped: Self.actionColumns) FROM enforcement_action
                        WHERE decision_id = \(decisionID) AND reverses IS NULL AND reversed_at IS NULL ORDER BY id
                        """, logger: logger).map(ActionRecord.init(postgres:))
                }
                appealed = AppealedDecision(record: appealedCase, decisionID: latest?.0, category: latest?.1, liveActions: live)
            }
            // The next ids (review_head is held) and the golden key, in one round trip.
            let (nextDecision, nextAction, goldenID, goldenAnswer) = try await connection.rows("""
                SELECT (SELECT coalesce(max(id), 0) + 1 FROM decision), (SELECT coalesce(max(id), 0) + 1 FROM enforcement_action),
                       g.id, g.answer
                FROM (SELECT 1) one LEFT JOIN review_case c ON c.id = \(caseID) LEFT JOIN golden_item g ON g.id = c.golden_item
                """, logger: logger).first!.decode((Int64, Int64, Int64?, String?).self)
            let golden = goldenID.flatMap { id in goldenAnswer.map { GoldenKey(id: id, answer: $0) } }
            var strikes = 0
            if let ladder = ReviewPlanner.ladder(for: draft, on: record, context: context) {
                strikes = try await Self.liveStrikes(connection, logger, subject: record.subject.description, policy: ladder.category, now: now)
            }
            let state = DecisionState(record: record, reporters: reporters, nextDecisionID: nextDecision, nextActionID: nextAction,
                                      appealed: appealed, golden: golden, liveStrikes: strikes)
            let (plan, decision) = try ReviewPlanner(policy: policy, now: now).decide(state, draft, actor: actor, context: context)
            try await Self.apply(plan, connection, logger)
            return decision
        }
    }

    public func reverse(actionID: Int64, reason: String, actor: ActorRef, context: DecisionContext, policy: ReviewPolicy, now: Int64) async throws -> ActionRecord {
        let logger = self.logger
        return try await transaction { connection in
            try await Self.lockReviewHead(connection, logger)
            guard let action = try await connection.rows("SELECT \(unescaped: Self.actionColumns) FROM enforcement_action WHERE id = \(actionID) FOR UPDATE",
                                                          logger: logger).first.map(ActionRecord.init(postgres:))
            else { throw ReviewError(.notFound, "there is no action \(actionID)") }
            guard let record = try await Self.loadCase(connection, logger, action.caseID, lock: true) else {
                throw ReviewError(.notFound, "case \(action.caseID) is missing")
            }
            let category = try await connection.rows("SELECT category FROM decision WHERE id = \(action.decisionID)", logger: logger)
                .first?.decode(String.self) ?? record.category
            let state = ReversalState(action: action, record: record, category: category, nextActionID: try await Self.nextID(connection, logger, "enforcement_action"))
            let (plan, reversed) = try ReviewPlanner(policy: policy, now: now).reverse(state, reason: reason, actor: actor, context: context)
            try await Self.apply(plan, connection, logger)
            return reversed
        }
    }

    public func openAppeal(caseID: Int64, appellant: EntityRef, statement: String?, actor: ActorRef, policy: ReviewPolicy, now: Int64) async throws -> CaseRecord {
        let logger = self.logger
        return try await transaction { connection in
            try await Self.lockReviewHead(connection, logger)
            let record = try await Self.requireCase(connection, logger, caseID)
            let decider = try await connection.rows("SELECT decided_by FROM decision WHERE case_id = \(caseID) ORDER BY id DESC LIMIT 1", logger: logger)
                .first.map { row in try ActorRef(stored: try row.decode(String.self), table: "decision", column: "decided_by") }
            let state = AppealState(record: record, decider: decider, nextCaseID: try await Self.nextID(connection, logger, "review_case"))
            let (plan, appeal) = try ReviewPlanner(policy: policy, now: now).openAppeal(state, appellant: appellant, statement: statement, actor: actor)
            try await Self.apply(plan, connection, logger)
            return appeal
        }
    }

    // MARK: Applying plans

    /// Makes the caller the only writer that names new review rows until it commits.
    static func lockReviewHead(_ connection: PostgresConnection, _ logger: Logger) async throws {
        try await connection.query("SELECT id FROM review_head WHERE id = 1 FOR UPDATE", logger: logger)
    }

    /// Makes the caller the only writer of signals until it commits (see `signal_head`).
    static func lockSignalHead(_ connection: PostgresConnection, _ logger: Logger) async throws {
        try await connection.query("SELECT id FROM signal_head WHERE id = 1 FOR UPDATE", logger: logger)
    }

    /// The identifier the next row of `table` gets; the caller holds `review_head`.
    static func nextID(_ connection: PostgresConnection, _ logger: Logger, _ table: String) async throws -> Int64 {
        try await connection.rows("SELECT coalesce(max(id), 0) + 1 FROM \(unescaped: table)", logger: logger).first?.decode(Int64.self) ?? 1
    }

    static func requireCase(_ connection: PostgresConnection, _ logger: Logger, _ id: Int64) async throws -> CaseRecord {
        guard let record = try await loadCase(connection, logger, id, lock: true) else { throw ReviewError(.notFound, "there is no case \(id)") }
        return record
    }

    static func loadCase(_ connection: PostgresConnection, _ logger: Logger, _ id: Int64, lock: Bool = false) async throws -> CaseRecord? {
        try await connection.rows("SELECT \(unescaped: caseColumns) FROM review_case WHERE id = \(id)\(unescaped: lock ? " FOR UPDATE" : "")", logger: logger)
            .first.map(CaseRecord.init(postgres:))
    }

    /// Writes a plan: every list in the order the planner made it (as `SQLiteStore.apply`).
    static func apply(_ plan: ReviewPlan, _ connection: PostgresConnection, _ logger: Logger) async throws {
        for record in plan.insertedCases {
            var bindings = PostgresBindings()
            try record.bindAll(into: &bindings)
            bindings.append(plan.goldenCases.first { $0.caseID == record.id }?.goldenID)
            let placeholders = (1...bindings.count).map { "$\($0)" }.joined(separator: ", ")
            try await connection.query(PostgresQuery(unsafeSQL: "INSERT INTO review_case (\(caseColumns), golden_item) VALUES (\(placeholders))",
                                                     binds: bindings), logger: logger)
        }
        for record in plan.updatedCases {
            var bindings = PostgresBindings()
            try record.bindAll(into: &bindings)
            let assignments = CaseColumn.values.map { "\($0.name) = $\($0.rawValue + 1)" }.joined(separator: ", ")
            try await connection.query(PostgresQuery(unsafeSQL: "UPDATE review_case SET \(assignments) WHERE id = $1", binds: bindings), logger: logger)
        }
        for item in plan.items {
            try await connection.query("""
                INSERT INTO case_item (kind, ref, case_id, reporter, weight, duplicate, at)
                VALUES (\(item.kind.rawValue), \(item.ref), \(item.caseID), \(item.reporter), \(item.weight), \(item.duplicate), \(item.at))
                """, logger: logger)
        }
        for reporter in plan.reporters {
            try await connection.query("""
                INSERT INTO reporter (id, trust, muted, reports, upheld, rejected)
                VALUES (\(reporter.id), \(reporter.trust), \(reporter.muted), \(reporter.reports), \(reporter.upheld), \(reporter.rejected))
                ON CONFLICT (id) DO UPDATE SET trust = excluded.trust, muted = excluded.muted, reports = excluded.reports,
                    upheld = excluded.upheld, rejected = excluded.rejected
                """, logger: logger)
        }
        for decision in plan.decisions {
            let draft = decision.draft
            try await connection.query("""
                INSERT INTO decision (id, case_id, decided_by, at, category, violation, policy, rationale, tree_path, macro, appeal_outcome, pack_version)
                VALUES (\(decision.id), \(decision.caseID), \(decision.decidedBy.description), \(decision.at), \(draft.category), \(draft.violation),
                        \(draft.policy), \(draft.rationale), \(draft.treePath), \(draft.macro), \(draft.appealOutcome?.rawValue), \(draft.packVersion))
                """, logger: logger)
        }
        for action in plan.actions {
            try await connection.query("""
                INSERT INTO enforcement_action (id, decision_id, case_id, subject, action, duration, created_at, reverses)
                VALUES (\(action.id), \(action.decisionID), \(action.caseID), \(action.subject.description), \(action.action), \(action.duration),
                        \(action.createdAt), \(action.reverses))
                """, logger: logger)
        }
        for reversal in plan.reversals {
            try await connection.query("""
                UPDATE enforcement_action SET reversed_at = \(reversal.at), reversed_by = \(reversal.by.description), reversal_reason = \(reversal.reason)
                WHERE id = \(reversal.actionID)
                """, logger: logger)
        }
        for strike in plan.strikes {
            try await connection.query("""
                INSERT INTO strike (subject, policy, decision_id, at, expires_at)
                VALUES (\(strike.subject.description), \(strike.policy), \(strike.decisionID), \(strike.at), \(strike.expiresAt))
                """, logger: logger)
        }
        for lifted in plan.liftedStrikes {
            try await connection.query("UPDATE strike SET removed_at = \(lifted.at) WHERE decision_id = \(lifted.decisionID) AND removed_at IS NULL", logger: logger)
        }
        for statement in plan.statements {
            try await connection.query("""
                INSERT INTO statement_of_reasons (decision_id, created_at, body) VALUES (\(statement.decisionID), \(statement.createdAt), \(statement.body))
                """, logger: logger)
        }
        for consult in plan.consults {
            try await connection.query("""
                INSERT INTO case_consult (id, case_id, asked_by, reviewer, question, asked_at)
                VALUES (\(consult.id), \(consult.caseID), \(consult.askedBy.description), \(consult.reviewer.description), \(consult.question), \(consult.askedAt))
                """, logger: logger)
        }
        for answer in plan.answers {
            try await connection.query("UPDATE case_consult SET answer = \(answer.answer), answered_at = \(answer.at) WHERE id = \(answer.consultID)", logger: logger)
        }
        if !plan.caseSignals.isEmpty { try await lockSignalHead(connection, logger) }
        for signal in plan.caseSignals {
            try await connection.query("""
                INSERT INTO signal (id, case_id, rule, rule_version, category, severity, subject, reason, explanation, queue, effects, occurred_at, created_at)
                VALUES ((SELECT coalesce(max(id), 0) + 1 FROM signal), \(signal.caseID), \(signal.rule), \(signal.ruleVersion), \(signal.category), \(signal.severity), \(signal.subject.description),
                        \(signal.reason), \(signal.explanation), \(signal.queue), '[]', \(signal.at), \(signal.at))
                ON CONFLICT DO NOTHING
                """, logger: logger)
        }
        for entry in plan.timeline {
            try await connection.query("""
                INSERT INTO case_timeline (case_id, at, actor, kind, from_state, to_state, detail)
                VALUES (\(entry.caseID), \(entry.at), \(entry.actor.description), \(entry.kind.rawValue), \(entry.from?.rawValue), \(entry.to?.rawValue), \(entry.detail))
                """, logger: logger)
        }
        for entry in plan.audit {
            try await appendAudit(connection, logger: logger, at: entry.at, actor: entry.actor.description, action: entry.action, target: entry.target,
                                  detail: entry.detail)
        }
        try await enqueue(plan.outbox, connection, logger)
        for golden in plan.goldenCases {
            try await connection.query("""
                INSERT INTO golden_case (case_id, golden_id, reviewer, queue, mixed_at)
                VALUES (\(golden.caseID), \(golden.goldenID), \(golden.reviewer.description), \(golden.queue), \(golden.at))
                """, logger: logger)
        }
        for check in plan.goldenChecks {
            try await connection.query("""
                UPDATE golden_case SET decision_id = \(check.decisionID), decided_by = \(check.decidedBy.description), answer = \(check.answer),
                    expected = \(check.expected), correct = \(check.correct), decided_at = \(check.at) WHERE case_id = \(check.caseID)
                """, logger: logger)
        }
    }

    /// Queues deliveries (once per idempotency key).
    static func enqueue(_ messages: [OutboxMessage], _ connection: PostgresConnection, _ logger: Logger) async throws {
        for message in messages {
            try await connection.query("""
                INSERT INTO outbox (topic, idempotency_key, ordering_key, body, state, attempts, next_attempt_at, created_at, destination)
                VALUES (\(message.topic), \(message.idempotencyKey), \(message.orderingKey), \(message.body), 'pending', 0, \(message.at), \(message.at),
                        \(message.destination))
                ON CONFLICT (idempotency_key) DO NOTHING
                """, logger: logger)
        }
    }

    // MARK: Reads

    public func caseRecord(id: Int64) async throws -> CaseRecord? {
        try await rows("SELECT \(unescaped: Self.caseColumns) FROM review_case WHERE id = \(id)").first.map(CaseRecord.init(postgres:))
    }

    public func timeline(caseID: Int64) async throws -> [TimelineEntry] {
        try await rows("SELECT \(unescaped: Self.timelineColumns) FROM case_timeline WHERE case_id = \(caseID) ORDER BY id").map(TimelineEntry.init(postgres:))
    }

    public func claimsByCategory(by reviewer: ActorRef, onDay day: Int64) async throws -> [String: Int] {
        try await client.withConnection { connection in try await Self.claimsByCategory(connection, self.logger, by: reviewer, onDay: day) }
    }

    static func claimsByCategory(_ connection: PostgresConnection, _ logger: Logger, by reviewer: ActorRef, onDay day: Int64) async throws -> [String: Int] {
        var claims: [String: Int] = [:]
        for row in try await connection.rows("SELECT category, claims FROM claim_tally WHERE actor = \(reviewer.description) AND day = \(day)",
                                             logger: logger) {
            let (category, count) = try row.decode((String, Int64).self)
            claims[category] = Int(count)
        }
        return claims
    }

    public func activity(by actor: ActorRef, kind: TimelineEntry.Kind, since: Int64, limit: Int) async throws -> [(caseID: Int64, entry: TimelineEntry)] {
        try await rows("""
            SELECT \(unescaped: Self.timelineColumns), case_id FROM case_timeline
            WHERE actor = \(actor.description) AND at >= \(since) AND kind = \(kind.rawValue) ORDER BY at DESC, id DESC LIMIT \(limit)
            """).map { row in (try row.makeRandomAccess()[7].decode(Int64.self), try TimelineEntry(postgres: row)) }
    }

    public func decisions(caseID: Int64) async throws -> [DecisionRecord] {
        var decisions: [DecisionRecord] = []
        for row in try await rows("""
            SELECT d.id, d.case_id, d.decided_by, d.at, d.category, d.violation, d.policy, d.rationale, d.tree_path, d.macro, d.appeal_outcome,
                   d.pack_version, EXISTS (SELECT 1 FROM statement_of_reasons s WHERE s.decision_id = d.id)
            FROM decision d WHERE case_id = \(caseID) ORDER BY id
            """) {
            let cells = row.makeRandomAccess()
            let id = try cells[0].decode(Int64.self)
            let actions = try await rows("SELECT \(unescaped: Self.actionColumns) FROM enforcement_action WHERE decision_id = \(id) ORDER BY id")
                .map(ActionRecord.init(postgres:))
            let outcome = try cells[10].decode(String?.self)
            decisions.append(DecisionRecord(
                id: id, caseID: try cells[1].decode(Int64.self), decidedBy: try ActorRef(stored: try cells[2].decode(String.self), table: "decision", column: "decided_by"),
                at: try cells[3].decode(Int64.self), category: try cells[4].decode(String.self), violation: try cells[5].decode(Bool.self),
                policy: try cells[6].decode(String?.self), rationale: try cells[7].decode(String?.self), treePath: try cells[8].decode(String?.self),
                macro: try cells[9].decode(String?.self),
                appealOutcome: try outcome.map { try Self.known(DecisionDraft.AppealOutcome.self, $0, table: "decision", column: "appeal_outcome") },
                packVersion: try cells[11].decode(String?.self), actions: actions, hasStatement: try cells[12].decode(Bool.self)))
        }
        return decisions
    }

    public func cases(_ query: CaseQuery) async throws -> [CaseRecord] {
        var bindings = PostgresBindings()
        var conditions: [String] = []
        func bind(_ value: some PostgresDynamicTypeEncodable) -> String {
            bindings.append(value)
            return "$\(bindings.count)"
        }
        if let queue = query.queue { conditions.append("queue = \(bind(queue))") }
        if query.waitingInClaimOrder {
            conditions.append("state IN ('open', 'escalated')")
        } else {
            conditions.append("id < \(bind(query.before ?? Int64.max))")
            if let state = query.state { conditions.append("state = \(bind(state.rawValue))") }
        }
        if let assignee = query.assignee { conditions.append("assignee = \(bind(assignee.description))") }
        if query.held { conditions.append("assignee IS NOT NULL AND state IN ('in_review', 'on_hold')") }
        if let subject = query.subject { conditions.append("subject = \(bind(subject.description))") }
        if let category = query.category {
            conditions.append("(category = \(bind(category)) OR starts_with(category, \(bind(category + "."))))")
        }
        if let words = query.tsQuery {
            conditions.append("id IN (SELECT case_id FROM case_search WHERE words @@ to_tsquery('simple', \(bind(words))))")
        }
        if let from = query.createdFrom { conditions.append("created_at >= \(bind(from))") }
        if let to = query.createdBefore { conditions.append("created_at < \(bind(to))") }
        let order = query.waitingInClaimOrder && query.queue != nil ? "band, due_at, id" : "id DESC"
        let sql = "SELECT \(Self.caseColumns) FROM review_case WHERE \(conditions.joined(separator: " AND ")) ORDER BY \(order) LIMIT \(bind(Int64(query.limit)))"
        return try await rows(PostgresQuery(unsafeSQL: sql, binds: bindings)).map(CaseRecord.init(postgres:))
    }

    public func inboundCounts(since: Int64) async throws -> [InboundCount] {
        try await rows("""
            SELECT created_at - (created_at % 86400000) AS day, source, category, count(*) FROM review_case WHERE created_at >= \(since)
            GROUP BY day, source, category ORDER BY day, source, category
            """).map { row in
            let (day, source, category, count) = try row.decode((Int64, String, String, Int64).self)
            return InboundCount(day: day, source: source, category: category, count: Int(count))
        }
    }

    public func decisionCounts(since: Int64) async throws -> [DecisionCount] {
        try await rows("""
            SELECT at - (at % 86400000) AS day,
                   coalesce(appeal_outcome, CASE WHEN violation THEN 'violation' ELSE 'no_violation' END) AS outcome, count(*)
            FROM decision WHERE at >= \(since) GROUP BY day, outcome ORDER BY day, outcome
            """).map { row in
            let (day, outcome, count) = try row.decode((Int64, String, Int64).self)
            return DecisionCount(day: day, outcome: outcome, count: Int(count))
        }
    }

    public func resolvedCases(since: Int64, limit: Int) async throws -> [CaseRecord] {
        try await rows("""
            SELECT \(unescaped: Self.caseColumns) FROM review_case WHERE resolved_at >= \(since) ORDER BY resolved_at DESC LIMIT \(limit)
            """).map(CaseRecord.init(postgres:))
    }

    public func liveStrikeList(subject: EntityRef, now: Int64) async throws -> [Strike] {
        try await rows("""
            SELECT policy, decision_id, at, expires_at FROM strike WHERE subject = \(subject.description) AND expires_at > \(now) AND removed_at IS NULL
            ORDER BY at DESC
            """).map { row in
            let (policy, decisionID, at, expiresAt) = try row.decode((String, Int64, Int64, Int64).self)
            return Strike(subject: subject, policy: policy, decisionID: decisionID, at: at, expiresAt: expiresAt)
        }
    }

    public func queueCounts(now: Int64) async throws -> [QueueCount] {
        try await rows("""
            SELECT queue, state, count(*), count(*) FILTER (WHERE due_at <= \(now)) FROM review_case
            WHERE state IN \(unescaped: CaseState.openStatesSQL) GROUP BY queue, state ORDER BY queue, state
            """).map { row in
            let (queue, state, count, breached) = try row.decode((String, String, Int64, Int64).self)
            return QueueCount(queue: queue, state: try Self.known(CaseState.self, state, table: "review_case", column: "state"),
                              count: Int(count), breached: Int(breached))
        }
    }

    public func decidedTexts(since: Int64) async throws -> [DecidedText] {
        // The latest decision of each review case; an overturning appeal reverses its verdict.
        let found = try await rows("""
            SELECT d.id, d.case_id, d.at, d.category, d.violation, d.pack_version, e.body,
                   EXISTS (SELECT 1 FROM review_case a JOIN decision ad ON ad.case_id = a.id
                           WHERE a.appeal_of = d.case_id AND ad.appeal_outcome = 'overturned') AS overturned,
                   q.verdict_violation, q.verdict_category, q.ruling
            FROM decision d
            JOIN review_case c ON c.id = d.case_id AND c.kind = 'review'
            LEFT JOIN qa_item q ON q.decision_id = d.id
            JOIN case_item ci ON ci.case_id = d.case_id AND ci.kind = 'signal'
            JOIN signal s ON s.id = ci.ref
            JOIN event e ON e.seq = s.event_seq
            WHERE d.at >= \(since) AND d.id = (SELECT max(id) FROM decision WHERE case_id = d.case_id)
            ORDER BY d.id, e.seq
            """)
        var seen = Set<String>()
        var texts: [DecidedText] = []
        for row in found {
            let cells = row.makeRandomAccess()
            let body = try cells[6].decode(String.self)
            guard let text = JSONValue.parse(Array(body.utf8))?["data"]?["text"], case .string(let content) = text, !content.isEmpty else { continue }
            let decisionID = try cells[0].decode(Int64.self)
            guard seen.insert("\(decisionID)\u{0}\(content)").inserted else { continue }
            let overturned = try cells[7].decode(Bool.self)
            let verdict = try cells[8].decode(Bool?.self).map { QAVerdict(violation: $0, category: try cells[9].decode(String?.self), errors: [], notes: nil) }
            let final = FinalFinding.of(violation: try cells[4].decode(Bool.self), category: try cells[3].decode(String.self), overturned: overturned,
                                        qaVerdict: verdict, ruling: try cells[10].decode(String?.self).flatMap(QARuling.init(rawValue:)))
            texts.append(DecidedText(decisionID: decisionID, caseID: try cells[1].decode(Int64.self), at: try cells[2].decode(Int64.self),
                                     category: final.category, violation: final.violation, overturned: overturned,
                                     correctedByQA: final.correctedByQA, packVersion: try cells[5].decode(String?.self), text: content))
        }
        return texts
    }

    public func claims(by reviewer: ActorRef, queue: String, since: Int64) async throws -> Int {
        Int(try await rows("""
            SELECT count(*) FROM case_timeline t JOIN review_case c ON c.id = t.case_id
            WHERE t.actor = \(reviewer.description) AND t.at > \(since) AND t.kind = 'transition' AND t.to_state = 'in_review'
              AND t.from_state IN ('open', 'escalated') AND c.queue = \(queue)
            """).first?.decode(Int64.self) ?? 0)
    }

    public func liveStrikes(subject: String, policy: String, now: Int64) async throws -> Int {
        Int(try await rows(Self.liveStrikesQuery(subject: subject, policy: policy, now: now)).first?.decode(Int64.self) ?? 0)
    }

    static func liveStrikes(_ connection: PostgresConnection, _ logger: Logger, subject: String, policy: String, now: Int64) async throws -> Int {
        Int(try await connection.rows(liveStrikesQuery(subject: subject, policy: policy, now: now), logger: logger).first?.decode(Int64.self) ?? 0)
    }

    /// The subject's strikes in force under `policy` and its sub-policies.
    static func liveStrikesQuery(subject: String, policy: String, now: Int64) -> PostgresQuery {
        """
        SELECT count(*) FROM strike WHERE subject = \(subject) AND (policy = \(policy) OR starts_with(policy, \(policy + ".")))
          AND expires_at > \(now) AND removed_at IS NULL
        """
    }

    public func reporters(caseID: Int64) async throws -> [String] {
        try await client.withConnection { connection in try await Self.reporters(connection, self.logger, caseID: caseID) }
    }

    static func reporters(_ connection: PostgresConnection, _ logger: Logger, caseID: Int64) async throws -> [String] {
        try await connection.rows("""
            SELECT DISTINCT reporter FROM case_item WHERE case_id = \(caseID) AND kind = 'report' AND NOT duplicate AND reporter IS NOT NULL
            ORDER BY reporter
            """, logger: logger).map { try $0.decode(String.self) }
    }

    // MARK: Outbox

    public func dueDeliveries(now: Int64, limit: Int, destination: String) async throws -> [OutboxItem] {
        // Only the first pending delivery of each ordering key is ever due.
        try await rows("""
            SELECT \(unescaped: Self.outboxColumns) FROM outbox o WHERE state = 'pending' AND destination = \(destination) AND next_attempt_at <= \(now)
            AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.state = 'pending' AND p.ordering_key = o.ordering_key AND p.id < o.id)
            ORDER BY next_attempt_at, id LIMIT \(limit)
            """).map(OutboxItem.init(postgres:))
    }

    public func markDelivered(_ receipts: [(id: Int64, status: Int)], now: Int64) async throws {
        guard !receipts.isEmpty else { return }
        let logger = self.logger
        try await transaction { connection in
            try await connection.query("""
                UPDATE outbox SET state = 'delivered', attempts = attempts + 1, last_status = r.status, last_error = NULL, delivered_at = \(now)
                FROM unnest(\(receipts.map(\.id)), \(receipts.map { Int64($0.status) })) AS r(id, status)
                WHERE outbox.id = r.id AND outbox.state = 'pending'
                """, logger: logger)
        }
    }

    public func markFailed(_ id: Int64, error: String, retryAt: Int64?, now: Int64) async throws {
        let logger = self.logger
        try await transaction { connection in
            if let retryAt {
                try await connection.query("""
                    UPDATE outbox SET attempts = attempts + 1, last_error = \(error), next_attempt_at = \(retryAt) WHERE id = \(id) AND state = 'pending'
                    """, logger: logger)
            } else if try await !connection.rows("""
                UPDATE outbox SET attempts = attempts + 1, last_error = \(error), state = 'dead' WHERE id = \(id) AND state = 'pending' RETURNING id
                """, logger: logger).isEmpty {
                try await Self.appendAudit(connection, logger: logger, at: now, actor: "system:outbox", action: "outbox.dead", target: "delivery:\(id)",
                                           detail: #"{"error":\#(jsonString(error))}"#)
            }
        }
    }

    public func redrive(ids: [Int64]?, actor: ActorRef, now: Int64) async throws -> Int {
        let logger = self.logger
        return try await transaction { connection in
            var targets = ids ?? []
            if ids == nil {
                targets = try await connection.rows("SELECT id FROM outbox WHERE state = 'dead' ORDER BY id", logger: logger).map { try $0.decode(Int64.self) }
            }
            var count = 0
            for id in targets {
                guard try await !connection.rows("""
                    UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = \(now) WHERE id = \(id) AND state = 'dead' RETURNING id
                    """, logger: logger).isEmpty else { continue }
                count += 1
                try await Self.appendAudit(connection, logger: logger, at: now, actor: actor.description, action: "outbox.redrive", target: "delivery:\(id)",
                                           detail: "{}")
            }
            return count
        }
    }

    public func outbox(state: OutboxItem.State?, limit: Int) async throws -> [OutboxItem] {
        if let state {
            return try await rows("SELECT \(unescaped: Self.outboxColumns) FROM outbox WHERE state = \(state.rawValue) ORDER BY id DESC LIMIT \(limit)")
                .map(OutboxItem.init(postgres:))
        }
        return try await rows("SELECT \(unescaped: Self.outboxColumns) FROM outbox ORDER BY id DESC LIMIT \(limit)").map(OutboxItem.init(postgres:))
    }

    // MARK: Statements

    public func statements(from: Int64, to: Int64, after: Int64, limit: Int) async throws -> [StoredStatement] {
        // Decisions are numbered in commit order (under `review_head`), so the export pages by id.
        try await rows("""
            SELECT decision_id, created_at, body FROM statement_of_reasons
            WHERE decision_id > \(after) AND created_at >= \(from) AND created_at < \(to) ORDER BY decision_id LIMIT \(limit)
            """).map(StoredStatement.init(postgres:))
    }

    public func unsubmittedStatements(after: Int64, limit: Int, refused: Bool) async throws -> [StoredStatement] {
        try await rows("""
            SELECT s.decision_id, s.created_at, s.body FROM statement_of_reasons s
            LEFT JOIN statement_submission t ON t.decision_id = s.decision_id
            WHERE s.decision_id > \(after) AND (t.decision_id IS NULL OR (\(refused) AND t.outcome = 'refused'))
            ORDER BY s.decision_id LIMIT \(limit)
            """).map(StoredStatement.init(postgres:))
    }

    public func recordSubmissions(_ outcomes: [StatementSubmission], now: Int64) async throws {
        guard !outcomes.isEmpty else { return }
        let logger = self.logger
        try await transaction { connection in
            for outcome in outcomes {
                try await connection.query("""
                    INSERT INTO statement_submission (decision_id, outcome, database_uuid, detail, at)
                    VALUES (\(outcome.decisionID), \(outcome.outcome.rawValue), \(outcome.uuid), \(outcome.detail), \(now))
                    ON CONFLICT (decision_id) DO UPDATE SET outcome = excluded.outcome, database_uuid = excluded.database_uuid,
                        detail = excluded.detail, at = excluded.at
                    """, logger: logger)
            }
        }
    }

    public func submissionCounts() async throws -> [String: Int] {
        var counts = ["unsubmitted": 0, "created": 0, "already_present": 0, "refused": 0]
        let total = try await rows("SELECT count(*) FROM statement_of_reasons").first?.decode(Int64.self) ?? 0
        var submitted: Int64 = 0
        for row in try await rows("SELECT outcome, count(*) FROM statement_submission GROUP BY outcome") {
            let (outcome, n) = try row.decode((String, Int64).self)
            counts[outcome] = Int(n)
            submitted += n
        }
        counts["unsubmitted"] = Int(total - submitted)
        return counts
    }

    // MARK: Rows

    static let signalColumns = """
        id, event_seq, case_id, rule, rule_version, category, severity, subject, reason, explanation, queue, verdict, effects, occurred_at, created_at
        """
    static let timelineColumns = "id, at, actor, kind, from_state, to_state, detail"
    static let actionColumns = "id, decision_id, case_id, subject, action, duration, created_at, reverses, reversed_at, reversed_by, reversal_reason"
    static let outboxColumns = "id, topic, idempotency_key, body, state, attempts, next_attempt_at, last_error, created_at, delivered_at, destination"

    static func signal(from row: PostgresRow) throws -> StoredSignal {
        let cells = row.makeRandomAccess()
        return StoredSignal(id: try cells[0].decode(Int64.self), eventSeq: try cells[1].decode(Int64?.self), caseID: try cells[2].decode(Int64?.self),
                            rule: try cells[3].decode(String.self), ruleVersion: try cells[4].decode(String.self), category: try cells[5].decode(String.self),
                            severity: try cells[6].decode(String.self), subject: try cells[7].decode(String?.self).flatMap { EntityRef(parsing: $0) },
                            reason: try cells[8].decode(String?.self), explanation: try cells[9].decode(String.self), queue: try cells[10].decode(String?.self),
                            verdict: try cells[11].decode(String?.self), effects: try cells[12].decode(String.self),
                            occurredAt: try cells[13].decode(Int64.self), createdAt: try cells[14].decode(Int64.self))
    }

    /// A stored enumeration value, or ``StoredValueError`` naming where it was.
    static func known<T: RawRepresentable>(_ type: T.Type, _ raw: T.RawValue, table: String, column: String) throws -> T
    where T.RawValue: CustomStringConvertible {
        guard let value = T(rawValue: raw) else { throw StoredValueError(table: table, column: column, value: raw.description) }
        return value
    }
}

// MARK: - Rows to records

extension CaseRecord {
    /// Decodes a row selected with ``CaseColumn/selectList`` (columns by position, as on SQLite).
    init(postgres row: PostgresRow) throws {
        let cells = row.makeRandomAccess()
        func at<T: PostgresDecodable>(_ column: CaseColumn, _ type: T.Type = T.self) throws -> T { try cells[column.rawValue].decode(T.self) }
        func actor(_ column: CaseColumn) throws -> ActorRef? {
            try at(column, String?.self).map { try ActorRef(stored: $0, table: "review_case", column: column.name) }
        }
        func known<T: RawRepresentable>(_ type: T.Type, _ column: CaseColumn) throws -> T where T.RawValue: PostgresDecodable & CustomStringConvertible {
            try PostgresStore.known(type, try at(column, T.RawValue.self), table: "review_case", column: column.name)
        }
        let subjectText = try at(.subject, String.self)
        guard let subject = EntityRef(parsing: subjectText) else { throw StoredValueError(table: "review_case", column: "subject", value: subjectText) }
        self.init(id: try at(.id), kind: try known(CaseKind.self, .kind), subject: subject, source: try known(CaseSource.self, .source),
                  queue: try at(.queue), state: try known(CaseState.self, .state), category: try at(.category), severity: try at(.severity),
                  score: try at(.score), band: try known(CasePriority.Band.self, .band), signals: try at(.signals), reports: try at(.reports),
                  reporterWeight: try at(.reporterWeight), assignee: try actor(.assignee), leaseExpiresAt: try at(.leaseExpiresAt),
                  createdAt: try at(.createdAt), updatedAt: try at(.updatedAt), contentAt: try at(.contentAt), firstActionAt: try at(.firstActionAt),
                  resolvedAt: try at(.resolvedAt), clock: SLAClock(accumulated: try at(.clockAccumulated), since: try at(.clockSince)),
                  dueAt: try at(.dueAt), slaNextAt: try at(.slaNextAt), slaRaised: try at(.slaRaised), appealOf: try at(.appealOf),
                  excludedReviewer: try actor(.excludedReviewer), escalationReason: try at(.escalationReason))
    }

    /// Appends every column's value in ``CaseColumn`` order (`$1` is the id).
    func bindAll(into bindings: inout PostgresBindings) throws {
        for column in CaseColumn.allCases {
            switch column {
            case .id: bindings.append(id)
            case .kind: bindings.append(kind.rawValue)
            case .subject: bindings.append(subject.description)
            case .source: bindings.append(source.rawValue)
            case .queue: bindings.append(queue)
            case .state: bindings.append(state.rawValue)
            case .category: bindings.append(category)
            case .severity: bindings.append(severity)
            case .score: bindings.append(Int32(score))
            case .band: bindings.append(Int32(band.rawValue))
            case .signals: bindings.append(Int32(signals))
            case .reports: bindings.append(Int32(reports))
            case .reporterWeight: bindings.append(reporterWeight)
            case .assignee: bindings.append(assignee?.description)
            case .leaseExpiresAt: bindings.append(leaseExpiresAt)
            case .createdAt: bindings.append(createdAt)
            case .updatedAt: bindings.append(updatedAt)
            case .contentAt: bindings.append(contentAt)
            case .firstActionAt: bindings.append(firstActionAt)
            case .resolvedAt: bindings.append(resolvedAt)
            case .clockAccumulated: bindings.append(clock.accumulated)
            case .clockSince: bindings.append(clock.since)
            case .dueAt: bindings.append(dueAt)
            case .slaNextAt: bindings.append(slaNextAt)
            case .slaRaised: bindings.append(Int32(slaRaised))
            case .appealOf: bindings.append(appealOf)
            case .excludedReviewer: bindings.append(excludedReviewer?.description)
            case .escalationReason: bindings.append(escalationReason)
            }
        }
    }
}

extension TimelineEntry {
    /// Decodes a row selected with `PostgresStore.timelineColumns`.
    init(postgres row: PostgresRow) throws {
        let cells = row.makeRandomAccess()
        func state(_ index: Int, _ column: String) throws -> CaseState? {
            try cells[index].decode(String?.self).map { try PostgresStore.known(CaseState.self, $0, table: "case_timeline", column: column) }
        }
        self.init(id: try cells[0].decode(Int64.self), at: try cells[1].decode(Int64.self),
                  actor: try ActorRef(stored: try cells[2].decode(String.self), table: "case_timeline", column: "actor"),
                  kind: try PostgresStore.known(Kind.self, try cells[3].decode(String.self), table: "case_timeline", column: "kind"),
                  fromState: try state(4, "from_state"), toState: try state(5, "to_state"), detail: try cells[6].decode(String.self))
    }
}

extension ActionRecord {
    /// Decodes a row selected with `PostgresStore.actionColumns`.
    init(postgres row: PostgresRow) throws {
        let cells = row.makeRandomAccess()
        let subjectText = try cells[3].decode(String.self)
        guard let subject = EntityRef(parsing: subjectText) else { throw StoredValueError(table: "enforcement_action", column: "subject", value: subjectText) }
        self.init(id: try cells[0].decode(Int64.self), decisionID: try cells[1].decode(Int64.self), caseID: try cells[2].decode(Int64.self),
                  subject: subject, action: try cells[4].decode(String.self), duration: try cells[5].decode(Int64?.self),
                  createdAt: try cells[6].decode(Int64.self), reverses: try cells[7].decode(Int64?.self), reversedAt: try cells[8].decode(Int64?.self),
                  reversedBy: try cells[9].decode(String?.self).map { try ActorRef(stored: $0, table: "enforcement_action", column: "reversed_by") },
                  reversalReason: try cells[10].decode(String?.self))
    }
}

extension ConsultRecord {
    /// Decodes a row selected with `PostgresStore.consultSelect`.
    init(postgres row: PostgresRow) throws {
        let cells = row.makeRandomAccess()
        func actor(_ index: Int, _ table: String, _ column: String) throws -> ActorRef {
            try ActorRef(stored: try cells[index].decode(String.self), table: table, column: column)
        }
        let subjectText = try cells[10].decode(String.self)
        guard let subject = EntityRef(parsing: subjectText) else { throw StoredValueError(table: "review_case", column: "subject", value: subjectText) }
        self.init(id: try cells[0].decode(Int64.self), caseID: try cells[1].decode(Int64.self), askedBy: try actor(2, "case_consult", "asked_by"),
                  reviewer: try actor(3, "case_consult", "reviewer"), question: try cells[4].decode(String.self), askedAt: try cells[5].decode(Int64.self),
                  answer: try cells[6].decode(String?.self), answeredAt: try cells[7].decode(Int64?.self), queue: try cells[8].decode(String.self),
                  state: try PostgresStore.known(CaseState.self, try cells[9].decode(String.self), table: "review_case", column: "state"),
                  subject: subject, category: try cells[11].decode(String.self),
                  assignee: try cells[12].decode(String?.self).map { try ActorRef(stored: $0, table: "review_case", column: "assignee") })
    }
}

extension OutboxItem {
    /// Decodes a row selected with `PostgresStore.outboxColumns`.
    init(postgres row: PostgresRow) throws {
        let cells = row.makeRandomAccess()
        self.init(id: try cells[0].decode(Int64.self), topic: try cells[1].decode(String.self), idempotencyKey: try cells[2].decode(String.self),
                  body: try cells[3].decode(String.self),
                  state: try PostgresStore.known(State.self, try cells[4].decode(String.self), table: "outbox", column: "state"),
                  attempts: try cells[5].decode(Int.self), nextAttemptAt: try cells[6].decode(Int64.self), lastError: try cells[7].decode(String?.self),
                  createdAt: try cells[8].decode(Int64.self), deliveredAt: try cells[9].decode(Int64?.self), destination: try cells[10].decode(String.self))
    }
}

extension StoredStatement {
    init(postgres row: PostgresRow) throws {
        let (decisionID, createdAt, body) = try row.decode((Int64, Int64, String).self)
        self.init(decisionID: decisionID, createdAt: createdAt, body: body)
    }
}
