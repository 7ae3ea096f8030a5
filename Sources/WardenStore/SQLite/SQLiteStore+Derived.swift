import Foundation
import GRDB
public import WardenCore
public import WardenInvestigations

extension SQLiteStore: DerivedTableStore {
    public func derivedTables() async throws -> [DerivedTable] {
        try await pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM derived_table ORDER BY query").compactMap(Self.derivedTable) }
    }

    public func derivedTable(query: String) async throws -> DerivedTable? {
        try await pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM derived_table WHERE query = ?", arguments: [query]).flatMap(Self.derivedTable) }
    }

    public func scheduleDerived(_ table: DerivedTable, audit: AuditDraft) async throws -> Bool {
        let done = try await pool.write { db -> Bool in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM saved_query WHERE name = ?", arguments: [table.query]) ?? false else { return false }
            try db.execute(sql: "DELETE FROM derived_row WHERE query = ?", arguments: [table.query])
            try db.execute(sql: """
                INSERT OR REPLACE INTO derived_table (query, every_ms, mode, cursor_column, columns, row_count, cursor, refreshed_at, next_at, millis, error, scheduled_by)
                VALUES (?, ?, ?, ?, NULL, 0, ?, NULL, ?, NULL, NULL, ?)
                """, arguments: [table.query, table.schedule.every, table.schedule.mode.rawValue, table.schedule.cursorColumn,
                                 DerivedTable.encode(table.cursor), table.nextAt, table.scheduledBy])
            try Self.appendAudit(db, at: audit.at, actor: audit.actor.description, action: audit.action, target: audit.target, detail: audit.detail)
            return true
        }
        if done { investigator.derivedChanged() }
        return done
    }

    public func unscheduleDerived(query: String, audit: AuditDraft) async throws -> Bool {
        let done = try await pool.write { db -> Bool in
            try db.execute(sql: "DELETE FROM derived_table WHERE query = ?", arguments: [query])
            guard db.changesCount == 1 else { return false }
            try db.execute(sql: "DELETE FROM derived_row WHERE query = ?", arguments: [query])
            try Self.appendAudit(db, at: audit.at, actor: audit.actor.description, action: audit.action, target: audit.target, detail: audit.detail)
            return true
        }
        if done { investigator.derivedChanged() }
        return done
    }

    public func storeRefresh(_ table: DerivedTable, rows: [[QueryValue]], replace: Bool, audit: AuditDraft) async throws {
        let columnsChanged = try await pool.write { db -> Bool in
            let before = try String.fetchOne(db, sql: "SELECT columns FROM derived_table WHERE query = ?", arguments: [table.query])
            var start: Int64 = 1
            if replace {
                try db.execute(sql: "DELETE FROM derived_row WHERE query = ?", arguments: [table.query])
            } else {
                start = (try Int64.fetchOne(db, sql: "SELECT max(n) FROM derived_row WHERE query = ?", arguments: [table.query]) ?? 0) + 1
            }
            let insert = try db.makeStatement(sql: "INSERT INTO derived_row (query, n, data) VALUES (?, ?, ?)")
            for (offset, row) in rows.enumerated() {
                try insert.execute(arguments: [table.query, start + Int64(offset), Self.rowJSON(row)])
            }
            if !replace {
                // Past the limit, the oldest rows go.
                try db.execute(sql: "DELETE FROM derived_row WHERE query = ? AND n <= ?",
                               arguments: [table.query, start + Int64(rows.count) - 1 - Int64(DerivedTable.maximumRows)])
            }
            let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM derived_row WHERE query = ?", arguments: [table.query]) ?? 0
            let columns = Self.columnsJSON(table.columns ?? [])
            try db.execute(sql: """
                UPDATE derived_table SET columns = ?, row_count = ?, cursor = ?, refreshed_at = ?, next_at = ?, millis = ?, error = NULL WHERE query = ?
                """, arguments: [columns, count, DerivedTable.encode(table.cursor), table.refreshedAt, table.nextAt, table.millis, table.query])
            try Self.appendAudit(db, at: audit.at, actor: audit.actor.description, action: audit.action, target: audit.target, detail: audit.detail)
            return before != columns
        }
        if columnsChanged { investigator.derivedChanged() }
    }

    public func storeRefreshFailure(_ table: DerivedTable, audit: AuditDraft) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE derived_table SET next_at = ?, error = ?, millis = ? WHERE query = ?",
                           arguments: [table.nextAt, table.error, table.millis, table.query])
            try Self.appendAudit(db, at: audit.at, actor: audit.actor.description, action: audit.action, target: audit.target, detail: audit.detail)
        }
    }

    public func derivedRows(query: String) async throws -> [[QueryValue]] {
        try await pool.read { db in
            try String.fetchAll(db, sql: "SELECT data FROM derived_row WHERE query = ? ORDER BY n", arguments: [query]).map(Self.rowValues)
        }
    }

    /// A stored row (``rowJSON(_:)``) read back.
    static func rowValues(_ text: String) -> [QueryValue] {
        guard case .array(let items)? = JSONValue.parse(Array(text.utf8)) else { return [] }
        return items.map { item -> QueryValue in
            switch item {
            case .number(let number): number.rounded() == number && abs(number) < 9e15 ? .integer(Int64(number)) : .real(number)
            case .string(let text): .text(text)
            case .bool(let flag): .integer(flag ? 1 : 0)
            default: .null
            }
        }
    }

    static func rowJSON(_ row: [QueryValue]) -> String {
        var writer = JSONWriter()
        writer.beginArray()
        for value in row {
            switch value {
            case .null: writer.null()
            case .integer(let number): writer.number(number)
            case .real(let number): if number.isFinite { writer.number(number) } else { writer.null() }
            case .text(let text): writer.string(text)
            case .blob(let bytes): writer.string(bytes.hexString)
            }
        }
        writer.endArray()
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    static func columnsJSON(_ columns: [String]) -> String {
        var writer = JSONWriter()
        writer.beginArray()
        for column in columns { writer.string(column) }
        writer.endArray()
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    static func derivedTable(_ row: Row) -> DerivedTable? {
        guard let mode = DerivedMode(rawValue: row["mode"]) else { return nil }
        var columns: [String]?
        if let text: String = row["columns"], case .array(let items)? = JSONValue.parse(Array(text.utf8)) {
            columns = items.compactMap { if case .string(let name) = $0 { name } else { nil } }
        }
        return DerivedTable(query: row["query"], schedule: DerivedSchedule(every: row["every_ms"], mode: mode, cursorColumn: row["cursor_column"]),
                            columns: columns, rows: row["row_count"], cursor: DerivedTable.decode(row["cursor"]), refreshedAt: row["refreshed_at"],
                            nextAt: row["next_at"], millis: row["millis"], error: row["error"], scheduledBy: row["scheduled_by"])
    }
}
