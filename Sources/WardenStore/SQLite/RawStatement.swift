import GRDB
import GRDBSQLite

/// A prepared statement driven through SQLite's C API, for intake's insert loop where GRDB's
/// argument boxing would cost more than the insert itself. It lives for one transaction.
final class RawStatement {
    private let handle: OpaquePointer
    private let connection: OpaquePointer

    init(_ db: Database, _ sql: String) throws {
        guard let connection = db.sqliteConnection else { throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "connection is closed") }
        var handle: OpaquePointer?
        let code = sqlite3_prepare_v2(connection, sql, -1, &handle, nil)
        guard code == SQLITE_OK, let handle else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(connection)), sql: sql)
        }
        self.handle = handle
        self.connection = connection
    }

    deinit {
        sqlite3_finalize(handle)
    }

    func bind(_ index: Int32, _ value: Int64) {
        sqlite3_bind_int64(handle, index, value)
    }

    func bind(_ index: Int32, _ text: String) {
        var text = text
        text.withUTF8 { buffer in
            _ = sqlite3_bind_text(handle, index, buffer.baseAddress, Int32(buffer.count), transient)
        }
    }

    func bind(_ index: Int32, _ text: String?) {
        if let text { bind(index, text) } else { sqlite3_bind_null(handle, index) }
    }

    /// Binds `bytes` as text without copying them and runs one step (SQLite reads a bound value only
    /// while stepping, and copies it into the row it writes), for intake's event bodies: a copy at
    /// bind time was a malloc and a memcpy of every body. Rebind before stepping again.
    @discardableResult
    func step(binding index: Int32, utf8 bytes: [UInt8]) throws -> Bool {
        try bytes.withUnsafeBufferPointer { buffer in
            sqlite3_bind_text(handle, index, buffer.baseAddress, Int32(buffer.count), nil)
            defer { sqlite3_bind_null(handle, index) }
            return try step()
        }
    }

    /// Runs one step; true when a row is available.
    @discardableResult
    func step() throws -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let code:
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(connection)))
        }
    }

    func reset() {
        sqlite3_reset(handle)
    }

    func int64(_ column: Int32) -> Int64 {
        sqlite3_column_int64(handle, column)
    }

    func text(_ column: Int32) -> [UInt8] {
        guard let pointer = sqlite3_column_text(handle, column) else { return [] }
        return Array(UnsafeBufferPointer(start: pointer, count: Int(sqlite3_column_bytes(handle, column))))
    }

    var changes: Int32 { sqlite3_changes(connection) }

    /// Inserts `count` rows through multi-row `VALUES` lists of up to `chunk` rows, so SQLite runs
    /// one statement (one reset, one halt, one statement journal) per chunk instead of per row.
    /// `head` is everything up to `VALUES`, `tail` anything after the list (an `ON CONFLICT`
    /// clause); `bind(statement, row, parameter)` binds row `row`'s `columns` values from
    /// `parameter` on.
    static func insertRows(_ db: Database, _ head: String, columns: Int, tail: String = "", count: Int, chunk: Int = 64,
                           bind: (RawStatement, _ row: Int, _ parameter: Int32) -> Void) throws {
        func statement(rows: Int) throws -> RawStatement {
            let row = "(" + Array(repeating: "?", count: columns).joined(separator: ", ") + ")"
            return try RawStatement(db, head + " VALUES " + Array(repeating: row, count: rows).joined(separator: ", ") + tail)
        }
        var full: RawStatement?
        var start = 0
        while start < count {
            let rows = min(chunk, count - start)
            let insert: RawStatement
            if rows == chunk {
                if full == nil { full = try statement(rows: chunk) }
                insert = full!
            } else {
                insert = try statement(rows: rows)
            }
            insert.reset()
            for offset in 0..<rows {
                bind(insert, start + offset, Int32(offset * columns + 1))
            }
            try insert.step()
            start += rows
        }
    }
}

private let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
