import Foundation
import GRDB
import Synchronization
public import WardenCore

/// The embedded store: one SQLite database in WAL mode through one GRDB `DatabasePool`, and
/// beside it the entity graph's own database (`<name>-graph.sqlite`).
///
/// Commits are durable before they return (`synchronous = FULL`). Appending writes only the event
/// rows, through prepared statements; the entity graph is derived from the log by
/// ``indexEntities(limit:)``, a consumer with its own cursor (see `SQLiteStore+EntityIndex.swift`).
/// The graph lives in a file of its own so it has a writer of its own: SQLite takes one writer per
/// database, and indexing (several B-tree inserts per event) would otherwise queue intake's commits
/// behind it. The graph holds nothing but what the log implies: delete the file and it is rebuilt.
public final class SQLiteStore: Sendable {
    let pool: DatabasePool
    /// The entity graph: entities, mentions, links and the graph's cursor.
    let graph: DatabasePool
    /// The search index: events' text, derived from the log (see `SearchSchema`).
    let search: DatabasePool
    let cache = SharedEntityCache()
    /// Recent mentions that trigger a merge into the graph's main tables (see GraphSchema v2).
    let graphMergeRows: Int
    let graphMergeRuns: Int
    /// Group commit for review's small write transactions.
    let batcher: WriteBatcher

    /// Each read-only connection's page cache, in KiB (see `init`).
    static let readerCacheKiB = 2048
    /// WAL size (pages) at which a commit checkpoints by itself.
    static let backstopCheckpointPages = 50_000
    /// A separate connection per database for checkpoints (the log, the graph, search), so copying
    /// a WAL into its database never holds that database's writer: intake and the indexers keep
    /// committing meanwhile. The log's comes first.
    private let checkpointers: [DatabaseQueue]
    /// How often ``checkpoint(truncate:)`` copies the derived databases' WALs at most.
    let derivedCheckpointInterval: Duration
    /// When it last did.
    private let lastDerivedCheckpoint = Mutex<ContinuousClock.Instant?>(nil)
    /// Read-only connections for investigators' SQL (see `Investigator`).
    let investigator: Investigator

