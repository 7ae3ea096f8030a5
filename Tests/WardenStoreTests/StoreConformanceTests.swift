import Foundation
import Logging
import PostgresNIO
import Testing
import WardenCore
import WardenReview
@testable import WardenStore

/// What the conformance suite asks of a store: everything the server keeps.
typealias ConformingStore = WardenStorage

/// The stores the conformance suite runs against. PostgreSQL needs a server:
/// `WARDEN_TEST_POSTGRES_URL` names one whose role may create databases (scripts/test starts a
/// throwaway cluster and sets it); without it the suite runs against SQLite alone, and
/// ``PostgresConformanceTests/aServerIsUnderTest`` says so as a skipped test.
enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite, postgres

    static var postgresURL: String? {
        ProcessInfo.processInfo.environment["WARDEN_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// SQLite always; PostgreSQL when a server is named.
    static var underTest: [Backend] { postgresURL == nil ? [.sqlite] : [.sqlite, .postgres] }

    var testDescription: String { rawValue }

    /// Runs `body` with a new, empty store and a way to open a second store on the same data (a
    /// restart, or another node); removes the data afterwards.
    func withStore<T>(_ body: (any ConformingStore, @Sendable () async throws -> any ConformingStore) async throws -> T) async throws -> T {
        switch self {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warden-conformance-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let path = directory.appendingPathComponent("warden.sqlite").path
            return try await body(try SQLiteStore(path: path), { try SQLiteStore(path: path) })
        case .postgres:
            let database = try await PostgresTestDatabase.create()
            let opened = OpenedStores()
            do {
                let store = try await database.open()
                await opened.add(store)
                let result = try await body(store, {
                    let another = try await database.open()
                    await opened.add(another)
                    return another
                })
                await opened.shutdown()
                try await database.drop()
                return result
            } catch {
                await opened.shutdown()
                try? await database.drop()
                throw error
            }
        }
    }
}

/// Stores a test opened, shut down before their database is dropped.
actor OpenedStores {
    var stores: [PostgresStore] = []
    func add(_ store: PostgresStore) { stores.append(store) }
    func shutdown() { for store in stores { store.shutdown() } }
}

/// A database of its own for one test, on the server `WARDEN_TEST_POSTGRES_URL` names.
struct PostgresTestDatabase: Sendable {
    var configuration: PostgresConfiguration
    var server: PostgresConfiguration

    static func create() async throws -> PostgresTestDatabase {
        let url = try #require(Backend.postgresURL)
        let server = try PostgresConfiguration(url: url)
        var configuration = server
        configuration.database = "warden_test_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16))"
        configuration.maximumConnections = 8
        try await PostgresStore.createDatabase(configuration.database, server: server)
        return PostgresTestDatabase(configuration: configuration, server: server)
    }

    func open() async throws -> PostgresStore {
        var logger = Logger(label: "warden.test.postgres")
        logger.logLevel = .warning
        return try await PostgresStore(configuration: configuration, logger: logger)
    }

    func drop() async throws {
        try await PostgresStore.dropDatabase(configuration.database, server: server)
    }
}

/// One suite, run against every store: what the SQLite store's tests prove of the log, the graph,
/// people, sessions, tokens and the audit chain holds on PostgreSQL too (DESIGN.md §2).
@Suite struct StoreConformanceTests {
    @Test(arguments: Backend.underTest) func appendsInOrderWithIncreasingSequence(_ backend: Backend) async throws {
        try await backend.withStore { store, _ in
            let outcomes = try await store.append([try event("e1"), try event("e2"), try event("e3")], receivedAt: 5)
            #expect(outcomes == [.accepted(seq: 1), .accepted(seq: 2), .accepted(seq: 3)])
            #expect(try await store.append([try event("e4")], receivedAt: 6) == [.accepted(seq: 4)])
            #expect(try await store.append([], receivedAt: 7) == [])
            #expect(try await store.events(after: 2, limit: 10, type: nil).map(\.id) == ["e3", "e4"])
            #expect(try await store.events(after: 0, limit: 2, type: nil).map(\.seq) == [1, 2])
            #expect(try await store.statistics().eventCount == 4)
            let stored = try #require(try await store.event(id: "e2"))
            #expect(stored.seq == 2 && stored.type == "message.sent" && stored.receivedAt == 5)
            #expect(stored.body == (try event("e2")).body)
            #expect(try await store.event(id: "nope") == nil)
        }
    }

    @Test(arguments: Backend.underTest) func sameIDSameContentIsADuplicateEvenWithKeysReordered(_ backend: Backend) async throws {
        try await backend.withStore { store, _ in
            _ = try await store.append([try event("e1")], receivedAt: 5)
            let reordered = try incoming(#"{"type":"message.sent","id":"e1","data":{"text":"hi"},"entities":{"ip":"203.0.113.7"},"actor":{"id":"u1","type":"user"},"occurred_at":"2026-11-23T10:00:00Z"}"#)
            let outcomes = try await store.append([reordered, try event("e1", text: "changed"), try event("e2")], receivedAt: 6)
            #expect(outcomes == [.duplicate(seq: 1), .conflict(seq: 1), .accepted(seq: 2)])
            #expect(try await store.event(id: "e1")?.body == (try event("e1")).body)
            #expect(try await store.statistics().eventCount == 2)
        }
    }

    @Test(arguments: Backend.underTest) func duplicatesWithinOneBatchAreAbsorbed(_ backend: Backend) async throws {
        try await backend.withStore { store, _ in
            let outcomes = try await store.append([try event("e1"), try event("e1"), try event("e2"), try event("e2", text: "other")], receivedAt: 5)
            #expect(outcomes == [.accepted(seq: 1), .duplicate(seq: 1), .accepted(seq: 2), .conflict(seq: 2)])
        }
    }

    @Test(arguments: Backend.underTest) func readsByTypeAndByReceivedTime(_ backend: Backend) async throws {
        try await backend.withStore { store, _ in
            let login = try incoming(#"{"id":"l1","type":"session.login","occurred_at":"2026-11-23T10:00:00Z","actor":{"type":"user","id":"u1"}}"#)
            _ = try await store.append([try event("e1"), login], receivedAt: 100)
            _ = try await store.append([try event("e2")], receivedAt: 200)
            _ = try await store.append([try event("e3")], receivedAt: 300)
            #expect(try await store.events(after: 0, limit: 10, type: "message.sent").map(\.id) == ["e1", "e2", "e3"])
            #expect(try await store.events(after: 0, limit: 10, type: "session.login").map(\.id) == ["l1"])
            #expect(try await store.firstSeq(receivedSince: 0) == 1)
            #expect(try await store.firstSeq(receivedSince: 150) == 3)
            #expect(try await store.firstSeq(receivedSince: 300) == 4)
            #expect(try await store.firstSeq(receivedSince: 301) == nil)
        }
    }

    @Test(arguments: Backend.underTest) func maintainsEntitiesAndLinks(_ backend: Backend) async throws {
        try await backend.withStore { store, _ in
            _ = try await store.append([try event("e1", actor: "u1", ip: "203.0.113.7", at: "2026-11-23T10:00:00Z"),
                                        try event("e2", actor: "u2", ip: "203.0.113.7", at: "2026-11-23T09:00:00Z")], receivedAt: 5)
            _ = try await store.append([try event("e3", actor: "u1", ip: "198.51.100.1")], receivedAt: 6)
            #expect(try await store.entityIndexStatus().lag == 3)
            #expect(try await store.indexEntities(limit: 100) == EntityIndexProgress(indexed: 3, indexedThroughSeq: 3, lastSeq: 3))
            #expect(try await store.indexEntities(limit: 100) == EntityIndexProgress(indexed: 0, indexedThroughSeq: 3, lastSeq: 3))
            let ip = try #require(try await store.entity(EntityRef(type: "ip", id: "203.0.113.7"), recentLimit: 10, linkLimit: 10))
            #expect(ip.eventCount == 2)
            #expect(ip.firstSeenAt == Timestamp.parseRFC3339("2026-11-23T09:00:00Z"))
            #expect(ip.recentEvents.map(\.id) == ["e2", "e1"])
            #expect(Set(ip.links.map(\.entity.description)) == ["user:u1", "user:u2"])
            #expect(ip.indexedThroughSeq == 3)
            let user = try #require(try await store.entity(EntityRef(type: "user", id: "u1"), recentLimit: 1, linkLimit: 10))
            #expect(user.eventCount == 2)
            #expect(user.recentEvents.map(\.id) == ["e3"])
            #expect(user.links.map(\.entity.description) == ["ip:198.51.100.1", "ip:203.0.113.7"])
            #expect(user.links.map(\.firstSeq) == [3, 1])
            #expect(try await store.entity(EntityRef(type: "user", id: "nobody"), recentLimit: 1, linkLimit: 1) == nil)
        }
    }

    @Test(arguments: Backend.underTest) func theGraphIsTheSameHoweverItIsBatched(_ backend: Backend) async throws {
        func graph(_ batch: Int) async throws -> [String] {
            try await backend.withStore { store, _ in
                var events: [IncomingEvent] = []
                for index in 0..<60 {
                    events.append(try event("e\(index)", actor: "u\(index % 7)", ip: "203.0.113.\(index % 5)", at: "2026-11-23T10:\(10 + (59 - index) % 40):00Z"))
                }
                _ = try await store.append(events, receivedAt: 1)
                while try await store.indexEntities(limit: batch).indexed > 0 {}
                var lines: [String] = []
                for ref in (0..<7).map({ EntityRef(type: "user", id: "u\($0)") }) + (0..<5).map({ EntityRef(type: "ip", id: "203.0.113.\($0)") }) {
                    let detail = try #require(try await store.entity(ref, recentLimit: 100, linkLimit: 100))
                    lines.append("\(ref) \(detail.firstSeenAt) \(detail.eventCount) \(detail.recentEvents.map(\.seq)) "
                                 + detail.links.map { "\($0.entity)@\($0.firstSeq)" }.sorted().joined(separator: ","))
                }
                return lines
            }
        }
        let whole = try await graph(1_000)
        #expect(try await graph(1) == whole)
        #expect(try await graph(7) == whole)
    }

    @Test(arguments: Backend.underTest) func anEarlierEventLowersFirstSeen(_ backend: Backend) async throws {
        try await backend.withStore { store, _ in
            _ = try await store.append([try event("e1", at: "2026-11-23T10:00:00Z")], receivedAt: 5)
            _ = try await store.indexEntities(limit: 100)
            _ = try await store.append([try event("e2", at: "2026-11-22T10:00:00Z")], receivedAt: 6)
            _ = try await store.indexEntities(limit: 100)
            let user = try #require(try await store.entity(EntityRef(type: "user", id: "u1"), recentLimit: 1, linkLimit: 1))
            #expect(user.firstSeenAt == Timestamp.parseRFC3339("2026-11-22T10:00:00Z"))
        }
    }

    @Test(arguments: Backend.underTest) func everythingSurvivesReopening(_ backend: Backend) async throws {
        try await backend.withStore { store, reopen in
            _ = try await store.append([try event("e1"), try event("e2", actor: "u2")], receivedAt: 5)
            _ = try await store.indexEntities(limit: 1)
            try await store.audit(actor: ActorRef(.cli, "test"), action: "test.one", target: "x", detail: "{}", now: 1)
            let reopened = try await reopen()
            #expect(try await reopened.append([try event("e1"), try event("e3")], receivedAt: 6) == [.duplicate(seq: 1), .accepted(seq: 3)])
            #expect(try await reopened.indexEntities(limit: 100).indexed == 2)
            #expect(try await reopened.entity(EntityRef(type: "ip", id: "203.0.113.7"), recentLimit: 5, linkLimit: 5)?.eventCount == 3)
            #expect(try await reopened.auditHead()?.seq == 1)
        }
    }

    /// Writers on several connections (on PostgreSQL: as several nodes would) append at once: the
    /// log stays dense, every event is stored once, and a reader following the log never sees a
    /// position before one it has already read appear later.
    @Test(arguments: Backend.underTest) func concurrentAppendsKeepTheLogDenseForEveryReader(_ backend: Backend) async throws {
        try await backend.withStore { store, reopen in
            let writers = [store, try await reopen(), try await reopen()]
            let batches = 30, batchSize = 10
            let reader = Task { () throws -> [Int64] in
                var seen: [Int64] = []
                var cursor: Int64 = 0
                let deadline = ContinuousClock.now + .seconds(60)
                while seen.count < writers.count * batches * batchSize, ContinuousClock.now < deadline {
                    let page = try await store.events(after: cursor, limit: 500, type: nil)
                    seen += page.map(\.seq)
                    cursor = page.last?.seq ?? cursor
                    if page.isEmpty { try await Task.sleep(for: .milliseconds(2)) }
                }
                return seen
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (writer, node) in writers.enumerated() {
                    group.addTask {
                        for batch in 0..<batches {
                            let events = try (0..<batchSize).map { try event("w\(writer)-\(batch)-\($0)", actor: "u\(writer)") }
                            let outcomes = try await node.append(events, receivedAt: Int64(batch))
                            #expect(outcomes.allSatisfy { if case .accepted = $0 { true } else { false } })
                        }
                    }
                }
                try await group.waitForAll()
            }
            let total = Int64(writers.count * batches * batchSize)
            #expect(try await reader.value == Array(1...total))
            #expect(try await store.statistics().eventCount == Int(total))
            let all = try await store.events(after: 0, limit: Int(total) + 1, type: nil)
            #expect(Set(all.map(\.id)).count == Int(total))
            // Received times never fall along the log.
            #expect(zip(all, all.dropFirst()).allSatisfy { $0.receivedAt <= $1.receivedAt })
        }
    }

    @Test(arguments: Backend.underTest) func tokensAreStoredByDigestAndRevocable(_ backend: Backend) async throws {
        try await backend.withStore { store, _ in
            let first = APITokenRecord(id: "tok_1", name: "ci", secretHash: Array(repeating: 7, count: 32), scopes: [.eventsWrite, .read], createdAt: 1)
            let second = APITokenRecord(id: "tok_2", name: "reviewer bot", secretHash: Array(repeating: 9, count: 32), scopes: [.casesReview], createdAt: 2)
            try await store.insertToken(second)
            try await store.insertToken(first)
            #expect(try await store.token(secretHash: Array(repeating: 7, count: 32)) == first)
            #expect(try await store.token(secretHash: Array(repeating: 8, count: 32)) == nil)
            #expect(try await store.tokens().map(\.id) == ["tok_1", "tok_2"])
            #expect(try await store.revokeToken(id: "tok_1", at: 2))
            #expect(try await store.revokeToken(id: "tok_1", at: 3) == false)
            #expect(try await store.revokeToken(id: "tok_9", at: 3) == false)
            #expect(try await store.tokens().first?.revokedAt == 2)
            // The same digest twice is refused (a secret names one token).
            await #expect(throws: (any Error).self) {
                try await store.insertToken(APITokenRecord(id: "tok_3", name: "copy", secretHash: Array(repeating: 9, count: 32), scopes: [.read], createdAt: 3))
            }
        }
    }

    @Test(arguments: Backend.underTest) func peopleSessionsAndSignInLinks(_ backend: Backend) async throws {
        try await backend.withStore { store, _ in
            let hash = String(repeating: "h", count: 60)
            let ana = UserRecord(name: "ana", role: .lead, queues: [], teams: ["fraud", "spam"], passwordHash: hash, createdAt: 10)
            let bo = UserRecord(name: "bo", role: .vendorReviewer, queues: ["spam"], teams: [], passwordHash: hash, createdAt: 11)
            try await store.addUser(bo, actor: "cli:test")
            try await store.addUser(ana, actor: "cli:test")
            await #expect(throws: ReviewError(.conflict, "a user named ana already exists")) { try await store.addUser(ana, actor: "cli:test") }
            #expect(try await store.users() == [ana, bo])
            #expect(try await store.user(named: "bo") == bo)
            #expect(try await store.user(named: "cy") == nil)

            let one = SessionRecord(idHash: Array(repeating: 1, count: 32), user: "ana", csrfToken: "c1", createdAt: 100, expiresAt: 1_000)
            let two = SessionRecord(idHash: Array(repeating: 2, count: 32), user: "ana", csrfToken: "c2", createdAt: 110, expiresAt: 1_000)
            try await store.createSession(one)
            try await store.createSession(two)
            let found = try #require(try await store.session(idHash: one.idHash, now: 200))
            #expect(found.0 == one && found.1 == ana)
            #expect(try await store.session(idHash: one.idHash, now: 1_000) == nil)
            try await store.touchSession(idHash: two.idHash, now: 300)
            #expect(try await store.lastSeen(now: 400) == ["ana": 300])
            #expect(try await store.setPassword("ana", hash: String(repeating: "k", count: 60), keeping: two.idHash, actor: ActorRef(.user, "ana"), now: 400))
            #expect(try await store.session(idHash: one.idHash, now: 401) == nil)
            #expect(try await store.session(idHash: two.idHash, now: 401)?.1.passwordHash == String(repeating: "k", count: 60))
            #expect(try await store.setPassword("cy", hash: hash, keeping: nil, actor: ActorRef(.user, "cy"), now: 400) == false)
            try await store.deleteSession(idHash: two.idHash)
            #expect(try await store.session(idHash: two.idHash, now: 402) == nil)

            // A sign-in link works once, even when it is redeemed twice at the same moment.
            let link = SignInLinkRecord(idHash: Array(repeating: 5, count: 32), user: "bo", createdAt: 500, expiresAt: 600)
            try await store.createSignInLink(link)
            async let first = store.redeemSignInLink(idHash: link.idHash, now: 550)
            async let second = store.redeemSignInLink(idHash: link.idHash, now: 550)
            let redeemed = [try await first, try await second].compactMap { $0 }
            #expect(redeemed == [bo])
            let late = SignInLinkRecord(idHash: Array(repeating: 6, count: 32), user: "bo", createdAt: 500, expiresAt: 600)
            try await store.createSignInLink(late)
            #expect(try await store.redeemSignInLink(idHash: late.idHash, now: 600) == nil)

            #expect(try await store.disableUser("bo", actor: "user:ana", now: 700))
            #expect(try await store.disableUser("bo", actor: "user:ana", now: 701) == false)
            #expect(try await store.user(named: "bo")?.disabledAt == 700)
            let actions = try await store.auditEntries(after: 0, limit: 100).map(\.action)
            #expect(actions == ["user.add", "user.add", "session.create", "session.create", "user.password", "signin_link.create",
                                "signin_link.use", "signin_link.create", "user.disable"])
        }
    }

    /// Entries appended from many connections at once form one unbroken chain whose head the store records.
    @Test(arguments: Backend.underTest) func theAuditChainHoldsUnderConcurrentWriters(_ backend: Backend) async throws {
        try await backend.withStore { store, reopen in
            #expect(try await store.auditHead() == nil)
            let nodes = [store, try await reopen(), try await reopen()]
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, node) in nodes.enumerated() {
                    group.addTask {
                        for entry in 0..<20 {
                            try await node.audit(actor: ActorRef(.user, "p\(index)"), action: entry % 2 == 0 ? "case.read" : "export.statements",
                                                 target: "case:\(entry)", detail: #"{"n":\#(entry)}"#, now: Int64(entry))
                        }
                    }
                }
                try await group.waitForAll()
            }
            let entries = try await store.auditEntries(after: 0, limit: 1_000)
            #expect(entries.count == 60)
            var verifier = AuditChain.Verifier(digest: SQLiteStore.auditDigest)
            for entry in entries { try verifier.check(entry) }
            let head = try #require(try await store.auditHead())
            try verifier.finish(expectedHead: head)
            #expect(head.seq == 60 && head.hash == entries.last?.hash)

            let recent = try await store.auditEntries(before: nil, actor: "user:p1", action: "case.", target: nil, limit: 3)
            #expect(recent.count == 3 && recent.allSatisfy { $0.actor == "user:p1" && $0.action == "case.read" })
            #expect(zip(recent, recent.dropFirst()).allSatisfy { $0.seq > $1.seq })
            let older = try await store.auditEntries(before: recent.last?.seq, actor: "user:p1", action: "case.", target: nil, limit: 100)
            #expect(older.count == 7)
            #expect(try await store.auditEntries(before: nil, actor: nil, action: nil, target: "case:4", limit: 100).count == 3)
            #expect(try await store.auditEntries(after: 58, limit: 10).map(\.seq) == [59, 60])
        }
    }
}

