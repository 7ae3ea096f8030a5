import Foundation
import Logging
import PostgresNIO
public import WardenCore
public import WardenQuality
public import WardenReview

// Quality on PostgreSQL: QA audits and items, golden items and their copies in live queues,
// calibration and training sessions, certifications and article acknowledgements. The planners of
// WardenQuality decide; this loads and applies. New rows named `max(id) + 1` are named under
// `review_head`; an item or session a command plans from is read `FOR UPDATE`.

extension PostgresStore: QualityStore {
    public func decisionFacts(from: Int64, to: Int64) async throws -> [DecisionFact] {
        try await client.withConnection { connection in try await Self.decisionFacts(connection, self.logger, from: from, to: to) }
    }

    static func decisionFacts(_ connection: PostgresConnection, _ logger: Logger, from: Int64, to: Int64) async throws -> [DecisionFact] {
        var appeals: [Int64: DecisionFact.AppealResult] = [:]
        for row in try await connection.rows("""
            SELECT a.appeal_of, d.appeal_outcome FROM decision d JOIN review_case a ON a.id = d.case_id
            WHERE a.kind = 'appeal' AND d.appeal_outcome IS NOT NULL ORDER BY d.id
            """, logger: logger) {
            let (caseID, outcome) = try row.decode((Int64, String).self)
            appeals[caseID] = outcome == "overturned" ? .overturned : .upheld
        }
        var facts: [DecisionFact] = []
        var firstCase = Int64.max
        for row in try await connection.rows("""
            SELECT d.id, d.case_id, d.at, d.decided_by, c.queue, d.category, d.violation, c.created_at, c.first_action_at, c.resolved_at, c.due_at
            FROM decision d JOIN review_case c ON c.id = d.case_id
            WHERE d.at >= \(from) AND d.at < \(to) AND c.kind = 'review' AND c.golden_item IS NULL
            ORDER BY d.at, d.id
            """, logger: logger) {
            let (id, caseID, at, decider, queue, category, violation, createdAt, firstActionAt, resolvedAt, dueAt) =
                try row.decode((Int64, Int64, Int64, String, String, String, Bool, Int64, Int64?, Int64?, Int64).self)
            firstCase = min(firstCase, caseID)
            facts.append(DecisionFact(decisionID: id, caseID: caseID, at: at, decider: decider, queue: queue, category: category, violation: violation,
                                      createdAt: createdAt, firstActionAt: firstActionAt, resolvedAt: resolvedAt, dueAt: dueAt,
                                      appeal: appeals[caseID], escalatedBy: nil))
        }
        var escalatedBy: [Int64: String] = [:]
        if !facts.isEmpty {
            for row in try await connection.rows("""
                SELECT case_id, actor FROM case_timeline WHERE kind = 'transition' AND to_state = 'escalated' AND case_id >= \(firstCase) ORDER BY case_id, id
                """, logger: logger) {
                let (caseID, actor) = try row.decode((Int64, String).self)
                if escalatedBy[caseID] == nil { escalatedBy[caseID] = actor }
            }
        }
        if !escalatedBy.isEmpty {
            for index in facts.indices { facts[index].escalatedBy = escalatedBy[facts[index].caseID] }
        }
        return facts
    }

    // MARK: QA audits

