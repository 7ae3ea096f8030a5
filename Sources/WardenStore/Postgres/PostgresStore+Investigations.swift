import Foundation
import Logging
import PostgresNIO
public import WardenCore
public import WardenInvestigations

// Investigations on PostgreSQL: operations metrics, link analysis, hash banks, bulk jobs, saved
// queries and derived tables. Investigators' own SQL runs on the SQLite store only for now (it is
// compiled under SQLite's authorizer, which PostgreSQL has no equal of short of a role of its
// own): on PostgreSQL, running a query answers a refusal that says so, and derived tables record
// it as their refresh error.

extension PostgresStore: OperationsStore {
    public func queueStats(warningFlags: Int, breachFlags: Int) async throws -> [QueueStat] {
        let warning = Int32(warningFlags), breach = Int32(breachFlags)
        return try await rows("""
            SELECT queue, band, state, count(*) AS n, min(created_at) AS oldest,
                   count(*) FILTER (WHERE (sla_raised & \(warning)) <> 0 AND (sla_raised & \(breach)) = 0) AS warned,
                   count(*) FILTER (WHERE (sla_raised & \(breach)) <> 0) AS breached
            FROM review_case WHERE state IN ('open', 'in_review', 'on_hold', 'escalated')
            GROUP BY queue, band, state
            """).map(\.cells).map { row in
            QueueStat(queue: try row["queue"], band: try row.int("band"), state: try row["state"], count: try row.int("n"), oldestCreatedAt: try row["oldest"],
                      warnings: try row.int("warned"), breaches: try row.int("breached"))
        }
    }

    public func outboxCounts() async throws -> [String: Int] {
        var counts = ["pending": 0, "dead": 0]
        for row in try await rows("SELECT state, count(*) FROM outbox WHERE state IN ('pending', 'dead') GROUP BY state") {
            let (state, n) = try row.decode((String, Int64).self)
            counts[state] = Int(n)
        }
        return counts
    }

    public func consumerLags() async throws -> [ConsumerLag] {
        let logger = self.logger
        return try await client.withConnection { connection in
            func cursor(_ name: String) async throws -> Int64 {
                try await connection.one(Int64.self, "SELECT seq FROM consumer_cursor WHERE name = \(name)", logger: logger) ?? 0
            }
            let head = try await connection.one(Int64.self, "SELECT seq FROM log_head WHERE id = 1", logger: logger) ?? 0
            func logConsumer(_ consumer: String, cursor: Int64) async throws -> ConsumerLag {
                let oldest = cursor < head
                    ? try await connection.one(Int64.self, "SELECT received_at FROM event WHERE seq = \(cursor + 1)", logger: logger) : nil
                return ConsumerLag(consumer: consumer, items: max(0, head - cursor), oldestAt: oldest)
            }
            let graph = try await connection.one(Int64.self, "SELECT seq FROM graph_cursor WHERE id = 1", logger: logger) ?? 0
            let search = try await connection.one(Int64.self, "SELECT seq FROM search_cursor WHERE id = 1", logger: logger) ?? 0
            var lags = [try await logConsumer("entity_graph", cursor: graph),
                        try await logConsumer("detection", cursor: cursor(Self.detectionCursorName)),
                        try await logConsumer("alert_series", cursor: cursor(SQLiteStore.seriesCursors.events)),
                        try await logConsumer("search", cursor: search)]
            let signalCursor = try await cursor(Self.signalCursorName), reportCursor = try await cursor(Self.reportCursorName)
            let signals = try await connection.one(Int64.self, "SELECT count(*) FROM signal WHERE id > \(signalCursor)", logger: logger) ?? 0
            let reports = try await connection.one(Int64.self, """
                SELECT count(*) FROM event WHERE type = \(ReservedEventType.report) AND seq > \(reportCursor)
                """, logger: logger) ?? 0
            let oldestSignal = signals > 0
                ? try await connection.one(Int64.self, "SELECT created_at FROM signal WHERE id > \(signalCursor) ORDER BY id LIMIT 1", logger: logger) : nil
            let oldestReport = reports > 0
                ? try await connection.one(Int64.self, """
                    SELECT received_at FROM event WHERE type = \(ReservedEventType.report) AND seq > \(reportCursor) ORDER BY type, seq LIMIT 1
                    """, logger: logger) : nil
            lags.append(ConsumerLag(consumer: "case_builder", items: signals + reports, oldestAt: [oldestSignal, oldestReport].compactMap { $0 }.min()))
            let pending = try await connection.one(Int64.self, "SELECT count(*) FROM classification_job WHERE state = 'pending'", logger: logger) ?? 0
            let oldestJob = pending > 0
                ? try await connection.one(Int64.self, "SELECT created_at FROM classification_job WHERE state = 'pending' ORDER BY id LIMIT 1", logger: logger)
                : nil
            lags.append(ConsumerLag(consumer: "classification", items: pending, oldestAt: oldestJob))
            return lags
        }
    }

