import Foundation
import Logging
import PostgresNIO
public import WardenCore

// MARK: - EventStore

extension PostgresStore: EventStore {
    /// Appends in one transaction that first locks `log_head`: appends from every node commit one
    /// at a time, each taking the sequence numbers after the last, so the log stays dense and a
    /// consumer that has read `seq` n never finds an n − 1 committed later. Received times are
    /// kept rising with the log (a node whose clock is behind stamps the last time instead), as
    /// ``firstSeq(receivedSince:)`` relies on.
    public func append(_ events: [IncomingEvent], receivedAt: Int64) async throws -> [AppendOutcome] {
        guard !events.isEmpty else { return [] }
        let logger = self.logger
        return try await transaction { connection in
            let head = try await connection.rows("SELECT seq, received_at FROM log_head WHERE id = 1 FOR UPDATE", logger: logger)
            guard let (lastSeq, lastReceived) = try head.first?.decode((Int64, Int64).self) else {
                throw StoreError.inconsistent("the log has no head row")
            }
            let received = max(receivedAt, lastReceived)
            var known: [String: (seq: Int64, body: [UInt8])] = [:]
            let ids = Array(Set(events.map(\.parsed.id)))
            for try await (id, seq, body) in try await connection.query(
                "SELECT id, seq, body FROM event WHERE id = ANY(\(ids))", logger: logger).decode((String, Int64, String).self) {
                known[id] = (seq, Array(body.utf8))
            }
            var next = lastSeq + 1
            var outcomes: [AppendOutcome] = []
            outcomes.reserveCapacity(events.count)
            var seqs: [Int64] = [], newIDs: [String] = [], types: [String] = [], occurred: [Int64] = [], entities: [String] = [], bodies: [String] = []
            for event in events {
                let parsed = event.parsed
                if let stored = known[parsed.id] {
                    let same = JSONValue.parse(stored.body) == JSONValue.parse(event.body)
                    outcomes.append(same ? .duplicate(seq: stored.seq) : .conflict(seq: stored.seq))
                    continue
                }
                known[parsed.id] = (next, event.body)
                seqs.append(next)
                newIDs.append(parsed.id)
                types.append(parsed.type)
                occurred.append(parsed.occurredAt)
                entities.append(EntityList.encode(parsed.involvedEntities))
                bodies.append(String(decoding: event.body, as: UTF8.self))
                outcomes.append(.accepted(seq: next))
                next += 1
            }
            if !seqs.isEmpty {
                try await connection.query("""
                    INSERT INTO event (seq, id, type, occurred_at, received_at, entities, body)
                    SELECT s, i, t, o, \(received), e, b FROM unnest(\(seqs), \(newIDs), \(types), \(occurred), \(entities), \(bodies)) AS u(s, i, t, o, e, b)
                    """, logger: logger)
                try await connection.query("UPDATE log_head SET seq = \(next - 1), received_at = \(received) WHERE id = 1", logger: logger)
            }
            return outcomes
        }
    }

    public func event(id: String) async throws -> StoredEvent? {
        try await rows("SELECT seq, id, type, occurred_at, received_at, body FROM event WHERE id = \(id)").first.map(StoredEvent.init(postgres:))
    }

    public func events(after seq: Int64, limit: Int, type: String?) async throws -> [StoredEvent] {
        let found: [PostgresRow]
        if let type {
            found = try await rows("""
                SELECT seq, id, type, occurred_at, received_at, body FROM event WHERE type = \(type) AND seq > \(seq) ORDER BY seq LIMIT \(limit)
                """)
        } else {
            found = try await rows("SELECT seq, id, type, occurred_at, received_at, body FROM event WHERE seq > \(seq) ORDER BY seq LIMIT \(limit)")
        }
        return try found.map(StoredEvent.init(postgres:))
    }

    /// Received times rise with the log (``append(_:receivedAt:)``), so a BRIN index over them
    /// finds the first position from the log's tail blocks.
    public func firstSeq(receivedSince time: Int64) async throws -> Int64? {
        try await rows("SELECT min(seq) FROM event WHERE received_at >= \(time)").first?.decode(Int64?.self)
    }