/// What only the PostgreSQL store has: its configuration, and the database refusing what the log forbids.
@Suite struct PostgresConformanceTests {
    @Test(.enabled(if: Backend.postgresURL != nil,
                   "PostgreSQL is not under test: set WARDEN_TEST_POSTGRES_URL (scripts/test starts a throwaway cluster and sets it)"))
    func aServerIsUnderTest() async throws {
        #expect(Backend.underTest.contains(.postgres))
        let database = try await PostgresTestDatabase.create()
        let store = try await database.open()
        try await store.ping()
        // A second node starting on a migrated database changes nothing.
        let second = try await database.open()
        #expect(try await second.rows("SELECT count(*) FROM schema_migration").first?.decode(Int.self) == PostgresSchema.migrations.count)
        store.shutdown()
        second.shutdown()
        try await database.drop()
    }

    /// A lease is one node's until it lapses by the database's clock; then the next node to ask has it.
    @Test(.enabled(if: Backend.postgresURL != nil, "needs WARDEN_TEST_POSTGRES_URL"))
    func aLeaseIsOneNodesUntilItLapses() async throws {
        let database = try await PostgresTestDatabase.create()
        let first = try await database.open(), second = try await database.open()
        #expect(try await first.acquireLease("detection", owner: "a", millis: 800))
        #expect(try await second.acquireLease("detection", owner: "b", millis: 800) == false)
        #expect(try await second.acquireLease("outbox", owner: "b", millis: 800))
        #expect(try await first.acquireLease("detection", owner: "a", millis: 800), "its holder renews it")
        let held = try await first.leases()
        #expect(held["detection"]?.owner == "a" && held["outbox"]?.owner == "b")
        try await Task.sleep(for: .milliseconds(1_000))
        #expect(try await second.acquireLease("detection", owner: "b", millis: 800), "lapsed: taken over")
        #expect(try await first.acquireLease("detection", owner: "a", millis: 800) == false)
        try await second.releaseLease("detection", owner: "b")
        #expect(try await first.acquireLease("detection", owner: "a", millis: 800), "released: free at once")
        first.shutdown()
        second.shutdown()
        try await database.drop()
    }

