public import WardenCore

/// One event found by full-text search.
public struct EventHit: Sendable, Equatable {
    public var seq: Int64
    public var id: String
    public var type: String
    public var occurredAt: Int64
    public var entities: [EntityRef]
    /// The matching text with the matched words marked `[…]`.
    public var snippet: String
}

/// One case found by full-text search (its subject, report texts, comments and notes, decision
/// rationales).
public struct CaseHit: Sendable, Equatable {
    public var caseID: Int64
    public var source: String
    public var queue: String
    public var subject: String
    public var createdAt: Int64
    public var snippet: String
}

/// What a search asks for.
public struct SearchQuery: Sendable, Equatable {
    /// The words (each must occur; the last may be a prefix).
    public var text: String
    public var type: String?
    public var entity: EntityRef?
    public var since: Int64?
    public var until: Int64?
    public var queue: String?
    public var limit: Int

    public init(text: String, type: String? = nil, entity: EntityRef? = nil, since: Int64? = nil, until: Int64? = nil, queue: String? = nil, limit: Int = 50) {
        self.text = text
        self.type = type
        self.entity = entity
        self.since = since
        self.until = until
        self.queue = queue
        self.limit = limit
    }

    /// The FTS5 expression for the words: each quoted (so nothing the user types is an operator),
    /// the last a prefix; nil when there are no words.
    public var match: String? {
        let words = text.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).prefix(20).map(String.init)
        guard !words.isEmpty else { return nil }
        return words.enumerated().map { index, word in "\"\(word)\"" + (index == words.count - 1 ? "*" : "") }.joined(separator: " ")
    }

    /// The words as a PostgreSQL text query for `to_tsquery('simple', …)`: each quoted and lower-cased,
    /// all required, the last also a prefix; nil when there are no words.
    public var tsQuery: String? { Self.tsQuery(text) }

    static func tsQuery(_ text: String) -> String? {
        let words = text.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).prefix(20).map { $0.lowercased() }
        guard !words.isEmpty else { return nil }
        return words.enumerated().map { index, word in "'\(word)'" + (index == words.count - 1 ? ":*" : "") }.joined(separator: " & ")
    }

    /// The FTS5 phrase that finds an entity among an event's entities (`"user" "u1"` as adjacent
    /// tokens of the entities column), nil when the entity has no words.
    public static func entityPhrase(_ ref: EntityRef) -> String? {
        let tokens = (ref.type + " " + ref.id).split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init)
        guard !tokens.isEmpty else { return nil }
        return "\"" + tokens.joined(separator: " ") + "\""
    }
}

/// How far the search index is behind the log.
public struct SearchIndexProgress: Sendable, Equatable {
    public var indexed: Int
    public var indexedThroughSeq: Int64
    public var lastSeq: Int64
    public var lag: Int64 { max(0, lastSeq - indexedThroughSeq) }
}

/// Full-text search: events' text fields (indexed by a consumer following the log, in a database of
/// its own) and cases (kept by triggers in the store's own database).
public protocol SearchStore: Sendable {
    /// Indexes up to `limit` events after the index's cursor: the text at each of `fields` (paths
    /// inside `data`), with the event's type, time and entities; cursor and rows in one transaction.
    func indexSearch(limit: Int, fields: [[String]]) async throws -> SearchIndexProgress
    func searchIndexStatus() async throws -> SearchIndexProgress
    /// Events whose text has every word, newest first, filtered by type, entity and time.
    func searchEvents(_ query: SearchQuery) async throws -> [EventHit]
    /// Cases whose subject, reports, comments, notes or decisions have every word, newest first,
    /// filtered by queue and time.
    func searchCases(_ query: SearchQuery) async throws -> [CaseHit]
}
