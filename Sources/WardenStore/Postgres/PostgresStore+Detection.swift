import Foundation
import Logging
import PostgresNIO
public import WardenCore

// Detection's output, classification jobs and the rule history on PostgreSQL. Signals and jobs are
// followed by id (the case builder, the alert series), so every transaction that writes them locks
// `signal_head` first: ids are taken and committed in one order.

extension PostgresStore: DetectionStore {
    static let detectionCursorName = "detection"

    public func detectionCursor() async throws -> Int64 {
        try await rows("SELECT seq FROM consumer_cursor WHERE name = \(Self.detectionCursorName)").first?.decode(Int64.self) ?? 0
    }

    /// Writes a batch and moves the cursor in one transaction. Detection's output is derived from the
    /// log, so it commits without waiting for its WAL record to reach the disk
    /// (`synchronous_commit = off`, this transaction only): a crash loses at most the last commits, and
    /// the cursor goes back with them, so detection redoes that work exactly once.
    public func commitDetection(_ batch: DetectionBatch) async throws {
        let logger = self.logger
        try await transaction { connection in
            try await connection.query("SET LOCAL synchronous_commit = off", logger: logger)
            try await Self.lockSignalHead(connection, logger)
            for signal in batch.signals {
                try await connection.query("""
                    INSERT INTO signal (id, event_seq, rule, rule_version, category, severity, subject, reason, explanation, queue, verdict,
                                        effects, occurred_at, created_at)
                    VALUES ((SELECT coalesce(max(id), 0) + 1 FROM signal), \(signal.eventSeq ?? 0), \(signal.rule), \(signal.ruleVersion), \(signal.category), \(signal.severity),
                            \(signal.subject?.description), \(signal.reason), \(signal.explanation), \(signal.queue), \(signal.verdict),
                            \(signal.effects), \(signal.occurredAt), \(signal.createdAt))
                    ON CONFLICT (event_seq, rule, rule_version) DO NOTHING
                    """, logger: logger)
            }
            for job in batch.jobs {
                let signal = job.signal
                try await connection.query("""
                    INSERT INTO classification_job (event_seq, rule, rule_version, mode, category, severity, subject, reason, explanation,
                                                    queue, effects, occurred_at, condition, next_attempt_at, created_at)
                    VALUES (\(signal.eventSeq ?? 0), \(signal.rule), \(signal.ruleVersion), \(job.mode), \(signal.category), \(signal.severity),
                            \(signal.subject?.description), \(signal.reason), \(signal.explanation), \(signal.queue), \(signal.effects),
                            \(signal.occurredAt), \(job.condition), \(job.nextAttemptAt), \(job.createdAt))
                    ON CONFLICT (event_seq, rule, rule_version) DO NOTHING
                    """, logger: logger)
            }
            for change in batch.labels {
                switch change {
                case .set(let entity, let name, let source, let createdAt, let expiresAt):
                    try await connection.query("""
                        INSERT INTO entity_label (entity, name, source, created_at, expires_at)
                        VALUES (\(entity.description), \(name), \(source), \(createdAt), \(expiresAt))
                        ON CONFLICT (entity, name) DO UPDATE SET source = excluded.source, expires_at = excluded.expires_at,
                            created_at = CASE WHEN entity_label.expires_at IS NULL OR entity_label.expires_at > excluded.created_at
                                              THEN entity_label.created_at ELSE excluded.created_at END
                        """, logger: logger)
                case .remove(let entity, let name):
                    try await connection.query("DELETE FROM entity_label WHERE entity = \(entity.description) AND name = \(name)", logger: logger)
                }
            }
            for hit in batch.hits {
                try await connection.query("""
                    INSERT INTO rule_hits (rule, version, mode, hour, hits) VALUES (\(hit.rule), \(hit.version), \(hit.mode), \(hit.hour), \(Int64(hit.hits)))
                    ON CONFLICT (rule, version, mode, hour) DO UPDATE SET hits = rule_hits.hits + excluded.hits
                    """, logger: logger)
            }
            try await connection.query("""
                INSERT INTO consumer_cursor (name, seq) VALUES (\(Self.detectionCursorName), \(batch.throughSeq))
                ON CONFLICT (name) DO UPDATE SET seq = excluded.seq
                """, logger: logger)
        }
    }

    public func signals(before id: Int64?, limit: Int, subject: EntityRef?, rule: String?) async throws -> [StoredSignal] {
        var bindings = PostgresBindings()
        bindings.append(id ?? Int64.max)
        var conditions = ["id < $1"]
        if let subject {
            bindings.append(subject.description)
            conditions.append("subject = $\(bindings.count)")
        }
        if let rule {
            bindings.append(rule)
            conditions.append("rule = $\(bindings.count)")
        }
        bindings.append(Int64(limit))
        let sql = "SELECT \(Self.signalColumns) FROM signal WHERE \(conditions.joined(separator: " AND ")) ORDER BY id DESC LIMIT $\(bindings.count)"
        return try await rows(PostgresQuery(unsafeSQL: sql, binds: bindings)).map(Self.signal(from:))
    }