    public func createAudit(name: String, plan: SamplingPlan, from: Int64, to: Int64, teams: [String: [String]], actor: ActorRef, now: Int64) async throws -> QAAudit {
        let logger = self.logger
        return try await transaction { connection in
            try await Self.lockReviewHead(connection, logger)
            let facts = try await Self.decisionFacts(connection, logger, from: from, to: to)
            var excluded = Set<Int64>()
            for row in try await connection.rows("SELECT decision_id FROM qa_item WHERE decided_at >= \(from) AND decided_at < \(to)", logger: logger) {
                excluded.insert(try row.decode(Int64.self))
            }
            let draw = plan.draw(facts, teams: teams, excluded: excluded)
            let (audit, items, entry) = try QAAudit.make(id: try await Self.nextID(connection, logger, "qa_audit"), name: name, plan: plan, from: from, to: to,
                                                         draw: draw, firstItemID: try await Self.nextID(connection, logger, "qa_item"), actor: actor, now: now)
            try await connection.query("""
                INSERT INTO qa_audit (id, name, plan, window_from, window_to, population, sample_size, strata, created_by, created_at)
                VALUES (\(audit.id), \(audit.name), \(try Self.encodeJSON(audit.plan)), \(audit.from), \(audit.to), \(Int64(audit.population)),
                        \(Int64(audit.sampleSize)), \(try Self.encodeJSON(audit.strata)), \(audit.createdBy), \(audit.createdAt))
                """, logger: logger)
            for item in items {
                try await connection.query("""
                    INSERT INTO qa_item (id, audit_id, decision_id, case_id, decider, queue, category, violation, decided_at, stratum, state)
                    VALUES (\(item.id), \(item.auditID), \(item.decisionID), \(item.caseID), \(item.decider), \(item.queue), \(item.category), \(item.violation),
                            \(item.decidedAt), \(item.stratum), 'waiting')
                    """, logger: logger)
            }
            try await Self.appendAudit(connection, logger: logger, entry)
            return audit
        }
    }

    public func recordModelAnswers(itemID: Int64, _ answers: [String: String]) async throws {
        guard !answers.isEmpty else { return }
        let logger = self.logger
        try await transaction { connection in
            for (model, answer) in answers.sorted(by: { $0.key < $1.key }) {
                try await connection.query("""
                    INSERT INTO qa_model_answer (item_id, model, answer) VALUES (\(itemID), \(model), \(answer))
                    ON CONFLICT (item_id, model) DO UPDATE SET answer = excluded.answer
                    """, logger: logger)
            }
        }
    }

    public func modelAnswers(itemIDs: [Int64]) async throws -> [Int64: [String: String]] {
        guard !itemIDs.isEmpty else { return [:] }
        var answers: [Int64: [String: String]] = [:]
        for row in try await rows("SELECT item_id, model, answer FROM qa_model_answer WHERE item_id = ANY(\(itemIDs))") {
            let (item, model, answer) = try row.decode((Int64, String, String).self)
            answers[item, default: [:]][model] = answer
        }
        return answers
    }

    public func audits(before: Int64?, limit: Int) async throws -> [QAAudit] {
        try await rows("SELECT * FROM qa_audit WHERE id < \(before ?? Int64.max) ORDER BY id DESC LIMIT \(limit)").map(Self.qaAudit(row:))
    }

    public func audit(id: Int64) async throws -> QAAudit? {
        try await rows("SELECT * FROM qa_audit WHERE id = \(id)").first.map(Self.qaAudit(row:))
    }

    public func qaItem(id: Int64) async throws -> QAItem? {
        try await rows("SELECT * FROM qa_item WHERE id = \(id)").first.map(Self.qaItem(row:))
    }

    public func qaItems(_ query: QAItemQuery) async throws -> [QAItem] {
        var dynamic = DynamicQuery()
        var conditions = ["id > \(dynamic.bind(query.after ?? 0))"]
        if let auditID = query.auditID { conditions.append("audit_id = \(dynamic.bind(auditID))") }
        if let decider = query.decider { conditions.append("decider = \(dynamic.bind(decider))") }
        if let states = query.states { conditions.append("state = ANY(\(dynamic.bind(states.map(\.rawValue))))") }
        if let from = query.verdictFrom { conditions.append("verdict_at >= \(dynamic.bind(from))") }
        if let to = query.verdictTo { conditions.append("verdict_at < \(dynamic.bind(to))") }
        dynamic.sql = "SELECT * FROM qa_item WHERE \(conditions.joined(separator: " AND ")) ORDER BY id LIMIT \(dynamic.bind(query.limit))"
        return try await rows(dynamic.query).map(Self.qaItem(row:))
    }