    @Test(.enabled(if: Backend.postgresURL != nil, "needs WARDEN_TEST_POSTGRES_URL"))
    func theLogsAreAppendOnlyInTheDatabaseItself() async throws {
        let database = try await PostgresTestDatabase.create()
        let store = try await database.open()
        defer { store.shutdown() }
        _ = try await store.append([try event("e1")], receivedAt: 5)
        try await store.audit(actor: ActorRef(.cli, "t"), action: "a", target: "t", detail: "{}", now: 1)
        for statement in ["DELETE FROM event", "UPDATE event SET type = 'x'", "TRUNCATE event CASCADE",
                          "DELETE FROM audit_log", "UPDATE audit_log SET detail = '{}'"] {
            await #expect(throws: PSQLError.self, "\(statement)") { try await store.rows(PostgresQuery(unsafeSQL: statement)) }
        }
        await #expect(throws: PSQLError.self) { try await store.rows("INSERT INTO entity_link (a, b, first_seq) VALUES (7, 7, 1)") }
        #expect(try await store.statistics().eventCount == 1)
        store.shutdown()
        try await database.drop()
    }

    @Test func readsDatabaseURLs() throws {
        let full = try PostgresConfiguration(url: "postgres://ana:s%40cret@db.internal:6543/warden?sslmode=require&pool_size=40")
        #expect(full == PostgresConfiguration(host: "db.internal", port: 6543, username: "ana", password: "s@cret", database: "warden",
                                              tls: .require, maximumConnections: 40))
        let plain = try PostgresConfiguration(url: "postgresql://warden@127.0.0.1/warden")
        #expect(plain.port == 5432 && plain.password == nil && plain.tls == .prefer && plain.maximumConnections == 20)
        #expect(try PostgresConfiguration(url: "postgres://u@h/d?sslmode=disable").tls == .disable)
        for (url, message) in [
            ("mysql://u@h/d", "the database URL's scheme is 'mysql': expected postgres:// or postgresql://"),
            ("postgres://u@h/", "the database URL names no database: expected postgres://user:password@host:port/database"),
            ("postgres://h/d", "the database URL names no user: expected postgres://user:password@host:port/database"),
            ("postgres://u@h/d?sslmode=maybe", "sslmode 'maybe' in the database URL is not one of disable, prefer, require, verify-full"),
            ("postgres://u@h/d?pool_size=0", "pool_size in the database URL must be a whole number from 1 to 1000"),
            ("postgres://u@h/d?timeout=3", "'timeout' in the database URL is not an option Warden reads (sslmode, pool_size, investigator_user, investigator_password)"),
            ("postgres://u@h/d?investigator_password=x", "the database URL gives investigator_password without investigator_user"),
            ("postgres://u@h/d?investigator_user=", "investigator_user in the database URL must name a login (1 to 63 characters)"),
        ] {
            #expect(throws: PostgresConfigurationError(message), "\(url)") { try PostgresConfiguration(url: url) }
        }
        let investigator = try PostgresConfiguration(url: "postgres://ana:s@h/d?investigator_user=reader&investigator_password=p%26w")
        #expect(investigator.investigator == .init(username: "reader", password: "p&w"))
        #expect(PostgresConfiguration.redacted("postgres://ana:secret@h/d") == "postgres://ana:***@h/d")
        #expect(PostgresConfiguration.redacted("postgres://ana:secret@h/d?investigator_user=reader&investigator_password=p%26w")
                == "postgres://ana:***@h/d?investigator_user=reader&investigator_password=***")
    }
}
