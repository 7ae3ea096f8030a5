import Foundation
import GRDB
import Testing
import WardenCore
import WardenIncidents
import WardenReview
@testable import WardenStore

let schema = EventSchema(reportReasons: ["spam"])

func incoming(_ text: String) throws -> IncomingEvent {
    let bytes = Array(text.utf8)
    let parsed = try bytes.withUnsafeBufferPointer { buffer throws(EventError) in try schema.parse(buffer, now: 1_795_428_000_000) }
    return IncomingEvent(parsed: parsed, body: bytes)
}

func event(_ id: String, actor: String = "u1", ip: String = "203.0.113.7", at time: String = "2026-11-23T10:00:00Z", text: String = "hi") throws -> IncomingEvent {
    try incoming(#"{"id":"\#(id)","type":"message.sent","occurred_at":"\#(time)","actor":{"type":"user","id":"\#(actor)"},"entities":{"ip":"\#(ip)"},"data":{"text":"\#(text)"}}"#)
}

/// A store in a fresh temporary directory, removed afterwards.
func withStore<T>(_ body: (SQLiteStore, String) async throws -> T) async throws -> T {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warden-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("warden.sqlite").path
    return try await body(try SQLiteStore(path: path), path)
}

/// Every entity, mention and link of a store's graph as sorted lines, merged and recent alike.
func graphDump(_ store: SQLiteStore) async throws -> [String] {
    try await store.graph.read { db in
        try String.fetchAll(db, sql: """
            SELECT 'e' || type || ':' || id || '@' || first_seen_at || '#' || first_seq FROM entity
            UNION ALL SELECT 'm' || entity || ':' || seq FROM event_entity
            UNION ALL SELECT 'm' || entity || ':' || seq FROM event_entity_recent
            UNION ALL SELECT 'l' || a || '-' || b || ':' || min(first_seq)
                FROM (SELECT a, b, first_seq FROM entity_link UNION ALL SELECT a, b, first_seq FROM entity_link_recent) GROUP BY a, b
            """).sorted()
    }
}

@Suite struct SQLiteStoreTests {
    /// The log's writer commits with `synchronous = FULL` (the WAL fsynced at every commit), and
    /// stays so after detection's commit, which skips the fsync for itself; the derived graph and
    /// search databases commit with `NORMAL`. (GRDB sets `NORMAL` on a pool's writer when it turns
    /// WAL on, after the connection's own setup ran: this test failed until the store set it after.)
    @Test func theLogsCommitsWaitForTheDisk() async throws {
        try await withStore { store, _ in
            let full = 2, normal = 1
            #expect(try await store.pool.write { try Int.fetchOne($0, sql: "PRAGMA synchronous") } == full)
            try await store.commitDetection(DetectionBatch(throughSeq: 0))
            #expect(try await store.pool.write { try Int.fetchOne($0, sql: "PRAGMA synchronous") } == full)
            #expect(try await store.graph.write { try Int.fetchOne($0, sql: "PRAGMA synchronous") } == normal)
            #expect(try await store.search.write { try Int.fetchOne($0, sql: "PRAGMA synchronous") } == normal)
        }
    }

    /// Review's group commit: many concurrent writes each get their own answer (one that throws
    /// rolls back alone), every answered write is in the database, and the writer still commits
    /// with `synchronous = FULL`.
    @Test func batchedWritesAnswerEachCaller() async throws {
        try await withStore { store, _ in
            try await store.pool.write { try $0.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)") }
            let results = try await withThrowingTaskGroup(of: (Int, Int?).self) { group in
                for index in 0..<300 {
                    group.addTask {
                        do {
                            return (index, try await store.batcher.write { db -> Int in
                                if index % 50 == 7 { throw StoreError.inconsistent("refused \(index)") }
                                try db.execute(sql: "INSERT INTO t (id, v) VALUES (?, ?)", arguments: [index, "v\(index)"])
                                return index * 2
                            })
                        } catch StoreError.inconsistent {
                            return (index, nil)
                        }
                    }
                }
                return try await group.reduce(into: [Int: Int?]()) { $0[$1.0] = $1.1 }
            }
            #expect(results.count == 300)
            for (index, answer) in results { #expect(answer == (index % 50 == 7 ? nil : index * 2)) }
            let stored = try await store.pool.read { try Int.fetchAll($0, sql: "SELECT id FROM t ORDER BY id") }
            #expect(stored == (0..<300).filter { $0 % 50 != 7 })
            #expect(try await store.pool.write { try Int.fetchOne($0, sql: "PRAGMA synchronous") } == 2)
        }
    }

    /// Live strikes count the policy's own and its sub-policies' by the name's bytes, as
    /// PostgreSQL's `starts_with` does: `spam` counts `spam` and `spam.links`, never `spammer`,
    /// `spam-v1`, `spam/x` or `SPAM.links`; expired and removed strikes are not live. (The count
    /// reads a range, not a `LIKE`, so its cached statement is not prepared again on every call.)
    @Test func liveStrikesCountThePolicyAndItsSubPolicies() async throws {
        try await withStore { store, _ in
            try await store.pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA foreign_keys = OFF")
                let strikes: [(String, String, Int64, Int64?)] = [
                    ("user:u1", "spam", 100, nil), ("user:u1", "spam.links", 100, nil), ("user:u1", "spam.links.dm", 100, nil),
                    ("user:u1", "spammer", 100, nil), ("user:u1", "spam-v1", 100, nil), ("user:u1", "spam/x", 100, nil),
                    ("user:u1", "SPAM.links", 100, nil), ("user:u1", "spa", 100, nil), ("user:u1", "spam.old", 5, nil),
                    ("user:u1", "spam.removed", 100, 7), ("user:u2", "spam", 100, nil),
                ]
                for (index, strike) in strikes.enumerated() {
                    try db.execute(sql: "INSERT INTO strike (subject, policy, decision_id, at, expires_at, removed_at) VALUES (?, ?, ?, 1, ?, ?)",
                                   arguments: [strike.0, strike.1, index + 1, strike.2, strike.3])
                }
                try db.execute(sql: "PRAGMA foreign_keys = ON")
            }
            #expect(try await store.liveStrikes(subject: "user:u1", policy: "spam", now: 10) == 3)
            #expect(try await store.liveStrikes(subject: "user:u1", policy: "spam.links", now: 10) == 2)
            #expect(try await store.liveStrikes(subject: "user:u1", policy: "spammer", now: 10) == 1)
            #expect(try await store.liveStrikes(subject: "user:u1", policy: "fraud", now: 10) == 0)
            #expect(try await store.liveStrikes(subject: "user:u2", policy: "spam", now: 10) == 1)
            #expect(try await store.liveStrikes(subject: "user:u1", policy: "spam", now: 100) == 0)
        }
    }

    @Test func theLogIsAppendOnlyInTheDatabaseItself() async throws {
        try await withStore { store, _ in
            _ = try await store.append([try event("e1")], receivedAt: 5)
            await #expect(throws: DatabaseError.self) { try await store.pool.write { try $0.execute(sql: "DELETE FROM event") } }
            await #expect(throws: DatabaseError.self) { try await store.pool.write { try $0.execute(sql: "UPDATE event SET type = 'x'") } }
            await #expect(throws: DatabaseError.self) {
                try await store.pool.write { try $0.execute(sql: "INSERT INTO event (id, type, occurred_at, received_at, body) VALUES ('', 'x', 1, 1, '{}')") }
            }
            // The graph's own constraints: a link to itself, a mention before the first event.
            await #expect(throws: DatabaseError.self) {
                try await store.graph.write { try $0.execute(sql: "INSERT INTO entity_link (a, b, first_seq) VALUES (7, 7, 1)") }
            }
            await #expect(throws: DatabaseError.self) {
                try await store.graph.write { try $0.execute(sql: "INSERT INTO event_entity (entity, seq) VALUES (1, 0)") }
            }
            #expect(try await store.statistics().eventCount == 1)
        }
    }

    /// The graph's database holds only what the log implies: without it, it is rebuilt the same.
    @Test func theGraphIsRebuiltFromTheLogWhenItsFileIsGone() async throws {
        try await withStore { store, path in
            _ = try await store.append([try event("e1"), try event("e2", actor: "u2")], receivedAt: 5)
            _ = try await store.indexEntities(limit: 100)
            let before = try await store.entity(EntityRef(type: "ip", id: "203.0.113.7"), recentLimit: 5, linkLimit: 5)
            let graphPath = SQLiteStore.graphPath(for: path)
            #expect(graphPath.hasSuffix("warden-graph.sqlite"))
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: graphPath + suffix) }
            let reopened = try SQLiteStore(path: path)
            #expect(try await reopened.entityIndexStatus().lag == 2)
            #expect(try await reopened.entity(EntityRef(type: "ip", id: "203.0.113.7"), recentLimit: 5, linkLimit: 5) == nil)
            _ = try await reopened.indexEntities(limit: 100)
            let after = try await reopened.entity(EntityRef(type: "ip", id: "203.0.113.7"), recentLimit: 5, linkLimit: 5)
            #expect(after?.eventCount == 2 && after?.eventCount == before?.eventCount)
            #expect(after?.links.map(\.entity) == before?.links.map(\.entity))
            #expect(after?.recentEvents.map(\.seq) == [2, 1])
        }
    }

    @Test func theEntityIndexIsTheSameHoweverItIsBatched() async throws {
        func graph(_ batch: Int, mergeRows: Int = 1_000_000) async throws -> [String] {
            try await withStore { _, path in
                let store = try SQLiteStore(path: path, graphMergeRows: mergeRows)
                var events: [IncomingEvent] = []
                for index in 0..<60 {
                    events.append(try event("e\(index)", actor: "u\(index % 7)", ip: "203.0.113.\(index % 5)", at: "2026-11-23T10:\(10 + index % 40):00Z"))
                }
                _ = try await store.append(events, receivedAt: 1)
                while try await store.indexEntities(limit: batch).indexed > 0 {}
                #expect(try await store.indexEntities(limit: batch).indexed == 0)
                return try await graphDump(store)
            }
        }
        let whole = try await graph(1000)
        #expect(whole.count > 100)
        #expect(try await graph(1) == whole)
        #expect(try await graph(7) == whole)
        // Merging recent mentions and links into the main tables changes nothing either.
        #expect(try await graph(7, mergeRows: 20) == whole)
        #expect(try await graph(1, mergeRows: 5) == whole)
    }

    /// A batch whose transaction rolls back leaves nothing behind, in the graph's database or in the
    /// entity cache the indexer fills as it writes: the retry writes every entity and link again.
    @Test func aRolledBackBatchLeavesTheEntityCacheEmpty() async throws {
        var events: [IncomingEvent] = []
        for index in 0..<40 {
            events.append(try event("e\(index)", actor: "u\(index % 7)", ip: "203.0.113.\(index % 5)", at: "2026-11-23T10:\(10 + index % 40):00Z"))
        }
        let whole = try await withStore { store, _ in
            _ = try await store.append(events, receivedAt: 1)
            while try await store.indexEntities(limit: 15).indexed > 0 {}
            return try await graphDump(store)
        }
        let retried = try await withStore { store, _ in
            _ = try await store.append(events, receivedAt: 1)
            _ = try await store.indexEntities(limit: 15)
            // The second batch fails at its last statement, after its entities and links were learned.
            try await store.graph.write { db in
                try db.execute(sql: "CREATE TRIGGER injected BEFORE UPDATE ON graph_cursor WHEN NEW.seq > 15 BEGIN SELECT RAISE(ABORT, 'injected'); END")
            }
            await #expect(throws: DatabaseError.self) { try await store.indexEntities(limit: 15) }
            #expect(store.cache.withLock { $0.entities.isEmpty && $0.links.isEmpty })
            try await store.graph.write { db in try db.execute(sql: "DROP TRIGGER injected") }
            while try await store.indexEntities(limit: 15).indexed > 0 {}
            return try await graphDump(store)
        }
        #expect(retried.count > 50)
        #expect(retried == whole)
    }

    /// The log's WAL is checkpointed on every call, the graph's at most once per interval, and
    /// every WAL on a truncating call. Read from each database's WAL index (the `-shm` file, whose
    /// layout SQLite documents): frames in the WAL (`mxFrame`, byte 16) against frames copied back
    /// into the database (`nBackfill`, byte 96).
    @Test func theGraphsWALIsCheckpointedLessOftenThanTheLogs() async throws {
        try await withStore { _, path in
            let store = try SQLiteStore(path: path, derivedCheckpointInterval: .seconds(3600))
            func frames(_ database: String) throws -> (inWAL: UInt32, copied: UInt32) {
                let header = try Data(contentsOf: URL(fileURLWithPath: database + "-shm")).prefix(100)
                func word(_ offset: Int) -> UInt32 { header.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt32.self) } }
                return (word(16), word(96))
            }
            let graph = SQLiteStore.graphPath(for: path)
            _ = try await store.append([try event("e1")], receivedAt: 1)
            _ = try await store.indexEntities(limit: 100)
            try await store.checkpoint()
            // Within the interval: the log's new frames are copied, the graph's are not.
            _ = try await store.append([try event("e2", actor: "u2")], receivedAt: 2)
            _ = try await store.indexEntities(limit: 100)
            try await store.checkpoint()
            let log = try frames(path), derived = try frames(graph)
            #expect(log.inWAL > 0 && log.copied == log.inWAL)
            #expect(derived.inWAL > derived.copied)
            // Truncating empties every WAL.
            try await store.checkpoint(truncate: true)
            #expect(try frames(graph).inWAL == 0 && frames(path).inWAL == 0)
        }
    }

    /// Alert series count the log in passes of at most `batch` items, each counted once however the
    /// passes fall; a pass with nothing new writes nothing.
    @Test func alertSeriesCountEveryEventOnceAcrossPasses() async throws {
        try await withStore { store, _ in
            _ = try await store.append((1...5).map { try event("a\($0)") }, receivedAt: 60_000 * 3 + 5)
            _ = try await store.append([try incoming(#"{"id":"s1","type":"user.signup","occurred_at":"2026-11-23T10:00:00Z","actor":{"type":"user","id":"u9"}}"#)],
                                       receivedAt: 60_000 * 4)
            _ = try await store.append((6...7).map { try event("a\($0)") }, receivedAt: 60_000 * 4 + 1)
            var passes = 0
            while try await store.recordSeries(batch: 3) > 0 { passes += 1 }
            #expect(passes >= 3)
            #expect(try await store.recordSeries(batch: 3) == 0)
            let buckets = try await store.seriesBuckets(.events, after: 0, through: 10)
            #expect(buckets == [SeriesCount(minute: 3, key: "message.sent", count: 5), SeriesCount(minute: 4, key: "message.sent", count: 2),
                                SeriesCount(minute: 4, key: "user.signup", count: 1)])
        }
    }

    /// Reads see mentions and links whether merged or still recent.
    @Test func entityReadsSeeMergedAndRecentMentions() async throws {
        try await withStore { _, path in
            let store = try SQLiteStore(path: path, graphMergeRows: 4)
            _ = try await store.append([try event("e1"), try event("e2", actor: "u2")], receivedAt: 5)
            _ = try await store.indexEntities(limit: 100)  // 5 mentions: merged
            _ = try await store.append([try event("e3", actor: "u3")], receivedAt: 6)
            _ = try await store.indexEntities(limit: 100)  // 2 recent
            let merged = try await store.graph.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM event_entity") ?? 0 }
            let recent = try await store.graph.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM event_entity_recent") ?? 0 }
            #expect(merged > 0 && recent > 0)
            let ip = try #require(try await store.entity(EntityRef(type: "ip", id: "203.0.113.7"), recentLimit: 2, linkLimit: 10))
            #expect(ip.eventCount == 3)
            #expect(ip.recentEvents.map(\.seq) == [3, 2])
            #expect(Set(ip.links.map(\.entity.id)) == ["u1", "u2", "u3"])
        }
    }

    /// Each indexer batch is a run of the recent tables, appended after the runs before it; an
    /// entity's recent rows are read with one seek per run, never a scan, and the runs are merged
    /// once there are `graphMergeRuns` of them, however few mentions they hold.
    @Test func recentMentionsAreRunsReadBySeeksAndMergedWhenMany() async throws {
        try await withStore { _, path in
            let store = try SQLiteStore(path: path, graphMergeRuns: 3)
            func counts() async throws -> (runs: Int, recent: Int, merged: Int) {
                try await store.graph.read { db in
                    (try Int.fetchOne(db, sql: "SELECT count(*) FROM graph_run") ?? 0,
                     try Int.fetchOne(db, sql: "SELECT count(*) FROM event_entity_recent") ?? 0,
                     try Int.fetchOne(db, sql: "SELECT count(*) FROM event_entity") ?? 0)
                }
            }
            _ = try await store.append([try event("e1"), try event("e2", actor: "u2")], receivedAt: 5)
            _ = try await store.indexEntities(limit: 1)
            _ = try await store.indexEntities(limit: 1)
            let runs = try await store.graph.read { db in try Int64.fetchAll(db, sql: "SELECT run FROM graph_run ORDER BY run") }
            #expect(runs == [1, 2])
            let first = try await counts()
            #expect(first == (2, 4, 0), "\(first)")  // two mentions an event (user, ip)
            _ = try await store.append([try event("e3", actor: "u3")], receivedAt: 6)
            _ = try await store.indexEntities(limit: 10)
            let second = try await counts()
            #expect(second == (0, 0, 6), "\(second)")

            let plans = try await store.graph.read { db in
                try [GraphSchema.recentMentions(of: "?1"), GraphSchema.recentLinks(from: "?1")].map { sql in
                    try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: [1]).map { $0["detail"] as String }.joined(separator: " | ")
                }
            }
            #expect(plans[0].contains("SEARCH event_entity_recent USING PRIMARY KEY (run=? AND entity=?)"), "\(plans[0])")
            #expect(plans[1].contains("SEARCH entity_link_recent USING PRIMARY KEY (run=? AND a=?)"), "\(plans[1])")
            #expect(!plans.joined().contains("SCAN event_entity_recent") && !plans.joined().contains("SCAN entity_link_recent"))
        }
    }

    /// A graph written before runs (GraphSchema v2) keeps every mention and link: the migration
    /// merges the old recent tables before replacing them.
    @Test func theRunsMigrationMergesTheOldRecentTables() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warden-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let queue = try DatabaseQueue(path: directory.appendingPathComponent("graph.sqlite").path)
        try GraphSchema.migrator.migrate(queue, upTo: "v2: recent mentions")
        try await queue.write { db in
            try db.execute(sql: """
                INSERT INTO entity (key, type, id, first_seen_at, first_seq) VALUES (1, 'user', 'u1', 10, 1), (2, 'ip', '203.0.113.7', 10, 1);
                INSERT INTO event_entity (entity, seq) VALUES (1, 1), (2, 1);
                INSERT INTO entity_link (a, b, first_seq) VALUES (1, 2, 1), (2, 1, 1);
                INSERT INTO event_entity_recent (entity, seq) VALUES (1, 2), (2, 2);
                INSERT INTO entity_link_recent (a, b, first_seq) VALUES (1, 2, 2), (2, 1, 2);
                UPDATE graph_cursor SET seq = 2, recent_rows = 2;
                """)
        }
        try GraphSchema.migrator.migrate(queue)
        let (mentions, links, recent) = try await queue.read { db in
            (try String.fetchAll(db, sql: "SELECT entity || ':' || seq FROM event_entity ORDER BY entity, seq"),
             try String.fetchAll(db, sql: "SELECT a || '-' || b || ':' || first_seq FROM entity_link ORDER BY a, b"),
             try Int.fetchOne(db, sql: "SELECT count(*) + (SELECT count(*) FROM entity_link_recent) + (SELECT recent_rows FROM graph_cursor) FROM event_entity_recent"))
        }
        #expect(mentions == ["1:1", "1:2", "2:1", "2:2"])
        #expect(links == ["1-2:1", "2-1:1"])
        #expect(recent == 0)
    }

    /// The log's writer keeps its statement and savepoint journals in memory (temp_store = 2);
    /// its readers, and the graph's and search's connections, keep SQLite's default (0: temporary
    /// files), so a large sort in the SQL console or a graph merge does not grow the heap.
    @Test func theLogWriterKeepsJournalsInMemoryAndTheRestSpill() async throws {
        try await withStore { store, _ in
            for (database, writes) in [(store.pool, 2), (store.graph, 0), (store.search, 0)] {
                let writer = try await database.write { db in try Int.fetchOne(db, sql: "PRAGMA temp_store") }
                let reader = try await database.read { db in try Int.fetchOne(db, sql: "PRAGMA temp_store") }
                #expect(writer == writes && reader == 0)
            }
        }
    }

    @Test func checkpointsRunBesideTheWriter() async throws {
        try await withStore { store, _ in
            _ = try await store.append([try event("e1")], receivedAt: 1)
            #expect(try await store.checkpoint(truncate: false) >= 0)
            #expect(try await store.checkpoint(truncate: true) >= 0)
            #expect(try await store.event(id: "e1") != nil)
        }
    }

    @Test func savingACaseWritesOnlyWhatChanged() async throws {
        try await withStore { store, _ in
            try await store.pool.write { db in
                var record = CaseRecord(
                    id: 1, kind: .review, subject: EntityRef(type: "user", id: "u1"), source: .report, queue: "spam", state: .open, category: "spam",
                    severity: "low", score: 10, band: .p4, signals: 0, reports: 1, reporterWeight: 0.5, assignee: nil, leaseExpiresAt: nil,
                    createdAt: 1, updatedAt: 1, contentAt: 1, firstActionAt: nil, resolvedAt: nil, clock: SLAClock(since: 1), dueAt: 100,
                    slaNextAt: 50, slaRaised: 0, appealOf: nil, excludedReviewer: nil, escalationReason: nil)
                try SQLiteStore.insertCase(db, record)
                // Unchanged: no row is written.
                let before = db.totalChangesCount
                try SQLiteStore.saveCase(db, record)
                #expect(db.totalChangesCount == before)
                // Changed: one case row written (and the queue tally's two counts it moved between, by
                // v31's trigger), and what is read back is what was saved.
                record.state = .inReview
                record.assignee = "user:a"
                record.leaseExpiresAt = 500
                record.reporterWeight = 2
                record.slaNextAt = nil
                try SQLiteStore.saveCase(db, record)
                #expect(db.totalChangesCount == before + 1 + 2)
                #expect(try SQLiteStore.loadCase(db, record.id) == record)
                // The unique open-case index still sees the case (it moved between the index's states).
                #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM review_case INDEXED BY case_open_per_subject WHERE subject = 'user:u1' AND kind = 'review' AND golden_item IS NULL AND state IN ('open', 'in_review', 'on_hold', 'escalated')") == 1)
            }
        }
    }

    /// A stored value no type knows (written by a newer version, or by hand) is an error that names
    /// the table, column and value, never read as some default.
    @Test func unknownStoredValuesAreErrors() async throws {
        try await withStore { store, _ in
            try await store.pool.write { db in
                let record = CaseRecord.opened(id: 1, kind: .review, subject: EntityRef(type: "user", id: "u1"), source: .signal, queue: "spam", category: "spam",
                                               severity: "low", contentAt: 1, policy: ReviewPolicy(configuration: .minimal, severities: ["low"]), now: 1)
                try SQLiteStore.insertCase(db, record)
                try db.execute(sql: "INSERT INTO case_timeline (case_id, at, actor, kind, detail) VALUES (1, 1, 'system:x', 'teleported', '{}')")
                try db.execute(sql: "PRAGMA ignore_check_constraints = ON")
                try db.execute(sql: "UPDATE review_case SET source = 'carrier_pigeon' WHERE id = 1")
            }
            await #expect(throws: StoredValueError(table: "review_case", column: "source", value: "carrier_pigeon")) {
                try await store.caseRecord(id: 1)
            }
            await #expect(throws: StoredValueError(table: "case_timeline", column: "kind", value: "teleported")) {
                try await store.timeline(caseID: 1)
            }
        }
    }

}

