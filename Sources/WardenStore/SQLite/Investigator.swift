import Dispatch
import Foundation
import GRDBSQLite
import Synchronization
import WardenCore
import WardenInvestigations

/// Read-only SQL for investigators: connections of their own to the store's files, opened
/// read-only (`SQLITE_OPEN_READONLY`), with the entity graph attached and the investigation views
/// defined as TEMP views. Every statement is compiled under an authorizer (``QueryAuthorizer``) that
/// lets it read those views and nothing else, runs under a progress handler that stops it at its
/// deadline, and returns at most its row limit. The connections are not GRDB's: the authorizer stays
/// installed for their whole life, and nothing but investigators' queries runs on them.
final class Investigator: Sendable {
    private let connections: [InvestigatorConnection]
    private let next = Atomic<Int>(0)
    /// Bumped when derived tables are scheduled, dropped or change columns: each connection
    /// redefines their views before its next query.
    private let derivedGeneration = Atomic<Int>(0)

    init(path: String, graphPath: String, count: Int = 2) throws {
        connections = try (0..<count).map { index in try InvestigatorConnection(path: path, graphPath: graphPath, label: "warden.investigator.\(index)") }
    }

    func run(_ sql: String, parameters: [String: QueryValue], limits: QueryLimits) async throws -> QueryResult {
        let generation = derivedGeneration.load(ordering: .acquiring)
        return try await pick().perform { connection in
            try connection.syncDerived(generation)
            return try connection.run(sql, parameters: parameters, limits: limits)
        }
    }

    func parameters(_ sql: String) async throws -> [String] {
        let generation = derivedGeneration.load(ordering: .acquiring)
        return try await pick().perform { connection in
            try connection.syncDerived(generation)
            return try connection.parameterNames(sql)
        }
    }

    /// Derived tables changed: views are redefined before the next query.
    func derivedChanged() { derivedGeneration.add(1, ordering: .releasing) }

    /// The connection with the fewest queries waiting (ties: round robin).
    private func pick() -> InvestigatorConnection {
        let start = next.add(1, ordering: .relaxed).oldValue
        var best = connections[start % connections.count]
        for offset in 1..<max(connections.count, 1) {
            let candidate = connections[(start + offset) % connections.count]
            if candidate.load < best.load { best = candidate }
        }
        return best
    }

    /// The views, by name: `InvestigationViews.all` in SQL. `InvestigatorTests` checks both ways that
    /// each view has exactly the columns the catalogue lists.
    static let viewSQL: [String: String] = [
        "events": """
            SELECT seq, id, type, occurred_at, received_at,
                   json_extract(body, '$.actor.type') || ':' || json_extract(body, '$.actor.id') AS actor,
                   json_extract(body, '$.entities') AS entities, json_extract(body, '$.data') AS data
            FROM main.event
            """,
        "entities": "SELECT type || ':' || id AS entity, type, id, first_seen_at, first_seq FROM graph.entity",
        "mentions": """
            SELECT e.type || ':' || e.id AS entity, e.type AS type, e.id AS id, m.seq AS seq FROM graph.entity e JOIN graph.event_entity m ON m.entity = e.key
            UNION ALL
            SELECT e.type || ':' || e.id, e.type, e.id, m.seq FROM graph.entity e JOIN graph.event_entity_recent m ON m.entity = e.key
            """,
        "links": """
            SELECT x.type || ':' || x.id AS a, y.type || ':' || y.id AS b, l.first_seq AS first_seq
            FROM graph.entity_link l JOIN graph.entity x ON x.key = l.a JOIN graph.entity y ON y.key = l.b
            UNION ALL
            SELECT x.type || ':' || x.id, y.type || ':' || y.id, r.first_seq
            FROM (SELECT a, b, min(first_seq) AS first_seq FROM graph.entity_link_recent GROUP BY a, b) r
            JOIN graph.entity x ON x.key = r.a JOIN graph.entity y ON y.key = r.b
            WHERE NOT EXISTS (SELECT 1 FROM graph.entity_link l WHERE l.a = r.a AND l.b = r.b)
            """,
        "labels": "SELECT entity, name, source, created_at, expires_at FROM main.entity_label",
        "signals": """
            SELECT id, event_seq, case_id, rule, rule_version, category, severity, subject, reason, queue, verdict, occurred_at, created_at
            FROM main.signal
            """,
        "cases": """
            SELECT id, kind, subject, source, queue, state, category, severity, score, band, signals, reports, assignee, created_at,
                   first_action_at, resolved_at, due_at, appeal_of
            FROM main.review_case
            """,
        "decisions": "SELECT id, case_id, decided_by, at, category, violation, policy, rationale, macro, appeal_outcome FROM main.decision",
        "actions": """
            SELECT id, decision_id, case_id, subject, action, duration, created_at, reverses, reversed_at, reversed_by
            FROM main.enforcement_action
            """,
        "reports": """
            SELECT e.seq AS seq, e.id AS id, e.received_at AS received_at,
                   json_extract(e.body, '$.actor.type') || ':' || json_extract(e.body, '$.actor.id') AS reporter,
                   json_extract(e.body, '$.data.subject') AS subject, json_extract(e.body, '$.data.reason') AS reason,
                   json_extract(e.body, '$.data.text') AS text, i.case_id AS case_id
            FROM main.event e LEFT JOIN main.case_item i ON i.kind = 'report' AND i.ref = e.seq
            WHERE e.type = 'report'
            """,
        "statements": "SELECT decision_id, created_at, body FROM main.statement_of_reasons",
    ]
}

