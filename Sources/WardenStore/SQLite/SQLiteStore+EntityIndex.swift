import GRDB
import WardenCore

/// The `entities` column: an event's entities as `type:id` lines, actor first. Entity ids never
/// contain control characters (intake refuses them), so a newline separates them safely.
enum EntityList {
    static func encode(_ refs: [EntityRef]) -> String {
        // Appended in place: intake encodes every event's list, and interpolating each reference's
        // description and joining them was a tenth of its append.
        var text = ""
        text.reserveCapacity(refs.reduce(0) { $0 + $1.type.utf8.count + $1.id.utf8.count + 2 })
        for ref in refs {
            if !text.isEmpty { text += "\n" }
            text += ref.type
            text += ":"
            text += ref.id
        }
        return text
    }

    static func decode(_ text: [UInt8]) -> [EntityRef] {
        text.split(separator: UInt8(ascii: "\n")).compactMap { EntityRef(parsing: String(decoding: $0, as: UTF8.self)) }
    }
}

extension SQLiteStore {
    /// Brings the entity graph (entities, which events name them, links between entities that share
    /// an event) up to date with the log, at most `limit` events per call, in one transaction of the
    /// graph's database that also advances its cursor, so a crash and replay never doubles or skips
    /// an event. Callers are serialised by the graph's writer, which also reads the events.
    public func indexEntities(limit: Int) async throws -> EntityIndexProgress {
        let cache = self.cache
        let pool = self.pool
        let merge = (rows: graphMergeRows, runs: graphMergeRuns)
        // The graph is derived from the log and committed with its cursor: a commit the OS loses in
        // a power cut takes the cursor back with it and the events are indexed again, so the
        // graph's database runs with synchronous=NORMAL (still durable against a process crash).
        return try await graph.write { db in
            let cursor = try GraphSchema.cursor(db)
            let (rows, lastSeq) = try pool.read { log -> ([(seq: Int64, occurredAt: Int64, refs: [EntityRef])], Int64) in
                let readEvents = try RawStatement(log, "SELECT seq, occurred_at, entities FROM event WHERE seq > ? ORDER BY seq LIMIT ?")
                readEvents.bind(1, cursor)
                readEvents.bind(2, Int64(limit))
                var rows: [(seq: Int64, occurredAt: Int64, refs: [EntityRef])] = []
                rows.reserveCapacity(limit)
                while try readEvents.step() {
                    rows.append((readEvents.int64(0), readEvents.int64(1), EntityList.decode(readEvents.text(2))))
                }
                return (rows, try Int64.fetchOne(log, sql: "SELECT max(seq) FROM event") ?? 0)
            }
            // The cache learns this batch's keys and links as it goes, under its lock, which the graph's
            // writer queue already serialises. If the transaction rolls back it forgets everything (the
            // hook is registered before the first write), so it never holds a key the graph lacks; a
            // forgotten entry only costs an upsert later.
            db.afterNextTransaction(onCommit: { _ in }, onRollback: { _ in cache.withLock { $0.removeAll() } })
            let progress = try cache.withLock { known in
                try Self.index(rows, in: db, cursor: cursor, lastSeq: lastSeq, merge: merge, known: &known)
            }
            return progress
        }
    }

    /// How far the entity graph is behind the log.
    public func entityIndexStatus() async throws -> EntityIndexProgress {
        let indexed = try await graph.read { db in try GraphSchema.cursor(db) }
        let last = try await pool.read { db in try Int64.fetchOne(db, sql: "SELECT max(seq) FROM event") ?? 0 }
        return EntityIndexProgress(indexed: 0, indexedThroughSeq: indexed, lastSeq: last)
    }