@Suite struct ClaimTallyTests {
    /// What v30's migration counts from an existing timeline is what its trigger counts as claims
    /// are written: a review day's tallies, emptied and refilled from the timeline, are the same.
    @Test func theMigrationCountsWhatTheTriggerCounts() async throws {
        try await withStore { store, _ in
            _ = try await ReviewConformanceTests.reviewDay(store)
            let today = ExposurePolicy.startOfDay(ReviewConformanceTests.now)
            let reviewers = [ReviewConformanceTests.ana, ReviewConformanceTests.bo, ReviewConformanceTests.cy]
            var counted: [[String: Int]] = []
            for reviewer in reviewers { counted.append(try await store.claimsByCategory(by: reviewer, onDay: today)) }
            #expect(counted.contains { !$0.isEmpty })
            try await store.pool.write { db in
                try db.execute(sql: "DELETE FROM claim_tally")
                try db.execute(sql: Schema.claimTallyFromTimeline)
            }
            for (reviewer, expected) in zip(reviewers, counted) {
                #expect(try await store.claimsByCategory(by: reviewer, onDay: today) == expected, "\(reviewer)")
            }
        }
    }
}

@Suite struct QueueTallyTests {
    static let warningFlags = SLAEvent.allCases.filter { !$0.isBreach }.reduce(0) { $0 | $1.flag }
    static let breachFlags = SLAEvent.allCases.filter(\.isBreach).reduce(0) { $0 | $1.flag }