    public func incidentCounts() async throws -> (incidents: [String: Int], alerts: [String: Int]) {
        var incidents: [String: Int] = [:]
        for row in try await rows("""
            SELECT severity, count(*) FROM incident WHERE status IN ('investigating', 'identified', 'mitigating', 'monitoring') GROUP BY severity
            """) {
            let (severity, n) = try row.decode((String, Int64).self)
            incidents[severity] = Int(n)
        }
        var alerts: [String: Int] = [:]
        for row in try await rows("SELECT rule, count(*) FROM alert WHERE state <> 'resolved' GROUP BY rule") {
            let (rule, n) = try row.decode((String, Int64).self)
            alerts[rule] = Int(n)
        }
        return (incidents, alerts)
    }
}

extension PostgresStore: LinkStore {
    public func memberships(accountType: String, pivotTypes: Set<String>, afterSeq: Int64, limit: Int) async throws -> [Membership] {
        try await rows("""
            SELECT x.type || ':' || x.id AS account, y.type || ':' || y.id AS pivot, l.first_seq
            FROM entity x JOIN entity_link l ON l.a = x.key JOIN entity y ON y.key = l.b
            WHERE x.type = \(accountType) AND y.type = ANY(\(pivotTypes.sorted())) AND l.first_seq > \(afterSeq)
            LIMIT \(limit)
            """).map { row in
            let (account, pivot, firstSeq) = try row.decode((String, String, Int64).self)
            return Membership(account: account, pivot: pivot, firstSeq: firstSeq)
        }
    }

    public func neighbours(of entities: [String], limit: Int) async throws -> [String: [String]] {
        let logger = self.logger
        return try await client.withConnection { connection in
            var found: [String: [String]] = [:]
            for text in entities {
                guard let ref = EntityRef(parsing: text),
                      let key = try await connection.one(Int64.self, "SELECT key FROM entity WHERE type = \(ref.type) AND id = \(ref.id)", logger: logger)
                else { continue }
                found[text] = try await connection.rows("""
                    SELECT n.type || ':' || n.id FROM (SELECT b FROM entity_link WHERE a = \(key) LIMIT \(limit)) l JOIN entity n ON n.key = l.b
                    """, logger: logger).map { try $0.decode(String.self) }
            }
            return found
        }
    }

    public func accountFacts(_ accounts: [String]) async throws -> AccountFacts {
        let logger = self.logger
        return try await client.withConnection { connection in
            var firstSeen: Int64?, lastSeq: Int64?
            for text in accounts.prefix(1_000) {
                guard let ref = EntityRef(parsing: text),
                      let (first, last) = try await connection.rows("""
                        SELECT first_seen_at, coalesce((SELECT max(seq) FROM event_entity WHERE entity = e.key), 0) FROM entity e
                        WHERE type = \(ref.type) AND id = \(ref.id)
                        """, logger: logger).first?.decode((Int64, Int64).self)
                else { continue }
                firstSeen = min(firstSeen ?? first, first)
                lastSeq = max(lastSeq ?? last, last)
            }
            var lastActive: Int64?
            if let lastSeq { lastActive = try await connection.one(Int64.self, "SELECT received_at FROM event WHERE seq = \(lastSeq)", logger: logger) }
            var labels: [String: [String]] = [:]
            for row in try await connection.rows("SELECT entity, name FROM entity_label WHERE entity = ANY(\(accounts)) ORDER BY entity, name", logger: logger) {
                let (entity, name) = try row.decode((String, String).self)
                labels[entity, default: []].append(name)
            }
            var (cases, decisions, violations): (Int64, Int64, Int64) = (0, 0, 0)
            if let row = try await connection.rows("""
                SELECT count(DISTINCT c.id), count(d.id), count(d.id) FILTER (WHERE d.violation)
                FROM review_case c LEFT JOIN decision d ON d.case_id = c.id WHERE c.subject = ANY(\(accounts))
                """, logger: logger).first {
                (cases, decisions, violations) = try row.decode((Int64, Int64, Int64).self)
            }
            return AccountFacts(firstSeenAt: firstSeen, lastActiveAt: lastActive, labels: labels, cases: Int(cases), decisions: Int(decisions),
                                violations: Int(violations))
        }
    }
}

