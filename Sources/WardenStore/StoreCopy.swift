import Foundation
import GRDB
import Logging
public import PostgresNIO

/// Copies an SQLite store into an empty PostgreSQL database (`warden migrate`): every table both
/// schemas have, row for row, parents before children, then the log's head and the identity
/// counters. The entity graph and the search index are not copied: they follow the log, and the
/// PostgreSQL store's indexers rebuild them from its start when a node runs.
///
/// Nothing here knows a table by name but for the two columns the PostgreSQL schema renames
/// (`user`, `by`: reserved words there) and the one foreign key that closes a cycle
/// (`review_case.golden_item`, written once the golden items are in). Columns are matched by name and
/// converted by the target's type (SQLite's 0/1 to boolean, blobs to bytea).
public enum StoreCopy {
    /// What was copied: rows per table, in the order they were written.
    public struct Report: Sendable, Equatable {
        public var tables: [(name: String, rows: Int)]
        public var events: Int64
        public var auditEntries: Int64

        public static func == (a: Report, b: Report) -> Bool {
            a.tables.map(\.name) == b.tables.map(\.name) && a.tables.map(\.rows) == b.tables.map(\.rows) && a.events == b.events
                && a.auditEntries == b.auditEntries
        }
    }

    /// Why a copy was refused or failed, said plainly.
    public struct CopyError: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    /// Tables of the PostgreSQL schema that are not copied: derived from the log (rebuilt), kept
    /// by triggers as rows arrive, or the target's own bookkeeping.
    static let notCopied: Set<String> = [
        "entity", "event_entity", "entity_link", "graph_cursor", "event_search", "search_cursor", "case_search", "claim_tally",
        "log_head", "review_head", "signal_head", "consumer_lease", "schema_migration", "investigator_login",
    ]
    /// Columns the PostgreSQL schema names differently (reserved words there).
    static let renamed = ["user_name": "user", "by_actor": "by"]
    /// Foreign keys written after their parents exist (a cycle): table → column.
    static let deferred = ["review_case": "golden_item"]

    struct Column {
        var name: String
        var type: String
        var generated: Bool
        var identity: Bool
        var source: String { StoreCopy.renamed[name] ?? name }
    }

    /// Copies the SQLite store at `sqlitePath` into the empty PostgreSQL database `target` names
    /// (migrated first). `progress` hears each table's name and rows copied so far.
    public static func sqliteToPostgres(sqlitePath: String, target: PostgresConfiguration, logger: Logger = Logger(label: "warden.migrate"),
                                        progress: @escaping @Sendable (String, Int) -> Void = { _, _ in }) async throws -> Report {
        let source = try SQLiteStore(path: sqlitePath)
        let store = try await PostgresStore(configuration: target, logger: logger)
        defer { store.shutdown() }
        // An empty target only: a copy never merges into a live store.
        let (logHead, auditHead, people) = try await store.rows("""
            SELECT (SELECT seq FROM log_head WHERE id = 1), (SELECT seq FROM audit_head WHERE id = 1), (SELECT count(*) FROM app_user) + (SELECT count(*) FROM api_token)
            """).first!.decode((Int64, Int64, Int64).self)
        guard logHead == 0, auditHead == 0, people == 0 else {
            throw CopyError("\(target.database) on \(target.host) already holds a store (\(logHead) events, \(auditHead) audit entries): migrate into a new, empty database")
        }
        let columns = try await targetColumns(store)
        let order = try await parentsFirst(store, tables: columns.keys.filter { !notCopied.contains($0) })
        var report = Report(tables: [], events: 0, auditEntries: 0)
        for table in order {
            let sourceColumns = try await source.pool.read { db in try db.columns(in: table).map(\.name) }
            guard !sourceColumns.isEmpty else { continue }
            let copied = (columns[table] ?? []).filter { !$0.generated && sourceColumns.contains($0.source) }
            let copiedRows = try await copyTable(table, copied, from: source, to: store, progress: progress)
            report.tables.append((table, copiedRows))
        }
        // What the target keeps beside the rows: the log's head, each identity's next value.
        try await store.transaction { connection in
            try await connection.query("""
                UPDATE log_head SET seq = coalesce((SELECT max(seq) FROM event), 0), received_at = coalesce((SELECT max(received_at) FROM event), 0) WHERE id = 1
                """, logger: logger)
            for (table, tableColumns) in columns.sorted(by: { $0.key < $1.key }) {
                for column in tableColumns where column.identity && !notCopied.contains(table) {
                    try await connection.query(PostgresQuery(unsafeSQL: """
                        SELECT setval(pg_get_serial_sequence('\(table)', '\(column.name)'), greatest(coalesce((SELECT max(\(column.name)) FROM \(table)), 0), 1),
                                      (SELECT count(*) > 0 FROM \(table)))
                        """), logger: logger)
                }
            }
        }
        // Each derived table's view over its rows (on SQLite the investigator's connections define them).
        for table in try await store.derivedTables() where table.columns != nil {
            try await store.transaction { connection in
                try await PostgresInvestigator.defineDerivedView(connection, query: table.query, columns: table.columns, logger: logger)
            }
        }
        report.events = try await store.one(Int64.self, "SELECT seq FROM log_head WHERE id = 1") ?? 0
        report.auditEntries = try await store.one(Int64.self, "SELECT seq FROM audit_head WHERE id = 1") ?? 0
        return report
    }