    public func commandQAItem(id: Int64, _ command: QACommand, actor: ActorRef, isLead: Bool, taxonomy: [ErrorType], categories: Set<String>,
                              now: Int64) async throws -> QAItem {
        let logger = self.logger
        return try await transaction { connection in
            guard let item = try await connection.rows("SELECT * FROM qa_item WHERE id = \(id) FOR UPDATE", logger: logger).first.map(Self.qaItem(row:)) else {
                throw QualityError(.notFound, "there is no QA item \(id)")
            }
            let (changed, entry) = try QAPlanner.apply(command, to: item, actor: actor, isLead: isLead, taxonomy: taxonomy, categories: categories, now: now)
            try await Self.saveQAItem(connection, logger, changed)
            try await Self.appendAudit(connection, logger: logger, entry)
            return changed
        }
    }

    public func claimNextQAItem(auditID: Int64?, actor: ActorRef, now: Int64) async throws -> QAItem? {
        let logger = self.logger
        return try await transaction { connection in
            let who = actor.description
            if let held = try await connection.rows("""
                SELECT * FROM qa_item WHERE state = 'in_review' AND reviewer = \(who) AND (\(auditID)::bigint IS NULL OR audit_id = \(auditID)) ORDER BY id LIMIT 1
                """, logger: logger).first {
                return try Self.qaItem(row: held)
            }
            guard let row = try await connection.rows("""
                SELECT * FROM qa_item WHERE state = 'waiting' AND decider <> \(who) AND (\(auditID)::bigint IS NULL OR audit_id = \(auditID))
                ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED
                """, logger: logger).first else { return nil }
            let (claimed, entry) = try QAPlanner.apply(.claim, to: try Self.qaItem(row: row), actor: actor, isLead: false, taxonomy: [], categories: [], now: now)
            try await Self.saveQAItem(connection, logger, claimed)
            try await Self.appendAudit(connection, logger: logger, entry)
            return claimed
        }
    }

    static func qaAudit(row: PostgresRow) throws -> QAAudit {
        let row = row.cells
        return QAAudit(id: try row["id"], name: try row["name"], plan: try decodeJSON(SamplingPlan.self, row["plan"]), from: try row["window_from"],
                       to: try row["window_to"], population: try row.int("population"), sampleSize: try row.int("sample_size"),
                       strata: try decodeJSON([SampleDraw.Stratum].self, row["strata"]), createdBy: try row["created_by"], createdAt: try row["created_at"])
    }

    static func qaItem(row: PostgresRow) throws -> QAItem {
        let row = row.cells
        var item = QAItem(id: try row["id"], auditID: try row["audit_id"], decisionID: try row["decision_id"], caseID: try row["case_id"],
                          decider: try row["decider"], queue: try row["queue"], category: try row["category"], violation: try row["violation"],
                          decidedAt: try row["decided_at"], stratum: try row["stratum"])
        item.state = try row.decode(QAState.self, "state", table: "qa_item")
        item.reviewer = try row["reviewer"]
        item.claimedAt = try row["claimed_at"]
        if let violation: Bool = try row["verdict_violation"] {
            let errors: String = (try row["verdict_errors"] as String?) ?? "[]"
            item.verdict = QAVerdict(violation: violation, category: try row["verdict_category"],
                                     errors: (try? JSONDecoder().decode([String].self, from: Data(errors.utf8))) ?? [], notes: try row["verdict_notes"])
        }
        item.verdictAt = try row["verdict_at"]
        item.disputedBy = try row["disputed_by"]
        item.disputeReason = try row["dispute_reason"]
        item.disputedAt = try row["disputed_at"]
        item.ruling = (try row["ruling"] as String?).flatMap(QARuling.init(rawValue:))
        item.ruledBy = try row["ruled_by"]
        item.rulingNotes = try row["ruling_notes"]
        item.ruledAt = try row["ruled_at"]
        return item
    }

