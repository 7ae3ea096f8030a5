import Foundation
import GRDB
import Synchronization
public import WardenCore

/// The embedded store: one SQLite database in WAL mode through one GRDB `DatabasePool`.
///
/// Commits are durable before they return (`synchronous = FULL`). Intake's inserts go through
/// prepared statements and a cache of entity keys and links that are known to be committed, so a
/// batch of 1,000 events that mostly names known users and IPs writes little more than the events.
public final class SQLiteStore: Sendable {
    let pool: DatabasePool
    private let cache = Mutex(EntityCache())

    /// Opens (creating if needed) the database at `path` and migrates it to the current schema.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        try Schema.migrator.migrate(pool)
    }

    /// Whether the database answers a query.
    public func ping() async throws {
        _ = try await pool.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }
}

// MARK: - EventStore

extension SQLiteStore: EventStore {
    public func append(_ events: [IncomingEvent], receivedAt: Int64) async throws -> [AppendOutcome] {
        guard !events.isEmpty else { return [] }
        let known = cache.withLock { $0 }
        let (outcomes, staged) = try await pool.write { db in
            try Self.appendInTransaction(db, events, receivedAt: receivedAt, known: known)
        }
        cache.withLock { $0.merge(staged) }
        return outcomes
    }

    private static func appendInTransaction(
        _ db: Database, _ events: [IncomingEvent], receivedAt: Int64, known: EntityCache
    ) throws -> ([AppendOutcome], EntityCache.Staged) {
        let insertEvent = try RawStatement(db, """
            INSERT INTO event (seq, id, type, occurred_at, received_at, body) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO NOTHING
            """)
        let findEvent = try RawStatement(db, "SELECT seq, body FROM event WHERE id = ?")
        let upsertEntity = try RawStatement(db, """
            INSERT INTO entity (type, id, first_seen_at, first_seq) VALUES (?, ?, ?, ?)
            ON CONFLICT (type, id) DO UPDATE SET first_seen_at = min(first_seen_at, excluded.first_seen_at)
            RETURNING key, first_seen_at
            """)
        let lowerFirstSeen = try RawStatement(db, "UPDATE entity SET first_seen_at = ? WHERE key = ? AND first_seen_at > ?")
        let insertMention = try RawStatement(db, "INSERT INTO event_entity (entity, seq) VALUES (?, ?)")
        let insertLink = try RawStatement(db, "INSERT INTO entity_link (a, b, first_seq) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")

        var nextSeq = (try Int64.fetchOne(db, sql: "SELECT max(seq) FROM event") ?? 0) + 1
        var staged = EntityCache.Staged()
        var outcomes: [AppendOutcome] = []
        outcomes.reserveCapacity(events.count)
        var keys: [Int64] = []

        for event in events {
            let parsed = event.parsed
            insertEvent.reset()
            insertEvent.bind(1, nextSeq)
            insertEvent.bind(2, parsed.id)
            insertEvent.bind(3, parsed.type)
            insertEvent.bind(4, parsed.occurredAt)
            insertEvent.bind(5, receivedAt)
            insertEvent.bind(6, utf8: event.body)
            try insertEvent.step()
            guard insertEvent.changes == 1 else {
                findEvent.reset()
                findEvent.bind(1, parsed.id)
                guard try findEvent.step() else { throw StoreError.inconsistent("event \(parsed.id) conflicted but cannot be read") }
                let seq = findEvent.int64(0)
                let sameContent = JSONValue.parse(findEvent.text(1)) == JSONValue.parse(event.body)
                outcomes.append(sameContent ? .duplicate(seq: seq) : .conflict(seq: seq))
                continue
            }
            let seq = nextSeq
            nextSeq += 1
            outcomes.append(.accepted(seq: seq))

            keys.removeAll(keepingCapacity: true)
            for ref in parsed.involvedEntities {
                let key: Int64
                if let entry = staged.entities[ref] ?? known.entities[ref] {
                    key = entry.key
                    if parsed.occurredAt < entry.firstSeenAt {
                        lowerFirstSeen.reset()
                        lowerFirstSeen.bind(1, parsed.occurredAt)
                        lowerFirstSeen.bind(2, key)
                        lowerFirstSeen.bind(3, parsed.occurredAt)
                        try lowerFirstSeen.step()
                        staged.entities[ref] = .init(key: key, firstSeenAt: parsed.occurredAt)
                    }
                } else {
                    upsertEntity.reset()
                    upsertEntity.bind(1, ref.type)
                    upsertEntity.bind(2, ref.id)
                    upsertEntity.bind(3, parsed.occurredAt)
                    upsertEntity.bind(4, seq)
                    guard try upsertEntity.step() else { throw StoreError.inconsistent("entity \(ref) was not returned") }
                    key = upsertEntity.int64(0)
                    staged.entities[ref] = .init(key: key, firstSeenAt: upsertEntity.int64(1))
                    while try upsertEntity.step() {}
                }
                insertMention.reset()
                insertMention.bind(1, key)
                insertMention.bind(2, seq)
                try insertMention.step()
                keys.append(key)
            }

            for (offset, first) in keys.enumerated() {
                for second in keys[(offset + 1)...] {
                    let pair = EntityCache.Link(first, second)
                    guard !staged.links.contains(pair), !known.links.contains(pair) else { continue }
                    for (a, b) in [(first, second), (second, first)] {
                        insertLink.reset()
                        insertLink.bind(1, a)
                        insertLink.bind(2, b)
                        insertLink.bind(3, seq)
                        try insertLink.step()
                    }
                    staged.links.insert(pair)
                }
            }
        }
        return (outcomes, staged)
    }