    public func labels(of entity: EntityRef, at time: Int64) async throws -> [StoredLabel] {
        try await rows("""
            SELECT name, source, created_at, expires_at FROM entity_label
            WHERE entity = \(entity.description) AND (expires_at IS NULL OR expires_at > \(time)) ORDER BY name
            """).map { row in
            let (name, source, createdAt, expiresAt) = try row.decode((String, String, Int64, Int64?).self)
            return StoredLabel(name: name, source: source, createdAt: createdAt, expiresAt: expiresAt)
        }
    }

    public func ruleHits(sinceHour hour: Int64) async throws -> [RuleHitCount] {
        try await rows("SELECT rule, version, mode, hour, hits FROM rule_hits WHERE hour >= \(hour) ORDER BY rule, hour, version, mode").map { row in
            let (rule, version, mode, hour, hits) = try row.decode((String, String, String, Int64, Int64).self)
            return RuleHitCount(rule: rule, version: version, mode: mode, hour: hour, hits: Int(hits))
        }
    }

    public func rulePrecision() async throws -> [String: (violations: Int, decided: Int)] {
        var result: [String: (violations: Int, decided: Int)] = [:]
        // Each (rule, case) once, with the case's latest review decision (appeals excluded).
        for row in try await rows("""
            SELECT rule, count(*) FILTER (WHERE violation), count(*) FROM (
                SELECT DISTINCT s.rule, d.case_id,
                    (SELECT violation FROM decision WHERE case_id = d.case_id AND appeal_outcome IS NULL ORDER BY id DESC LIMIT 1) AS violation
                FROM signal s
                JOIN case_item ci ON ci.kind = 'signal' AND ci.ref = s.id
                JOIN decision d ON d.case_id = ci.case_id AND d.appeal_outcome IS NULL
            ) decided GROUP BY rule
            """) {
            let (rule, violations, decided) = try row.decode((String, Int64, Int64).self)
            result[rule] = (Int(violations), Int(decided))
        }
        return result
    }

    public func saveDetectionSnapshot(seq: Int64, takenAt: Int64, data: [UInt8]) async throws {
        try await rows("""
            INSERT INTO detection_snapshot (name, seq, taken_at, data) VALUES ('detection', \(seq), \(takenAt), \(Data(data)))
            ON CONFLICT (name) DO UPDATE SET seq = excluded.seq, taken_at = excluded.taken_at, data = excluded.data
            """)
    }

    public func detectionSnapshot() async throws -> (seq: Int64, data: [UInt8])? {
        try await rows("SELECT seq, data FROM detection_snapshot WHERE name = 'detection'").first.map { row in
            let (seq, data) = try row.decode((Int64, Data).self)
            return (seq, Array(data))
        }
    }
}

// MARK: - ClassificationJobStore

extension PostgresStore: ClassificationJobStore {
    static let jobColumns = """
        id, event_seq, rule, rule_version, mode, category, severity, subject, reason, explanation, queue, effects, occurred_at, condition,
        state, attempts, next_attempt_at, last_error, answers, created_at, settled_at
        """

    public func dueClassificationJobs(at now: Int64, limit: Int) async throws -> [ClassificationJob] {
        try await rows("""
            SELECT \(unescaped: Self.jobColumns) FROM classification_job WHERE state = 'pending' AND next_attempt_at <= \(now)
            ORDER BY next_attempt_at, id LIMIT \(limit)
            """).map(Self.job(from:))
    }