    static func saveQAItem(_ connection: PostgresConnection, _ logger: Logger, _ item: QAItem) async throws {
        try await connection.query("""
            UPDATE qa_item SET state = \(item.state.rawValue), reviewer = \(item.reviewer), claimed_at = \(item.claimedAt),
                verdict_violation = \(item.verdict?.violation), verdict_category = \(item.verdict?.category),
                verdict_errors = \(try item.verdict.map { try encodeJSON($0.errors) }), verdict_notes = \(item.verdict?.notes), verdict_at = \(item.verdictAt),
                disputed_by = \(item.disputedBy), dispute_reason = \(item.disputeReason), disputed_at = \(item.disputedAt), ruling = \(item.ruling?.rawValue),
                ruled_by = \(item.ruledBy), ruling_notes = \(item.rulingNotes), ruled_at = \(item.ruledAt)
            WHERE id = \(item.id)
            """, logger: logger)
    }
}

extension PostgresStore: GoldenMixing {
    public func mixGolden(queue: String, reviewer: ActorRef, pick: Double, policy: ReviewPolicy, now: Int64) async throws -> CaseRecord? {
        let logger = self.logger
        return try await transaction { connection -> CaseRecord? in
            try await Self.lockReviewHead(connection, logger)
            let who = reviewer.description
            let candidates = try await connection.rows("""
                SELECT g.id FROM golden_item g JOIN review_case c ON c.id = g.case_id
                WHERE g.queue = \(queue) AND g.retired_at IS NULL AND c.kind = 'review' AND g.created_by <> \(who)
                  AND NOT EXISTS (SELECT 1 FROM golden_case m WHERE m.reviewer = \(who) AND m.golden_id = g.id)
                  AND NOT EXISTS (SELECT 1 FROM decision d WHERE d.case_id = g.case_id AND d.decided_by = \(who))
                ORDER BY g.id LIMIT 10000
                """, logger: logger).map { try $0.decode(Int64.self) }
            guard !candidates.isEmpty else { return nil }
            let chosen = candidates[min(candidates.count - 1, Int(max(0, pick) * Double(candidates.count)))]
            guard let (sourceID, answer) = try await connection.rows("SELECT case_id, answer FROM golden_item WHERE id = \(chosen)", logger: logger)
                    .first?.decode((Int64, String).self),
                  let source = try await Self.loadCase(connection, logger, sourceID) else { return nil }
            let entries = try await connection.rows("""
                SELECT \(unescaped: Self.timelineColumns) FROM case_timeline WHERE case_id = \(source.id) AND kind IN ('signal', 'report') ORDER BY id LIMIT 200
                """, logger: logger).map(TimelineEntry.init(postgres:))
            let state = GoldenMixState(golden: GoldenKey(id: chosen, answer: answer), source: source, sourceEntries: entries,
                                       nextCaseID: try await Self.nextID(connection, logger, "review_case"))
            let (plan, record) = try ReviewPlanner(policy: policy, now: now).mixGolden(state, queue: queue, reviewer: reviewer)
            try await Self.apply(plan, connection, logger)
            return record
        }
    }

    public func goldenSource(caseID: Int64) async throws -> Int64? {
        try await one(Int64.self, "SELECT g.case_id FROM review_case c JOIN golden_item g ON g.id = c.golden_item WHERE c.id = \(caseID)")
    }

    public func goldenChecks(from: Int64, to: Int64) async throws -> [GoldenCheck] {
        try await rows("""
            SELECT case_id, golden_id, decided_by, queue, answer, expected, correct, decided_at FROM golden_case
            WHERE decided_at IS NOT NULL AND decided_at >= \(from) AND decided_at < \(to) ORDER BY decided_at, case_id
            """).map { row in
            let (caseID, goldenID, decidedBy, queue, answer, expected, correct, at) = try row.decode((Int64, Int64, String, String, String, String, Bool, Int64).self)
            return GoldenCheck(caseID: caseID, goldenID: goldenID, decidedBy: decidedBy, queue: queue, answer: answer, expected: expected, correct: correct, at: at)
        }
    }
}