/// One read-only connection and the serial queue its queries run on (SQLite calls block; they run
/// off Swift's cooperative pool).
final class InvestigatorConnection: @unchecked Sendable {
    // The handle is used only on `queue`.
    private let handle: OpaquePointer
    private let queue: DispatchQueue
    private let waiting = Atomic<Int>(0)
    /// Shared with the C callbacks; lives as long as the connection.
    private let guardState: QueryGuard
    /// What the catalogue's views read (the authorizer adds derived tables' views to these).
    private var baseReads: [String: Set<String>] = [:]
    /// The derived tables' views defined now, and the generation they are from.
    private var derivedViews: [String] = []
    private var derivedGeneration = -1

    var load: Int { waiting.load(ordering: .relaxed) }

    /// At most this many bytes of text and blobs in one result; a query past it is cut as past its row limit.
    static let maximumResultBytes = 64 << 20

    init(path: String, graphPath: String, label: String) throws {
        var connection: OpaquePointer?
        let code = sqlite3_open_v2(path, &connection, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nil)
        guard code == SQLITE_OK, let connection else {
            let message = connection.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(connection)
            throw StoreError.inconsistent("the investigation connection could not open \(path): \(message)")
        }
        handle = connection
        queue = DispatchQueue(label: label)
        guardState = QueryGuard()
        sqlite3_busy_timeout(connection, 10_000)
        // No value longer than 16 MiB (an event body is at most 1 MiB); no more than the one attached graph.
        sqlite3_limit(connection, SQLITE_LIMIT_LENGTH, 16 << 20)
        let context = Unmanaged.passUnretained(guardState).toOpaque()
        sqlite3_set_authorizer(connection, { context, action, first, second, database, view in
            Unmanaged<QueryGuard>.fromOpaque(context!).takeUnretainedValue().authorize(action, first, second, database, view)
        }, context)
        sqlite3_progress_handler(connection, 2_000, { context in
            Unmanaged<QueryGuard>.fromOpaque(context!).takeUnretainedValue().overdue() ? 1 : 0
        }, context)
        do {
            try execute("ATTACH DATABASE '\(graphPath.replacingOccurrences(of: "'", with: "''"))' AS graph")
            for view in InvestigationViews.all {
                guard let sql = Investigator.viewSQL[view.name] else { throw StoreError.inconsistent("view \(view.name) has no SQL") }
                try execute("CREATE TEMP VIEW \(view.name) AS \(sql)")
            }
            // JSON's table-valued functions register themselves in the schema on first use, which
            // the authorizer would refuse as a write: use them once now.
            try execute("SELECT * FROM json_each('[]'); SELECT * FROM json_tree('[]')")
            Self.addFunctions(connection)
            sqlite3_limit(connection, SQLITE_LIMIT_ATTACHED, 1)
            // What each view reads, as SQLite compiles it: the authorizer holds reads made in a
            // view's name to exactly these.
            var reads: [String: Set<String>] = [:]
            for view in InvestigationViews.all {
                guardState.recorded = []
                _ = try compile("SELECT * FROM \(view.name)", finalize: true)
                reads[view.name] = Set((guardState.recorded ?? []).filter { $0.view == view.name }.map { "\($0.table).\($0.column)" })
            }
            guardState.recorded = nil
            baseReads = reads
            guardState.authorizer = QueryAuthorizer(views: reads)
        }
        // (A failure above leaves the connection to deinit, which runs once every property is set.)
        guardState.enforcing = true
    }

    deinit { sqlite3_close_v2(handle) }

    func perform<T: Sendable>(_ work: @escaping @Sendable (InvestigatorConnection) throws -> T) async throws -> T {
        waiting.add(1, ordering: .relaxed)
        defer { waiting.subtract(1, ordering: .relaxed) }
        return try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try work(self) }) }
        }
    }

    /// Defines a view per derived table (`derived_<name>`: the stored rows' columns by name) and
    /// lets the authorizer hold reads made in their names to exactly what they read.
    func syncDerived(_ generation: Int) throws {
        guard generation != derivedGeneration else { return }
        guardState.enforcing = false
        defer {
            guardState.recorded = nil
            guardState.enforcing = true
        }
        for name in derivedViews { try execute("DROP VIEW IF EXISTS temp.\"\(name)\"") }
        derivedViews = []
        var definitions: [(String, [String])] = []
        if let statement = try compile("SELECT query, columns FROM main.derived_table WHERE columns IS NOT NULL ORDER BY query", finalize: false) {
            defer { sqlite3_finalize(statement) }
            while sqlite3_step(statement) == SQLITE_ROW {
                let query = String(cString: sqlite3_column_text(statement, 0))
                let text = String(cString: sqlite3_column_text(statement, 1))
                guard case .array(let items)? = JSONValue.parse(Array(text.utf8)) else { continue }
                definitions.append((query, items.compactMap { if case .string(let name) = $0 { name } else { nil } }))
            }
        }
        var reads = baseReads
        for (query, columns) in definitions {
            let name = DerivedTable.viewName(query)
            guard reads[name] == nil else { continue }
            let quote: (String) -> String = { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
            let select = columns.isEmpty ? "NULL AS empty"
                : columns.enumerated().map { "json_extract(data, '$[\($0.offset)]') AS \(quote($0.element))" }.joined(separator: ", ")
            try execute("CREATE TEMP VIEW \(quote(name)) AS SELECT \(select) FROM main.derived_row WHERE query = '\(query.replacingOccurrences(of: "'", with: "''"))'")
            derivedViews.append(name)
            guardState.recorded = []
            _ = try compile("SELECT * FROM \(quote(name))", finalize: true)
            reads[name] = Set((guardState.recorded ?? []).filter { $0.view == name }.map { "\($0.table).\($0.column)" })
        }
        guardState.authorizer = QueryAuthorizer(views: reads)
        derivedGeneration = generation
    }

    private func execute(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        guard sqlite3_exec(handle, sql, nil, nil, &message) == SQLITE_OK else {
            let text = message.map { String(cString: $0) } ?? "unknown error"
            sqlite3_free(message)
            throw StoreError.inconsistent("setting up the investigation views failed: \(text)")
        }
    }

    /// Compiles `sql` (one statement, read-only, within the views) and returns its statement
    /// (nil, when `finalize`, after finalizing it).
    @discardableResult
    private func compile(_ sql: String, finalize: Bool) throws -> OpaquePointer? {
        guardState.denial = nil
        var statement: OpaquePointer?
        var tail: UnsafePointer<CChar>?
        let utf8 = Array(sql.utf8CString)
        let code = utf8.withUnsafeBufferPointer { buffer in
            sqlite3_prepare_v2(handle, buffer.baseAddress, Int32(buffer.count), &statement, &tail)
        }
        guard code == SQLITE_OK else {
            throw QueryError(.refused, guardState.denial ?? String(cString: sqlite3_errmsg(handle)))
        }
        guard let statement else { throw QueryError(.invalid, "the query is empty: give one SELECT statement") }
        // Whatever follows the first statement must be blank or comments.
        let consumed = utf8.withUnsafeBufferPointer { buffer in tail.map { $0 - buffer.baseAddress! } ?? buffer.count }
        let rest = String(decoding: utf8[consumed...].prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if !Self.isBlank(rest) {
            sqlite3_finalize(statement)
            throw QueryError(.refused, "give one statement per query (more follows: \"\(rest.trimmingCharacters(in: .whitespacesAndNewlines).prefix(40))\")")
        }
        guard sqlite3_stmt_readonly(statement) != 0 else {
            sqlite3_finalize(statement)
            throw QueryError(.refused, "a query only reads")
        }
        if finalize {
            sqlite3_finalize(statement)
            return nil
        }
        return statement
    }

    func parameterNames(_ sql: String) throws -> [String] {
        guard let statement = try compile(sql, finalize: false) else { return [] }
        defer { sqlite3_finalize(statement) }
        return try QueryParameters.names(Self.parameterNames(statement))
    }

    private static func parameterNames(_ statement: OpaquePointer) -> [String?] {
        (0..<sqlite3_bind_parameter_count(statement)).map { index in sqlite3_bind_parameter_name(statement, index + 1).map { String(cString: $0) } }
    }

    func run(_ sql: String, parameters: [String: QueryValue], limits: QueryLimits) throws -> QueryResult {
        let started = DispatchTime.now().uptimeNanoseconds
        guard let statement = try compile(sql, finalize: false) else { throw QueryError(.invalid, "the query is empty: give one SELECT statement") }
        defer { sqlite3_finalize(statement) }
        let values = try QueryParameters.bind(try QueryParameters.names(Self.parameterNames(statement)), parameters)
        for (index, value) in values.enumerated() {
            let position = Int32(index + 1)
            switch value {
            case .null: sqlite3_bind_null(statement, position)
            case .integer(let number): sqlite3_bind_int64(statement, position, number)
            case .real(let number): sqlite3_bind_double(statement, position, number)
            case .text(let text): sqlite3_bind_text(statement, position, text, -1, transientDestructor)
            case .blob(let bytes): sqlite3_bind_blob(statement, position, bytes, Int32(bytes.count), transientDestructor)
            }
        }
        let columnCount = sqlite3_column_count(statement)
        let columns = (0..<columnCount).map { String(cString: sqlite3_column_name(statement, $0)) }
        var rows: [[QueryValue]] = []
        var truncated = false
        var bytes = 0
        guardState.deadline = started + UInt64(limits.millis) * 1_000_000
        defer { guardState.deadline = .max }
        while true {
            let code = sqlite3_step(statement)
            if code == SQLITE_DONE { break }
            guard code == SQLITE_ROW else {
                if code == SQLITE_INTERRUPT {
                    throw QueryError(.timeout, "the query ran past its time limit of \(limits.millis) ms and was stopped")
                }
                throw QueryError(.refused, String(cString: sqlite3_errmsg(handle)))
            }
            if rows.count == limits.rows || bytes > Self.maximumResultBytes {
                truncated = true
                break
            }
            var row: [QueryValue] = []
            row.reserveCapacity(Int(columnCount))
            for column in 0..<columnCount {
                switch sqlite3_column_type(statement, column) {
                case SQLITE_INTEGER: row.append(.integer(sqlite3_column_int64(statement, column)))
                case SQLITE_FLOAT: row.append(.real(sqlite3_column_double(statement, column)))
                case SQLITE_TEXT:
                    let count = Int(sqlite3_column_bytes(statement, column))
                    bytes += count
                    let text = sqlite3_column_text(statement, column).map { String(decoding: UnsafeBufferPointer(start: $0, count: count), as: UTF8.self) } ?? ""
                    row.append(.text(text))
                case SQLITE_BLOB:
                    let count = Int(sqlite3_column_bytes(statement, column))
                    bytes += count
                    let blob = sqlite3_column_blob(statement, column).map { Array(UnsafeRawBufferPointer(start: $0, count: count)) } ?? []
                    row.append(.blob(blob))
                default: row.append(.null)
                }
            }
            rows.append(row)
        }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started) / 1_000_000
        return QueryResult(columns: columns, rows: rows, truncated: truncated, elapsedMillis: elapsed)
    }

    private static func isBlank(_ text: String) -> Bool {
        var rest = Substring(text)
        while true {
            rest = rest.drop { $0.isWhitespace }
            if rest.hasPrefix("--") {
                rest = rest.drop { $0 != "\n" }
            } else if rest.hasPrefix("/*") {
                guard let end = rest.range(of: "*/") else { return true }
                rest = rest[end.upperBound...]
            } else {
                return rest.isEmpty || rest == ";" || rest.allSatisfy { $0 == ";" || $0.isWhitespace }
            }
        }
    }

    /// `iso(ms)`, `hour(ms)`, `day(ms)`: times as RFC 3339 text, whole hours and days; `ago('24h')`:
    /// now minus a duration, in milliseconds.
    private static func addFunctions(_ connection: OpaquePointer) {
        let deterministic = SQLITE_UTF8 | SQLITE_DETERMINISTIC
        sqlite3_create_function_v2(connection, "iso", 1, deterministic, nil, { context, _, values in
            guard let millis = millisArgument(values) else { return sqlite3_result_null(context) }
            sqlite3_result_text(context, Timestamp.formatRFC3339(millis), -1, transientDestructor)
        }, nil, nil, nil)
        // hour() and day() run once per row of an aggregate over millions: written into a stack
        // buffer, no string made.
        sqlite3_create_function_v2(connection, "hour", 1, deterministic, nil, { context, _, values in
            guard let millis = millisArgument(values) else { return sqlite3_result_null(context) }
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 17) { buffer in
                let count = Timestamp.writeUTC(millis, hourly: true, into: buffer.baseAddress!)
                sqlite3_result_text(context, UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self), Int32(count), transientDestructor)
            }
        }, nil, nil, nil)
        sqlite3_create_function_v2(connection, "day", 1, deterministic, nil, { context, _, values in
            guard let millis = millisArgument(values) else { return sqlite3_result_null(context) }
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 17) { buffer in
                let count = Timestamp.writeUTC(millis, hourly: false, into: buffer.baseAddress!)
                sqlite3_result_text(context, UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self), Int32(count), transientDestructor)
            }
        }, nil, nil, nil)
        // ago() reads the clock, but like SQLite's own date('now') it holds still within a statement:
        // marked deterministic, a call with a constant argument is evaluated once per run of the
        // statement rather than once per row. (The investigation views define no index or
        // constraint that could store its value.)
        sqlite3_create_function_v2(connection, "ago", 1, deterministic, nil, { context, _, values in
            guard let text = sqlite3_value_text(values!.pointee).map({ String(cString: $0) }), let span = DurationText.millis(text) else {
                return sqlite3_result_error(context, "ago() takes a duration such as '24h', '7d' or '30m'", -1)
            }
            sqlite3_result_int64(context, Int64(Date().timeIntervalSince1970 * 1000) - span)
        }, nil, nil, nil)
    }
}