    public func event(id: String) async throws -> StoredEvent? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT seq, id, type, occurred_at, received_at, body FROM event WHERE id = ?", arguments: [id])
                .map(StoredEvent.init(row:))
        }
    }

    public func events(after seq: Int64, limit: Int, type: String?) async throws -> [StoredEvent] {
        try await pool.read { db in
            let rows: [Row]
            if let type {
                rows = try Row.fetchAll(db, sql: """
                    SELECT seq, id, type, occurred_at, received_at, body FROM event
                    WHERE type = ? AND seq > ? ORDER BY seq LIMIT ?
                    """, arguments: [type, seq, limit])
            } else {
                rows = try Row.fetchAll(db, sql: """
                    SELECT seq, id, type, occurred_at, received_at, body FROM event WHERE seq > ? ORDER BY seq LIMIT ?
                    """, arguments: [seq, limit])
            }
            return rows.map(StoredEvent.init(row:))
        }
    }

    public func entity(_ ref: EntityRef, recentLimit: Int, linkLimit: Int) async throws -> EntityDetail? {
        try await pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT key, first_seen_at FROM entity WHERE type = ? AND id = ?",
                                             arguments: [ref.type, ref.id])
            else { return nil }
            let key: Int64 = row["key"]
            let eventCount = try Int.fetchOne(db, sql: "SELECT count(*) FROM event_entity WHERE entity = ?", arguments: [key]) ?? 0
            let recent = try Row.fetchAll(db, sql: """
                SELECT e.seq, e.id, e.type, e.occurred_at, e.received_at, e.body
                FROM event_entity m JOIN event e ON e.seq = m.seq
                WHERE m.entity = ? ORDER BY m.seq DESC LIMIT ?
                """, arguments: [key, recentLimit]).map(StoredEvent.init(row:))
            let links = try Row.fetchAll(db, sql: """
                SELECT n.type, n.id, l.first_seq FROM entity_link l JOIN entity n ON n.key = l.b
                WHERE l.a = ? ORDER BY l.first_seq DESC LIMIT ?
                """, arguments: [key, linkLimit]).map { row in
                    EntityDetail.Link(entity: EntityRef(type: row["type"], id: row["id"]), firstSeq: row["first_seq"])
                }
            return EntityDetail(ref: ref, firstSeenAt: row["first_seen_at"], eventCount: eventCount, recentEvents: recent, links: links)
        }
    }

    public func statistics() async throws -> StoreStatistics {
        try await pool.read { db in
            // Sequence numbers and entity keys are dense (nothing is ever deleted), so maxima are counts.
            let lastSeq = try Int64.fetchOne(db, sql: "SELECT max(seq) FROM event") ?? 0
            let entities = try Int.fetchOne(db, sql: "SELECT max(key) FROM entity") ?? 0
            return StoreStatistics(eventCount: Int(lastSeq), lastSeq: lastSeq, entityCount: entities)
        }
    }
}

// MARK: - TokenStore

extension SQLiteStore: TokenStore {
    public func insertToken(_ token: APITokenRecord) async throws {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO api_token (id, name, secret_hash, scopes, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [token.id, token.name, Data(token.secretHash), token.scopes.map(\.rawValue).joined(separator: " "),
                                 token.createdAt, token.revokedAt])
        }
    }

    public func token(secretHash: [UInt8]) async throws -> APITokenRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM api_token WHERE secret_hash = ?", arguments: [Data(secretHash)])
                .map(APITokenRecord.init(row:))
        }
    }

    public func tokens() async throws -> [APITokenRecord] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM api_token ORDER BY created_at, id").map(APITokenRecord.init(row:))
        }
    }

    public func revokeToken(id: String, at: Int64) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "UPDATE api_token SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", arguments: [at, id])
            return db.changesCount == 1
        }
    }
}

/// Failures of the store itself, as opposed to refused input.
public enum StoreError: Error, CustomStringConvertible {
    /// The database contradicts an invariant the store maintains.
    case inconsistent(String)

    public var description: String {
        switch self {
        case .inconsistent(let detail): "store invariant broken: \(detail)"
        }
    }
}

extension StoredEvent {
    init(row: Row) {
        let body: String = row["body"]
        self.init(seq: row["seq"], id: row["id"], type: row["type"], occurredAt: row["occurred_at"],
                  receivedAt: row["received_at"], body: Array(body.utf8))
    }
}

extension APITokenRecord {
    init(row: Row) {
        let hash: Data = row["secret_hash"]
        let scopes: String = row["scopes"]
        self.init(id: row["id"], name: row["name"], secretHash: Array(hash),
                  scopes: scopes.split(separator: " ").compactMap { Scope(rawValue: String($0)) },
                  createdAt: row["created_at"], revokedAt: row["revoked_at"])
    }
}