extension PostgresStore: SessionStore {
    public func caseContent(caseID: Int64) async throws -> CaseContent? {
        let logger = self.logger
        return try await client.withConnection { connection -> CaseContent? in
            guard let queue = try await connection.one(String.self, "SELECT queue FROM review_case WHERE id = \(caseID)", logger: logger) else { return nil }
            let bodies = try await connection.rows("""
                SELECT e.body FROM event e WHERE e.seq IN (
                    SELECT CASE i.kind WHEN 'signal' THEN s.event_seq ELSE i.ref END
                    FROM case_item i LEFT JOIN signal s ON i.kind = 'signal' AND s.id = i.ref WHERE i.case_id = \(caseID))
                ORDER BY e.seq LIMIT 20
                """, logger: logger).map { try $0.decode(String.self) }
            let decided = try await connection.rows("SELECT violation, category FROM decision WHERE case_id = \(caseID) ORDER BY id DESC LIMIT 1", logger: logger)
                .first.map { row in
                    let (violation, category) = try row.decode((Bool, String).self)
                    return SessionAnswer.of(violation: violation, category: category)
                }
            return CaseContent(caseID: caseID, queue: queue, text: CaseContent.text(ofBodies: bodies), decided: decided)
        }
    }

    // MARK: Golden items

    public func addGoldenItem(_ item: GoldenItem, actor: ActorRef) async throws -> GoldenItem {
        let logger = self.logger
        return try await transaction { connection in
            try await Self.lockReviewHead(connection, logger)
            var item = item
            item.id = try await Self.nextID(connection, logger, "golden_item")
            try await connection.query("""
                INSERT INTO golden_item (id, case_id, queue, text, answer, explanation, created_by, created_at)
                VALUES (\(item.id), \(item.caseID), \(item.queue), \(item.text), \(item.answer), \(item.explanation), \(item.createdBy), \(item.createdAt))
                """, logger: logger)
            let detail = JSONWriter.object {
                $0.field("queue", item.queue)
                $0.field("answer", item.answer)
                if let caseID = item.caseID { $0.field("case", caseID) }
            }
            try await Self.appendAudit(connection, logger: logger, at: item.createdAt, actor: actor.description, action: "golden.add", target: "golden:\(item.id)",
                                       detail: detail)
            return item
        }
    }

    public func goldenItem(id: Int64) async throws -> GoldenItem? {
        try await rows("SELECT * FROM golden_item WHERE id = \(id)").first.map(Self.goldenItem(row:))
    }

    public func goldenItems(queue: String?, retired: Bool, after: Int64?, limit: Int) async throws -> [GoldenItem] {
        try await rows("""
            SELECT * FROM golden_item WHERE id > \(after ?? 0) AND (\(queue)::text IS NULL OR queue = \(queue)) AND (\(retired) OR retired_at IS NULL)
            ORDER BY id LIMIT \(limit)
            """).map(Self.goldenItem(row:))
    }

    public func goldenCount(queue: String) async throws -> Int {
        Int(try await one(Int64.self, "SELECT count(*) FROM golden_item WHERE queue = \(queue) AND retired_at IS NULL") ?? 0)
    }

    public func retireGoldenItem(id: Int64, actor: ActorRef, now: Int64) async throws -> GoldenItem {
        let logger = self.logger
        return try await transaction { connection in
            guard var item = try await connection.rows("SELECT * FROM golden_item WHERE id = \(id) FOR UPDATE", logger: logger).first.map(Self.goldenItem(row:)) else {
                throw QualityError(.notFound, "there is no golden item \(id)")
            }
            guard item.retiredAt == nil else { throw QualityError(.conflict, "golden item \(id) is already retired") }
            item.retiredAt = now
            try await connection.query("UPDATE golden_item SET retired_at = \(now) WHERE id = \(id)", logger: logger)
            try await Self.appendAudit(connection, logger: logger, at: now, actor: actor.description, action: "golden.retire", target: "golden:\(id)", detail: "{}")
            return item
        }
    }