    public func entity(_ ref: EntityRef, recentLimit: Int, linkLimit: Int) async throws -> EntityDetail? {
        let logger = self.logger
        return try await transaction { connection -> EntityDetail? in
            guard let (key, firstSeenAt) = try await connection.rows(
                "SELECT key, first_seen_at FROM entity WHERE type = \(ref.type) AND id = \(ref.id)", logger: logger
            ).first?.decode((Int64, Int64).self) else { return nil }
            let count = try await connection.rows("SELECT count(*) FROM event_entity WHERE entity = \(key)", logger: logger)
                .first?.decode(Int64.self) ?? 0
            let recent = try await connection.rows("""
                SELECT e.seq, e.id, e.type, e.occurred_at, e.received_at, e.body
                FROM (SELECT seq FROM event_entity WHERE entity = \(key) ORDER BY seq DESC LIMIT \(recentLimit)) m
                JOIN event e ON e.seq = m.seq ORDER BY e.seq DESC
                """, logger: logger).map(StoredEvent.init(postgres:))
            let links = try await connection.rows("""
                SELECT n.type, n.id, l.first_seq FROM entity_link l JOIN entity n ON n.key = l.b
                WHERE l.a = \(key) ORDER BY l.first_seq DESC, l.b DESC LIMIT \(linkLimit)
                """, logger: logger).map { row in
                    let (type, id, firstSeq) = try row.decode((String, String, Int64).self)
                    return EntityDetail.Link(entity: EntityRef(type: type, id: id), firstSeq: firstSeq)
                }
            let indexed = try await connection.rows("SELECT seq FROM graph_cursor WHERE id = 1", logger: logger).first?.decode(Int64.self) ?? 0
            return EntityDetail(ref: ref, firstSeenAt: firstSeenAt, eventCount: Int(count), recentEvents: recent, links: links,
                                indexedThroughSeq: indexed)
        }
    }

    /// Sequence numbers are dense, so the head's is the count.
    public func statistics() async throws -> StoreStatistics {
        let last = try await rows("SELECT seq FROM log_head WHERE id = 1").first?.decode(Int64.self) ?? 0
        return StoreStatistics(eventCount: Int(last))
    }

    /// PostgreSQL checkpoints by itself; there is nothing pending to move.
    @discardableResult
    public func checkpoint(truncate: Bool) async throws -> Int { 0 }

    // MARK: The entity graph