extension PostgresStore: HashBankStore {
    public func hashBanks() async throws -> [HashBank] {
        try await rows("SELECT * FROM hash_bank ORDER BY name").compactMap(Self.hashBank)
    }

    public func hashBank(named name: String) async throws -> HashBank? {
        try await rows("SELECT * FROM hash_bank WHERE name = \(name)").first.flatMap(Self.hashBank)
    }

    public func hashBankCounts() async throws -> [String: (total: Int, deconfirmed: Int)] {
        var counts: [String: (total: Int, deconfirmed: Int)] = [:]
        for row in try await rows("SELECT bank, count(*), count(*) FILTER (WHERE opinion = 'deconfirmed') FROM hash_entry GROUP BY bank") {
            let (bank, total, deconfirmed) = try row.decode((String, Int64, Int64).self)
            counts[bank] = (Int(total), Int(deconfirmed))
        }
        return counts
    }

    public func createHashBank(_ bank: HashBank, audit: AuditDraft) async throws -> Bool {
        let logger = self.logger
        return try await transaction { connection in
            guard try await !connection.rows("""
                INSERT INTO hash_bank (name, kind, threshold, negative, description, created_by, created_at)
                VALUES (\(bank.name), \(bank.kind.rawValue), \(Int32(bank.threshold)), \(bank.negative), \(bank.description), \(bank.createdBy), \(bank.createdAt))
                ON CONFLICT (name) DO NOTHING RETURNING name
                """, logger: logger).isEmpty else { return false }
            try await Self.appendAudit(connection, logger: logger, audit)
            return true
        }
    }

    public func updateHashBank(_ bank: HashBank, audit: AuditDraft) async throws -> Bool {
        let logger = self.logger
        return try await transaction { connection in
            guard try await !connection.rows("""
                UPDATE hash_bank SET threshold = \(Int32(bank.threshold)), description = \(bank.description) WHERE name = \(bank.name) RETURNING name
                """, logger: logger).isEmpty else { return false }
            try await Self.appendAudit(connection, logger: logger, audit)
            return true
        }
    }

    public func deleteHashBank(named name: String, audit: AuditDraft) async throws -> Bool {
        let logger = self.logger
        return try await transaction { connection in
            try await connection.query("DELETE FROM hash_entry WHERE bank = \(name)", logger: logger)
            guard try await !connection.rows("DELETE FROM hash_bank WHERE name = \(name) RETURNING name", logger: logger).isEmpty else { return false }
            try await Self.appendAudit(connection, logger: logger, audit)
            return true
        }
    }

    public func bankEntries(bank: String, after: Int64, limit: Int) async throws -> [BankEntry] {
        try await rows("SELECT * FROM hash_entry WHERE bank = \(bank) AND id > \(after) ORDER BY id LIMIT \(limit)").compactMap(Self.bankEntry)
    }

    public func bankEntry(bank: String, id: Int64) async throws -> BankEntry? {
        try await rows("SELECT * FROM hash_entry WHERE bank = \(bank) AND id = \(id)").first.flatMap(Self.bankEntry)
    }

