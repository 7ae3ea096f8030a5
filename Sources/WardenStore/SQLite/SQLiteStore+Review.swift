import Crypto
import Foundation
import GRDB
public import WardenCore

// Review: cases, timeline, decisions, actions, outbox, statements of reasons and the audit chain.
// Each public method is one write transaction; the lifecycle, priority and SLA arithmetic are the
// pure functions of WardenCore, applied here to the rows they govern.

extension SQLiteStore: ReviewStore {
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
            var touched: [Int64] = []
            for input in inputs {
                if let id = try Self.merge(input, db, policy: policy, now: now) { touched.append(id) }
            }
            for (name, seq) in [(Self.signalCursorName, signalsThrough), (Self.reportCursorName, reportsThrough)] {
                try db.run(sql: "INSERT INTO consumer_cursor (name, seq) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET seq = max(seq, excluded.seq)",
                               arguments: [name, seq])
            }
            return touched
        }
    }

    private static func merge(_ input: CaseInput, _ db: Database, policy: ReviewPolicy, now: Int64) throws -> Int64? {
        if try db.cachedOne(Bool.self, sql: "SELECT 1 FROM case_item WHERE kind = ? AND ref = ?", arguments: [input.kind.rawValue, input.ref]) == true {
            return nil
        }
        let subject = input.subject.description
        var record: CaseRecord
        var created = false
        if let id = try db.cachedOne(Int64.self, sql: """
            SELECT id FROM review_case WHERE subject = ? AND kind = 'review' AND state IN \(CaseState.openStatesSQL)
            """, arguments: [subject]), let existing = try loadCase(db, id) {
            record = existing
        } else {
            let source: CaseSource = input.kind == .signal ? .signal : .report
            let queue = policy.configuration.route(source: source, category: input.category, severity: input.severity, rule: input.rule,
                                                   requested: input.requestedQueue)
            record = CaseRecord(
                id: 0, kind: "review", subject: subject, source: source, queue: queue, state: .open, category: input.category,
                severity: input.severity, score: 0, band: .p4, signals: 0, reports: 0, reporterWeight: 0, assignee: nil, leaseExpiresAt: nil,
                createdAt: now, updatedAt: now, contentAt: input.at, firstActionAt: nil, resolvedAt: nil,
                clock: .start(at: now, state: .open, policy: policy.sla(of: queue)), dueAt: ReviewPolicy.noDeadline, slaNextAt: nil,
                slaRaised: 0, appealOf: nil, excludedReviewer: nil, escalationReason: nil)
            created = true
        }
        var weight = 0.0
        var duplicate = false
        var detail = JSONWriter(capacity: 128)
        detail.beginObject()
        switch input.kind {
        case .signal:
            record.signals += 1
            detail.field("signal_id", input.ref)
            if let rule = input.rule { detail.field("rule", rule) }
        case .report:
            let reporter = input.reporter ?? "unknown"
            let row = try db.cachedRow(sql: "SELECT trust, muted FROM reporter WHERE id = ?", arguments: [reporter])
            let muted = (row?["muted"] as Int64?) == 1
            let trust: Double = row?["trust"] ?? policy.configuration.defaultReporterTrust
            try db.run(sql: """
                INSERT INTO reporter (id, trust, muted, reports, upheld, rejected) VALUES (?, ?, 0, 1, 0, 0)
                ON CONFLICT (id) DO UPDATE SET reports = reports + 1
                """, arguments: [reporter, trust])
            if !created, try db.cachedOne(Bool.self, sql: "SELECT 1 FROM case_item WHERE case_id = ? AND reporter = ?",
                                           arguments: [record.id, reporter]) == true {
                duplicate = true
            } else {
                weight = muted ? 0 : trust
                record.reports += 1
                record.reporterWeight += weight
            }
            detail.field("report_seq", input.ref)
            detail.field("reporter", reporter)
            detail.field("weight", String(format: "%.2f", weight))
            if duplicate { detail.field("duplicate", "this reporter already reported the case; not counted again") }
            if muted { detail.field("muted", "the reporter is muted; the report weighs nothing") }
        }
        detail.field("category", input.category)
        detail.field("severity", input.severity)
        detail.endObject()
        if policy.rank(of: input.severity) > policy.rank(of: record.severity) {
            record.severity = input.severity
            record.category = input.category
        }
        record.contentAt = min(record.contentAt, input.at)
        record.updatedAt = now
        reprioritise(&record, policy: policy)
        if created {
            try insertCase(db, &record)
            try appendTimeline(db, record.id, at: now, actor: "system:cases", kind: "created", from: nil, to: .open,
                               detail: #"{"queue":"\#(record.queue)","source":"\#(record.source.rawValue)"}"#)
            try appendAudit(db, at: now, actor: "system:cases", action: "case.create", target: "case:\(record.id)",
                            detail: #"{"subject":\#(jsonString(subject)),"queue":"\#(record.queue)"}"#)
        } else {
            try saveCase(db, record)
        }
        try db.run(sql: "INSERT INTO case_item (kind, ref, case_id, reporter, weight, duplicate, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       arguments: [input.kind.rawValue, input.ref, record.id, input.reporter, weight, duplicate, input.at])
        try appendTimeline(db, record.id, at: now, actor: "system:cases", kind: input.kind.rawValue, from: nil, to: nil,
                           detail: String(decoding: detail.bytes, as: UTF8.self))
        return record.id
    }

    /// Recomputes score, band, deadline and next SLA event.
    static func reprioritise(_ record: inout CaseRecord, policy: ReviewPolicy) {
        let priority = policy.priority(severity: record.severity, reporterWeight: record.reporterWeight, reach: record.signals + record.reports)
        record.score = priority.score
        record.band = priority.band
        let schedule = policy.schedule(clock: record.clock, band: record.band, queue: record.queue,
                                       firstActionDone: record.firstActionAt != nil, raised: record.slaRaised)
        record.dueAt = schedule.dueAt
        record.slaNextAt = schedule.nextEventAt
    }

    // MARK: Claiming and moving

    public func claimNext(queue: String, reviewer: String, policy: ReviewPolicy, now: Int64) async throws -> CaseRecord? {
        try await batcher.write { db in
            guard let id = try db.cachedOne(Int64.self, sql: """
                SELECT id FROM review_case INDEXED BY case_waiting
                WHERE queue = ? AND state IN ('open', 'escalated') AND (excluded_reviewer IS NULL OR excluded_reviewer <> ?)
                ORDER BY band, due_at, id LIMIT 1
                """, arguments: [queue, reviewer]), var record = try Self.loadCase(db, id) else { return nil }
            try Self.move(db, &record, .claim, actor: reviewer, policy: policy, now: now, detail: "{}")
            return record
        }
    }

    public func claim(caseID: Int64, reviewer: String, policy: ReviewPolicy, now: Int64) async throws -> CaseRecord {
        try await batcher.write { db in
            var record = try Self.requireCase(db, caseID)
            if record.excludedReviewer == reviewer {
                throw ReviewError(.forbidden, "\(reviewer) decided the appealed case, so someone else must review the appeal")
            }
            try Self.move(db, &record, .claim, actor: reviewer, policy: policy, now: now, detail: "{}")
            return record
        }
    }

    public func change(caseID: Int64, _ change: CaseChange, actor: String, policy: ReviewPolicy, now: Int64) async throws -> CaseRecord {
        try await batcher.write { db in
            var record = try Self.requireCase(db, caseID)
            switch change {
            case .command(let command, let note):
                try Self.requireHolder(record, actor, toDo: command.verb)
                var detail = JSONWriter(capacity: 64)
                detail.beginObject()
                if let note { detail.field("note", note) }
                detail.endObject()
                try Self.move(db, &record, command, actor: actor, policy: policy, now: now, detail: String(decoding: detail.bytes, as: UTF8.self))
            case .escalate(let queue, let reason):
                if record.state.isHeld { try Self.requireHolder(record, actor, toDo: "escalate") }
                guard policy.configuration.queues[queue] != nil else {
                    throw ReviewError(.invalid, "queue \"\(queue)\" does not exist; use one of \(policy.configuration.queueOrder.joined(separator: ", "))")
                }
                let from = record.queue
                record.queue = queue
                record.escalationReason = reason
                try Self.move(db, &record, .escalate, actor: actor, policy: policy, now: now,
                              detail: #"{"from_queue":\#(jsonString(from)),"to_queue":\#(jsonString(queue)),"reason":\#(jsonString(reason))}"#)
            case .handoff(let reviewer, let note):
                try Self.requireHolder(record, actor, toDo: "hand off")
                guard reviewer != actor else { throw ReviewError(.invalid, "the case is already yours") }
                if record.excludedReviewer == reviewer {
                    throw ReviewError(.forbidden, "\(reviewer) decided the appealed case and may not review the appeal")
                }
                record.assignee = reviewer
                record.leaseExpiresAt = now + policy.leaseMillis
                record.updatedAt = now
                try Self.saveCase(db, record)
                try Self.appendTimeline(db, caseID, at: now, actor: actor, kind: "handoff", from: nil, to: nil,
                                        detail: #"{"to":\#(jsonString(reviewer))\#(note.map { #","note":\#(jsonString($0))"# } ?? "")}"#)
                try Self.appendAudit(db, at: now, actor: actor, action: "case.handoff", target: "case:\(caseID)", detail: #"{"to":\#(jsonString(reviewer))}"#)
            case .consult(let reviewer, let question):
                try Self.requireHolder(record, actor, toDo: "ask for a consult on")
                guard reviewer != actor else { throw ReviewError(.invalid, "ask someone else for a consult: \(actor) holds the case") }
                try Self.firstAction(&record, now: now)
                record.leaseExpiresAt = now + policy.leaseMillis
                record.updatedAt = now
                Self.reprioritise(&record, policy: policy)
                try Self.saveCase(db, record)
                try db.run(sql: "INSERT INTO case_consult (case_id, asked_by, reviewer, question, asked_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [caseID, actor, reviewer, question, now])
                try Self.appendTimeline(db, caseID, at: now, actor: actor, kind: "consult", from: nil, to: nil,
                                        detail: #"{"consult_id":\#(db.lastInsertedRowID),"with":\#(jsonString(reviewer)),"question":\#(jsonString(question))}"#)
                try Self.appendAudit(db, at: now, actor: actor, action: "case.consult", target: "case:\(caseID)", detail: #"{"with":\#(jsonString(reviewer))}"#)
            case .comment(let text):
                if record.assignee == actor { try Self.firstAction(&record, now: now) }
                if record.assignee == actor { record.leaseExpiresAt = now + policy.leaseMillis }
                record.updatedAt = now
                Self.reprioritise(&record, policy: policy)
                try Self.saveCase(db, record)
                try Self.appendTimeline(db, caseID, at: now, actor: actor, kind: "comment", from: nil, to: nil, detail: #"{"text":\#(jsonString(text))}"#)
                try Self.appendAudit(db, at: now, actor: actor, action: "case.comment", target: "case:\(caseID)", detail: "{}")
            case .renew:
                try Self.requireHolder(record, actor, toDo: "renew the lease of")
                record.leaseExpiresAt = now + policy.leaseMillis
                try Self.saveCase(db, record)
            }
            return record
        }
    }

    private static func requireHolder(_ record: CaseRecord, _ actor: String, toDo verb: String) throws {
        guard record.state.isHeld else {
            throw ReviewError(.conflict, "case \(record.id) is \(record.state.rawValue), not held by anyone; claim it before you \(verb) it")
        }
        guard record.assignee == actor else {
            throw ReviewError(.conflict, "case \(record.id) is held by \(record.assignee ?? "nobody"), not \(actor); only its holder can \(verb) it")
        }
    }

    private static func firstAction(_ record: inout CaseRecord, now: Int64) throws {
        if record.firstActionAt == nil { record.firstActionAt = now }
    }

    /// Applies a lifecycle command: state, clock, holder, lease, deadlines, timeline and audit.
    static func move(_ db: Database, _ record: inout CaseRecord, _ command: CaseCommand, actor: String, policy: ReviewPolicy, now: Int64,
                     detail: String, auditAction: String? = nil, audited: Bool = true) throws {
        let from = record.state
        let to: CaseState
        do {
            to = try CaseLifecycle.next(from, command)
        } catch {
            throw ReviewError(.conflict, "case \(record.id): \(error)")
        }
        record.state = to
        record.clock = record.clock.moved(to: to, at: now, policy: policy.sla(of: record.queue))
        switch to {
        case .inReview:
            if command == .claim { record.assignee = actor }
            record.leaseExpiresAt = now + policy.leaseMillis
        case .onHold:
            record.leaseExpiresAt = nil
        default:
            record.assignee = nil
            record.leaseExpiresAt = nil
        }
        if [.hold, .escalate, .resolve].contains(command), actor.hasPrefix("system:") == false { try firstAction(&record, now: now) }
        if to == .resolved { record.resolvedAt = now }
        record.updatedAt = now
        reprioritise(&record, policy: policy)
        try saveCase(db, record)
        try appendTimeline(db, record.id, at: now, actor: actor, kind: "transition", from: from, to: to, detail: detail)
        guard audited else { return }
        try appendAudit(db, at: now, actor: actor, action: auditAction ?? "case.\(command.verb)", target: "case:\(record.id)",
                        detail: #"{"from":"\#(from.rawValue)","to":"\#(to.rawValue)"}"#)
    }

    public func expireLeases(policy: ReviewPolicy, now: Int64) async throws -> Int {
        try await pool.write { db in
            let ids = try db.cachedAll(Int64.self, sql: """
                SELECT id FROM review_case INDEXED BY case_leases WHERE state = 'in_review' AND lease_expires_at <= ? LIMIT 1000
                """, arguments: [now])
            for id in ids {
                guard var record = try Self.loadCase(db, id) else { continue }
                let holder = record.assignee ?? "nobody"
                try Self.move(db, &record, .release, actor: "system:leases", policy: policy, now: now,
                              detail: #"{"reason":"the lease of \#(holder) lapsed without activity"}"#, auditAction: "case.lease_expired")
            }
            return ids.count
        }
    }

    public func raiseSLAEvents(policy: ReviewPolicy, now: Int64, limit: Int) async throws -> [(caseID: Int64, queue: String, event: SLAEvent)] {
        try await pool.write { db in
            var raised: [(Int64, String, SLAEvent)] = []
            let ids = try db.cachedAll(Int64.self, sql: "SELECT id FROM review_case INDEXED BY case_sla WHERE sla_next_at <= ? ORDER BY sla_next_at LIMIT ?",
                                         arguments: [now, limit])
            for id in ids {
                guard var record = try Self.loadCase(db, id) else { continue }
                let sla = policy.sla(of: record.queue)
                while let next = record.clock.nextEvent(targets: sla.targets[record.band], firstActionDone: record.firstActionAt != nil,
                                                        raised: record.slaRaised, policy: sla), next.at <= now {
                    record.slaRaised |= next.event.flag
                    raised.append((id, record.queue, next.event))
                    let detail = #"{"event":"\#(next.event.rawValue)","due":"\#(Timestamp.formatRFC3339(next.at))","band":"\#(record.band.name)"}"#
                    try Self.appendTimeline(db, id, at: now, actor: "system:sla", kind: "sla", from: nil, to: nil, detail: detail)
                    try Self.appendAudit(db, at: now, actor: "system:sla", action: "sla.\(next.event.rawValue)", target: "case:\(id)", detail: detail)
                    var body = JSONWriter(capacity: 256)
                    body.beginObject()
                    body.field("case_id", id)
                    body.field("queue", record.queue)
                    body.field("subject", record.subject)
                    body.field("event", next.event.rawValue)
                    body.field("band", record.band.name)
                    body.field("due_at", Timestamp.formatRFC3339(next.at))
                    if let assignee = record.assignee { body.field("assignee", assignee) }
                    body.endObject()
                    try Self.enqueue(db, topic: next.event.isBreach ? "sla.breached" : "sla.warning", key: "sla:\(id):\(next.event.rawValue)",
                                     order: "case:\(id)", data: body.bytes, now: now)
                    // And a signal, beside rule hits in GET /v1/signals: a breach at the pack's highest
                    // severity, a warning one below. It is about the case, so it opens none.
                    let severities = policy.severities
                    let severity = next.event.isBreach ? (severities.last ?? record.severity)
                        : (severities.count > 1 ? severities[severities.count - 2] : record.severity)
                    let what = "\(next.event.rawValue.replacingOccurrences(of: "_", with: " ").replacingOccurrences(of: ".", with: " SLA "))"
                    let reason = "\(what): case \(id) (\(record.band.name), queue \(record.queue)) due \(Timestamp.formatRFC3339(next.at))"
                    try db.run(sql: """
                        INSERT INTO signal (case_id, rule, rule_version, category, severity, subject, reason, explanation, queue, effects,
                                            occurred_at, created_at)
                        VALUES (?, 'sla', ?, ?, ?, ?, ?, ?, ?, '[]', ?, ?) ON CONFLICT DO NOTHING
                        """, arguments: [id, next.event.rawValue, record.category, severity, record.subject, reason,
                                        reason + (record.assignee.map { ", held by \($0)" } ?? ", unassigned"), record.queue, now, now])
                }
                Self.reprioritise(&record, policy: policy)
                try Self.saveCase(db, record)
            }
            return raised
        }
    }

    public func consults(for reviewer: String, answered: Bool?, limit: Int) async throws -> [ConsultRecord] {
        try await pool.read { db in
            let filter = answered.map { $0 ? " AND c.answered_at IS NOT NULL" : " AND c.answered_at IS NULL" } ?? ""
            return try Row.fetchAll(db, sql: """
                SELECT c.*, r.queue, r.state, r.subject, r.category, r.assignee FROM case_consult c JOIN review_case r ON r.id = c.case_id
                WHERE c.reviewer = ?\(filter) ORDER BY c.id DESC LIMIT ?
                """, arguments: [reviewer, limit]).map(Self.consult(from:))
        }
    }

    public func consult(id: Int64) async throws -> ConsultRecord? {
        try await pool.read { db in
            try db.cachedRow(sql: Self.consultByID, arguments: [id]).map(Self.consult(from:))
        }
    }

    static let consultByID = """
        SELECT c.*, r.queue, r.state, r.subject, r.category, r.assignee FROM case_consult c JOIN review_case r ON r.id = c.case_id WHERE c.id = ?
        """

    public func answerConsult(id: Int64, answer: String, actor: String, now: Int64) async throws -> ConsultRecord {
        try await batcher.write { db in
            guard let row = try db.cachedRow(sql: Self.consultByID, arguments: [id]) else {
                throw ReviewError(.notFound, "there is no consult \(id)")
            }
            var consult = Self.consult(from: row)
            guard consult.reviewer == actor else {
                throw ReviewError(.forbidden, "consult \(id) was asked of \(consult.reviewer), not \(actor); only they can answer it")
            }
            guard consult.answeredAt == nil else { throw ReviewError(.conflict, "consult \(id) is already answered") }
            try db.run(sql: "UPDATE case_consult SET answer = ?, answered_at = ? WHERE id = ?", arguments: [answer, now, id])
            try Self.appendTimeline(db, consult.caseID, at: now, actor: actor, kind: "consult_answer", from: nil, to: nil,
                                    detail: #"{"consult_id":\#(id),"answer":\#(jsonString(answer))}"#)
            try Self.appendAudit(db, at: now, actor: actor, action: "case.consult_answer", target: "case:\(consult.caseID)", detail: #"{"consult_id":\#(id)}"#)
            consult.answer = answer
            consult.answeredAt = now
            return consult
        }
    }

    static func consult(from row: Row) -> ConsultRecord {
        ConsultRecord(id: row["id"], caseID: row["case_id"], askedBy: row["asked_by"], reviewer: row["reviewer"], question: row["question"],
                      askedAt: row["asked_at"], answer: row["answer"], answeredAt: row["answered_at"], queue: row["queue"],
                      state: CaseState(rawValue: row["state"]) ?? .open, subject: row["subject"], category: row["category"], assignee: row["assignee"])
    }

    public func setReporter(_ reporter: String, muted: Bool, actor: String, now: Int64) async throws {
        try await batcher.write { db in
            try db.run(sql: """
                INSERT INTO reporter (id, trust, muted, reports, upheld, rejected) VALUES (?, 0.5, ?, 0, 0, 0)
                ON CONFLICT (id) DO UPDATE SET muted = excluded.muted
                """, arguments: [reporter, muted])
            try Self.appendAudit(db, at: now, actor: actor, action: muted ? "reporter.mute" : "reporter.unmute", target: "reporter:\(reporter)", detail: "{}")
        }
    }

    // MARK: Decisions, actions, appeals

    public func decide(caseID: Int64, _ draft: DecisionDraft, actor: String, context: DecisionContext, policy: ReviewPolicy, now: Int64) async throws -> DecisionRecord {
        try await batcher.write { db in
            var record = try Self.requireCase(db, caseID)
            try Self.requireHolder(record, actor, toDo: "decide")
            guard record.state == .inReview else {
                throw ReviewError(.conflict, "case \(caseID) is on hold; resume it before deciding")
            }
            try db.run(sql: """
                INSERT INTO decision (case_id, decided_by, at, category, violation, policy, rationale, tree_path, macro, appeal_outcome, pack_version)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [caseID, actor, now, draft.category, draft.violation, draft.policy, draft.rationale, draft.treePath,
                                 draft.macro, draft.appealOutcome?.rawValue, draft.packVersion])
            let decisionID = db.lastInsertedRowID

            // The actions come resolved (the engine applies the ladder), so what was rendered into
            // the decision's messages is exactly what is done.
            let actions = draft.actions
            let ladder = context.catalogue.ladder(for: draft.category)
            var applied: [StatementOfReasons.AppliedAction] = []
            var records: [ActionRecord] = []
            for action in actions {
                guard let definition = context.catalogue.actions[action.name] else {
                    throw ReviewError(.invalid, "\"\(action.name)\" is not an action of the pack's catalogue")
                }
                records.append(try Self.applyAction(db, action, definition: definition, decisionID: decisionID, record: record, category: draft.category,
                                                    reverses: nil, now: now))
                applied.append(.init(definition: definition, duration: action.duration))
            }
            if draft.violation, record.kind == "review", let ladder {
                try db.run(sql: "INSERT INTO strike (subject, policy, decision_id, at, expires_at) VALUES (?, ?, ?, ?, ?)",
                               arguments: [record.subject, ladder.category, decisionID, now, now + ladder.strikeExpiry])
            }
            if StatementOfReasons.isRestrictive(applied) {
                let subjectType = String(record.subject.prefix { $0 != ":" })
                let statement = StatementOfReasons(
                    decisionID: decisionID, category: draft.category, dsaCategory: context.dsaCategories[draft.category] ?? "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE",
                    actions: applied, illegal: draft.illegal, ground: draft.illegal ? (draft.legalGround ?? "") : (draft.policy ?? draft.category),
                    explanation: draft.rationale ?? "Decided under policy \(draft.policy ?? draft.category).",
                    contentType: context.catalogue.contentTypes[subjectType] ?? "CONTENT_TYPE_OTHER",
                    automatedDetection: record.signals > 0, automatedDecision: false, source: record.reports > 0 ? .report : record.source,
                    contentDate: record.contentAt, applicationDate: now,
                    facts: "Case \(caseID) about \(record.subject): \(record.signals) signal(s), \(record.reports) report(s); "
                        + "reviewed in queue \(record.queue)." + (draft.rationale.map { " " + $0 } ?? ""),
                    territorialScope: context.catalogue.territorialScope)
                try db.run(sql: "INSERT INTO statement_of_reasons (decision_id, created_at, body) VALUES (?, ?, ?)",
                               arguments: [decisionID, now, String(decoding: statement.json(), as: UTF8.self)])
            }
            // Reporters whose report was upheld gain trust; the others lose it.
            let reporters = try Self.reporters(db, caseID: caseID)
            for reporter in reporters {
                try db.run(sql: """
                    UPDATE reporter SET upheld = upheld + ?, rejected = rejected + ?,
                        trust = (upheld + ? + 2 * ?) / (upheld + rejected + 1 + 2.0) WHERE id = ?
                    """, arguments: [draft.violation ? 1 : 0, draft.violation ? 0 : 1, draft.violation ? 1 : 0,
                                     policy.configuration.defaultReporterTrust, reporter])
            }
            var detail = JSONWriter(capacity: 256)
            detail.beginObject()
            detail.field("decision_id", decisionID)
            detail.field("category", draft.category)
            detail.key("violation")
            detail.bool(draft.violation)
            detail.key("actions")
            detail.beginArray()
            for action in actions { detail.string(action.name + (action.duration.map { " " + DurationText.format($0) } ?? "")) }
            detail.endArray()
            if let outcome = draft.appealOutcome { detail.field("appeal_outcome", outcome.rawValue) }
            detail.field("from", record.state.rawValue)
            detail.field("to", CaseState.resolved.rawValue)
            detail.endObject()
            let detailText = String(decoding: detail.bytes, as: UTF8.self)
            try Self.appendTimeline(db, caseID, at: now, actor: actor, kind: "decision", from: nil, to: nil, detail: detailText)
            // One audit entry for the decision and the case's move to resolved.
            try Self.appendAudit(db, at: now, actor: actor, action: "decision.create", target: "case:\(caseID)", detail: detailText)
            try Self.move(db, &record, .resolve, actor: actor, policy: policy, now: now, detail: #"{"decision_id":\#(decisionID)}"#, audited: false)
            for message in draft.messages {
                var body = JSONWriter(capacity: 256 + message.text.utf8.count)
                body.beginObject()
                body.field("case_id", caseID)
                body.field("decision_id", decisionID)
                body.field("macro", message.macro)
                body.field("message", message.text)
                switch message.kind {
                case .userNotice where record.kind == "appeal":
                    body.endObject()  // the appeal's notice below carries it
                case .userNotice:
                    body.field("subject", record.subject)
                    body.endObject()
                    try Self.enqueue(db, topic: "user.notice", key: "decision:\(decisionID):notice", order: record.subject, data: body.bytes, now: now)
                case .reporterReply:
                    body.endObject()
                    for reporter in reporters {
                        var reply = JSONWriter(capacity: body.bytes.count + 64)
                        reply.beginObject()
                        reply.field("reporter", reporter)
                        reply.key("reply")
                        reply.raw(body.bytes)
                        reply.endObject()
                        try Self.enqueue(db, topic: "reporter.reply", key: "decision:\(decisionID):reply:\(reporter)", order: reporter, data: reply.bytes, now: now)
                    }
                case .internalNote:
                    body.endObject()
                    try Self.appendTimeline(db, caseID, at: now, actor: actor, kind: "note", from: nil, to: nil, detail: String(decoding: body.bytes, as: UTF8.self))
                }
            }

            if record.kind == "appeal", let original = record.appealOf, var appealed = try Self.loadCase(db, original) {
                if draft.appealOutcome == .overturned,
                   let originalDecision = try db.cachedOne(Int64.self, sql: "SELECT max(id) FROM decision WHERE case_id = ?", arguments: [original]) {
                    let toReverse = try db.cachedAll(Int64.self, sql: """
                        SELECT id FROM enforcement_action WHERE decision_id = ? AND reverses IS NULL AND reversed_at IS NULL ORDER BY id
                        """, arguments: [originalDecision])
                    for id in toReverse {
                        if let definition = try Self.action(db, id).flatMap({ context.catalogue.actions[$0.action] }), definition.reversal != nil {
                            _ = try Self.reverseAction(db, id, reason: "appeal overturned (case \(caseID))", actor: actor, context: context, now: now)
                        }
                    }
                    try db.run(sql: "UPDATE strike SET removed_at = ? WHERE decision_id = ? AND removed_at IS NULL", arguments: [now, originalDecision])
                }
                try Self.move(db, &appealed, .close, actor: actor, policy: policy, now: now,
                              detail: #"{"appeal_case":\#(caseID),"outcome":"\#(draft.appealOutcome?.rawValue ?? "upheld")"}"#)
                var notice = JSONWriter(capacity: 256)
                notice.beginObject()
                notice.field("subject", appealed.subject)
                notice.field("case_id", original)
                notice.field("appeal_case_id", caseID)
                notice.field("outcome", draft.appealOutcome?.rawValue ?? "upheld")
                if let macro = draft.macro { notice.field("macro", macro) }
                if let message = draft.messages.first(where: { $0.kind == .userNotice })?.text ?? draft.rationale { notice.field("message", message) }
                notice.endObject()
                try Self.enqueue(db, topic: "user.notice", key: "appeal:\(caseID):notice", order: appealed.subject, data: notice.bytes, now: now)
            }
            return DecisionRecord(id: decisionID, caseID: caseID, decidedBy: actor, at: now, category: draft.category, violation: draft.violation,
                                  policy: draft.policy, rationale: draft.rationale, treePath: draft.treePath, macro: draft.macro,
                                  appealOutcome: draft.appealOutcome?.rawValue, actions: records,
                                  hasStatement: StatementOfReasons.isRestrictive(applied))
        }
    }

    public func decidedTexts(since: Int64) async throws -> [DecidedText] {
        try await pool.read { db in
            // The latest decision of each review case; an overturning appeal reverses its verdict.
            let rows = try Row.fetchAll(db, sql: """
                SELECT d.id, d.case_id, d.at, d.category, d.violation, d.pack_version, e.body,
                       EXISTS (SELECT 1 FROM review_case a JOIN decision ad ON ad.case_id = a.id
                               WHERE a.appeal_of = d.case_id AND ad.appeal_outcome = 'overturned') AS overturned
                FROM decision d
                JOIN review_case c ON c.id = d.case_id AND c.kind = 'review'
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
                let overturned: Bool = row[7]
                let violation: Bool = row[4]
                texts.append(DecidedText(decisionID: decisionID, caseID: row[1], at: row[2], category: row[3], violation: overturned ? !violation : violation,
                                         overturned: overturned, packVersion: row[5], text: content))
            }
            return texts
        }
    }

    public func claims(by reviewer: String, queue: String, since: Int64) async throws -> Int {
        try await pool.read { db in
            try db.cachedOne(Int.self, sql: """
                SELECT count(*) FROM case_timeline t INDEXED BY timeline_by_actor JOIN review_case c ON c.id = t.case_id
                WHERE t.actor = ? AND t.at > ? AND t.kind = 'transition' AND t.to_state = 'in_review' AND t.from_state IN ('open', 'escalated')
                  AND c.queue = ?
                """, arguments: [reviewer, since, queue]) ?? 0
        }
    }

    public func liveStrikes(subject: String, policy: String, now: Int64) async throws -> Int {
        try await pool.read { db in try Self.liveStrikes(db, subject: subject, policy: policy, now: now) }
    }

    public func reporters(caseID: Int64) async throws -> [String] {
        try await pool.read { db in try Self.reporters(db, caseID: caseID) }
    }

    private static func reporters(_ db: Database, caseID: Int64) throws -> [String] {
        try db.cachedAll(String.self, sql: "SELECT reporter FROM case_item INDEXED BY case_item_by_case WHERE case_id = ? AND kind = 'report' AND duplicate = 0",
                         arguments: [caseID])
    }

    private static func liveStrikes(_ db: Database, subject: String, policy: String, now: Int64) throws -> Int {
        try db.cachedOne(Int.self, sql: """
            SELECT count(*) FROM strike WHERE subject = ? AND (policy = ? OR policy LIKE ? ESCAPE '\\') AND expires_at > ? AND removed_at IS NULL
            """, arguments: [subject, policy, policy.replacingOccurrences(of: "_", with: "\\_") + ".%", now]) ?? 0
    }

    /// Records an action (or a reversal) and puts its webhook in the outbox.
    private static func applyAction(_ db: Database, _ action: RequestedAction, definition: ActionDefinition, decisionID: Int64, record: CaseRecord,
                                    category: String, reverses: Int64?, now: Int64) throws -> ActionRecord {
        try db.run(sql: """
            INSERT INTO enforcement_action (decision_id, case_id, subject, action, duration, created_at, reverses) VALUES (?, ?, ?, ?, ?, ?, ?)
            """, arguments: [decisionID, record.id, record.subject, action.name, action.duration, now, reverses])
        let id = db.lastInsertedRowID
        var body = JSONWriter(capacity: 256)
        body.beginObject()
        body.field("action_id", id)
        body.field("action", action.name)
        body.field("subject", record.subject)
        if let duration = action.duration {
            body.field("duration", DurationText.format(duration))
            body.field("ends_at", Timestamp.formatRFC3339(now + duration))
        }
        if let reverses { body.field("reverses_action_id", reverses) }
        body.field("decision_id", decisionID)
        body.field("case_id", record.id)
        body.field("category", category)
        body.key("reversible")
        body.bool(definition.reversal != nil && reverses == nil)
        body.endObject()
        try enqueue(db, topic: reverses == nil ? "action.applied" : "action.reversed", key: reverses == nil ? "action:\(id)" : "reversal:\(reverses!)",
                    order: record.subject, data: body.bytes, now: now)
        try appendTimeline(db, record.id, at: now, actor: "system:enforcement", kind: reverses == nil ? "action" : "reversal", from: nil, to: nil,
                           detail: #"{"action_id":\#(id),"action":\#(jsonString(action.name))}"#)
        return ActionRecord(id: id, decisionID: decisionID, caseID: record.id, subject: record.subject, action: action.name, duration: action.duration,
                            createdAt: now, reverses: reverses, reversedAt: nil, reversedBy: nil, reversalReason: nil)
    }

    public func reverse(actionID: Int64, reason: String, actor: String, context: DecisionContext, now: Int64) async throws -> ActionRecord {
        try await batcher.write { db in
            try Self.reverseAction(db, actionID, reason: reason, actor: actor, context: context, now: now)
        }
    }

    private static func reverseAction(_ db: Database, _ actionID: Int64, reason: String, actor: String, context: DecisionContext, now: Int64) throws -> ActionRecord {
        guard let original = try action(db, actionID) else { throw ReviewError(.notFound, "there is no action \(actionID)") }
        let action = original
        guard action.reverses == nil else { throw ReviewError(.conflict, "action \(actionID) is itself a reversal; it cannot be reversed") }
        guard action.reversedAt == nil else {
            throw ReviewError(.conflict, "action \(actionID) was already reversed by \(action.reversedBy ?? "someone") at \(Timestamp.formatRFC3339(action.reversedAt ?? 0))")
        }
        guard let definition = context.catalogue.actions[action.action], let reversal = definition.reversal,
              let reversalDefinition = context.catalogue.actions[reversal] else {
            throw ReviewError(.invalid, "\(action.action) cannot be reversed: the catalogue names no reversal for it")
        }
        guard let record = try loadCase(db, action.caseID) else { throw ReviewError(.notFound, "case \(action.caseID) is missing") }
        try db.run(sql: "UPDATE enforcement_action SET reversed_at = ?, reversed_by = ?, reversal_reason = ? WHERE id = ?",
                       arguments: [now, actor, reason, actionID])
        let category = try db.cachedOne(String.self, sql: "SELECT category FROM decision WHERE id = ?", arguments: [action.decisionID]) ?? record.category
        _ = try applyAction(db, RequestedAction(name: reversal, duration: nil), definition: reversalDefinition, decisionID: action.decisionID,
                        record: record, category: category, reverses: actionID, now: now)
        try db.run(sql: "UPDATE strike SET removed_at = ? WHERE decision_id = ? AND removed_at IS NULL", arguments: [now, action.decisionID])
        try appendAudit(db, at: now, actor: actor, action: "action.reverse", target: "action:\(actionID)",
                        detail: #"{"reason":\#(jsonString(reason)),"reversal":\#(jsonString(reversal))}"#)
        guard let reversed = try Self.action(db, actionID) else { throw ReviewError(.notFound, "action \(actionID) vanished") }
        return reversed
    }

    public func openAppeal(caseID: Int64, appellant: String, statement: String?, actor: String, policy: ReviewPolicy, now: Int64) async throws -> CaseRecord {
        try await batcher.write { db in
            var original = try Self.requireCase(db, caseID)
            guard original.kind == "review" else { throw ReviewError(.invalid, "case \(caseID) is itself an appeal; appeals cannot be appealed") }
            guard let decider = try db.cachedOne(String.self, sql: "SELECT decided_by FROM decision WHERE case_id = ? ORDER BY id DESC LIMIT 1", arguments: [caseID]) else {
                throw ReviewError(.conflict, "case \(caseID) has no decision to appeal")
            }
            try Self.move(db, &original, .appeal, actor: actor, policy: policy, now: now,
                          detail: #"{"appellant":\#(jsonString(appellant))}"#, auditAction: "appeal.create")
            let queue = policy.configuration.appealsQueue
            var appeal = CaseRecord(
                id: 0, kind: "appeal", subject: original.subject, source: .appeal, queue: queue, state: .open, category: original.category,
                severity: original.severity, score: 0, band: .p4, signals: 0, reports: 0, reporterWeight: 0, assignee: nil, leaseExpiresAt: nil,
                createdAt: now, updatedAt: now, contentAt: original.contentAt, firstActionAt: nil, resolvedAt: nil,
                clock: .start(at: now, state: .open, policy: policy.sla(of: queue)), dueAt: ReviewPolicy.noDeadline, slaNextAt: nil,
                slaRaised: 0, appealOf: caseID, excludedReviewer: decider, escalationReason: nil)
            Self.reprioritise(&appeal, policy: policy)
            try Self.insertCase(db, &appeal)
            var detail = JSONWriter(capacity: 128)
            detail.beginObject()
            detail.field("appeal_of", caseID)
            detail.field("appellant", appellant)
            if let statement { detail.field("statement", statement) }
            detail.endObject()
            let text = String(decoding: detail.bytes, as: UTF8.self)
            try Self.appendTimeline(db, appeal.id, at: now, actor: actor, kind: "created", from: nil, to: .open, detail: text)
            try Self.appendAudit(db, at: now, actor: actor, action: "case.create", target: "case:\(appeal.id)", detail: text)
            return appeal
        }
    }

    // MARK: Reads

    public func caseRecord(id: Int64) async throws -> CaseRecord? {
        try await pool.read { db in try Self.loadCase(db, id) }
    }

    public func timeline(caseID: Int64) async throws -> [TimelineEntry] {
        try await pool.read { db in
            try db.cachedRows(sql: "SELECT * FROM case_timeline WHERE case_id = ? ORDER BY id", arguments: [caseID]).map { row in
                TimelineEntry(id: row["id"], at: row["at"], actor: row["actor"], kind: row["kind"],
                              fromState: (row["from_state"] as String?).flatMap(CaseState.init(rawValue:)),
                              toState: (row["to_state"] as String?).flatMap(CaseState.init(rawValue:)), detail: row["detail"])
            }
        }
    }

    public func decisions(caseID: Int64) async throws -> [DecisionRecord] {
        try await pool.read { db in try Self.decisionRecords(db, caseID: caseID) }
    }

    public func cases(queue: String?, state: CaseState?, assignee: String?, before: Int64?, limit: Int) async throws -> [CaseRecord] {
        try await pool.read { db in
            var conditions = ["id < ?"]
            var arguments: StatementArguments = [before ?? Int64.max]
            if let queue { conditions.append("queue = ?"); arguments += [queue] }
            if let state { conditions.append("state = ?"); arguments += [state.rawValue] }
            if let assignee { conditions.append("assignee = ?"); arguments += [assignee] }
            arguments += [limit]
            return try db.cachedRows(sql: "SELECT \(Self.selectCase) FROM review_case WHERE \(conditions.joined(separator: " AND ")) ORDER BY id DESC LIMIT ?",
                                    arguments: arguments).map(Self.caseRecord(from:))
        }
    }

    public func queueCounts(now: Int64) async throws -> [QueueCount] {
        try await pool.read { db in
            try db.cachedRows(sql: """
                SELECT queue, state, count(*) AS n, sum(CASE WHEN due_at <= ? THEN 1 ELSE 0 END) AS breached
                FROM review_case INDEXED BY case_by_queue_state WHERE state IN \(CaseState.openStatesSQL) GROUP BY queue, state ORDER BY queue, state
                """, arguments: [now]).compactMap { row in
                guard let state = CaseState(rawValue: row["state"]) else { return nil }
                return QueueCount(queue: row["queue"], state: state, count: row["n"], breached: row["breached"])
            }
        }
    }

    // MARK: Outbox

    /// Puts a delivery in the outbox. Deliveries with the same `order` (the subject, for actions and
    /// notices) go out one at a time in the order they were made, so a reversal never overtakes
    /// the action it undoes, even across retries.
    static func enqueue(_ db: Database, topic: String, key: String, order: String, data: [UInt8], now: Int64) throws {
        var body = JSONWriter(capacity: data.count + 160)
        body.beginObject()
        body.field("id", key)
        body.field("topic", topic)
        body.field("created_at", Timestamp.formatRFC3339(now))
        body.key("data")
        body.raw(data)
        body.endObject()
        try db.run(sql: """
            INSERT INTO outbox (topic, idempotency_key, ordering_key, body, state, attempts, next_attempt_at, created_at)
            VALUES (?, ?, ?, ?, 'pending', 0, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING
            """, arguments: [topic, key, order, String(decoding: body.bytes, as: UTF8.self), now, now])
    }

    public func dueDeliveries(now: Int64, limit: Int) async throws -> [OutboxItem] {
        try await pool.read { db in
            // Only the first pending delivery of each ordering key is ever due.
            try db.cachedRows(sql: """
                SELECT * FROM outbox o INDEXED BY outbox_due WHERE state = 'pending' AND next_attempt_at <= ?
                AND NOT EXISTS (SELECT 1 FROM outbox p INDEXED BY outbox_pending_in_order
                                WHERE p.state = 'pending' AND p.ordering_key = o.ordering_key AND p.id < o.id)
                ORDER BY next_attempt_at, id LIMIT ?
                """, arguments: [now, limit]).map(Self.outboxItem(from:))
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

    public func redrive(ids: [Int64]?, actor: String, now: Int64) async throws -> Int {
        try await pool.write { db in
            let targets = try ids ?? db.cachedAll(Int64.self, sql: "SELECT id FROM outbox INDEXED BY outbox_by_state WHERE state = 'dead'")
            var count = 0
            for id in targets {
                try db.run(sql: "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = ? WHERE id = ? AND state = 'dead'", arguments: [now, id])
                if db.changesCount > 0 {
                    count += 1
                    try Self.appendAudit(db, at: now, actor: actor, action: "outbox.redrive", target: "delivery:\(id)", detail: "{}")
                }
            }
            return count
        }
    }

    public func outbox(state: OutboxItem.State?, limit: Int) async throws -> [OutboxItem] {
        try await pool.read { db in
            if let state {
                return try db.cachedRows(sql: "SELECT * FROM outbox INDEXED BY outbox_by_state WHERE state = ? ORDER BY id DESC LIMIT ?",
                                        arguments: [state.rawValue, limit]).map(Self.outboxItem(from:))
            }
            return try db.cachedRows(sql: "SELECT * FROM outbox ORDER BY id DESC LIMIT ?", arguments: [limit]).map(Self.outboxItem(from:))
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

    public func audit(actor: String, action: String, target: String, detail: String, now: Int64) async throws {
        try await batcher.write { db in
            try Self.appendAudit(db, at: now, actor: actor, action: action, target: target, detail: detail)
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

    static func appendTimeline(_ db: Database, _ caseID: Int64, at: Int64, actor: String, kind: String, from: CaseState?, to: CaseState?, detail: String) throws {
        try db.run(sql: "INSERT INTO case_timeline (case_id, at, actor, kind, from_state, to_state, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       arguments: [caseID, at, actor, kind, from?.rawValue, to?.rawValue, detail])
    }

    static func requireCase(_ db: Database, _ id: Int64) throws -> CaseRecord {
        guard let record = try loadCase(db, id) else { throw ReviewError(.notFound, "there is no case \(id)") }
        return record
    }

    static func loadCase(_ db: Database, _ id: Int64) throws -> CaseRecord? {
        try db.cachedRow(sql: "SELECT \(selectCase) FROM review_case WHERE id = ?", arguments: [id]).map(caseRecord(from:))
    }

    /// The columns ``caseRecord(from:)`` reads, by position (reading a row by column name costs a
    /// case-insensitive search per column; cases are read on every claim and decision).
    static let selectCase = "id, " + caseColumns.joined(separator: ", ")

    static func caseRecord(from row: Row) -> CaseRecord {
        CaseRecord(
            id: row[0], kind: row[1], subject: row[2], source: CaseSource(rawValue: row[3]) ?? .signal, queue: row[4],
            state: CaseState(rawValue: row[5]) ?? .open, category: row[6], severity: row[7], score: row[8],
            band: CasePriority.Band(rawValue: row[9]) ?? .p4, signals: row[10], reports: row[11], reporterWeight: row[12],
            assignee: row[13], leaseExpiresAt: row[14], createdAt: row[15], updatedAt: row[16], contentAt: row[17],
            firstActionAt: row[18], resolvedAt: row[19], clock: SLAClock(accumulated: row[20], since: row[21]), dueAt: row[22],
            slaNextAt: row[23], slaRaised: row[24], appealOf: row[25], excludedReviewer: row[26], escalationReason: row[27])
    }

    private static let caseColumns = ["kind", "subject", "source", "queue", "state", "category", "severity", "score", "band", "signals", "reports",
                                      "reporter_weight", "assignee", "lease_expires_at", "created_at", "updated_at", "content_at", "first_action_at",
                                      "resolved_at", "clock_accumulated", "clock_since", "due_at", "sla_next_at", "sla_raised", "appeal_of",
                                      "excluded_reviewer", "escalation_reason"]

    private static let selectStoredCase = "SELECT \(caseColumns.joined(separator: ", ")) FROM review_case WHERE id = ?"

    /// A case's values for ``caseColumns``, in order.
    private static func caseValues(_ record: CaseRecord) -> [DatabaseValue] {
        let values: [(any DatabaseValueConvertible)?] = [
            record.kind, record.subject, record.source.rawValue, record.queue, record.state.rawValue, record.category, record.severity, record.score,
            record.band.rawValue, record.signals, record.reports, record.reporterWeight, record.assignee, record.leaseExpiresAt, record.createdAt,
            record.updatedAt, record.contentAt, record.firstActionAt, record.resolvedAt, record.clock.accumulated, record.clock.since, record.dueAt,
            record.slaNextAt, record.slaRaised, record.appealOf, record.excludedReviewer, record.escalationReason,
        ]
        return values.map { $0?.databaseValue ?? .null }
    }

    static func insertCase(_ db: Database, _ record: inout CaseRecord) throws {
        try db.run(sql: "INSERT INTO review_case (\(caseColumns.joined(separator: ", "))) VALUES (\(caseColumns.map { _ in "?" }.joined(separator: ", ")))",
                       arguments: StatementArguments(caseValues(record)))
        record.id = db.lastInsertedRowID
    }

    /// Writes the columns of a case that differ from what is stored, and nothing when none do.
    /// SQLite rewrites an index entry whenever one of its columns (or one its `WHERE` reads) is
    /// assigned, even to the value it already holds, and `review_case` has six indexes: assigning
    /// every column made each merge, lease renewal or SLA tick rewrite all six (on a 300,000-case
    /// table, 97 µs an update against 28 µs assigning only what changed). The stored row is read
    /// back by its key first; its page is in cache, as the case was just read. Each set of columns
    /// is a statement of its own, compiled once per connection: the callers change a few dozen sets.
    static func saveCase(_ db: Database, _ record: CaseRecord) throws {
        guard let stored = try db.cachedRow(sql: selectStoredCase, arguments: [record.id]) else { return }
        var assignments: [String] = []
        var arguments: [DatabaseValue] = []
        for (index, value) in caseValues(record).enumerated() where (stored[index] as DatabaseValue) != value {
            assignments.append("\(caseColumns[index]) = ?")
            arguments.append(value)
        }
        guard !assignments.isEmpty else { return }
        arguments.append(record.id.databaseValue)
        try db.run(sql: "UPDATE review_case SET \(assignments.joined(separator: ", ")) WHERE id = ?", arguments: StatementArguments(arguments))
    }

    private static func action(_ db: Database, _ id: Int64) throws -> ActionRecord? {
        try db.cachedRow(sql: "SELECT * FROM enforcement_action WHERE id = ?", arguments: [id]).map(actionRecord(from:))
    }

    private static func actionRecord(from row: Row) -> ActionRecord {
        ActionRecord(id: row["id"], decisionID: row["decision_id"], caseID: row["case_id"], subject: row["subject"], action: row["action"],
                     duration: row["duration"], createdAt: row["created_at"], reverses: row["reverses"], reversedAt: row["reversed_at"],
                     reversedBy: row["reversed_by"], reversalReason: row["reversal_reason"])
    }

    static func decisionRecords(_ db: Database, caseID: Int64) throws -> [DecisionRecord] {
        try db.cachedRows(sql: """
            SELECT d.*, EXISTS (SELECT 1 FROM statement_of_reasons s WHERE s.decision_id = d.id) AS has_statement
            FROM decision d WHERE case_id = ? ORDER BY id
            """, arguments: [caseID]).map { row in
            let id: Int64 = row["id"]
            let actions = try db.cachedRows(sql: "SELECT * FROM enforcement_action WHERE decision_id = ? ORDER BY id", arguments: [id]).map(actionRecord(from:))
            return DecisionRecord(id: id, caseID: row["case_id"], decidedBy: row["decided_by"], at: row["at"], category: row["category"],
                                  violation: row["violation"], policy: row["policy"], rationale: row["rationale"], treePath: row["tree_path"],
                                  macro: row["macro"], appealOutcome: row["appeal_outcome"], actions: actions, hasStatement: row["has_statement"])
        }
    }

    private static func outboxItem(from row: Row) -> OutboxItem {
        OutboxItem(id: row["id"], topic: row["topic"], idempotencyKey: row["idempotency_key"], body: row["body"],
                   state: OutboxItem.State(rawValue: row["state"]) ?? .pending, attempts: row["attempts"], nextAttemptAt: row["next_attempt_at"],
                   lastError: row["last_error"], createdAt: row["created_at"], deliveredAt: row["delivered_at"])
    }
}

/// A JSON string literal.
func jsonString(_ text: String) -> String {
    var writer = JSONWriter(capacity: text.utf8.count + 2)
    writer.string(text)
    return String(decoding: writer.bytes, as: UTF8.self)
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