    static func goldenItem(row: PostgresRow) throws -> GoldenItem {
        let row = row.cells
        return GoldenItem(id: try row["id"], caseID: try row["case_id"], queue: try row["queue"], text: try row["text"], answer: try row["answer"],
                          explanation: try row["explanation"], createdBy: try row["created_by"], createdAt: try row["created_at"], retiredAt: try row["retired_at"])
    }

    // MARK: Sessions

    public func createSession(_ make: @Sendable (Int64) throws -> (CalibrationSession, AuditDraft)) async throws -> CalibrationSession {
        let logger = self.logger
        return try await transaction { connection in
            try await Self.lockReviewHead(connection, logger)
            let (session, entry) = try make(try await Self.nextID(connection, logger, "qa_session"))
            try await connection.query("""
                INSERT INTO qa_session (id, kind, name, queue, raters, items, state, threshold, created_by, created_at)
                VALUES (\(session.id), \(session.kind.rawValue), \(session.name), \(session.queue), \(try Self.encodeJSON(session.raters)),
                        \(try Self.encodeJSON(session.items)), \(session.state.rawValue), \(session.threshold), \(session.createdBy), \(session.createdAt))
                """, logger: logger)
            for rater in session.raters {
                try await connection.query("INSERT INTO qa_session_rater (session_id, rater) VALUES (\(session.id), \(rater))", logger: logger)
            }
            for rating in session.ratings { try await Self.saveRating(connection, logger, session: session.id, rating) }
            try await Self.appendAudit(connection, logger: logger, entry)
            return session
        }
    }

    public func sessions(kind: SessionKind?, rater: String?, before: Int64?, limit: Int) async throws -> [(session: CalibrationSession, rated: [String: Int])] {
        let logger = self.logger
        return try await client.withConnection { connection in
            let found = if let rater {
                try await connection.rows("""
                    SELECT s.* FROM qa_session_rater r JOIN qa_session s ON s.id = r.session_id
                    WHERE r.rater = \(rater) AND r.session_id < \(before ?? Int64.max) AND (\(kind?.rawValue)::text IS NULL OR s.kind = \(kind?.rawValue))
                    ORDER BY r.session_id DESC LIMIT \(limit)
                    """, logger: logger)
            } else {
                try await connection.rows("""
                    SELECT * FROM qa_session WHERE id < \(before ?? Int64.max) AND (\(kind?.rawValue)::text IS NULL OR kind = \(kind?.rawValue))
                    ORDER BY id DESC LIMIT \(limit)
                    """, logger: logger)
            }
            var result: [(session: CalibrationSession, rated: [String: Int])] = []
            for row in found {
                let session = try Self.session(row: row)
                var rated: [String: Int] = [:]
                for count in try await connection.rows("SELECT rater, count(*) FROM qa_session_rating WHERE session_id = \(session.id) GROUP BY rater",
                                                       logger: logger) {
                    let (rater, n) = try count.decode((String, Int64).self)
                    rated[rater] = Int(n)
                }
                result.append((session, rated))
            }
            return result
        }
    }

    public func session(id: Int64) async throws -> CalibrationSession? {
        try await client.withConnection { connection in try await Self.loadSession(connection, self.logger, id, lock: false) }
    }