    private static func index(_ rows: [(seq: Int64, occurredAt: Int64, refs: [EntityRef])], in db: Database, cursor: Int64, lastSeq: Int64,
                              merge: (rows: Int, runs: Int), known: inout EntityCache) throws -> EntityIndexProgress {
        let upsertEntity = try RawStatement(db, """
            INSERT INTO entity (type, id, first_seen_at, first_seq) VALUES (?, ?, ?, ?)
            ON CONFLICT (type, id) DO UPDATE SET first_seen_at = min(first_seen_at, excluded.first_seen_at)
            RETURNING key, first_seen_at
            """)
        let lowerFirstSeen = try RawStatement(db, "UPDATE entity SET first_seen_at = ? WHERE key = ? AND first_seen_at > ?")

        var mentions: [Mention] = []
        var links: [Link] = []
        var keys: [Int64] = []
        var indexed = 0
        var through = cursor
        for row in rows {
            indexed += 1
            through = row.seq
            keys.removeAll(keepingCapacity: true)
            for ref in row.refs {
                let key: Int64
                if let entry = known.entities[ref] {
                    key = entry.key
                    if row.occurredAt < entry.firstSeenAt {
                        lowerFirstSeen.reset()
                        lowerFirstSeen.bind(1, row.occurredAt)
                        lowerFirstSeen.bind(2, key)
                        lowerFirstSeen.bind(3, row.occurredAt)
                        try lowerFirstSeen.step()
                        known.entities[ref] = .init(key: key, firstSeenAt: row.occurredAt)
                    }
                } else {
                    upsertEntity.reset()
                    upsertEntity.bind(1, ref.type)
                    upsertEntity.bind(2, ref.id)
                    upsertEntity.bind(3, row.occurredAt)
                    upsertEntity.bind(4, row.seq)
                    guard try upsertEntity.step() else { throw StoreError.inconsistent("entity \(ref) was not returned") }
                    key = upsertEntity.int64(0)
                    known.remember(ref, .init(key: key, firstSeenAt: upsertEntity.int64(1)))
                    while try upsertEntity.step() {}
                }
                mentions.append(Mention(key, row.seq))
                keys.append(key)
            }
            for (offset, first) in keys.enumerated() {
                for second in keys[(offset + 1)...] {
                    guard known.remember(EntityCache.Link(first, second)) else { continue }
                    links.append(Link(first, second, row.seq))
                    links.append(Link(second, first, row.seq))
                }
            }
        }

        // The batch is one run of the recent tables, named by its first event: its rows sort after
        // every earlier run's, so they fill new pages at the end of each B-tree (GraphSchema v3), and
        // in key order within the run.
        if let run = rows.first?.seq, !mentions.isEmpty {
            mentions.sort()
            try RawStatement.insertRows(db, "INSERT INTO event_entity_recent (run, entity, seq)", columns: 3, count: mentions.count) { insert, row, parameter in
                insert.bind(parameter, run)
                insert.bind(parameter + 1, mentions[row].entity)
                insert.bind(parameter + 2, mentions[row].seq)
            }
            links.sort()
            try RawStatement.insertRows(db, "INSERT INTO entity_link_recent (run, a, b, first_seq)", columns: 4, tail: " ON CONFLICT DO NOTHING",
                                        count: links.count) { insert, row, parameter in
                insert.bind(parameter, run)
                insert.bind(parameter + 1, links[row].a)
                insert.bind(parameter + 2, links[row].b)
                insert.bind(parameter + 3, links[row].seq)
            }
            try db.execute(sql: "INSERT INTO graph_run (run) VALUES (?)", arguments: [run])
        }
        if indexed > 0 {
            try db.execute(sql: "UPDATE graph_cursor SET seq = ?, recent_rows = recent_rows + ? WHERE id = 1", arguments: [through, mentions.count])
            let recent = try Int.fetchOne(db, sql: "SELECT recent_rows FROM graph_cursor WHERE id = 1") ?? 0
            let runs = try Int.fetchOne(db, sql: "SELECT count(*) FROM graph_run") ?? 0
            if recent >= merge.rows || runs >= merge.runs {
                // In key order: each entity's last page is read and written once for the whole merge.
                // A link in more than one run (the entity cache forgot it) keeps its first event.
                try db.execute(sql: """
                    INSERT INTO event_entity (entity, seq) SELECT entity, seq FROM event_entity_recent ORDER BY entity, seq;
                    DELETE FROM event_entity_recent;
                    INSERT INTO entity_link (a, b, first_seq) SELECT a, b, min(first_seq) FROM entity_link_recent WHERE true GROUP BY a, b ORDER BY a, b
                        ON CONFLICT (a, b) DO UPDATE SET first_seq = min(first_seq, excluded.first_seq);
                    DELETE FROM entity_link_recent;
                    DELETE FROM graph_run;
                    UPDATE graph_cursor SET recent_rows = 0 WHERE id = 1;
                    """)
            }
        }
        return EntityIndexProgress(indexed: indexed, indexedThroughSeq: through, lastSeq: max(lastSeq, through))
    }
}

/// An `event_entity` row.
private struct Mention: Comparable {
    var entity: Int64
    var seq: Int64
    init(_ entity: Int64, _ seq: Int64) {
        self.entity = entity
        self.seq = seq
    }
    static func < (lhs: Mention, rhs: Mention) -> Bool { (lhs.entity, lhs.seq) < (rhs.entity, rhs.seq) }
}

/// An `entity_link` row.
private struct Link: Comparable {
    var a: Int64
    var b: Int64
    var seq: Int64
    init(_ a: Int64, _ b: Int64, _ seq: Int64) {
        self.a = a
        self.b = b
        self.seq = seq
    }
    static func < (lhs: Link, rhs: Link) -> Bool { (lhs.a, lhs.b) < (rhs.a, rhs.b) }
}

