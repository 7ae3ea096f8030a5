import Foundation
import PostgresNIO
import WardenCore

/// A row read by column name, as the SQLite store reads GRDB's rows: `try row["title"]` decodes the
/// column as the type the context asks for (an optional for a nullable column). Enumerations and
/// actors that no current type knows throw ``StoredValueError`` naming the table and column.
struct Cells {
    private let cells: PostgresRandomAccessRow

    init(_ row: PostgresRow) { cells = row.makeRandomAccess() }

    subscript<T: PostgresDecodable>(_ column: String) -> T {
        get throws { try cells[column].decode(T.self) }
    }

    /// The value of a column the SQLite schema keeps as an integer and this one as a smaller integer type.
    func int(_ column: String) throws -> Int { try cells[column].decode(Int.self) }

    func decode<T: RawRepresentable>(_ type: T.Type, _ column: String, table: String) throws -> T where T.RawValue == String {
        let raw: String = try self[column]
        guard let value = T(rawValue: raw) else { throw StoredValueError(table: table, column: column, value: raw) }
        return value
    }

    func actor(_ column: String, table: String) throws -> ActorRef {
        try ActorRef(stored: self[column], table: table, column: column)
    }

    func actorIfPresent(_ column: String, table: String) throws -> ActorRef? {
        let text: String? = try self[column]
        return try text.map { try ActorRef(stored: $0, table: table, column: column) }
    }
}

extension PostgresRow {
    /// The row read by column name.
    var cells: Cells { Cells(self) }
}

/// A statement assembled from optional parts: each value is bound and named by its placeholder.
struct DynamicQuery {
    var sql: String
    private(set) var binds = PostgresBindings()

    init(_ sql: String = "") { self.sql = sql }

    /// Binds `value` and returns its placeholder (`$n`).
    mutating func bind<T: PostgresDynamicTypeEncodable>(_ value: T) -> String {
        binds.append(value)
        return "$\(binds.count)"
    }

    mutating func bind<T: PostgresDynamicTypeEncodable>(_ value: T?) -> String {
        binds.append(value)
        return "$\(binds.count)"
    }

    var query: PostgresQuery { PostgresQuery(unsafeSQL: sql, binds: binds) }
}

extension PostgresConnection {
    /// The first column of the first row, if there is a row and the value is not null.
    func one<T: PostgresDecodable>(_ type: T.Type, _ query: PostgresQuery, logger: Logger) async throws -> T? {
        guard let cell = try await rows(query, logger: logger).first?.makeRandomAccess()[0], cell.bytes != nil else { return nil }
        return try cell.decode(T.self)
    }
}

extension PostgresStore {
    /// The first column of the first row of one statement outside a transaction.
    func one<T: PostgresDecodable>(_ type: T.Type, _ query: PostgresQuery) async throws -> T? {
        guard let cell = try await rows(query).first?.makeRandomAccess()[0], cell.bytes != nil else { return nil }
        return try cell.decode(T.self)
    }

    static func encodeJSON<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decodeJSON<T: Decodable>(_ type: T.Type, _ text: String) throws -> T { try JSONDecoder().decode(type, from: Data(text.utf8)) }
}
