import Foundation
import GRDB
public import WardenCore
public import WardenQuality
public import WardenReview

extension SQLiteStore: GoldenMixing {
    public func mixGolden(queue: String, reviewer: ActorRef, pick: Double, policy: ReviewPolicy, now: Int64) async throws -> CaseRecord? {
        try await batcher.write { db in
            let who = reviewer.description
            // Live items of the queue from a past review case that this reviewer neither made, nor
            // decided at the source, nor was given before.
            let candidates = try db.cachedAll(Int64.self, sql: """
                SELECT g.id FROM golden_item g JOIN review_case c ON c.id = g.case_id
                WHERE g.queue = ? AND g.retired_at IS NULL AND c.kind = 'review' AND g.created_by <> ?
                  AND NOT EXISTS (SELECT 1 FROM golden_case m WHERE m.reviewer = ? AND m.golden_id = g.id)
                  AND NOT EXISTS (SELECT 1 FROM decision d WHERE d.case_id = g.case_id AND d.decided_by = ?)
                ORDER BY g.id LIMIT 10000
                """, arguments: [queue, who, who, who])
            guard !candidates.isEmpty else { return nil }
            let chosen = candidates[min(candidates.count - 1, Int(max(0, pick) * Double(candidates.count)))]
            guard let row = try db.cachedRow(sql: "SELECT case_id, answer FROM golden_item WHERE id = ?", arguments: [chosen]),
                  let source = try Self.loadCase(db, row[0]) else { return nil }
            let entries = try db.fetchAll(TimelineEntry.self, sql: """
                SELECT * FROM case_timeline INDEXED BY timeline_by_case WHERE case_id = ? AND kind IN ('signal', 'report') ORDER BY id LIMIT 200
                """, arguments: [source.id])
            let state = GoldenMixState(golden: GoldenKey(id: chosen, answer: row[1]), source: source, sourceEntries: entries,
                                       nextCaseID: try Self.nextID(db, "review_case"))
            let (plan, record) = try ReviewPlanner(policy: policy, now: now).mixGolden(state, queue: queue, reviewer: reviewer)
            try Self.apply(plan, db)
            return record
        }
    }

    public func goldenSource(caseID: Int64) async throws -> Int64? {
        try await pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT g.case_id FROM review_case c JOIN golden_item g ON g.id = c.golden_item WHERE c.id = ?", arguments: [caseID])
        }
    }

    public func goldenChecks(from: Int64, to: Int64) async throws -> [GoldenCheck] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT case_id, golden_id, decided_by, queue, answer, expected, correct, decided_at FROM golden_case INDEXED BY golden_case_decided
                WHERE decided_at IS NOT NULL AND decided_at >= ? AND decided_at < ? ORDER BY decided_at, case_id
                """, arguments: [from, to]).map {
                GoldenCheck(caseID: $0[0], goldenID: $0[1], decidedBy: $0[2], queue: $0[3], answer: $0[4], expected: $0[5], correct: $0[6], at: $0[7])
            }
        }
    }
}