/// What the C callbacks of one connection consult: the authorizer's rule, whether it is enforced
/// yet (not while the views are being defined), the first refusal of the statement being compiled,
/// and the running statement's deadline. Touched only on the connection's queue.
private final class QueryGuard: @unchecked Sendable {
    var authorizer = QueryAuthorizer(views: [:])
    var enforcing = false
    /// While set up: the reads compiling a statement makes (recorded, not judged).
    var recorded: [(table: String, column: String, view: String?)]?
    var denial: String?
    var deadline: UInt64 = .max

    func overdue() -> Bool { DispatchTime.now().uptimeNanoseconds > deadline }

    func authorize(_ code: Int32, _ first: UnsafePointer<CChar>?, _ second: UnsafePointer<CChar>?, _ database: UnsafePointer<CChar>?,
                   _ view: UnsafePointer<CChar>?) -> Int32 {
        func text(_ pointer: UnsafePointer<CChar>?) -> String? { pointer.map { String(cString: $0) } }
        if recorded != nil, code == SQLITE_READ { recorded?.append((text(first) ?? "", text(second) ?? "", text(view))) }
        guard enforcing else { return SQLITE_OK }
        let action: QueryAction = switch code {
        case SQLITE_SELECT: .select
        case SQLITE_RECURSIVE: .recursive
        case SQLITE_READ: .read(table: text(first) ?? "", column: text(second) ?? "", database: text(database), view: text(view))
        case SQLITE_FUNCTION: .function(text(second) ?? "")
        case SQLITE_PRAGMA: .pragma(text(first) ?? "")
        case SQLITE_ATTACH: .attach(text(first) ?? "")
        case SQLITE_DETACH: .detach(text(first) ?? "")
        // Creating a table or view writes the schema table before SQLite asks about the creation.
        case _ where [SQLITE_INSERT, SQLITE_UPDATE, SQLITE_DELETE].contains(code) && (text(first).map(Self.schemaTables.contains) ?? false):
            .other("creating, changing or dropping tables, views, indexes or triggers")
        default: .other(Self.names[code] ?? "action \(code)")
        }
        switch authorizer.verdict(action) {
        case .allow: return SQLITE_OK
        case .deny(let reason):
            if denial == nil { denial = reason }
            return SQLITE_DENY
        }
    }

