import Foundation
import GRDB
public import WardenCore
public import WardenQuality

extension SQLiteStore: QualityStore {
    public func decisionFacts(from: Int64, to: Int64) async throws -> [DecisionFact] {
        try await pool.read { db in try Self.decisionFacts(db, from: from, to: to) }
    }

    /// A long window in two halves read at once on two of the pool's readers (each its own snapshot;
    /// a decision made between the two reads can show in the later half only). At a million decisions
    /// the read is most of a health report's time, and this machine has two cores.
    public func decisionFactParts(from: Int64, to: Int64) async throws -> [[DecisionFact]] {
        guard to > from, to - from > 2 * 86_400_000 else { return [try await decisionFacts(from: from, to: to)] }
        let middle = from + (to - from) / 2
        async let early = pool.read { db in try Self.decisionFacts(db, from: from, to: middle) }
        async let late = pool.read { db in try Self.decisionFacts(db, from: middle, to: to) }
        return try await [early, late]
    }

    static func decisionFacts(_ db: Database, from: Int64, to: Int64) throws -> [DecisionFact] {
        // Appeals are few next to decisions: one pass over decided appeals, the latest per case wins.
        var appeals: [Int64: DecisionFact.AppealResult] = [:]
        let appealRows = try Row.fetchCursor(db, sql: """
            SELECT a.appeal_of, d.appeal_outcome FROM decision d JOIN review_case a ON a.id = d.case_id
            WHERE a.kind = 'appeal' AND d.appeal_outcome IS NOT NULL ORDER BY d.id
            """)
        while let row = try appealRows.next() {
            let outcome: String = row[1]
            appeals[row[0]] = outcome == "overturned" ? .overturned : .upheld
        }
        var facts: [DecisionFact] = []
        var firstCase = Int64.max
        let rows = try Row.fetchCursor(db, sql: """
            SELECT d.id, d.case_id, d.at, d.decided_by, c.queue, d.category, d.violation,
                   c.created_at, c.first_action_at, c.resolved_at, c.due_at
            FROM decision d INDEXED BY decision_by_time JOIN review_case c ON c.id = d.case_id
            WHERE d.at >= ? AND d.at < ? AND c.kind = 'review' AND c.golden_item IS NULL
            ORDER BY d.at, d.id
            """, arguments: [from, to])
        while let row = try rows.next() {
            let caseID: Int64 = row[1]
            firstCase = min(firstCase, caseID)
            facts.append(DecisionFact(decisionID: row[0], caseID: caseID, at: row[2], decider: row[3], queue: row[4], category: row[5],
                                      violation: row[6], createdAt: row[7], firstActionAt: row[8], resolvedAt: row[9], dueAt: row[10],
                                      appeal: appeals[caseID], escalatedBy: nil))
        }
        // Who first escalated each case: one pass over the partial index of escalations (v25) from the
        // window's oldest case on, instead of a probe per decision.
        var escalatedBy: [Int64: String] = [:]
        let escalations = try Row.fetchCursor(db, sql: """
            SELECT case_id, actor FROM case_timeline INDEXED BY timeline_escalations
            WHERE kind = 'transition' AND to_state = 'escalated' AND case_id >= ? ORDER BY case_id, id
            """, arguments: [firstCase])
        while let row = try escalations.next() {
            let caseID: Int64 = row[0]
            if escalatedBy[caseID] == nil { escalatedBy[caseID] = row[1] }
        }
        if !escalatedBy.isEmpty {
            for index in facts.indices { facts[index].escalatedBy = escalatedBy[facts[index].caseID] }
        }
        return facts
    }

    // MARK: QA audits