    /// Settles a pending job once: the update matches only while the job is pending, so of two nodes
    /// settling the same job, one does (and writes its signal) and the other is told it was not.
    public func settleClassificationJob(id: Int64, _ settlement: ClassificationSettlement, at now: Int64) async throws -> Bool {
        let logger = self.logger
        return try await transaction { connection in
            func changed(_ query: PostgresQuery) async throws -> Bool {
                try await !connection.rows(query, logger: logger).isEmpty
            }
            switch settlement {
            case .retry(let error, let next):
                return try await changed("""
                    UPDATE classification_job SET attempts = attempts + 1, last_error = \(error), next_attempt_at = \(next)
                    WHERE id = \(id) AND state = 'pending' RETURNING id
                    """)
            case .failed(let error):
                return try await changed("""
                    UPDATE classification_job SET state = 'failed', attempts = attempts + 1, last_error = \(error), settled_at = \(now)
                    WHERE id = \(id) AND state = 'pending' RETURNING id
                    """)
            case .notFired(let answers):
                return try await changed("""
                    UPDATE classification_job SET state = 'not_fired', attempts = attempts + 1, answers = \(answers), settled_at = \(now)
                    WHERE id = \(id) AND state = 'pending' RETURNING id
                    """)
            case .fired(let explanation, let answers, let demoted):
                guard try await changed("""
                    UPDATE classification_job SET state = 'fired', attempts = attempts + 1, answers = \(answers), explanation = \(explanation),
                        settled_at = \(now), mode = CASE WHEN \(demoted != nil) THEN 'shadow' ELSE mode END
                    WHERE id = \(id) AND state = 'pending' RETURNING id
                    """) else { return false }
                try await Self.lockSignalHead(connection, logger)
                if let demoted {
                    // As detection does when the valve trips: a signal saying so, on the same event.
                    try await connection.query("""
                        INSERT INTO signal (id, event_seq, rule, rule_version, category, severity, subject, reason, explanation, queue, verdict,
                                            effects, occurred_at, created_at)
                        SELECT (SELECT coalesce(max(id), 0) + 1 FROM signal), event_seq, 'safety_valve', rule_version, category, \(demoted.severity), subject, \(demoted.reason), \(demoted.reason),
                               NULL, NULL, '[]', occurred_at, \(now)
                        FROM classification_job WHERE id = \(id)
                        ON CONFLICT (event_seq, rule, rule_version) DO NOTHING
                        """, logger: logger)
                }
                // The hit counts in the hour of the event, like every other hit; an active rule's
                // signal is written now (unique per event, rule and version, like detection's).
                try await connection.query("""
                    INSERT INTO rule_hits (rule, version, mode, hour, hits)
                    SELECT rule, rule_version, mode, occurred_at / 3600000, 1 FROM classification_job WHERE id = \(id)
                    ON CONFLICT (rule, version, mode, hour) DO UPDATE SET hits = rule_hits.hits + 1
                    """, logger: logger)
                try await connection.query("""
                    INSERT INTO signal (id, event_seq, rule, rule_version, category, severity, subject, reason, explanation, queue, verdict,
                                        effects, occurred_at, created_at)
                    SELECT (SELECT coalesce(max(id), 0) + 1 FROM signal), event_seq, rule, rule_version, category, severity, subject, reason, explanation,
                           queue, NULL, effects, occurred_at, \(now)
                    FROM classification_job WHERE id = \(id) AND mode = 'active'
                    ON CONFLICT (event_seq, rule, rule_version) DO NOTHING
                    """, logger: logger)
                return true
            }
        }
    }

    public func classificationJobs(state: String?, before id: Int64?, limit: Int) async throws -> [ClassificationJob] {
        if let state {
            return try await rows("""
                SELECT \(unescaped: Self.jobColumns) FROM classification_job WHERE id < \(id ?? Int64.max) AND state = \(state) ORDER BY id DESC LIMIT \(limit)
                """).map(Self.job(from:))
        }
        return try await rows("""
            SELECT \(unescaped: Self.jobColumns) FROM classification_job WHERE id < \(id ?? Int64.max) ORDER BY id DESC LIMIT \(limit)
            """).map(Self.job(from:))
    }

    public func classificationJobCounts() async throws -> [String: Int] {
        var counts = Dictionary(uniqueKeysWithValues: ClassificationJob.states.map { ($0, 0) })
        for row in try await rows("SELECT state, count(*) FROM classification_job GROUP BY state") {
            let (state, count) = try row.decode((String, Int64).self)
            counts[state] = Int(count)
        }
        return counts
    }

    static func job(from row: PostgresRow) throws -> ClassificationJob {
        let cells = row.makeRandomAccess()
        let signal = StoredSignal(eventSeq: try cells[1].decode(Int64.self), rule: try cells[2].decode(String.self),
                                  ruleVersion: try cells[3].decode(String.self), category: try cells[5].decode(String.self),
                                  severity: try cells[6].decode(String.self), subject: try cells[7].decode(String?.self).flatMap { EntityRef(parsing: $0) },
                                  reason: try cells[8].decode(String?.self), explanation: try cells[9].decode(String.self),
                                  queue: try cells[10].decode(String?.self), verdict: nil, effects: try cells[11].decode(String.self),
                                  occurredAt: try cells[12].decode(Int64.self), createdAt: try cells[20].decode(Int64?.self) ?? 0)
        var job = ClassificationJob(signal: signal, mode: try cells[4].decode(String.self), condition: try cells[13].decode(String.self),
                                    createdAt: try cells[19].decode(Int64.self))
        job.id = try cells[0].decode(Int64.self)
        job.state = try cells[14].decode(String.self)
        job.attempts = try cells[15].decode(Int.self)
        job.nextAttemptAt = try cells[16].decode(Int64.self)
        job.lastError = try cells[17].decode(String?.self)
        job.answers = try cells[18].decode(String?.self)
        job.settledAt = try cells[20].decode(Int64?.self)
        return job
    }
}

