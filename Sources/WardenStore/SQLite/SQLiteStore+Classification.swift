import Foundation
import GRDB
import WardenCore

extension SQLiteStore: ClassificationJobStore {
    public func dueClassificationJobs(at now: Int64, limit: Int) async throws -> [ClassificationJob] {
        try await pool.read { db in
            try db.cachedRows(sql: """
                SELECT * FROM classification_job WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?
                """, arguments: [now, limit]).map(Self.job(from:))
        }
    }

    public func settleClassificationJob(id: Int64, _ settlement: ClassificationSettlement, at now: Int64) async throws -> Bool {
        try await pool.write { db in
            switch settlement {
            case .retry(let error, let next):
                try db.execute(sql: """
                    UPDATE classification_job SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ? AND state = 'pending'
                    """, arguments: [error, next, id])
                return db.changesCount == 1
            case .failed(let error):
                try db.execute(sql: """
                    UPDATE classification_job SET state = 'failed', attempts = attempts + 1, last_error = ?, settled_at = ?
                    WHERE id = ? AND state = 'pending'
                    """, arguments: [error, now, id])
                return db.changesCount == 1
            case .notFired(let answers):
                try db.execute(sql: """
                    UPDATE classification_job SET state = 'not_fired', attempts = attempts + 1, answers = ?, settled_at = ?
                    WHERE id = ? AND state = 'pending'
                    """, arguments: [answers, now, id])
                return db.changesCount == 1
            case .fired(let explanation, let answers, let demoted):
                try db.execute(sql: """
                    UPDATE classification_job SET state = 'fired', attempts = attempts + 1, answers = ?, explanation = ?, settled_at = ?,
                        mode = CASE WHEN ? THEN 'shadow' ELSE mode END
                    WHERE id = ? AND state = 'pending'
                    """, arguments: [answers, explanation, now, demoted != nil, id])
                guard db.changesCount == 1 else { return false }
                if let demoted {
                    // As detection does when the valve trips: a signal saying so, on the same event.
                    try db.execute(sql: """
                        INSERT INTO signal (event_seq, rule, rule_version, category, severity, subject, reason, explanation, queue, verdict,
                                            effects, occurred_at, created_at)
                        SELECT event_seq, 'safety_valve', rule_version, category, ?, subject, ?, ?, NULL, NULL, '[]', occurred_at, ?
                        FROM classification_job WHERE id = ?
                        ON CONFLICT (event_seq, rule, rule_version) DO NOTHING
                        """, arguments: [demoted.severity, demoted.reason, demoted.reason, now, id])
                }
                // The hit counts in the hour of the event, like every other hit; an active rule's
                // signal is written now (unique per event, rule and version, like detection's).
                try db.execute(sql: """
                    INSERT INTO rule_hits (rule, version, mode, hour, hits)
                    SELECT rule, rule_version, mode, occurred_at / 3600000, 1 FROM classification_job WHERE id = ?
                    ON CONFLICT (rule, version, mode, hour) DO UPDATE SET hits = hits + 1
                    """, arguments: [id])
                try db.execute(sql: """
                    INSERT INTO signal (event_seq, rule, rule_version, category, severity, subject, reason, explanation, queue, verdict,
                                        effects, occurred_at, created_at)
                    SELECT event_seq, rule, rule_version, category, severity, subject, reason, explanation, queue, NULL, effects, occurred_at, ?
                    FROM classification_job WHERE id = ? AND mode = 'active'
                    ON CONFLICT (event_seq, rule, rule_version) DO NOTHING
                    """, arguments: [now, id])
                return true
            }
        }
    }

    public func classificationJobs(state: String?, before id: Int64?, limit: Int) async throws -> [ClassificationJob] {
        try await pool.read { db in
            var sql = "SELECT * FROM classification_job WHERE id < ?"
            var arguments: StatementArguments = [id ?? Int64.max]
            if let state {
                sql += " AND state = ?"
                arguments += [state]
            }
            arguments += [limit]
            return try Row.fetchAll(db, sql: sql + " ORDER BY id DESC LIMIT ?", arguments: arguments).map(Self.job(from:))
        }
    }

    public func classificationJobCounts() async throws -> [String: Int] {
        try await pool.read { db in
            var counts = Dictionary(uniqueKeysWithValues: ClassificationJob.states.map { ($0, 0) })
            for row in try Row.fetchAll(db, sql: "SELECT state, count(*) AS n FROM classification_job GROUP BY state") {
                counts[row["state"]] = row["n"]
            }
            return counts
        }
    }

    static func job(from row: Row) -> ClassificationJob {
        let signal = StoredSignal(eventSeq: row["event_seq"] as Int64, rule: row["rule"], ruleVersion: row["rule_version"], category: row["category"],
                                  severity: row["severity"], subject: (row["subject"] as String?).flatMap { EntityRef(parsing: $0) },
                                  reason: row["reason"], explanation: row["explanation"], queue: row["queue"], verdict: nil,
                                  effects: row["effects"], occurredAt: row["occurred_at"], createdAt: row["settled_at"] ?? 0)
        var job = ClassificationJob(signal: signal, mode: row["mode"], condition: row["condition"], createdAt: row["created_at"])
        job.id = row["id"]
        job.state = row["state"]
        job.attempts = row["attempts"]
        job.nextAttemptAt = row["next_attempt_at"]
        job.lastError = row["last_error"]
        job.answers = row["answers"]
        job.settledAt = row["settled_at"]
        return job
    }
}
