import Foundation
import GRDB
public import WardenCore

extension SQLiteStore: DetectionStore {
    static let detectionCursorName = "detection"

    public func detectionCursor() async throws -> Int64 {
        try await pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT seq FROM consumer_cursor WHERE name = ?", arguments: [Self.detectionCursorName]) ?? 0
        }
    }

    public func commitDetection(_ batch: DetectionBatch) async throws {
        // Detection's output is derived from the log and committed with its cursor: if the OS loses
        // the last commits in a power cut, the cursor goes back with them and detection redoes that
        // work exactly once. So it skips the fsync the event log needs (WAL with synchronous=NORMAL
        // is still durable against a process crash), and intake commits are not kept waiting.
        try await pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            defer { try? db.execute(sql: "PRAGMA synchronous = FULL") }
            try db.inTransaction {
                try Self.writeDetection(batch, db)
                return .commit
            }
        }
    }

    private static func writeDetection(_ batch: DetectionBatch, _ db: Database) throws {
        do {
            let insertSignal = try RawStatement(db, """
                INSERT INTO signal (event_seq, rule, rule_version, category, severity, subject, reason, explanation, queue, verdict,
                                    effects, occurred_at, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_seq, rule, rule_version) DO NOTHING
                """)
            for signal in batch.signals {
                insertSignal.reset()
                insertSignal.bind(1, signal.eventSeq ?? 0)  // detection's signals always have their event
                insertSignal.bind(2, signal.rule)
                insertSignal.bind(3, signal.ruleVersion)
                insertSignal.bind(4, signal.category)
                insertSignal.bind(5, signal.severity)
                insertSignal.bind(6, signal.subject?.description)
                insertSignal.bind(7, signal.reason)
                insertSignal.bind(8, signal.explanation)
                insertSignal.bind(9, signal.queue)
                insertSignal.bind(10, signal.verdict)
                insertSignal.bind(11, signal.effects)
                insertSignal.bind(12, signal.occurredAt)
                insertSignal.bind(13, signal.createdAt)
                try insertSignal.step()
            }
            for job in batch.jobs {
                try db.execute(sql: """
                    INSERT INTO classification_job (event_seq, rule, rule_version, mode, category, severity, subject, reason, explanation,
                                                    queue, effects, occurred_at, condition, next_attempt_at, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_seq, rule, rule_version) DO NOTHING
                    """, arguments: [job.signal.eventSeq, job.signal.rule, job.signal.ruleVersion, job.mode, job.signal.category,
                                    job.signal.severity, job.signal.subject?.description, job.signal.reason, job.signal.explanation,
                                    job.signal.queue, job.signal.effects, job.signal.occurredAt, job.condition, job.nextAttemptAt, job.createdAt])
            }
            for change in batch.labels {
                switch change {
                case .set(let entity, let name, let source, let createdAt, let expiresAt):
                    try db.execute(sql: """
                        INSERT INTO entity_label (entity, name, source, created_at, expires_at) VALUES (?, ?, ?, ?, ?)
                        ON CONFLICT (entity, name) DO UPDATE SET source = excluded.source, expires_at = excluded.expires_at,
                            created_at = CASE WHEN entity_label.expires_at IS NULL OR entity_label.expires_at > excluded.created_at
                                              THEN entity_label.created_at ELSE excluded.created_at END
                        """, arguments: [entity.description, name, source, createdAt, expiresAt])
                case .remove(let entity, let name):
                    try db.execute(sql: "DELETE FROM entity_label WHERE entity = ? AND name = ?", arguments: [entity.description, name])
                }
            }
            for hit in batch.hits {
                try db.execute(sql: """
                    INSERT INTO rule_hits (rule, version, mode, hour, hits) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (rule, version, mode, hour) DO UPDATE SET hits = hits + excluded.hits
                    """, arguments: [hit.rule, hit.version, hit.mode, hit.hour, hit.hits])
            }
            try db.execute(sql: "INSERT INTO consumer_cursor (name, seq) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET seq = excluded.seq",
                           arguments: [Self.detectionCursorName, batch.throughSeq])
        }
    }

    public func signals(before id: Int64?, limit: Int, subject: EntityRef?, rule: String?) async throws -> [StoredSignal] {
        try await pool.read { db in
            var conditions = ["id < ?"]
            var arguments: StatementArguments = [id ?? Int64.max]
            if let subject {
                conditions.append("subject = ?")
                arguments += [subject.description]
            }
            if let rule {
                conditions.append("rule = ?")
                arguments += [rule]
            }
            arguments += [limit]
            return try Row.fetchAll(db, sql: "SELECT * FROM signal WHERE \(conditions.joined(separator: " AND ")) ORDER BY id DESC LIMIT ?",
                                    arguments: arguments).map(Self.signal(from:))
        }
    }

    static func signal(from row: Row) -> StoredSignal {
        StoredSignal(id: row["id"], eventSeq: row["event_seq"], caseID: row["case_id"], rule: row["rule"], ruleVersion: row["rule_version"],
                     category: row["category"], severity: row["severity"], subject: (row["subject"] as String?).flatMap { EntityRef(parsing: $0) },
                     reason: row["reason"], explanation: row["explanation"], queue: row["queue"], verdict: row["verdict"],
                     effects: row["effects"], occurredAt: row["occurred_at"], createdAt: row["created_at"])
    }

    public func labels(of entity: EntityRef, at time: Int64) async throws -> [StoredLabel] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT name, source, created_at, expires_at FROM entity_label
                WHERE entity = ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY name
                """, arguments: [entity.description, time]).map { row in
                StoredLabel(name: row["name"], source: row["source"], createdAt: row["created_at"], expiresAt: row["expires_at"])
            }
        }
    }

    public func saveDetectionSnapshot(seq: Int64, takenAt: Int64, data: [UInt8]) async throws {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO detection_snapshot (name, seq, taken_at, data) VALUES ('detection', ?, ?, ?)
                ON CONFLICT (name) DO UPDATE SET seq = excluded.seq, taken_at = excluded.taken_at, data = excluded.data
                """, arguments: [seq, takenAt, Data(data)])
        }
    }

    public func detectionSnapshot() async throws -> (seq: Int64, data: [UInt8])? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT seq, data FROM detection_snapshot WHERE name = 'detection'").map { row in
                let data: Data = row["data"]
                return (row["seq"], Array(data))
            }
        }
    }

    public func rulePrecision() async throws -> [String: (violations: Int, decided: Int)] {
        try await pool.read { db in
            var result: [String: (violations: Int, decided: Int)] = [:]
            // Each (rule, case) once, with the case's latest review decision (appeals excluded).
            for row in try Row.fetchAll(db, sql: """
                SELECT rule, sum(violation) AS violations, count(*) AS decided FROM (
                    SELECT DISTINCT s.rule, d.case_id,
                        (SELECT violation FROM decision WHERE case_id = d.case_id AND appeal_outcome IS NULL ORDER BY id DESC LIMIT 1) AS violation
                    FROM signal s
                    JOIN case_item ci ON ci.kind = 'signal' AND ci.ref = s.id
                    JOIN decision d ON d.case_id = ci.case_id AND d.appeal_outcome IS NULL
                ) GROUP BY rule
                """) {
                result[row["rule"]] = (row["violations"] ?? 0, row["decided"])
            }
            return result
        }
    }

    public func ruleHits(sinceHour hour: Int64) async throws -> [RuleHitCount] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM rule_hits WHERE hour >= ? ORDER BY rule, hour", arguments: [hour]).map { row in
                RuleHitCount(rule: row["rule"], version: row["version"], mode: row["mode"], hour: row["hour"], hits: row["hits"])
            }
        }
    }
}