    /// Opens (creating if needed) the database at `path` and migrates it to the current schema.
    /// `graphMergeRows` is how many recent mentions the entity graph gathers before merging them,
    /// `graphMergeRuns` how many runs (indexer batches) at most, since a read seeks once per run;
    /// `derivedCheckpointInterval` how often ``checkpoint(truncate:)`` checkpoints the graph's and
    /// search's databases at most.
    public init(path: String, graphMergeRows: Int = 1_000_000, graphMergeRuns: Int = 32, derivedCheckpointInterval: Duration = .seconds(1)) throws {
        self.graphMergeRows = graphMergeRows
        self.graphMergeRuns = graphMergeRuns
        self.derivedCheckpointInterval = derivedCheckpointInterval
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            // Page caches are per connection, and a full one stays full for the life of the process.
            // The writer's holds the indexes commits touch. Readers mostly scan the log's tail, each
            // page once, and the OS caches the file for all of them, so each keeps 2 MiB (at 8 MiB the
            // five readers held 40 MiB of pages they would not read again).
            try db.execute(sql: "PRAGMA cache_size = \(db.configuration.readonly ? -Self.readerCacheKiB : -65536)")
            // Checkpoints run off the commit path (``checkpoint(truncate:)``, driven by the engine);
            // the automatic one, which would stall whichever commit crosses the threshold, is only
            // a backstop for processes that never call it.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = \(Self.backstopCheckpointPages)")
            try Self.keepWriterJournalsInMemory(db)
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        // The log's commits wait for the disk (`synchronous = FULL`: the WAL is fsynced at each
        // commit), so what intake and review acknowledge survives a power cut, not only a crash of
        // the process. Set here, on the pool's one writer, because GRDB turns WAL on after
        // `prepareDatabase` and sets `synchronous = NORMAL` as it does.
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        batcher = WriteBatcher(pool: pool)
        try Schema.migrator.migrate(pool)
        var graphConfiguration = Configuration()
        graphConfiguration.busyMode = .timeout(10)
        graphConfiguration.maximumReaderCount = 2
        graphConfiguration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // The writer's cache holds the mention and link B-trees' hot pages.
            try db.execute(sql: "PRAGMA cache_size = \(db.configuration.readonly ? -Self.readerCacheKiB : -49152)")
            // Checkpoints run off the indexer's commits, as the log's do; this is the backstop.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = \(Self.backstopCheckpointPages)")
        }
        graph = try DatabasePool(path: Self.graphPath(for: path), configuration: graphConfiguration)
        try GraphSchema.migrator.migrate(graph)
        var searchConfiguration = Configuration()
        searchConfiguration.busyMode = .timeout(10)
        searchConfiguration.maximumReaderCount = 4
        searchConfiguration.prepareDatabase { db in
            // Derived from the log with its cursor, as the graph is.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // The writer appends segments; merging reads them back, mostly recent ones.
            try db.execute(sql: "PRAGMA cache_size = \(db.configuration.readonly ? -Self.readerCacheKiB : -16384)")
            try db.execute(sql: "PRAGMA wal_autocheckpoint = \(Self.backstopCheckpointPages)")
        }
        search = try DatabasePool(path: Self.searchPath(for: path), configuration: searchConfiguration)
        try SearchSchema.migrator.migrate(search)
        var checkpointConfiguration = Configuration()
        checkpointConfiguration.busyMode = .timeout(10)
        checkpointers = try [path, Self.graphPath(for: path), Self.searchPath(for: path)].map { file in
            try DatabaseQueue(path: file, configuration: checkpointConfiguration)
        }
        investigator = try Investigator(path: path, graphPath: Self.graphPath(for: path))
    }

    /// The log's writer keeps its statement and savepoint journals (the pages a statement or
    /// savepoint first changes, kept to roll it back) in memory: by default SQLite moves them to a
    /// temporary file past 64 KiB, and the write batcher's savepoint per job inside one transaction
    /// of many jobs crossed that, so a profile of review at 500 decisions/s spent ~27 % of the
    /// decide writes in `pwrite` to that file. A job's journal is a few dozen pages. Readers (the
    /// SQL console's large sorts among them) keep SQLite's default of spilling to files, and so do
    /// the graph's and search's writers, whose merges rewrite pages by the hundred thousand in one
    /// statement and would hold a journal of them all in memory.
    static func keepWriterJournalsInMemory(_ db: Database) throws {
        if !db.configuration.readonly { try db.execute(sql: "PRAGMA temp_store = MEMORY") }
    }

    /// Copies committed WAL frames into each database file (the log's, the graph's, search's)
    /// without blocking readers or writers (`PASSIVE`), or, with `truncate`, waits for them and
    /// resets each WAL to zero bytes. Returns the log's WAL size in frames before the call.
    ///
    /// The graph's and search's databases are checkpointed at most once per
    /// ``derivedCheckpointInterval`` (except with `truncate`): their indexers commit a few large
    /// batches a second, each rewriting many of the same pages (the recent mentions' B-tree spreads a
    /// batch's inserts over most of its pages), so a checkpoint after every commit copied those
    /// pages into the file again and again; one a second copies each page once per second.
    @discardableResult
    public func checkpoint(truncate: Bool = false) async throws -> Int {
        let now = ContinuousClock.now
        let derivedToo = truncate || lastDerivedCheckpoint.withLock { last in
            guard last.map({ $0.duration(to: now) >= derivedCheckpointInterval }) ?? true else { return false }
            last = now
            return true
        }
        var logFrames = 0
        for (index, checkpointer) in checkpointers.enumerated() where index == 0 || derivedToo {
            let frames: Int = try await checkpointer.writeWithoutTransaction { db in
                let row = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(\(truncate ? "TRUNCATE" : "PASSIVE"))")
                return row?[1] ?? 0
            }
            if index == 0 { logFrames = frames }
        }
        return logFrames
    }

    /// Where the search index of the database at `path` lives.
    public static func searchPath(for path: String) -> String {
        let base = path.hasSuffix(".sqlite") ? String(path.dropLast(".sqlite".count)) : path
        return base + "-search.sqlite"
    }

    /// Where the entity graph of the database at `path` lives.
    public static func graphPath(for path: String) -> String {
        path.hasSuffix(".sqlite") ? String(path.dropLast(".sqlite".count)) + "-graph.sqlite" : path + "-graph"
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
        return try await pool.write { db in
            try Self.appendInTransaction(db, events, receivedAt: receivedAt)
        }
    }

    /// Appends event rows only; the entity graph follows through ``indexEntities(limit:)``.
    private static func appendInTransaction(_ db: Database, _ events: [IncomingEvent], receivedAt: Int64) throws -> [AppendOutcome] {
        let insertEvent = try RawStatement(db, """
            INSERT INTO event (seq, id, type, occurred_at, received_at, entities, body) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO NOTHING
            """)
        let findEvent = try RawStatement(db, "SELECT seq, body FROM event WHERE id = ?")
        // Received times never fall along the log (``EventStore/firstSeq(receivedSince:)`` relies on
        // it): a writer whose clock reads earlier than the last append's stamps that time instead.
        let last = try Row.fetchOne(db, sql: "SELECT seq, received_at FROM event ORDER BY seq DESC LIMIT 1")
        var nextSeq = (last?["seq"] as Int64? ?? 0) + 1
        let receivedAt = max(receivedAt, last?["received_at"] as Int64? ?? receivedAt)
        var outcomes: [AppendOutcome] = []
        outcomes.reserveCapacity(events.count)
        for event in events {
            let parsed = event.parsed
            insertEvent.reset()
            insertEvent.bind(1, nextSeq)
            insertEvent.bind(2, parsed.id)
            insertEvent.bind(3, parsed.type)
            insertEvent.bind(4, parsed.occurredAt)
            insertEvent.bind(5, receivedAt)
            insertEvent.bind(6, EntityList.encode(parsed.involvedEntities))
            try insertEvent.step(binding: 7, utf8: event.body)
            if insertEvent.changes == 1 {
                outcomes.append(.accepted(seq: nextSeq))
                nextSeq += 1
                continue
            }
            findEvent.reset()
            findEvent.bind(1, parsed.id)
            guard try findEvent.step() else { throw StoreError.inconsistent("event \(parsed.id) conflicted but cannot be read") }
            let seq = findEvent.int64(0)
            let sameContent = JSONValue.parse(findEvent.text(1)) == JSONValue.parse(event.body)
            outcomes.append(sameContent ? .duplicate(seq: seq) : .conflict(seq: seq))
        }
        return outcomes
    }

    public func event(id: String) async throws -> StoredEvent? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT seq, id, type, occurred_at, received_at, body FROM event WHERE id = ?", arguments: [id])
                .map(StoredEvent.init(row:))
        }
    }

    public func firstSeq(receivedSince time: Int64) async throws -> Int64? {
        try await pool.read { db in
            // A binary search over the primary key: received times rise with the log position.
            guard var high = try Int64.fetchOne(db, sql: "SELECT max(seq) FROM event"),
                  var low = try Int64.fetchOne(db, sql: "SELECT min(seq) FROM event") else { return nil }
            func received(atOrAfter seq: Int64) throws -> (seq: Int64, at: Int64)? {
                try Row.fetchOne(db, sql: "SELECT seq, received_at FROM event WHERE seq >= ? ORDER BY seq LIMIT 1", arguments: [seq]).map { ($0["seq"], $0["received_at"]) }
            }
            guard let last = try received(atOrAfter: high), last.at >= time else { return nil }
            while low < high {
                let middle = low + (high - low) / 2
                guard let found = try received(atOrAfter: middle) else { break }
                if found.at >= time { high = middle } else { low = found.seq + 1 }
            }
            return try received(atOrAfter: low)?.seq
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
        // The graph says which events name it; the log has the events.
        let found = try await graph.read { db -> (Int64, Int, [Int64], [EntityDetail.Link], Int64)? in
            guard let row = try Row.fetchOne(db, sql: "SELECT key, first_seen_at FROM entity WHERE type = ? AND id = ?",
                                             arguments: [ref.type, ref.id])
            else { return nil }
            let key: Int64 = row["key"]
            // Mentions are in `event_entity` and, since the last merge, `event_entity_recent`.
            let eventCount = try Int.fetchOne(db, sql: """
                SELECT (SELECT count(*) FROM event_entity WHERE entity = ?1) + (SELECT count(*) FROM (\(GraphSchema.recentMentions(of: "?1"))))
                """, arguments: [key]) ?? 0
            let seqs = try Int64.fetchAll(db, sql: """
                SELECT seq FROM (\(GraphSchema.recentMentions(of: "?1")) ORDER BY seq DESC LIMIT ?2)
                UNION ALL SELECT seq FROM (SELECT seq FROM event_entity WHERE entity = ?1 ORDER BY seq DESC LIMIT ?2)
                ORDER BY seq DESC LIMIT ?2
                """, arguments: [key, recentLimit])
            let links = try Row.fetchAll(db, sql: """
                SELECT n.type, n.id, l.first_seq
                FROM (SELECT b, min(first_seq) AS first_seq FROM (
                        SELECT b, first_seq FROM entity_link WHERE a = ?1 UNION ALL \(GraphSchema.recentLinks(from: "?1")))
                      GROUP BY b) l
                JOIN entity n ON n.key = l.b ORDER BY l.first_seq DESC LIMIT ?2
                """, arguments: [key, linkLimit]).map { row in
                    EntityDetail.Link(entity: EntityRef(type: row["type"], id: row["id"]), firstSeq: row["first_seq"])
                }
            return (row["first_seen_at"], eventCount, seqs, links, try GraphSchema.cursor(db))
        }
        guard let (firstSeenAt, eventCount, seqs, links, indexed) = found else { return nil }
        let recent = try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT seq, id, type, occurred_at, received_at, body FROM event WHERE seq IN (SELECT value FROM json_each(?)) ORDER BY seq DESC
                """, arguments: ["[" + seqs.map(String.init).joined(separator: ",") + "]"]).map(StoredEvent.init(row:))
        }
        return EntityDetail(ref: ref, firstSeenAt: firstSeenAt, eventCount: eventCount, recentEvents: recent, links: links, indexedThroughSeq: indexed)
    }

    public func statistics() async throws -> StoreStatistics {
        try await pool.read { db in
            // Sequence numbers are dense (nothing is ever deleted), so the maximum is the count.
            StoreStatistics(eventCount: Int(try Int64.fetchOne(db, sql: "SELECT max(seq) FROM event") ?? 0))
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