    /// Merges a batch of hashes into a bank with a handful of statements whatever its size: the
    /// entries it names are read at once, merged here in the batch's order (as the SQLite store does
    /// one by one, so the counts agree), then written with one insert and one update.
    public func addHashes(bank: String, _ hashes: [ImportedHash], by actor: String, at time: Int64, audit: AuditDraft) async throws -> HashAddition {
        let logger = self.logger
        return try await transaction { connection in
            // One importer per bank at a time: the bank's row is held while its entries are merged.
            try await connection.query("SELECT name FROM hash_bank WHERE name = \(bank) FOR UPDATE", logger: logger)
            var current: [String: BankEntry] = [:]
            for row in try await connection.rows("SELECT * FROM hash_entry WHERE bank = \(bank) AND hash = ANY(\(Array(Set(hashes.map(\.hash)))))",
                                                 logger: logger) {
                if let entry = Self.bankEntry(row) { current[entry.hash] = entry }
            }
            let stored = current
            var result = HashAddition(added: 0, updated: 0, unchanged: 0)
            for hash in hashes {
                if let existing = current[hash.hash] {
                    guard let merged = existing.merging(hash) else {
                        result.unchanged += 1
                        continue
                    }
                    current[hash.hash] = merged
                    result.updated += 1
                } else {
                    current[hash.hash] = BankEntry(id: 0, bank: bank, hash: hash.hash, opinion: hash.opinion ?? .unreviewed, tags: hash.tags,
                                                   contentID: hash.contentID, addedBy: actor, addedAt: time)
                    result.added += 1
                }
            }
            // New entries in the order the batch first named them (ids rise with it, as on SQLite).
            var seen = Set<String>()
            let fresh = hashes.compactMap { hash -> BankEntry? in
                guard stored[hash.hash] == nil, seen.insert(hash.hash).inserted else { return nil }
                return current[hash.hash]
            }
            if !fresh.isEmpty {
                try await connection.query("""
                    INSERT INTO hash_entry (bank, hash, opinion, tags, content_id, added_by, added_at)
                    SELECT \(bank), h, o, t, CASE WHEN has THEN c END, \(actor), \(time)
                    FROM unnest(\(fresh.map(\.hash)), \(fresh.map(\.opinion.rawValue)), \(fresh.map { SQLiteStore.tagText($0.tags) }),
                                \(fresh.map { $0.contentID ?? "" }), \(fresh.map { $0.contentID != nil })) WITH ORDINALITY AS u(h, o, t, c, has, n)
                    ORDER BY n
                    """, logger: logger)
            }
            let changed = stored.values.compactMap { old -> BankEntry? in
                guard let now = current[old.hash], now.tags != old.tags || now.opinion != old.opinion || now.contentID != old.contentID else { return nil }
                return now
            }
            if !changed.isEmpty {
                try await connection.query("""
                    UPDATE hash_entry SET opinion = u.o, tags = u.t, content_id = CASE WHEN u.has THEN u.c END
                    FROM unnest(\(changed.map(\.id)), \(changed.map(\.opinion.rawValue)), \(changed.map { SQLiteStore.tagText($0.tags) }),
                                \(changed.map { $0.contentID ?? "" }), \(changed.map { $0.contentID != nil })) AS u(i, o, t, c, has)
                    WHERE hash_entry.id = u.i
                    """, logger: logger)
            }
            try await Self.appendAudit(connection, logger: logger, at: audit.at, actor: audit.actor.description, action: audit.action, target: audit.target,
                                       detail: SQLiteStore.withCounts(audit.detail, result))
            return result
        }
    }

    public func setOpinion(bank: String, id: Int64, opinion: HashOpinion, audit: AuditDraft) async throws -> BankEntry? {
        let logger = self.logger
        return try await transaction { connection in
            guard let row = try await connection.rows("""
                UPDATE hash_entry SET opinion = \(opinion.rawValue) WHERE bank = \(bank) AND id = \(id) RETURNING *
                """, logger: logger).first else { return nil }
            try await Self.appendAudit(connection, logger: logger, audit)
            return Self.bankEntry(row)
        }
    }

    public func deleteBankEntry(bank: String, id: Int64, audit: AuditDraft) async throws -> Bool {
        let logger = self.logger
        return try await transaction { connection in
            guard try await !connection.rows("DELETE FROM hash_entry WHERE bank = \(bank) AND id = \(id) RETURNING id", logger: logger).isEmpty else { return false }
            try await Self.appendAudit(connection, logger: logger, audit)
            return true
        }
    }