    static let schemaTables: Set<String> = ["sqlite_master", "sqlite_temp_master", "sqlite_schema", "sqlite_temp_schema"]

    static let names: [Int32: String] = [
        SQLITE_CREATE_INDEX: "create index", SQLITE_CREATE_TABLE: "create table", SQLITE_CREATE_TEMP_INDEX: "create temp index",
        SQLITE_CREATE_TEMP_TABLE: "create temp table", SQLITE_CREATE_TEMP_TRIGGER: "create temp trigger", SQLITE_CREATE_TEMP_VIEW: "create temp view",
        SQLITE_CREATE_TRIGGER: "create trigger", SQLITE_CREATE_VIEW: "create view", SQLITE_DELETE: "delete", SQLITE_DROP_INDEX: "drop index",
        SQLITE_DROP_TABLE: "drop table", SQLITE_DROP_TEMP_INDEX: "drop temp index", SQLITE_DROP_TEMP_TABLE: "drop temp table",
        SQLITE_DROP_TEMP_TRIGGER: "drop temp trigger", SQLITE_DROP_TEMP_VIEW: "drop temp view", SQLITE_DROP_TRIGGER: "drop trigger",
        SQLITE_DROP_VIEW: "drop view", SQLITE_INSERT: "insert", SQLITE_TRANSACTION: "transaction", SQLITE_UPDATE: "update",
        SQLITE_ALTER_TABLE: "alter table", SQLITE_REINDEX: "reindex", SQLITE_ANALYZE: "analyze", SQLITE_CREATE_VTABLE: "create virtual table",
        SQLITE_DROP_VTABLE: "drop virtual table", SQLITE_SAVEPOINT: "savepoint",
    ]
}

private func millisArgument(_ values: UnsafeMutablePointer<OpaquePointer?>?) -> Int64? {
    guard let value = values?.pointee else { return nil }
    switch sqlite3_value_type(value) {
    case SQLITE_INTEGER, SQLITE_FLOAT: return sqlite3_value_int64(value)
    default: return nil
    }
}

private let transientDestructor = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