    /// Each copied table's rows in the source and in the target, for the caller to compare.
    public static func counts(sqlitePath: String, target: PostgresConfiguration, tables: [String],
                              logger: Logger = Logger(label: "warden.migrate")) async throws -> [(table: String, source: Int, target: Int)] {
        let source = try SQLiteStore(path: sqlitePath)
        let store = try await PostgresStore(configuration: target, logger: logger)
        defer { store.shutdown() }
        var counts: [(table: String, source: Int, target: Int)] = []
        for table in tables {
            let inSource = try await source.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM main.\"\(table)\"") ?? 0 }
            let inTarget = try await store.one(Int64.self, PostgresQuery(unsafeSQL: "SELECT count(*) FROM \"\(table)\"")) ?? 0
            counts.append((table, inSource, Int(inTarget)))
        }
        return counts
    }

    /// The target's columns by table (the public schema, in column order).
    static func targetColumns(_ store: PostgresStore) async throws -> [String: [Column]] {
        var columns: [String: [Column]] = [:]
        for row in try await store.rows("""
            SELECT table_name::text, column_name::text, data_type::text, is_generated = 'ALWAYS' OR coalesce(identity_generation = 'ALWAYS', false), is_identity = 'YES'
            FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position
            """) {
            let (table, name, type, generated, identity) = try row.decode((String, String, String, Bool, Bool).self)
            columns[table, default: []].append(Column(name: name, type: type, generated: generated, identity: identity))
        }
        return columns
    }

    /// `tables` ordered so that every table comes after those its foreign keys name (a key that
    /// closes a cycle is ``deferred``).
    static func parentsFirst(_ store: PostgresStore, tables: [String]) async throws -> [String] {
        var parents: [String: Set<String>] = [:]
        for row in try await store.rows("""
            SELECT c.conrelid::regclass::text, c.confrelid::regclass::text, a.attname::text
            FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
            WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
            """) {
            let (child, parent, column) = try row.decode((String, String, String).self)
            guard child != parent, deferred[child] != column else { continue }
            parents[child, default: []].insert(parent)
        }
        var ordered: [String] = []
        var placed = Set<String>()
        var remaining = tables.sorted()
        // The event log first: triggers that index cases read events.
        if let index = remaining.firstIndex(of: "event") { remaining.remove(at: index); ordered.append("event"); placed.insert("event") }
        while !remaining.isEmpty {
            guard let next = remaining.firstIndex(where: { (parents[$0] ?? []).subtracting([$0]).allSatisfy { placed.contains($0) || !tables.contains($0) } }) else {
                throw CopyError("the schema's foreign keys form a cycle among \(remaining.joined(separator: ", "))")
            }
            let table = remaining.remove(at: next)
            ordered.append(table)
            placed.insert(table)
        }
        return ordered
    }

    /// Copies one table in pages of its primary key's order (its rowid's when it has one), so a
    /// table of any size streams through; returns the rows copied.
    static func copyTable(_ table: String, _ columns: [Column], from source: SQLiteStore, to store: PostgresStore,
                          progress: @escaping @Sendable (String, Int) -> Void) async throws -> Int {
        // The primary key's columns (`rowid` for a table without one of its own).
        let key: [String] = try await source.pool.read { db in try db.primaryKey(table).columns }
        let deferredColumn = deferred[table]
        let quoted = columns.map { "\"\($0.source)\"" }
        let keyList = key.map { "\"\($0)\"" }.joined(separator: ", ")
        let pageSize = max(1, min(1_000, 30_000 / max(columns.count, 1)))
        var after: [DatabaseValue]?
        var copied = 0
        var deferredValues: [(key: [DatabaseValue], value: DatabaseValue)] = []
        while true {
            let page: [Row] = try await source.pool.read { db in
                var sql = "SELECT \(keyList), \(quoted.joined(separator: ", ")) FROM main.\"\(table)\""
                if let after {
                    sql += " WHERE (\(keyList)) > (\(after.map { _ in "?" }.joined(separator: ", ")))"
                }
                sql += " ORDER BY \(keyList) LIMIT \(pageSize)"
                return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(after ?? []))
            }
            guard !page.isEmpty else { break }
            after = key.indices.map { page.last![$0] }
            var bindings = PostgresBindings()
            var tuples: [String] = []
            for row in page {
                var placeholders: [String] = []
                for (offset, column) in columns.enumerated() {
                    var value = row[key.count + offset] as DatabaseValue
                    if column.name == deferredColumn, !value.isNull {
                        deferredValues.append((key.indices.map { row[$0] }, value))
                        value = .null
                    }
                    try bind(value, as: column, table: table, into: &bindings)
                    placeholders.append("$\(bindings.count)")
                }
                tuples.append("(" + placeholders.joined(separator: ", ") + ")")
            }
            let names = columns.map { "\"\($0.name)\"" }.joined(separator: ", ")
            let insert = PostgresQuery(unsafeSQL: "INSERT INTO \"\(table)\" (\(names)) VALUES \(tuples.joined(separator: ", "))"
                                       + (table == "audit_head" ? " ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash" : ""),
                                       binds: bindings)
            try await store.transaction { connection in try await connection.query(insert, logger: store.logger) }
            copied += page.count
            progress(table, copied)
        }
        if let deferredColumn, !deferredValues.isEmpty {
            try await store.transaction { connection in
                for (keyValues, value) in deferredValues {
                    guard key == ["id"] || key == ["rowid"], let id = Int64.fromDatabaseValue(keyValues[0]), let target = Int64.fromDatabaseValue(value) else {
                        throw CopyError("\(table).\(deferredColumn) cannot be written after its parents: the table's key is not an integer id")
                    }
                    try await connection.query(PostgresQuery(unsafeSQL: "UPDATE \"\(table)\" SET \"\(deferredColumn)\" = $1 WHERE id = $2",
                                                             binds: { var b = PostgresBindings(); b.append(target); b.append(id); return b }()),
                                               logger: store.logger)
                }
            }
        }
        return copied
    }

    /// Binds an SQLite value as the target column's type.
    static func bind(_ value: DatabaseValue, as column: Column, table: String, into bindings: inout PostgresBindings) throws {
        func refuse() -> CopyError {
            CopyError("\(table).\(column.source) holds \(value) where PostgreSQL's \(column.type) column \(column.name) cannot take it")
        }
        switch (value.storage, column.type) {
        case (.null, "boolean"): bindings.append(Bool?.none)
        case (.null, "bigint"), (.null, "integer"), (.null, "smallint"): bindings.append(Int64?.none)
        case (.null, "double precision"), (.null, "real"): bindings.append(Double?.none)
        case (.null, "bytea"): try bindings.append(Data?.none)
        case (.null, _): bindings.append(String?.none)
        case (.int64(let number), "boolean"): bindings.append(number != 0)
        case (.int64(let number), "bigint"), (.int64(let number), "integer"), (.int64(let number), "smallint"): bindings.append(number)
        case (.int64(let number), "double precision"), (.int64(let number), "real"): bindings.append(Double(number))
        case (.int64(let number), "text"): bindings.append(String(number))
        case (.double(let number), "double precision"), (.double(let number), "real"): bindings.append(number)
        case (.double(let number), "bigint") where number.rounded() == number: bindings.append(Int64(number))
        case (.string(let text), "text"): bindings.append(text)
        case (.string(let text), "bytea"): try bindings.append(Data(text.utf8))
        case (.blob(let data), "bytea"): try bindings.append(data)
        case (.blob(let data), "text"):
            guard let text = String(data: data, encoding: .utf8) else { throw refuse() }
            bindings.append(text)
        default: throw refuse()
        }
    }
}