    static func hashBank(_ row: PostgresRow) -> HashBank? {
        let row = row.cells
        guard let kind = (try? row["kind"] as String).flatMap(HashKind.init(rawValue:)) else { return nil }
        return try? HashBank(name: row["name"], kind: kind, threshold: row.int("threshold"), negative: row["negative"], description: row["description"],
                             createdBy: row["created_by"], createdAt: row["created_at"])
    }

    static func bankEntry(_ row: PostgresRow) -> BankEntry? {
        let row = row.cells
        guard let opinion = (try? row["opinion"] as String).flatMap(HashOpinion.init(rawValue:)), let tagText = try? row["tags"] as String else { return nil }
        var tags: [String] = []
        if case .array(let items)? = JSONValue.parse(Array(tagText.utf8)) {
            tags = items.compactMap { if case .string(let tag) = $0 { tag } else { nil } }
        }
        return try? BankEntry(id: row["id"], bank: row["bank"], hash: row["hash"], opinion: opinion, tags: tags, contentID: row["content_id"],
                              addedBy: row["added_by"], addedAt: row["added_at"])
    }
}

extension PostgresStore: BulkStore {
    public func createBulkJob(_ job: BulkJob, entities: [EntityRef], audit: AuditDraft) async throws -> BulkJob {
        let logger = self.logger
        return try await transaction { connection in
            guard let id = try await connection.one(Int64.self, """
                INSERT INTO bulk_job (operation, source, note, state, requested_by, approved_by, created_at, total, done, failed, reversed, cursor)
                VALUES (\(job.operation.json), \(job.source), \(job.note), \(job.state.rawValue), \(job.requestedBy.description), \(job.approvedBy?.description),
                        \(job.createdAt), \(Int64(entities.count)), 0, 0, 0, 0)
                RETURNING id
                """, logger: logger) else { throw StoreError.inconsistent("the bulk job was not stored") }
            var stored = job
            stored.id = id
            var start = 0
            while start < entities.count {
                let chunk = entities[start..<min(entities.count, start + 5_000)]
                let indexes = chunk.indices.map { Int64($0) }
                try await connection.query("""
                    INSERT INTO bulk_item (job, n, entity, state) SELECT \(id), n, entity, 'pending' FROM unnest(\(indexes), \(chunk.map(\.description))) AS t(n, entity)
                    """, logger: logger)
                start += chunk.count
            }
            stored.total = entities.count
            var entry = audit
            entry.target = "bulk:\(stored.id)"
            try await Self.appendAudit(connection, logger: logger, entry)
            return stored
        }
    }

    public func bulkJob(id: Int64) async throws -> BulkJob? {
        try await rows("SELECT * FROM bulk_job WHERE id = \(id)").first.flatMap(Self.bulkJob)
    }

    public func bulkJobs(before: Int64?, limit: Int) async throws -> [BulkJob] {
        try await rows("SELECT * FROM bulk_job WHERE id < \(before ?? Int64.max) ORDER BY id DESC LIMIT \(limit)").compactMap(Self.bulkJob)
    }

    public func activeBulkJobs() async throws -> [BulkJob] {
        try await rows("SELECT * FROM bulk_job WHERE state IN ('queued', 'running', 'reversing') ORDER BY id").compactMap(Self.bulkJob)
    }

    public func updateBulkJob(_ job: BulkJob, expecting: BulkState, audit: AuditDraft?) async throws -> Bool {
        let logger = self.logger
        return try await transaction { connection in
            guard try await !connection.rows("""
                UPDATE bulk_job SET state = \(job.state.rawValue), approved_by = \(job.approvedBy?.description), started_at = \(job.startedAt),
                    finished_at = \(job.finishedAt), done = \(Int64(job.done)), failed = \(Int64(job.failed)), reversed = \(Int64(job.reversed)),
                    cursor = \(Int64(job.cursor)), reversed_by = \(job.reversedBy?.description), reversal_reason = \(job.reversalReason)
                WHERE id = \(job.id) AND state = \(expecting.rawValue) RETURNING id
                """, logger: logger).isEmpty else { return false }
            if let audit { try await Self.appendAudit(connection, logger: logger, audit) }
            return true
        }
    }