    public func commandSession(id: Int64, _ command: SessionCommand, actor: ActorRef, isLead: Bool, scale: Set<String>, now: Int64) async throws -> CalibrationSession {
        let logger = self.logger
        return try await transaction { connection in
            try await Self.lockReviewHead(connection, logger)
            guard let session = try await Self.loadSession(connection, logger, id, lock: true) else { throw QualityError(.notFound, "there is no session \(id)") }
            let (changed, entry, certification) = try SessionPlanner.apply(command, to: session, actor: actor, isLead: isLead, scale: scale,
                                                                          nextNoteID: try await Self.nextID(connection, logger, "qa_session_note"), now: now)
            switch command {
            case .rate(let item, _, _):
                if let rating = changed.rating(item: item, by: actor.description) { try await Self.saveRating(connection, logger, session: id, rating) }
            case .note:
                if let note = changed.discussion.last {
                    try await connection.query("""
                        INSERT INTO qa_session_note (id, session_id, by_actor, at, item, text, article)
                        VALUES (\(note.id), \(id), \(note.by), \(note.at), \(note.item.map(Int64.init)), \(note.text), \(note.article))
                        """, logger: logger)
                }
            case .close: break
            }
            try await connection.query("""
                UPDATE qa_session SET state = \(changed.state.rawValue), closed_at = \(changed.closedAt), outcome = \(changed.outcome) WHERE id = \(id)
                """, logger: logger)
            if let certification {
                try await connection.query("""
                    INSERT INTO certification (user_name, queue, session_id, score, granted_at)
                    VALUES (\(certification.user), \(certification.queue), \(certification.sessionID), \(certification.score), \(certification.grantedAt))
                    ON CONFLICT (user_name, queue) DO UPDATE SET session_id = excluded.session_id, score = excluded.score, granted_at = excluded.granted_at,
                        revoked_at = NULL, revoked_by = NULL, revoke_reason = NULL
                    """, logger: logger)
            }
            try await Self.appendAudit(connection, logger: logger, entry)
            if let certification {
                try await Self.appendAudit(connection, logger: logger, at: now, actor: actor.description, action: "certification.grant",
                                           target: "certification:\(certification.queue)", detail: JSONWriter.object {
                                               $0.field("user", certification.user)
                                               $0.field("session", id)
                                               $0.key("score"); $0.number(certification.score)
                                           })
            }
            return changed
        }
    }

    static func saveRating(_ connection: PostgresConnection, _ logger: Logger, session: Int64, _ rating: SessionRating) async throws {
        try await connection.query("""
            INSERT INTO qa_session_rating (session_id, item, rater, answer, notes, at)
            VALUES (\(session), \(Int64(rating.item)), \(rating.rater), \(rating.answer), \(rating.notes), \(rating.at))
            ON CONFLICT (session_id, item, rater) DO UPDATE SET answer = excluded.answer, notes = excluded.notes, at = excluded.at
            """, logger: logger)
    }

    static func session(row: PostgresRow) throws -> CalibrationSession {
        let row = row.cells
        var session = CalibrationSession(id: try row["id"], kind: try row.decode(SessionKind.self, "kind", table: "qa_session"), name: try row["name"],
                                         queue: try row["queue"], raters: try decodeJSON([String].self, row["raters"]),
                                         items: try decodeJSON([SessionItem].self, row["items"]), threshold: try row["threshold"],
                                         createdBy: try row["created_by"], createdAt: try row["created_at"])
        session.state = try row.decode(SessionState.self, "state", table: "qa_session")
        session.closedAt = try row["closed_at"]
        session.outcome = try row["outcome"]
        return session
    }

    static func loadSession(_ connection: PostgresConnection, _ logger: Logger, _ id: Int64, lock: Bool) async throws -> CalibrationSession? {
        guard let row = try await connection.rows("SELECT * FROM qa_session WHERE id = \(id)\(unescaped: lock ? " FOR UPDATE" : "")", logger: logger).first
        else { return nil }
        var session = try session(row: row)
        session.ratings = try await connection.rows("""
            SELECT item, rater, answer, notes, at FROM qa_session_rating WHERE session_id = \(id) ORDER BY at, item, rater
            """, logger: logger).map { row in
            let (item, rater, answer, notes, at) = try row.decode((Int64, String, String, String?, Int64).self)
            return SessionRating(item: Int(item), rater: rater, answer: answer, notes: notes, at: at)
        }
        session.discussion = try await connection.rows("SELECT * FROM qa_session_note WHERE session_id = \(id) ORDER BY id", logger: logger).map(\.cells).map {
            DiscussionEntry(id: try $0["id"], by: try $0["by_actor"], at: try $0["at"], item: (try $0["item"] as Int64?).map { Int($0) }, text: try $0["text"],
                            article: try $0["article"])
        }
        return session
    }

