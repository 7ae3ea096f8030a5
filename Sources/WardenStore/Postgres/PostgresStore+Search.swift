import Foundation
import Logging
import PostgresNIO
public import WardenCore

// Search on PostgreSQL: events' text in `event_search` (a generated tsvector with a GIN index,
// written by the search indexer behind its cursor), cases' text in `case_search` (kept by
// triggers). Text is split with the 'simple' configuration: no stemming, no stop words, as SQLite's
// unicode61 tokenizer; words are all required and the last is also a prefix, as on SQLite.

extension PostgresStore: SearchStore {
    public func indexSearch(limit: Int, fields: [[String]]) async throws -> SearchIndexProgress {
        let logger = self.logger
        return try await transaction { connection in
            // One indexer at a time: the cursor's row is held until the batch commits with it.
            let cursor = try await connection.one(Int64.self, "SELECT seq FROM search_cursor WHERE id = 1 FOR UPDATE", logger: logger) ?? 0
            let lastSeq = try await connection.one(Int64.self, "SELECT seq FROM log_head WHERE id = 1", logger: logger) ?? 0
            let found = try await connection.rows("""
                SELECT seq, type, occurred_at, entities, body FROM event WHERE seq > \(cursor) ORDER BY seq LIMIT \(limit)
                """, logger: logger)
            var seqs: [Int64] = [], types: [String] = [], times: [Int64] = [], entities: [String] = [], texts: [String] = []
            var through = cursor
            for row in found {
                let (seq, type, occurredAt, list, body) = try row.decode((Int64, String, Int64, String, String).self)
                through = seq
                let data = JSONValue.parse(Array(body.utf8))?["data"]
                let text = fields.compactMap { path -> String? in
                    var value = data
                    for key in path { value = value?[key] }
                    switch value {
                    case .string(let text)?: return text.isEmpty ? nil : text
                    case .number(let number)?: return number.rounded() == number && abs(number) < 9e15 ? String(Int64(number)) : String(number)
                    default: return nil
                    }
                }.joined(separator: "\n")
                guard !text.isEmpty else { continue }
                seqs.append(seq)
                types.append(type)
                times.append(occurredAt)
                entities.append(list)
                texts.append(text)
            }
            if !seqs.isEmpty {
                try await connection.query("""
                    INSERT INTO event_search (seq, type, occurred_at, entities, text)
                    SELECT * FROM unnest(\(seqs), \(types), \(times), \(entities), \(texts)) ON CONFLICT (seq) DO NOTHING
                    """, logger: logger)
            }
            try await connection.query("UPDATE search_cursor SET seq = \(through) WHERE id = 1", logger: logger)
            return SearchIndexProgress(indexed: found.count, indexedThroughSeq: through, lastSeq: lastSeq)
        }
    }

    public func searchIndexStatus() async throws -> SearchIndexProgress {
        guard let (indexed, last) = try await rows("SELECT (SELECT seq FROM search_cursor WHERE id = 1), (SELECT seq FROM log_head WHERE id = 1)")
            .first?.decode((Int64, Int64).self) else { return SearchIndexProgress(indexed: 0, indexedThroughSeq: 0, lastSeq: 0) }
        return SearchIndexProgress(indexed: 0, indexedThroughSeq: indexed, lastSeq: last)
    }

    /// `ts_headline` options giving SQLite's snippet: the matches in brackets, about 16 words.
    static let headline = "StartSel=[, StopSel=], MaxWords=16, MinWords=6"

    public func searchEvents(_ query: SearchQuery) async throws -> [EventHit] {
        guard let words = query.tsQuery else { return [] }
        var dynamic = DynamicQuery()
        var conditions = ["s.words @@ q"]
        let wordsParameter = dynamic.bind(words)
        if let entity = query.entity {
            conditions.append("strpos(E'\\n' || s.entities || E'\\n', \(dynamic.bind("\n" + entity.description + "\n"))) > 0")
        }
        if let type = query.type { conditions.append("s.type = \(dynamic.bind(type))") }
        if let since = query.since { conditions.append("s.occurred_at >= \(dynamic.bind(since))") }
        if let until = query.until { conditions.append("s.occurred_at < \(dynamic.bind(until))") }
        dynamic.sql = """
            SELECT s.seq, e.id, s.type, s.occurred_at, s.entities, ts_headline('simple', s.text, q, '\(Self.headline)')
            FROM event_search s JOIN event e ON e.seq = s.seq, to_tsquery('simple', \(wordsParameter)) q
            WHERE \(conditions.joined(separator: " AND ")) ORDER BY s.seq DESC LIMIT \(dynamic.bind(query.limit))
            """
        return try await rows(dynamic.query).map { row in
            let (seq, id, type, occurredAt, entities, snippet) = try row.decode((Int64, String, String, Int64, String, String).self)
            return EventHit(seq: seq, id: id, type: type, occurredAt: occurredAt, entities: EntityList.decode(Array(entities.utf8)), snippet: snippet)
        }
    }

    public func searchCases(_ query: SearchQuery) async throws -> [CaseHit] {
        guard let words = query.tsQuery else { return [] }
        var dynamic = DynamicQuery()
        var conditions = ["s.words @@ q"]
        let wordsParameter = dynamic.bind(words)
        if let queue = query.queue { conditions.append("c.queue = \(dynamic.bind(queue))") }
        if let entity = query.entity { conditions.append("c.subject = \(dynamic.bind(entity.description))") }
        if let since = query.since { conditions.append("c.created_at >= \(dynamic.bind(since))") }
        if let until = query.until { conditions.append("c.created_at < \(dynamic.bind(until))") }
        dynamic.sql = """
            SELECT s.case_id, s.source, c.queue, c.subject, c.created_at, ts_headline('simple', s.text, q, '\(Self.headline)')
            FROM case_search s JOIN review_case c ON c.id = s.case_id, to_tsquery('simple', \(wordsParameter)) q
            WHERE \(conditions.joined(separator: " AND ")) ORDER BY s.case_id DESC, s.id LIMIT \(dynamic.bind(query.limit))
            """
        return try await rows(dynamic.query).map { row in
            let (caseID, source, queue, subject, createdAt, snippet) = try row.decode((Int64, String, String, String, Int64, String).self)
            return CaseHit(caseID: caseID, source: source, queue: queue, subject: subject, createdAt: createdAt, snippet: snippet)
        }
    }
}