    public func bulkItems(job: Int64, from index: Int, limit: Int, state: BulkItem.State?) async throws -> [BulkItem] {
        try await rows("""
            SELECT * FROM bulk_item WHERE job = \(job) AND n >= \(Int64(index)) AND (\(state?.rawValue)::text IS NULL OR state = \(state?.rawValue))
            ORDER BY n LIMIT \(limit)
            """).compactMap(Self.bulkItem)
    }

    public func recordBulkItems(_ items: [BulkItem], job: BulkJob, expecting: BulkState) async throws -> Bool {
        let logger = self.logger
        return try await transaction { connection in
            let state = try await connection.one(String.self, """
                UPDATE bulk_job SET done = \(Int64(job.done)), failed = \(Int64(job.failed)), reversed = \(Int64(job.reversed)), cursor = \(Int64(job.cursor))
                WHERE id = \(job.id) RETURNING state
                """, logger: logger)
            for item in items {
                let actions = item.actionIDs.isEmpty ? nil : item.actionIDs.map(String.init).joined(separator: ",")
                try await connection.query("""
                    UPDATE bulk_item SET state = \(item.state.rawValue), case_id = \(item.caseID), decision_id = \(item.decisionID), action_ids = \(actions),
                        detail = \(item.detail) WHERE job = \(job.id) AND n = \(Int64(item.index))
                    """, logger: logger)
            }
            return state == expecting.rawValue
        }
    }

    public func bulkCases(job: Int64) async throws -> [EntityRef: Int64] {
        var cases: [EntityRef: Int64] = [:]
        for row in try await rows("""
            SELECT s.subject, ci.case_id FROM signal s JOIN case_item ci ON ci.kind = 'signal' AND ci.ref = s.id
            WHERE s.rule = \(BulkInstruction.ruleName(job: job)) ORDER BY s.id
            """) {
            let (subject, caseID) = try row.decode((String?, Int64).self)
            if let subject = subject.flatMap({ EntityRef(parsing: $0) }) { cases[subject] = caseID }
        }
        return cases
    }

    static func bulkJob(_ row: PostgresRow) -> BulkJob? {
        let row = row.cells
        guard let operationText = try? row["operation"] as String, let value = JSONValue.parse(Array(operationText.utf8)),
              let operation = try? BulkOperation(json: value), let state = (try? row["state"] as String).flatMap(BulkState.init(rawValue:)),
              let requestedBy = (try? row["requested_by"] as String).flatMap({ ActorRef(parsing: $0) }) else { return nil }
        return try? BulkJob(id: row["id"], operation: operation, source: row["source"], note: row["note"], state: state, requestedBy: requestedBy,
                            approvedBy: (row["approved_by"] as String?).flatMap { ActorRef(parsing: $0) }, createdAt: row["created_at"],
                            startedAt: row["started_at"], finishedAt: row["finished_at"], total: row.int("total"), done: row.int("done"),
                            failed: row.int("failed"), reversed: row.int("reversed"), cursor: row.int("cursor"),
                            reversedBy: (row["reversed_by"] as String?).flatMap { ActorRef(parsing: $0) }, reversalReason: row["reversal_reason"])
    }

    static func bulkItem(_ row: PostgresRow) -> BulkItem? {
        let row = row.cells
        guard let entity = (try? row["entity"] as String).flatMap({ EntityRef(parsing: $0) }),
              let state = (try? row["state"] as String).flatMap(BulkItem.State.init(rawValue:)) else { return nil }
        let actions = ((try? row["action_ids"] as String?) ?? nil)?.split(separator: ",").compactMap { Int64($0) } ?? []
        return try? BulkItem(index: row.int("n"), entity: entity, state: state, caseID: row["case_id"], decisionID: row["decision_id"],
                             actionIDs: actions, detail: row["detail"])
    }
}

extension PostgresStore: InvestigationStore {
    public func runQuery(_ sql: String, parameters: [String: QueryValue], limits: QueryLimits) async throws -> QueryResult {
        try await investigator.run(sql, parameters: parameters, limits: limits)
    }

    public func queryParameters(_ sql: String) async throws -> [String] {
        try await investigator.parameters(sql)
    }

    public func savedQueries() async throws -> [SavedQuery] {
        try await rows("SELECT * FROM saved_query ORDER BY name").map(Self.savedQuery)
    }

