public import WardenCore

/// A derived table: what a saved query returns, materialised on a schedule so other queries read it
/// like a view (`derived_<name>`) and rules use its first column as a list (`list NAME from query
/// "name"`). A full refresh replaces the rows; an incremental one runs the query with `:cursor` set
/// to the largest value of the cursor column so far (0 at first) and appends what it returns.
public enum DerivedMode: String, Sendable, CaseIterable, Codable {
    case full, incremental
}

/// When and how a saved query is materialised.
public struct DerivedSchedule: Sendable, Equatable {
    /// Milliseconds between refreshes.
    public var every: Int64
    public var mode: DerivedMode
    /// For incremental refreshes: the result column whose largest value becomes the next `:cursor`.
    public var cursorColumn: String?

    public init(every: Int64, mode: DerivedMode, cursorColumn: String?) {
        self.every = every
        self.mode = mode
        self.cursorColumn = cursorColumn
    }

    public static let shortest: Int64 = 60_000
    public static let longest: Int64 = 30 * 86_400_000

    /// Checks the schedule against the query's parameters: an incremental query names `:cursor`
    /// and a cursor column, a full one binds no parameters (nobody is there to give them).
    public func check(parameters: [String]) throws(QueryError) {
        guard (Self.shortest...Self.longest).contains(every) else {
            throw QueryError(.invalid, "a derived table refreshes every 1m to 30d, not every \(DurationText.format(every))")
        }
        switch mode {
        case .full:
            if cursorColumn != nil { throw QueryError(.invalid, "cursor_column is for incremental refreshes; a full refresh replaces every row") }
            if let first = parameters.first {
                throw QueryError(.invalid, "a scheduled query runs with no one to give its parameters; :\(first) has no value (incremental queries take :cursor only)")
            }
        case .incremental:
            guard let column = cursorColumn, !column.isEmpty else {
                throw QueryError(.invalid, "an incremental refresh needs cursor_column: the column whose largest value is the next :cursor")
            }
            guard parameters == ["cursor"] else {
                throw QueryError(.invalid, "an incremental query reads new rows after :cursor (such as WHERE seq > :cursor) and takes no other parameter")
            }
        }
    }
}

/// A derived table's state: its schedule and what its last refresh left.
public struct DerivedTable: Sendable, Equatable {
    public var query: String
    public var schedule: DerivedSchedule
    /// The result's columns (nil until the first refresh).
    public var columns: [String]?
    public var rows: Int
    /// The next `:cursor` for incremental refreshes.
    public var cursor: QueryValue
    public var refreshedAt: Int64?
    public var nextAt: Int64
    public var millis: Double?
    /// Why the last refresh failed (the rows of the one before stay).
    public var error: String?
    public var scheduledBy: String

    public init(query: String, schedule: DerivedSchedule, columns: [String]? = nil, rows: Int = 0, cursor: QueryValue = .integer(0),
                refreshedAt: Int64? = nil, nextAt: Int64, millis: Double? = nil, error: String? = nil, scheduledBy: String) {
        self.query = query
        self.schedule = schedule
        self.columns = columns
        self.rows = rows
        self.cursor = cursor
        self.refreshedAt = refreshedAt
        self.nextAt = nextAt
        self.millis = millis
        self.error = error
        self.scheduledBy = scheduledBy
    }

    /// The view queries read it as.
    public var viewName: String { Self.viewName(query) }

    public static func viewName(_ query: String) -> String { "derived_" + query.replacingOccurrences(of: "-", with: "_") }

    /// The most rows a derived table keeps (an incremental one drops its oldest past this).
    public static let maximumRows = 100_000
    /// The time limit of a refresh.
    public static let refreshMillis: Int64 = 60_000

    public func isDue(at now: Int64) -> Bool { nextAt <= now }

    /// Whether the rows are as recent as the schedule promises (within one more period).
    public func isFresh(at now: Int64) -> Bool {
        guard let refreshedAt, error == nil else { return false }
        return now - refreshedAt <= 2 * schedule.every
    }

    /// What a refresh that returned `result` leaves: the rows to store (all, for full; the new ones,
    /// for incremental) and the next cursor.
    public func applying(_ result: QueryResult) throws(QueryError) -> (rows: [[QueryValue]], cursor: QueryValue) {
        if result.truncated, schedule.mode == .full {
            throw QueryError(.invalid, "the query returned more than \(Self.maximumRows) rows; a derived table keeps at most that many (aggregate or filter it)")
        }
        guard schedule.mode == .incremental, let column = schedule.cursorColumn else { return (result.rows, cursor) }
        guard let index = result.columns.firstIndex(of: column) else {
            throw QueryError(.invalid, "the query returns no column \(column) to take the next cursor from; its columns: \(result.columns.joined(separator: ", "))")
        }
        var next = cursor
        for row in result.rows where Self.less(next, row[index]) { next = row[index] }
        return (result.rows, next)
    }

    /// SQLite's order for the values a cursor takes: null, numbers, text.
    static func less(_ a: QueryValue, _ b: QueryValue) -> Bool {
        func rank(_ value: QueryValue) -> Int {
            switch value {
            case .null: 0
            case .integer, .real: 1
            case .text: 2
            case .blob: 3
            }
        }
        switch (a, b) {
        case (.integer(let x), .integer(let y)): return x < y
        case (.integer(let x), .real(let y)): return Double(x) < y
        case (.real(let x), .integer(let y)): return x < Double(y)
        case (.real(let x), .real(let y)): return x < y
        case (.text(let x), .text(let y)): return Array(x.utf8).lexicographicallyPrecedes(Array(y.utf8))
        default: return rank(a) < rank(b)
        }
    }

    /// The items a rule's `in LIST` sees: the first column's values as text, lower-cased (as list
    /// files are); whole numbers without a fraction; nulls left out.
    public static func listItems(_ rows: [[QueryValue]]) -> Set<String> {
        var items = Set<String>()
        for row in rows {
            guard let first = row.first else { continue }
            switch first {
            case .text(let text): items.insert(text.lowercased())
            case .integer(let number): items.insert(String(number))
            case .real(let number): items.insert(number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : String(number))
            case .null, .blob: continue
            }
        }
        return items
    }

    /// A cursor as stored: a type letter and the value (`i:42`, `r:1.5`, `t:2026-11-30`, `n:`).
    public static func encode(_ value: QueryValue) -> String {
        switch value {
        case .null, .blob: "n:"
        case .integer(let number): "i:\(number)"
        case .real(let number): "r:\(number)"
        case .text(let text): "t:" + text
        }
    }

    public static func decode(_ text: String) -> QueryValue {
        let body = String(text.dropFirst(2))
        switch text.prefix(2) {
        case "i:": return Int64(body).map(QueryValue.integer) ?? .null
        case "r:": return Double(body).map(QueryValue.real) ?? .null
        case "t:": return .text(body)
        default: return .null
        }
    }
}
