import Foundation
import GRDB
public import WardenCore
public import WardenInvestigations

extension SQLiteStore: BulkStore {
    public func createBulkJob(_ job: BulkJob, entities: [EntityRef], audit: AuditDraft) async throws -> BulkJob {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO bulk_job (operation, source, note, state, requested_by, approved_by, created_at, total, done, failed, reversed, cursor)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, 0)
                """, arguments: [job.operation.json, job.source, job.note, job.state.rawValue, job.requestedBy.description,
                                 job.approvedBy?.description, job.createdAt, entities.count])
            var stored = job
            stored.id = db.lastInsertedRowID
            let insert = try db.makeStatement(sql: "INSERT INTO bulk_item (job, n, entity, state) VALUES (?, ?, ?, 'pending')")
            for (index, entity) in entities.enumerated() {
                try insert.execute(arguments: [stored.id, index, entity.description])
            }
            stored.total = entities.count
            var entry = audit
            entry.target = "bulk:\(stored.id)"
            try Self.appendAudit(db, at: entry.at, actor: entry.actor.description, action: entry.action, target: entry.target, detail: entry.detail)
            return stored
        }
    }

    public func bulkJob(id: Int64) async throws -> BulkJob? {
        try await pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM bulk_job WHERE id = ?", arguments: [id]).flatMap(Self.bulkJob) }
    }

    public func bulkJobs(before: Int64?, limit: Int) async throws -> [BulkJob] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM bulk_job WHERE id < ? ORDER BY id DESC LIMIT ?",
                             arguments: [before ?? Int64.max, limit]).compactMap(Self.bulkJob)
        }
    }

    public func activeBulkJobs() async throws -> [BulkJob] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM bulk_job WHERE state IN ('queued', 'running', 'reversing') ORDER BY id").compactMap(Self.bulkJob)
        }
    }

    public func updateBulkJob(_ job: BulkJob, expecting: BulkState, audit: AuditDraft?) async throws -> Bool {
        try await pool.write { db in
            guard try Self.saveBulkJob(db, job, expecting: expecting) else { return false }
            if let audit {
                try Self.appendAudit(db, at: audit.at, actor: audit.actor.description, action: audit.action, target: audit.target, detail: audit.detail)
            }
            return true
        }
    }

    public func bulkItems(job: Int64, from index: Int, limit: Int, state: BulkItem.State?) async throws -> [BulkItem] {
        try await pool.read { db in
            let filter = state == nil ? "" : " AND state = ?"
            var arguments: StatementArguments = [job, index]
            if let state { _ = arguments.append(contentsOf: [state.rawValue]) }
            _ = arguments.append(contentsOf: [limit])
            return try Row.fetchAll(db, sql: "SELECT * FROM bulk_item WHERE job = ? AND n >= ?\(filter) ORDER BY n LIMIT ?", arguments: arguments)
                .compactMap(Self.bulkItem)
        }
    }

    public func recordBulkItems(_ items: [BulkItem], job: BulkJob, expecting: BulkState) async throws -> Bool {
        try await pool.write { db in
            // What the chunk did is recorded even when the job was cancelled meanwhile, so that
            // reversing the cancelled job finds it; the state is not touched.
            try db.execute(sql: "UPDATE bulk_job SET done = ?, failed = ?, reversed = ?, cursor = ? WHERE id = ?",
                           arguments: [job.done, job.failed, job.reversed, job.cursor, job.id])
            let stillExpected = try String.fetchOne(db, sql: "SELECT state FROM bulk_job WHERE id = ?", arguments: [job.id]) == expecting.rawValue
            let update = try db.makeStatement(sql: """
                UPDATE bulk_item SET state = ?, case_id = ?, decision_id = ?, action_ids = ?, detail = ? WHERE job = ? AND n = ?
                """)
            for item in items {
                let actions = item.actionIDs.isEmpty ? nil : item.actionIDs.map(String.init).joined(separator: ",")
                try update.execute(arguments: [item.state.rawValue, item.caseID, item.decisionID, actions, item.detail, job.id, item.index])
            }
            return stillExpected
        }
    }

    public func bulkCases(job: Int64) async throws -> [EntityRef: Int64] {
        try await pool.read { db in
            var cases: [EntityRef: Int64] = [:]
            let rows = try Row.fetchCursor(db, sql: """
                SELECT s.subject, ci.case_id FROM signal s JOIN case_item ci ON ci.kind = 'signal' AND ci.ref = s.id
                WHERE s.rule = ? ORDER BY s.id
                """, arguments: [BulkInstruction.ruleName(job: job)])
            while let row = try rows.next() {
                if let subject = (row["subject"] as String?).flatMap({ EntityRef(parsing: $0) }) { cases[subject] = row["case_id"] }
            }
            return cases
        }
    }

    private static func saveBulkJob(_ db: Database, _ job: BulkJob, expecting: BulkState) throws -> Bool {
        try db.execute(sql: """
            UPDATE bulk_job SET state = ?, approved_by = ?, started_at = ?, finished_at = ?, done = ?, failed = ?, reversed = ?, cursor = ?,
                                reversed_by = ?, reversal_reason = ?
            WHERE id = ? AND state = ?
            """, arguments: [job.state.rawValue, job.approvedBy?.description, job.startedAt, job.finishedAt, job.done, job.failed, job.reversed,
                             job.cursor, job.reversedBy?.description, job.reversalReason, job.id, expecting.rawValue])
        return db.changesCount == 1
    }

    static func bulkJob(_ row: Row) -> BulkJob? {
        guard let operationText: String = row["operation"], let value = JSONValue.parse(Array(operationText.utf8)),
              let operation = try? BulkOperation(json: value), let state = BulkState(rawValue: row["state"]),
              let requestedBy = ActorRef(parsing: row["requested_by"] as String) else { return nil }
        return BulkJob(id: row["id"], operation: operation, source: row["source"], note: row["note"], state: state, requestedBy: requestedBy,
                       approvedBy: (row["approved_by"] as String?).flatMap { ActorRef(parsing: $0) }, createdAt: row["created_at"],
                       startedAt: row["started_at"], finishedAt: row["finished_at"], total: row["total"], done: row["done"], failed: row["failed"],
                       reversed: row["reversed"], cursor: row["cursor"], reversedBy: (row["reversed_by"] as String?).flatMap { ActorRef(parsing: $0) },
                       reversalReason: row["reversal_reason"])
    }

    static func bulkItem(_ row: Row) -> BulkItem? {
        guard let entity = EntityRef(parsing: row["entity"] as String), let state = BulkItem.State(rawValue: row["state"]) else { return nil }
        let actions = (row["action_ids"] as String?)?.split(separator: ",").compactMap { Int64($0) } ?? []
        return BulkItem(index: row["n"], entity: entity, state: state, caseID: row["case_id"], decisionID: row["decision_id"],
                        actionIDs: actions, detail: row["detail"])
    }
}