    public func savedQuery(named name: String) async throws -> SavedQuery? {
        try await rows("SELECT * FROM saved_query WHERE name = \(name)").first.map(Self.savedQuery)
    }

    public func saveQuery(_ query: SavedQuery, onlyNew: Bool, audit: AuditDraft) async throws -> Bool {
        let logger = self.logger
        return try await transaction { connection in
            let existed = try await !connection.rows("SELECT 1 FROM saved_query WHERE name = \(query.name) FOR UPDATE", logger: logger).isEmpty
            if existed, onlyNew { return false }
            try await connection.query("""
                INSERT INTO saved_query (name, description, sql, parameters, created_by, created_at, updated_by, updated_at)
                VALUES (\(query.name), \(query.description), \(query.sql), \(query.parameters.joined(separator: "\n")), \(query.createdBy), \(query.createdAt),
                        \(query.updatedBy), \(query.updatedAt))
                ON CONFLICT (name) DO UPDATE SET description = excluded.description, sql = excluded.sql, parameters = excluded.parameters,
                    updated_by = excluded.updated_by, updated_at = excluded.updated_at
                """, logger: logger)
            try await Self.appendAudit(connection, logger: logger, audit)
            return !existed
        }
    }

    public func deleteSavedQuery(named name: String, audit: AuditDraft) async throws -> Bool {
        let logger = self.logger
        return try await transaction { connection in
            guard try await !connection.rows("DELETE FROM saved_query WHERE name = \(name) RETURNING name", logger: logger).isEmpty else { return false }
            try await connection.query("DELETE FROM derived_table WHERE query = \(name)", logger: logger)
            try await connection.query("DELETE FROM derived_row WHERE query = \(name)", logger: logger)
            try await PostgresInvestigator.defineDerivedView(connection, query: name, columns: nil, logger: logger)
            try await Self.appendAudit(connection, logger: logger, audit)
            return true
        }
    }

    static func savedQuery(_ row: PostgresRow) throws -> SavedQuery {
        let row = row.cells
        let parameters: String = try row["parameters"]
        return SavedQuery(name: try row["name"], description: try row["description"], sql: try row["sql"],
                          parameters: parameters.split(separator: "\n").map(String.init), createdBy: try row["created_by"], createdAt: try row["created_at"],
                          updatedBy: try row["updated_by"], updatedAt: try row["updated_at"])
    }
}

extension PostgresStore: DerivedTableStore {
    public func derivedTables() async throws -> [DerivedTable] {
        try await rows("SELECT * FROM derived_table ORDER BY query").compactMap(Self.derivedTable)
    }

    public func derivedTable(query: String) async throws -> DerivedTable? {
        try await rows("SELECT * FROM derived_table WHERE query = \(query)").first.flatMap(Self.derivedTable)
    }

    public func scheduleDerived(_ table: DerivedTable, audit: AuditDraft) async throws -> Bool {
        let logger = self.logger
        return try await transaction { connection in
            guard try await !connection.rows("SELECT 1 FROM saved_query WHERE name = \(table.query) FOR UPDATE", logger: logger).isEmpty else { return false }
            try await connection.query("DELETE FROM derived_row WHERE query = \(table.query)", logger: logger)
            try await PostgresInvestigator.defineDerivedView(connection, query: table.query, columns: nil, logger: logger)
            try await connection.query("""
                INSERT INTO derived_table (query, every_ms, mode, cursor_column, columns, row_count, cursor, refreshed_at, next_at, millis, error, scheduled_by)
                VALUES (\(table.query), \(table.schedule.every), \(table.schedule.mode.rawValue), \(table.schedule.cursorColumn), NULL, 0,
                        \(DerivedTable.encode(table.cursor)), NULL, \(table.nextAt), NULL, NULL, \(table.scheduledBy))
                ON CONFLICT (query) DO UPDATE SET every_ms = excluded.every_ms, mode = excluded.mode, cursor_column = excluded.cursor_column, columns = NULL,
                    row_count = 0, cursor = excluded.cursor, refreshed_at = NULL, next_at = excluded.next_at, millis = NULL, error = NULL,
                    scheduled_by = excluded.scheduled_by
                """, logger: logger)
            try await Self.appendAudit(connection, logger: logger, audit)
            return true
        }
    }

