import Foundation
import Synchronization
import Testing
import WardenCore
@testable import WardenStore

/// `warden backup` and `warden restore`, on both stores: a backup taken while events and audit
/// entries are being written restores whole — every event up to the backup's position and none
/// after, dense; the audit chain unbroken to the head the manifest records; the graph's cursor
/// within the log.
@Suite struct BackupTests {
    @Test(arguments: Backend.underTest) func aBackupTakenUnderLoadRestoresWhole(_ backend: Backend) async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("warden-backup-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let backupDirectory = (scratch as NSString).appendingPathComponent("backup")

        switch backend {
        case .sqlite:
            let source = (scratch as NSString).appendingPathComponent("source/warden.sqlite")
            try FileManager.default.createDirectory(atPath: (source as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            let store = try SQLiteStore(path: source)
            let (manifest, finalCount) = try await underLoad(store) {
                try StoreBackup.backupSQLite(databasePath: source, to: backupDirectory, now: 1)
            }
            let target = (scratch as NSString).appendingPathComponent("restored/warden.sqlite")
            try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            #expect(try StoreBackup.restoreSQLite(from: backupDirectory, databasePath: target) == manifest)
            try await check(try SQLiteStore(path: target), against: manifest, source: store, sourceCount: finalCount)
            #expect(throws: BackupError("\(SQLiteStore.searchPath(for: target)) exists: restore into a new data directory")) {
                try StoreBackup.restoreSQLite(from: backupDirectory, databasePath: target)
            }
            #expect(throws: BackupError("\(backupDirectory) exists: back up into a new directory")) {
                try StoreBackup.backupSQLite(databasePath: source, to: backupDirectory, now: 2)
            }
        case .postgres:
            let database = try await PostgresTestDatabase.create()
            let restored = try await PostgresTestDatabase.create()
            let store = try await database.open()
            let (manifest, finalCount) = try await underLoad(store) {
                try await StoreBackup.backupPostgres(database.configuration, to: backupDirectory, now: 1)
            }
            #expect(try await StoreBackup.restorePostgres(from: backupDirectory, into: restored.configuration) == manifest)
            let restoredStore = try await restored.open()
            try await check(restoredStore, against: manifest, source: store, sourceCount: finalCount)
            await #expect(throws: BackupError("database \(restored.configuration.database) holds a Warden store already: restore into a new, empty database")) {
                try await StoreBackup.restorePostgres(from: backupDirectory, into: restored.configuration)
            }
            store.shutdown()
            restoredStore.shutdown()
            try await database.drop()
            try await restored.drop()
        }
    }

    /// Writes batches of events and audit entries (indexing the graph now and then) while `backup`
    /// runs part-way through; returns the backup's manifest and how many events the source ended with.
    private func underLoad(_ store: any ConformingStore, backup: () async throws -> BackupManifest) async throws -> (BackupManifest, Int) {
        let stop = Atomic<Bool>(false)
        let writer = Task {
            var batch = 0
            while !stop.load(ordering: .relaxed) || batch < 40 {
                let events = try (0..<50).map { try event("b\(batch)-\($0)", actor: "u\($0 % 9)", ip: "203.0.113.\(batch % 7)") }
                _ = try await store.append(events, receivedAt: Int64(batch))
                try await store.audit(actor: ActorRef(.system, "load"), action: "load.batch", target: "batch:\(batch)", detail: "{}", now: Int64(batch))
                if batch % 5 == 0 { _ = try await store.indexEntities(limit: 1_000) }
                batch += 1
                if batch >= 400 { break }
            }
        }
        let deadline = ContinuousClock.now + .seconds(60)
        while try await store.statistics().eventCount < 1_000, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        let manifest = try await backup()
        stop.store(true, ordering: .relaxed)
        try await writer.value
        return (manifest, try await store.statistics().eventCount)
    }

    private func check(_ restored: any ConformingStore, against manifest: BackupManifest, source: any ConformingStore, sourceCount: Int) async throws {
        // The backup was taken mid-stream: events came after it, and none of them is in it.
        #expect(manifest.events >= 1_000 && Int(manifest.events) < sourceCount)
        #expect(try await restored.statistics().eventCount == Int(manifest.events))
        let events = try await restored.events(after: 0, limit: Int(manifest.events) + 10, type: nil)
        #expect(events.map(\.seq) == Array(1...manifest.events))
        #expect(events.map(\.id) == (try await source.events(after: 0, limit: Int(manifest.events), type: nil)).map(\.id))
        // The chain verifies to the head the manifest recorded.
        let head = try #require(try await restored.auditHead())
        #expect(head.seq == manifest.auditSeq && head.hash.hexString == manifest.auditHash)
        var verifier = AuditChain.Verifier(digest: SQLiteStore.auditDigest)
        for entry in try await restored.auditEntries(after: 0, limit: 10_000) { try verifier.check(entry) }
        try verifier.finish(expectedHead: head)
        #expect(verifier.count == manifest.auditSeq)
        // The graph's cursor is within the restored log, and it catches up from there.
        let status = try await restored.entityIndexStatus()
        #expect(status.indexedThroughSeq <= manifest.events && status.lastSeq == manifest.events)
        while try await restored.indexEntities(limit: 1_000).indexed > 0 {}
        #expect(try await restored.entityIndexStatus().lag == 0)
        // The restored store takes new events after the last.
        #expect(try await restored.append([try event("after-restore")], receivedAt: 1_000) == [.accepted(seq: manifest.events + 1)])
    }
}