    public func createAudit(name: String, plan: SamplingPlan, from: Int64, to: Int64, teams: [String: [String]], actor: ActorRef, now: Int64) async throws -> QAAudit {
        try await pool.write { db in
            let facts = try Self.decisionFacts(db, from: from, to: to)
            let excluded = Set(try Int64.fetchAll(db, sql: "SELECT decision_id FROM qa_item WHERE decided_at >= ? AND decided_at < ?", arguments: [from, to]))
            let draw = plan.draw(facts, teams: teams, excluded: excluded)
            let (audit, items, entry) = try QAAudit.make(id: try Self.nextID(db, "qa_audit"), name: name, plan: plan, from: from, to: to, draw: draw,
                                                     firstItemID: try Self.nextID(db, "qa_item"), actor: actor, now: now)
            try db.execute(sql: """
                INSERT INTO qa_audit (id, name, plan, window_from, window_to, population, sample_size, strata, created_by, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [audit.id, audit.name, try Self.encodeJSON(audit.plan), audit.from, audit.to, audit.population, audit.sampleSize,
                                 try Self.encodeJSON(audit.strata), audit.createdBy, audit.createdAt])
            for item in items {
                try db.execute(sql: """
                    INSERT INTO qa_item (id, audit_id, decision_id, case_id, decider, queue, category, violation, decided_at, stratum, state)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'waiting')
                    """, arguments: [item.id, item.auditID, item.decisionID, item.caseID, item.decider, item.queue, item.category, item.violation,
                                     item.decidedAt, item.stratum])
            }
            try Self.appendAudit(db, at: entry.at, actor: entry.actor.description, action: entry.action, target: entry.target, detail: entry.detail)
            return audit
        }
    }

    public func recordModelAnswers(itemID: Int64, _ answers: [String: String]) async throws {
        guard !answers.isEmpty else { return }
        try await pool.write { db in
            for (model, answer) in answers.sorted(by: { $0.key < $1.key }) {
                try db.execute(sql: "INSERT OR REPLACE INTO qa_model_answer (item_id, model, answer) VALUES (?, ?, ?)", arguments: [itemID, model, answer])
            }
        }
    }

    public func modelAnswers(itemIDs: [Int64]) async throws -> [Int64: [String: String]] {
        guard let low = itemIDs.min(), let high = itemIDs.max() else { return [:] }
        let wanted = Set(itemIDs)
        return try await pool.read { db in
            var answers: [Int64: [String: String]] = [:]
            let rows = try Row.fetchCursor(db, sql: "SELECT item_id, model, answer FROM qa_model_answer WHERE item_id BETWEEN ? AND ?", arguments: [low, high])
            while let row = try rows.next() {
                let item: Int64 = row[0]
                if wanted.contains(item) { answers[item, default: [:]][row[1]] = row[2] }
            }
            return answers
        }
    }

    public func audits(before: Int64?, limit: Int) async throws -> [QAAudit] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM qa_audit WHERE id < ? ORDER BY id DESC LIMIT ?", arguments: [before ?? Int64.max, limit])
                .map(Self.qaAudit(row:))
        }
    }

    public func audit(id: Int64) async throws -> QAAudit? {
        try await pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM qa_audit WHERE id = ?", arguments: [id]).map(Self.qaAudit(row:)) }
    }

    public func qaItem(id: Int64) async throws -> QAItem? {
        try await pool.read { db in try Self.loadQAItem(db, id) }
    }

    public func qaItems(_ query: QAItemQuery) async throws -> [QAItem] {
        try await pool.read { db in
            var conditions = ["id > ?"]
            var arguments: StatementArguments = [query.after ?? 0]
            if let auditID = query.auditID {
                conditions.append("audit_id = ?")
                arguments += [auditID]
            }
            if let decider = query.decider {
                conditions.append("decider = ?")
                arguments += [decider]
            }
            if let states = query.states {
                conditions.append("state IN (\(states.map { _ in "?" }.joined(separator: ", ")))")
                arguments += StatementArguments(states.map(\.rawValue))
            }
            if let from = query.verdictFrom {
                conditions.append("verdict_at >= ?")
                arguments += [from]
            }
            if let to = query.verdictTo {
                conditions.append("verdict_at < ?")
                arguments += [to]
            }
            arguments += [query.limit]
            return try Row.fetchAll(db, sql: "SELECT * FROM qa_item WHERE \(conditions.joined(separator: " AND ")) ORDER BY id LIMIT ?", arguments: arguments)
                .map(Self.qaItem(row:))
        }
    }

    public func commandQAItem(id: Int64, _ command: QACommand, actor: ActorRef, isLead: Bool, taxonomy: [ErrorType], categories: Set<String>,
                              now: Int64) async throws -> QAItem {
        try await pool.write { db in
            guard let item = try Self.loadQAItem(db, id) else { throw QualityError(.notFound, "there is no QA item \(id)") }
            let (changed, entry) = try QAPlanner.apply(command, to: item, actor: actor, isLead: isLead, taxonomy: taxonomy, categories: categories, now: now)
            try Self.saveQAItem(db, changed)
            try Self.appendAudit(db, at: entry.at, actor: entry.actor.description, action: entry.action, target: entry.target, detail: entry.detail)
            return changed
        }
    }

    public func claimNextQAItem(auditID: Int64?, actor: ActorRef, now: Int64) async throws -> QAItem? {
        try await pool.write { db in
            let who = actor.description
            if let held = try Row.fetchOne(db, sql: "SELECT * FROM qa_item WHERE state = 'in_review' AND reviewer = ? AND (? IS NULL OR audit_id = ?) ORDER BY id LIMIT 1",
                                           arguments: [who, auditID, auditID]) {
                return Self.qaItem(row: held)
            }
            guard let row = try Row.fetchOne(db, sql: """
                SELECT * FROM qa_item INDEXED BY qa_item_waiting
                WHERE state = 'waiting' AND decider != ? AND (? IS NULL OR audit_id = ?) ORDER BY id LIMIT 1
                """, arguments: [who, auditID, auditID]) else { return nil }
            let (claimed, entry) = try QAPlanner.apply(.claim, to: Self.qaItem(row: row), actor: actor, isLead: false, taxonomy: [], categories: [], now: now)
            try Self.saveQAItem(db, claimed)
            try Self.appendAudit(db, at: entry.at, actor: entry.actor.description, action: entry.action, target: entry.target, detail: entry.detail)
            return claimed
        }
    }

    // MARK: Rows

    static func encodeJSON<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func qaAudit(row: Row) throws -> QAAudit {
        QAAudit(id: row["id"], name: row["name"], plan: try decode(SamplingPlan.self, row["plan"]), from: row["window_from"], to: row["window_to"],
                population: row["population"], sampleSize: row["sample_size"], strata: try decode([SampleDraw.Stratum].self, row["strata"]),
                createdBy: row["created_by"], createdAt: row["created_at"])
    }

    static func loadQAItem(_ db: Database, _ id: Int64) throws -> QAItem? {
        try Row.fetchOne(db, sql: "SELECT * FROM qa_item WHERE id = ?", arguments: [id]).map(qaItem(row:))
    }

    static func qaItem(row: Row) -> QAItem {
        var item = QAItem(id: row["id"], auditID: row["audit_id"], decisionID: row["decision_id"], caseID: row["case_id"], decider: row["decider"],
                          queue: row["queue"], category: row["category"], violation: row["violation"], decidedAt: row["decided_at"], stratum: row["stratum"])
        item.state = QAState(rawValue: row["state"]) ?? .waiting
        item.reviewer = row["reviewer"]
        item.claimedAt = row["claimed_at"]
        if let violation: Bool = row["verdict_violation"] {
            let errors: String = row["verdict_errors"] ?? "[]"
            item.verdict = QAVerdict(violation: violation, category: row["verdict_category"],
                                     errors: (try? JSONDecoder().decode([String].self, from: Data(errors.utf8))) ?? [], notes: row["verdict_notes"])
        }
        item.verdictAt = row["verdict_at"]
        item.disputedBy = row["disputed_by"]
        item.disputeReason = row["dispute_reason"]
        item.disputedAt = row["disputed_at"]
        item.ruling = (row["ruling"] as String?).flatMap(QARuling.init(rawValue:))
        item.ruledBy = row["ruled_by"]
        item.rulingNotes = row["ruling_notes"]
        item.ruledAt = row["ruled_at"]
        return item
    }

    static func saveQAItem(_ db: Database, _ item: QAItem) throws {
        try db.execute(sql: """
            UPDATE qa_item SET state = ?, reviewer = ?, claimed_at = ?, verdict_violation = ?, verdict_category = ?, verdict_errors = ?,
                verdict_notes = ?, verdict_at = ?, disputed_by = ?, dispute_reason = ?, disputed_at = ?, ruling = ?, ruled_by = ?,
                ruling_notes = ?, ruled_at = ?
            WHERE id = ?
            """, arguments: [item.state.rawValue, item.reviewer, item.claimedAt, item.verdict?.violation, item.verdict?.category,
                             try item.verdict.map { try encodeJSON($0.errors) }, item.verdict?.notes, item.verdictAt, item.disputedBy,
                             item.disputeReason, item.disputedAt, item.ruling?.rawValue, item.ruledBy, item.rulingNotes, item.ruledAt, item.id])
    }
}