    public func unscheduleDerived(query: String, audit: AuditDraft) async throws -> Bool {
        let logger = self.logger
        return try await transaction { connection in
            guard try await !connection.rows("DELETE FROM derived_table WHERE query = \(query) RETURNING query", logger: logger).isEmpty else { return false }
            try await connection.query("DELETE FROM derived_row WHERE query = \(query)", logger: logger)
            try await PostgresInvestigator.defineDerivedView(connection, query: query, columns: nil, logger: logger)
            try await Self.appendAudit(connection, logger: logger, audit)
            return true
        }
    }

    public func storeRefresh(_ table: DerivedTable, rows refreshed: [[QueryValue]], replace: Bool, audit: AuditDraft) async throws {
        let logger = self.logger
        try await transaction { connection in
            try await connection.query("SELECT query FROM derived_table WHERE query = \(table.query) FOR UPDATE", logger: logger)
            var start: Int64 = 1
            if replace {
                try await connection.query("DELETE FROM derived_row WHERE query = \(table.query)", logger: logger)
            } else {
                start = (try await connection.one(Int64.self, "SELECT max(n) FROM derived_row WHERE query = \(table.query)", logger: logger) ?? 0) + 1
            }
            if !refreshed.isEmpty {
                let numbers = refreshed.indices.map { start + Int64($0) }
                try await connection.query("""
                    INSERT INTO derived_row (query, n, data) SELECT \(table.query), n, data FROM unnest(\(numbers), \(refreshed.map(SQLiteStore.rowJSON))) AS t(n, data)
                    """, logger: logger)
            }
            if !replace {
                try await connection.query("""
                    DELETE FROM derived_row WHERE query = \(table.query) AND n <= \(start + Int64(refreshed.count) - 1 - Int64(DerivedTable.maximumRows))
                    """, logger: logger)
            }
            let count = try await connection.one(Int64.self, "SELECT count(*) FROM derived_row WHERE query = \(table.query)", logger: logger) ?? 0
            try await connection.query("""
                UPDATE derived_table SET columns = \(SQLiteStore.columnsJSON(table.columns ?? [])), row_count = \(count), cursor = \(DerivedTable.encode(table.cursor)),
                    refreshed_at = \(table.refreshedAt), next_at = \(table.nextAt), millis = \(table.millis), error = NULL WHERE query = \(table.query)
                """, logger: logger)
            try await PostgresInvestigator.defineDerivedView(connection, query: table.query, columns: table.columns ?? [], logger: logger)
            try await Self.appendAudit(connection, logger: logger, audit)
        }
    }

    public func storeRefreshFailure(_ table: DerivedTable, audit: AuditDraft) async throws {
        let logger = self.logger
        try await transaction { connection in
            try await connection.query("""
                UPDATE derived_table SET next_at = \(table.nextAt), error = \(table.error), millis = \(table.millis) WHERE query = \(table.query)
                """, logger: logger)
            try await Self.appendAudit(connection, logger: logger, audit)
        }
    }

    public func derivedRows(query: String) async throws -> [[QueryValue]] {
        try await rows("SELECT data FROM derived_row WHERE query = \(query) ORDER BY n").map { SQLiteStore.rowValues(try $0.decode(String.self)) }
    }

    static func derivedTable(_ row: PostgresRow) -> DerivedTable? {
        let row = row.cells
        guard let mode = (try? row["mode"] as String).flatMap(DerivedMode.init(rawValue:)) else { return nil }
        var columns: [String]?
        if let text = (try? row["columns"] as String?) ?? nil, case .array(let items)? = JSONValue.parse(Array(text.utf8)) {
            columns = items.compactMap { if case .string(let name) = $0 { name } else { nil } }
        }
        return try? DerivedTable(query: row["query"], schedule: DerivedSchedule(every: row["every_ms"], mode: mode, cursorColumn: row["cursor_column"]),
                                 columns: columns, rows: row.int("row_count"), cursor: DerivedTable.decode(row["cursor"]), refreshedAt: row["refreshed_at"],
                                 nextAt: row["next_at"], millis: row["millis"], error: row["error"], scheduledBy: row["scheduled_by"])
    }
}