// MARK: - RuleHistoryStore

extension PostgresStore: RuleHistoryStore {
    public func record(_ change: PackChange, activating versions: [RuleVersionRecord]) async throws {
        let logger = self.logger
        try await transaction { connection in
            try await connection.query("""
                INSERT INTO pack_change (at, actor, pack_version, outcome, detail)
                VALUES (\(change.at), \(change.actor), \(change.packVersion), \(change.outcome), \(change.detail))
                """, logger: logger)
            for version in versions {
                try await connection.query("""
                    INSERT INTO rule_version (rule, version, mode, source, first_active_at, pack_version)
                    VALUES (\(version.rule), \(version.version), \(version.mode), \(version.source), \(version.firstActiveAt), \(version.packVersion))
                    ON CONFLICT (rule, version) DO NOTHING
                    """, logger: logger)
            }
        }
    }

    public func ruleVersions() async throws -> [RuleVersionRecord] {
        try await rows("SELECT rule, version, mode, source, first_active_at, pack_version FROM rule_version ORDER BY first_active_at, rule").map { row in
            let (rule, version, mode, source, firstActiveAt, packVersion) = try row.decode((String, String, String, String, Int64, String).self)
            return RuleVersionRecord(rule: rule, version: version, mode: mode, source: source, firstActiveAt: firstActiveAt, packVersion: packVersion)
        }
    }

    public func packChanges(limit: Int) async throws -> [PackChange] {
        try await rows("SELECT at, actor, pack_version, outcome, detail FROM pack_change ORDER BY id DESC LIMIT \(limit)").map { row in
            let (at, actor, packVersion, outcome, detail) = try row.decode((Int64, String, String?, String, String).self)
            return PackChange(at: at, actor: actor, packVersion: packVersion, outcome: outcome, detail: detail)
        }
    }
}

// MARK: - ClassifierModelStore

extension PostgresStore: ClassifierModelStore {
    /// Numbers the model `max(version) + 1` of its name; two nodes saving the same name at once
    /// cannot both take a number (the key refuses the second, which is told so), so none is lost.
    public func saveModel(_ model: StoredClassifierModel) async throws -> Int {
        let logger = self.logger
        return try await transaction { connection in
            guard let version = try await connection.rows("""
                INSERT INTO classifier_model (name, version, kind, created_at, trained_on, examples, labels, metrics, data)
                SELECT \(model.name), coalesce(max(version), 0) + 1, \(model.kind), \(model.createdAt), \(model.trainedOn), \(Int32(model.examples)),
                       \(model.labels.joined(separator: "\n")), \(model.metrics), \(Data(model.data))
                FROM classifier_model WHERE name = \(model.name)
                RETURNING version
                """, logger: logger).first?.decode(Int.self) else { throw StoreError.inconsistent("model \(model.name) was not stored") }
            return version
        }
    }

    public func model(named name: String, version: Int?) async throws -> StoredClassifierModel? {
        let found = if let version {
            try await rows("SELECT \(unescaped: Self.modelColumns), data FROM classifier_model WHERE name = \(name) AND version = \(Int32(version))")
        } else {
            try await rows("SELECT \(unescaped: Self.modelColumns), data FROM classifier_model WHERE name = \(name) ORDER BY version DESC LIMIT 1")
        }
        return try found.first.map { row in try Self.model(row, data: Array(try row.makeRandomAccess()[8].decode(Data.self))) }
    }

    public func models() async throws -> [StoredClassifierModel] {
        try await rows("SELECT \(unescaped: Self.modelColumns) FROM classifier_model ORDER BY name, version").map { try Self.model($0, data: []) }
    }

    static let modelColumns = "name, version, kind, created_at, trained_on, examples, labels, metrics"

    private static func model(_ row: PostgresRow, data: [UInt8]) throws -> StoredClassifierModel {
        let cells = row.makeRandomAccess()
        return StoredClassifierModel(name: try cells[0].decode(String.self), version: try cells[1].decode(Int.self), kind: try cells[2].decode(String.self),
                                     createdAt: try cells[3].decode(Int64.self), trainedOn: try cells[4].decode(String.self),
                                     examples: try cells[5].decode(Int.self), labels: try cells[6].decode(String.self).split(separator: "\n").map(String.init),
                                     metrics: try cells[7].decode(String.self), data: data)
    }
}
