import GRDB
public import WardenQuality

extension SQLiteStore: QualityStore {
    public func decisionFacts(from: Int64, to: Int64) async throws -> [DecisionFact] {
        try await pool.read { db in
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
            let rows = try Row.fetchCursor(db, sql: """
                SELECT d.id, d.case_id, d.at, d.decided_by, c.queue, d.category, d.violation,
                       c.created_at, c.first_action_at, c.resolved_at, c.due_at,
                       (SELECT t.actor FROM case_timeline t INDEXED BY timeline_by_case
                        WHERE t.case_id = d.case_id AND t.kind = 'transition' AND t.to_state = 'escalated' ORDER BY t.id LIMIT 1)
                FROM decision d INDEXED BY decision_by_time JOIN review_case c ON c.id = d.case_id
                WHERE d.at >= ? AND d.at < ? AND c.kind = 'review'
                ORDER BY d.at, d.id
                """, arguments: [from, to])
            while let row = try rows.next() {
                let caseID: Int64 = row[1]
                facts.append(DecisionFact(decisionID: row[0], caseID: caseID, at: row[2], decider: row[3], queue: row[4], category: row[5],
                                          violation: row[6], createdAt: row[7], firstActionAt: row[8], resolvedAt: row[9], dueAt: row[10],
                                          appeal: appeals[caseID], escalatedBy: row[11]))
            }
            return facts
        }
    }
}
