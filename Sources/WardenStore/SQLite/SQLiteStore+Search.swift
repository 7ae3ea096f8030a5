import Foundation
import GRDB
public import WardenCore

/// The search index's database (`<name>-search.sqlite`): an FTS5 table of events' text with their
/// entities (as words, so an entity is a phrase), type and time, and the index's cursor. Derived
/// from the log: delete the file and it is rebuilt.
enum SearchSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: event search") { db in
            try db.execute(sql: """
                CREATE VIRTUAL TABLE event_search USING fts5(text, entities, type UNINDEXED, occurred_at UNINDEXED,
                                                             tokenize = 'unicode61 remove_diacritics 2');
                CREATE TABLE search_cursor (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL);
                INSERT INTO search_cursor (id, seq) VALUES (1, 0);
                """)
        }
        return migrator
    }
}

extension SQLiteStore: SearchStore {
    public func indexSearch(limit: Int, fields: [[String]]) async throws -> SearchIndexProgress {
        let pool = self.pool
        // Paths come from the pack, checked to be words; still, each is quoted as JSON path text.
        let extracts = fields.map { path in
            "json_extract(body, '$.data" + path.map { ".\"" + $0.replacingOccurrences(of: "\"", with: "").replacingOccurrences(of: "'", with: "") + "\"" }.joined() + "')"
        }
        let columns = extracts.isEmpty ? "NULL" : extracts.joined(separator: ", ")
        return try await search.write { db in
            let cursor = try Int64.fetchOne(db, sql: "SELECT seq FROM search_cursor") ?? 0
            let (rows, lastSeq) = try pool.read { log -> ([(Int64, String, Int64, String, String)], Int64) in
                let read = try RawStatement(log, "SELECT seq, type, occurred_at, entities, \(columns) FROM event WHERE seq > ? ORDER BY seq LIMIT ?")
                read.bind(1, cursor)
                read.bind(2, Int64(limit))
                var rows: [(Int64, String, Int64, String, String)] = []
                while try read.step() {
                    var texts: [String] = []
                    for index in 0..<max(extracts.count, 1) {
                        let bytes = read.text(Int32(4 + index))
                        if !bytes.isEmpty { texts.append(String(decoding: bytes, as: UTF8.self)) }
                    }
                    rows.append((read.int64(0), String(decoding: read.text(1), as: UTF8.self), read.int64(2),
                                 String(decoding: read.text(3), as: UTF8.self), texts.joined(separator: "\n")))
                }
                return (rows, try Int64.fetchOne(log, sql: "SELECT max(seq) FROM event") ?? 0)
            }
            let insert = try RawStatement(db, "INSERT INTO event_search (rowid, text, entities, type, occurred_at) VALUES (?, ?, ?, ?, ?)")
            var through = cursor
            for (seq, type, occurredAt, entities, text) in rows {
                through = seq
                guard !text.isEmpty else { continue }
                insert.bind(1, seq)
                insert.bind(2, text)
                insert.bind(3, entities)
                insert.bind(4, type)
                insert.bind(5, occurredAt)
                try insert.step()
                insert.reset()
            }
            try db.execute(sql: "UPDATE search_cursor SET seq = ?", arguments: [through])
            return SearchIndexProgress(indexed: rows.count, indexedThroughSeq: through, lastSeq: lastSeq)
        }
    }

    public func searchIndexStatus() async throws -> SearchIndexProgress {
        let indexed = try await search.read { db in try Int64.fetchOne(db, sql: "SELECT seq FROM search_cursor") ?? 0 }
        let last = try await pool.read { db in try Int64.fetchOne(db, sql: "SELECT max(seq) FROM event") ?? 0 }
        return SearchIndexProgress(indexed: 0, indexedThroughSeq: indexed, lastSeq: last)
    }

    public func searchEvents(_ query: SearchQuery) async throws -> [EventHit] {
        guard var match = query.match.map({ "text : (\($0))" }) else { return [] }
        if let entity = query.entity {
            guard let phrase = SearchQuery.entityPhrase(entity) else { return [] }
            match += " AND entities : \(phrase)"
        }
        var sql = "SELECT rowid, type, occurred_at, entities, snippet(event_search, 0, '[', ']', '…', 16) FROM event_search WHERE event_search MATCH ?"
        var arguments: [(any DatabaseValueConvertible)?] = [match]
        if let type = query.type { sql += " AND type = ?"; arguments.append(type) }
        if let since = query.since { sql += " AND occurred_at >= ?"; arguments.append(since) }
        if let until = query.until { sql += " AND occurred_at < ?"; arguments.append(until) }
        sql += " ORDER BY rowid DESC LIMIT ?"
        arguments.append(query.limit)
        let (text, values) = (sql, StatementArguments(arguments.map { $0?.databaseValue ?? .null }))
        let found = try await search.read { db in
            try Row.fetchAll(db, sql: text, arguments: values).map { row -> (Int64, String, Int64, String, String) in
                (row[0], row[1], row[2], row[3], row[4])
            }
        }
        let entity = query.entity
        let ids = try await pool.read { db -> [Int64: String] in
            var ids: [Int64: String] = [:]
            for (seq, _, _, _, _) in found { ids[seq] = try String.fetchOne(db, sql: "SELECT id FROM event WHERE seq = ?", arguments: [seq]) }
            return ids
        }
        return found.compactMap { seq, type, occurredAt, entities, snippet in
            let refs = EntityList.decode(Array(entities.utf8))
            // The phrase narrows; the entity itself decides (a phrase could span two entities).
            if let entity, !refs.contains(entity) { return nil }
            return EventHit(seq: seq, id: ids[seq] ?? "", type: type, occurredAt: occurredAt, entities: refs, snippet: snippet)
        }
    }

    public func searchCases(_ query: SearchQuery) async throws -> [CaseHit] {
        guard let match = query.match else { return [] }
        var sql = """
            SELECT s.case_id, s.source, c.queue, c.subject, c.created_at, snippet(case_search, 2, '[', ']', '…', 16)
            FROM case_search s JOIN review_case c ON c.id = s.case_id
            WHERE case_search MATCH ?
            """
        var arguments: [(any DatabaseValueConvertible)?] = ["text : (\(match))"]
        if let queue = query.queue { sql += " AND c.queue = ?"; arguments.append(queue) }
        if let entity = query.entity { sql += " AND c.subject = ?"; arguments.append(entity.description) }
        if let since = query.since { sql += " AND c.created_at >= ?"; arguments.append(since) }
        if let until = query.until { sql += " AND c.created_at < ?"; arguments.append(until) }
        sql += " ORDER BY s.case_id DESC LIMIT ?"
        arguments.append(query.limit)
        let (text, values) = (sql, StatementArguments(arguments.map { $0?.databaseValue ?? .null }))
        return try await pool.read { db in
            try Row.fetchAll(db, sql: text, arguments: values).map { row in
                CaseHit(caseID: row[0], source: row[1], queue: row[2], subject: row[3], createdAt: row[4], snippet: row[5])
            }
        }
    }
}