    /// Brings the entity graph up to date with the log by at most `limit` events, in one transaction
    /// that locks the graph's cursor first: on several nodes, one indexes at a time and the others
    /// wait for its commit and go on from where it stopped, so an event is never indexed twice or
    /// skipped. Events are indexed in log order, so a link that exists already has the smaller
    /// `first_seq`.
    public func indexEntities(limit: Int) async throws -> EntityIndexProgress {
        let logger = self.logger
        return try await transaction { connection in
            guard let cursor = try await connection.rows("SELECT seq FROM graph_cursor WHERE id = 1 FOR UPDATE", logger: logger)
                .first?.decode(Int64.self) else { throw StoreError.inconsistent("the entity graph has no cursor row") }
            var rows: [(seq: Int64, occurredAt: Int64, refs: [EntityRef])] = []
            for try await (seq, occurredAt, entities) in try await connection.query(
                "SELECT seq, occurred_at, entities FROM event WHERE seq > \(cursor) ORDER BY seq LIMIT \(limit)", logger: logger
            ).decode((Int64, Int64, String).self) {
                rows.append((seq, occurredAt, EntityList.decode(Array(entities.utf8))))
            }
            let lastSeq = try await connection.rows("SELECT seq FROM log_head WHERE id = 1", logger: logger).first?.decode(Int64.self) ?? 0
            guard let through = rows.last?.seq else {
                return EntityIndexProgress(indexed: 0, indexedThroughSeq: cursor, lastSeq: lastSeq)
            }
            // Each entity once, with the earliest time and first event of the batch that name it.
            var first: [EntityRef: (occurredAt: Int64, seq: Int64)] = [:]
            for row in rows {
                for ref in row.refs {
                    if let seen = first[ref] {
                        if row.occurredAt < seen.occurredAt { first[ref] = (row.occurredAt, seen.seq) }
                    } else {
                        first[ref] = (row.occurredAt, row.seq)
                    }
                }
            }
            let refs = Array(first.keys)
            var keys: [EntityRef: Int64] = [:]
            var lowered: (keys: [Int64], times: [Int64]) = ([], [])
            for try await (key, type, id, firstSeenAt) in try await connection.query("""
                SELECT e.key, e.type, e.id, e.first_seen_at FROM entity e
                JOIN unnest(\(refs.map(\.type)), \(refs.map(\.id))) AS u(type, id) ON e.type = u.type AND e.id = u.id
                """, logger: logger).decode((Int64, String, String, Int64).self) {
                let ref = EntityRef(type: type, id: id)
                keys[ref] = key
                if let earliest = first[ref]?.occurredAt, earliest < firstSeenAt {
                    lowered.keys.append(key)
                    lowered.times.append(earliest)
                }
            }
            let fresh = refs.filter { keys[$0] == nil }
            if !fresh.isEmpty {
                for try await (key, type, id) in try await connection.query("""
                    INSERT INTO entity (type, id, first_seen_at, first_seq)
                    SELECT * FROM unnest(\(fresh.map(\.type)), \(fresh.map(\.id)), \(fresh.map { first[$0]!.occurredAt }), \(fresh.map { first[$0]!.seq }))
                    RETURNING key, type, id
                    """, logger: logger).decode((Int64, String, String).self) {
                    keys[EntityRef(type: type, id: id)] = key
                }
            }
            if !lowered.keys.isEmpty {
                try await connection.query("""
                    UPDATE entity SET first_seen_at = u.t FROM unnest(\(lowered.keys), \(lowered.times)) AS u(k, t)
                    WHERE entity.key = u.k AND entity.first_seen_at > u.t
                    """, logger: logger)
            }
            var mentions: (entities: [Int64], seqs: [Int64]) = ([], [])
            var links: [EntityPair: Int64] = [:]
            var eventKeys: [Int64] = []
            for row in rows {
                eventKeys.removeAll(keepingCapacity: true)
                for ref in row.refs {
                    guard let key = keys[ref] else { throw StoreError.inconsistent("entity \(ref) has no key") }
                    mentions.entities.append(key)
                    mentions.seqs.append(row.seq)
                    eventKeys.append(key)
                }
                for (offset, a) in eventKeys.enumerated() {
                    for b in eventKeys[(offset + 1)...] where a != b {
                        let pair = EntityPair(a: a, b: b)
                        if links[pair] == nil { links[pair] = row.seq }
                    }
                }
            }
            try await connection.query("""
                INSERT INTO event_entity (entity, seq) SELECT * FROM unnest(\(mentions.entities), \(mentions.seqs)) ORDER BY 1, 2
                ON CONFLICT DO NOTHING
                """, logger: logger)
            if !links.isEmpty {
                var a: [Int64] = [], b: [Int64] = [], seqs: [Int64] = []
                for (pair, seq) in links {
                    a.append(pair.a); b.append(pair.b); seqs.append(seq)
                    a.append(pair.b); b.append(pair.a); seqs.append(seq)
                }
                try await connection.query("""
                    INSERT INTO entity_link (a, b, first_seq) SELECT * FROM unnest(\(a), \(b), \(seqs)) ORDER BY 1, 2
                    ON CONFLICT (a, b) DO NOTHING
                    """, logger: logger)
            }
            try await connection.query("UPDATE graph_cursor SET seq = \(through) WHERE id = 1", logger: logger)
            return EntityIndexProgress(indexed: rows.count, indexedThroughSeq: through, lastSeq: max(lastSeq, through))
        }
    }

    public func entityIndexStatus() async throws -> EntityIndexProgress {
        guard let row = try await rows("SELECT (SELECT seq FROM graph_cursor WHERE id = 1), (SELECT seq FROM log_head WHERE id = 1)").first
        else { throw StoreError.inconsistent("the log's head or the graph's cursor is missing") }
        let (indexed, last) = try row.decode((Int64, Int64).self)
        return EntityIndexProgress(indexed: 0, indexedThroughSeq: indexed, lastSeq: last)
    }
}

/// Two entities that shared an event, smaller key first.
private struct EntityPair: Hashable {
    var a: Int64
    var b: Int64
    init(a: Int64, b: Int64) {
        self.a = min(a, b)
        self.b = max(a, b)
    }
}

extension StoredEvent {
    init(postgres row: PostgresRow) throws {
        let (seq, id, type, occurredAt, receivedAt, body) = try row.decode((Int64, String, String, Int64, Int64, String).self)
        self.init(seq: seq, id: id, type: type, occurredAt: occurredAt, receivedAt: receivedAt, body: Array(body.utf8))
    }
}
