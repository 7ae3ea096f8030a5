import GRDB
import WardenCore

extension SQLiteStore: OperationsStore {
    public func queueStats(warningFlags: Int, breachFlags: Int) async throws -> [QueueStat] {
        try await pool.read { db in
            // The tally the triggers of v31 keep; the oldest case of each group is one seek of the index.
            try db.cachedRows(sql: """
                SELECT t.queue, t.band, t.state, sum(t.cases) AS n,
                       sum(CASE WHEN (t.sla_raised & ?) != 0 AND (t.sla_raised & ?) = 0 THEN t.cases ELSE 0 END) AS warned,
                       sum(CASE WHEN (t.sla_raised & ?) != 0 THEN t.cases ELSE 0 END) AS breached,
                       (SELECT min(c.created_at) FROM review_case c INDEXED BY case_open_stats
                        WHERE c.queue = t.queue AND c.band = t.band AND c.state = t.state
                          AND c.state IN ('open', 'in_review', 'on_hold', 'escalated')) AS oldest
                FROM queue_tally t WHERE t.cases > 0
                GROUP BY t.queue, t.band, t.state
                """, arguments: [warningFlags, breachFlags, breachFlags]).map { row in
                QueueStat(queue: row["queue"], band: row["band"], state: row["state"], count: row["n"], oldestCreatedAt: row["oldest"],
                          warnings: row["warned"], breaches: row["breached"])
            }
        }
    }

    public func outboxCounts() async throws -> [String: Int] {
        try await pool.read { db in
            var counts = ["pending": 0, "dead": 0]
            for state in counts.keys {
                counts[state] = try db.cachedOne(Int.self, sql: "SELECT count(*) FROM outbox WHERE state = ?", arguments: [state]) ?? 0
            }
            return counts
        }
    }

    public func consumerLags() async throws -> [ConsumerLag] {
        let graphCursor = try await graph.read { db in try GraphSchema.cursor(db) }
        let searchCursor = try await search.read { db in try Int64.fetchOne(db, sql: "SELECT seq FROM search_cursor") ?? 0 }
        return try await pool.read { db in
            func cursor(_ name: String) throws -> Int64 {
                try db.cachedOne(Int64.self, sql: "SELECT seq FROM consumer_cursor WHERE name = ?", arguments: [name]) ?? 0
            }
            let head = try db.cachedOne(Int64.self, sql: "SELECT max(seq) FROM event", arguments: []) ?? 0
            // Consumers of the whole log: the events after the cursor, the oldest first received.
            func logConsumer(_ consumer: String, cursor: Int64) throws -> ConsumerLag {
                let oldest = cursor < head
                    ? try db.cachedOne(Int64.self, sql: "SELECT received_at FROM event WHERE seq > ? ORDER BY seq LIMIT 1", arguments: [cursor]) : nil
                return ConsumerLag(consumer: consumer, items: max(0, head - cursor), oldestAt: oldest)
            }
            var lags = [try logConsumer("entity_graph", cursor: graphCursor),
                        try logConsumer("detection", cursor: cursor(Self.detectionCursorName)),
                        try logConsumer("alert_series", cursor: cursor(Self.seriesCursors.events)),
                        try logConsumer("search", cursor: searchCursor)]
            // The case builder follows signals and report events.
            let signalCursor = try cursor(Self.signalCursorName), reportCursor = try cursor(Self.reportCursorName)
            let signals = try db.cachedOne(Int64.self, sql: "SELECT count(*) FROM signal WHERE id > ?", arguments: [signalCursor]) ?? 0
            let reports = try db.cachedOne(Int64.self, sql: "SELECT count(*) FROM event WHERE type = ? AND seq > ?",
                                           arguments: [ReservedEventType.report, reportCursor]) ?? 0
            let oldestSignal = signals > 0
                ? try db.cachedOne(Int64.self, sql: "SELECT created_at FROM signal WHERE id > ? ORDER BY id LIMIT 1", arguments: [signalCursor]) : nil
            let oldestReport = reports > 0
                ? try db.cachedOne(Int64.self, sql: "SELECT received_at FROM event WHERE type = ? AND seq > ? ORDER BY seq LIMIT 1",
                                   arguments: [ReservedEventType.report, reportCursor]) : nil
            lags.append(ConsumerLag(consumer: "case_builder", items: signals + reports, oldestAt: [oldestSignal, oldestReport].compactMap { $0 }.min()))
            // The classification stage works through its pending jobs.
            let pending = try db.cachedOne(Int64.self, sql: "SELECT count(*) FROM classification_job WHERE state = 'pending'", arguments: []) ?? 0
            let oldestJob = pending > 0
                ? try db.cachedOne(Int64.self, sql: "SELECT created_at FROM classification_job WHERE state = 'pending' ORDER BY id LIMIT 1", arguments: [])
                : nil
            lags.append(ConsumerLag(consumer: "classification", items: pending, oldestAt: oldestJob))
            return lags
        }
    }

    public func incidentCounts() async throws -> (incidents: [String: Int], alerts: [String: Int]) {
        try await pool.read { db in
            var incidents: [String: Int] = [:]
            for row in try db.cachedRows(sql: """
                SELECT severity, count(*) AS n FROM incident WHERE status IN ('investigating', 'identified', 'mitigating', 'monitoring') GROUP BY severity
                """) { incidents[row["severity"]] = row["n"] }
            var alerts: [String: Int] = [:]
            for row in try db.cachedRows(sql: "SELECT rule, count(*) AS n FROM alert INDEXED BY alert_open_per_key WHERE state != 'resolved' GROUP BY rule") {
                alerts[row["rule"]] = row["n"]
            }
            return (incidents, alerts)
        }
    }
}
