public import WardenCore

/// One value of a query's result, as SQLite has it.
public enum QueryValue: Sendable, Equatable, Encodable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .integer(let value): try container.encode(value)
        case .real(let value): try value.isFinite ? container.encode(value) : container.encodeNil()
        case .text(let value): try container.encode(value)
        case .blob(let bytes): try container.encode(bytes.hexString)
        }
    }

    /// The value as a person reads it in a table or a CSV cell.
    public var text: String {
        switch self {
        case .null: ""
        case .integer(let value): String(value)
        case .real(let value): value.isFinite ? String(value) : ""
        case .text(let value): value
        case .blob(let bytes): bytes.hexString
        }
    }

    public var number: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .real(let value): value
        default: nil
        }
    }
}

/// A query's answer: its columns, its rows (at most the row limit), and whether more rows were left.
public struct QueryResult: Sendable, Equatable {
    public var columns: [String]
    public var rows: [[QueryValue]]
    /// True when the query had more rows than the limit.
    public var truncated: Bool
    public var elapsedMillis: Double

    public init(columns: [String], rows: [[QueryValue]], truncated: Bool, elapsedMillis: Double) {
        self.columns = columns
        self.rows = rows
        self.truncated = truncated
        self.elapsedMillis = elapsedMillis
    }

    /// The result with personal data masked in every text value (for roles that see masked data).
    public func masked(_ mask: (String) -> String) -> QueryResult {
        var copy = self
        copy.rows = rows.map { $0.map { if case .text(let value) = $0 { .text(mask(value)) } else { $0 } } }
        return copy
    }

    /// Column names made unique (`id`, `id_2`), for formats keyed by name.
    public var uniqueColumns: [String] {
        var seen: [String: Int] = [:]
        return columns.map { name in
            let count = (seen[name] ?? 0) + 1
            seen[name] = count
            return count == 1 ? name : "\(name)_\(count)"
        }
    }

    /// RFC 4180 CSV with a header row; cells that a spreadsheet would run as a formula are quoted
    /// as text.
    public var csv: String {
        var out = columns.map(CSV.field).joined(separator: ",") + "\r\n"
        for row in rows { out += row.map { CSV.field($0.text) }.joined(separator: ",") + "\r\n" }
        return out
    }

    /// One JSON object per row, keyed by ``uniqueColumns``.
    public var ndjson: String {
        let names = uniqueColumns
        var out = ""
        for row in rows {
            var object = JSONWriter()
            object.beginObject()
            for (name, value) in zip(names, row) {
                object.key(name)
                switch value {
                case .null: object.null()
                case .integer(let number): object.number(number)
                case .real(let number): object.number(number)
                case .text(let text): object.string(text)
                case .blob(let bytes): object.string(bytes.hexString)
                }
            }
            object.endObject()
            out += String(decoding: object.bytes, as: UTF8.self) + "\n"
        }
        return out
    }
}

/// How long a query may run and how many rows it may return.
public struct QueryLimits: Sendable, Equatable {
    public static let defaultRows = 1_000
    public static let maximumRows = 100_000
    public static let defaultMillis: Int64 = 10_000
    public static let maximumMillis: Int64 = 60_000

    public var rows: Int
    public var millis: Int64

    public init(rows: Int = QueryLimits.defaultRows, millis: Int64 = QueryLimits.defaultMillis) {
        self.rows = rows
        self.millis = millis
    }

    /// Limits from a request: nil takes the default; out-of-range values are refused with what is allowed.
    public static func checked(rows: Int?, millis: Int64?) throws(QueryError) -> QueryLimits {
        let rows = rows ?? defaultRows, millis = millis ?? defaultMillis
        guard (1...maximumRows).contains(rows) else { throw QueryError(.invalid, "limit is \(rows); give 1 to \(maximumRows) rows") }
        guard (1...maximumMillis).contains(millis) else { throw QueryError(.invalid, "timeout_ms is \(millis); give 1 to \(maximumMillis)") }
        return QueryLimits(rows: rows, millis: millis)
    }
}

/// Why a query was not run or did not finish.
public struct QueryError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The request is malformed (limits, parameters, names).
        case invalid
        /// The SQL does not compile, or asks for something a query may not do.
        case refused
        /// It ran past its time limit and was stopped.
        case timeout
        case notFound
        case conflict
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