    // MARK: Certifications

    public func isCertified(user: String, queue: String) async throws -> Bool {
        try await !rows("SELECT 1 FROM certification WHERE user_name = \(user) AND queue = \(queue) AND revoked_at IS NULL").isEmpty
    }

    public func certifications(user: String?, queue: String?) async throws -> [Certification] {
        try await rows("""
            SELECT * FROM certification WHERE (\(user)::text IS NULL OR user_name = \(user)) AND (\(queue)::text IS NULL OR queue = \(queue))
            ORDER BY queue, user_name
            """).map(Self.certification(row:))
    }

    public func revokeCertification(user: String, queue: String, reason: String, actor: ActorRef, now: Int64) async throws -> Certification {
        let logger = self.logger
        return try await transaction { connection in
            guard var certification = try await connection.rows("SELECT * FROM certification WHERE user_name = \(user) AND queue = \(queue) FOR UPDATE",
                                                                logger: logger).first.map(Self.certification(row:)) else {
                throw QualityError(.notFound, "\(user) holds no certification for queue \(queue)")
            }
            guard certification.isActive else { throw QualityError(.conflict, "\(user)'s certification for queue \(queue) is already revoked") }
            certification.revokedAt = now
            certification.revokedBy = actor.description
            certification.revokeReason = reason
            try await connection.query("""
                UPDATE certification SET revoked_at = \(now), revoked_by = \(actor.description), revoke_reason = \(reason) WHERE user_name = \(user) AND queue = \(queue)
                """, logger: logger)
            try await Self.appendAudit(connection, logger: logger, at: now, actor: actor.description, action: "certification.revoke",
                                       target: "certification:\(queue)", detail: JSONWriter.object {
                                           $0.field("user", user)
                                           $0.field("reason", reason)
                                       })
            return certification
        }
    }

    static func certification(row: PostgresRow) throws -> Certification {
        let row = row.cells
        return Certification(user: try row["user_name"], queue: try row["queue"], sessionID: try row["session_id"], score: try row["score"],
                             grantedAt: try row["granted_at"], revokedAt: try row["revoked_at"], revokedBy: try row["revoked_by"],
                             revokeReason: try row["revoke_reason"])
    }
}

extension PostgresStore: ArticleStore {
    public func acknowledge(article: String, version: String, user: ActorRef, now: Int64) async throws -> ArticleAcknowledgement {
        let logger = self.logger
        return try await transaction { connection in
            guard let at = try await connection.one(Int64.self, """
                INSERT INTO article_ack (article, version, user_name, at) VALUES (\(article), \(version), \(user.description), \(now))
                ON CONFLICT (article, version, user_name) DO NOTHING RETURNING at
                """, logger: logger) else {
                let at = try await connection.one(Int64.self, """
                    SELECT at FROM article_ack WHERE article = \(article) AND version = \(version) AND user_name = \(user.description)
                    """, logger: logger) ?? now
                return ArticleAcknowledgement(article: article, version: version, user: user.description, at: at)
            }
            try await Self.appendAudit(connection, logger: logger, at: now, actor: user.description, action: "article.acknowledge", target: "article:\(article)",
                                       detail: JSONWriter.object { $0.field("version", version) })
            return ArticleAcknowledgement(article: article, version: version, user: user.description, at: at)
        }
    }

    public func acknowledgements(article: String?, user: String?) async throws -> [ArticleAcknowledgement] {
        try await rows("""
            SELECT article, version, user_name, at FROM article_ack
            WHERE (\(article)::text IS NULL OR article = \(article)) AND (\(user)::text IS NULL OR user_name = \(user)) ORDER BY article, at, user_name
            """).map { row in
            let (article, version, user, at) = try row.decode((String, String, String, Int64).self)
            return ArticleAcknowledgement(article: article, version: version, user: user, at: at)
        }
    }
}