    /// Undecided cases counted straight from the cases, as `queueStats` did before v31's tally.
    static func counted(_ store: SQLiteStore) async throws -> [QueueStat] {
        try await store.pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT queue, band, state, count(*) AS n, min(created_at) AS oldest,
                       sum((sla_raised & ?) != 0 AND (sla_raised & ?) = 0) AS warned, sum((sla_raised & ?) != 0) AS breached
                FROM review_case WHERE state IN ('open', 'in_review', 'on_hold', 'escalated')
                GROUP BY queue, band, state ORDER BY queue, band, state
                """, arguments: [warningFlags, breachFlags, breachFlags]).map { row in
                QueueStat(queue: row["queue"], band: row["band"], state: row["state"], count: row["n"], oldestCreatedAt: row["oldest"],
                          warnings: row["warned"], breaches: row["breached"])
            }
        }
    }

    static func stats(_ store: SQLiteStore) async throws -> [QueueStat] {
        try await store.queueStats(warningFlags: warningFlags, breachFlags: breachFlags)
            .sorted { ($0.queue, $0.band, $0.state) < ($1.queue, $1.band, $1.state) }
    }

    /// Through a review day (cases merged, claimed, decided, appealed, leases lapsed, SLA events
    /// raised) and a case put on hold, moved and deleted, the triggers' tally answers what counting
    /// the cases answers; and v31's backfill, run on the same cases, fills the same tally.
    @Test func theTriggersAndTheBackfillCountWhatTheCasesSay() async throws {
        try await withStore { store, _ in
            _ = try await ReviewConformanceTests.reviewDay(store)
            let policy = ReviewConformanceTests.policy, ana = ReviewConformanceTests.ana, now = ReviewConformanceTests.now
            if let held = try await store.claimNext(queue: "general", reviewer: ana, policy: policy, now: now + 40) {
                _ = try await store.change(caseID: held.id, .command(.hold, note: "waiting on the product team"), actor: ana, policy: policy, now: now + 41)
            }
            let truth = try await Self.counted(store)
            #expect(Set(truth.map(\.state)).count >= 2, "the day leaves cases in several states: \(truth)")
            #expect(truth.contains { $0.warnings + $0.breaches > 0 }, "the day raises SLA events: \(truth)")
            #expect(try await Self.stats(store) == truth)

            // A case moved to another queue and band by hand, and one deleted, change the tally with them.
            try await store.pool.write { db in
                try db.execute(sql: "UPDATE review_case SET queue = 'elsewhere', band = 4 WHERE id = (SELECT min(id) FROM review_case WHERE state = 'open')")
                try db.execute(sql: """
                    DELETE FROM review_case WHERE id = (SELECT max(id) FROM review_case WHERE state = 'open')
                    AND NOT EXISTS (SELECT 1 FROM case_item WHERE case_id = review_case.id)
                    """)
            }
            #expect(try await Self.stats(store) == (try await Self.counted(store)))

            let before = try await Self.stats(store)
            try await store.pool.write { db in
                try db.execute(sql: "DELETE FROM queue_tally")
                try db.execute(sql: Schema.queueTallyFromCases)
            }
            #expect(try await Self.stats(store) == before)
        }
    }
}
