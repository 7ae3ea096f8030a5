import ArgumentParser
import Foundation
import WardenCore
import WardenEngine
import WardenStore

struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Back up the store while the server runs, into a new directory.",
        discussion: """
            SQLite: each database file is copied from one read snapshot by SQLite's online backup API \
            (the server keeps writing meanwhile); the entity graph and search index, which follow the \
            log, are copied before it so their cursors stay within it. PostgreSQL (--database): pg_dump \
            in its custom format, from a snapshot the manifest's counts are read in. Beside the copy, \
            backup.json records the last event and the audit chain's head, which `warden restore` checks.
            """
    )

    @OptionGroup var data: DataDirOption
    @Option(help: "The directory to create for the backup (it must not exist).") var to: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let now = SystemWallClock().nowMillis()
        let started = ContinuousClock.now
        let manifest: BackupManifest
        do {
            if let configuration = try data.postgres() {
                if !json { print("dumping \(configuration.database) on \(configuration.host):\(configuration.port) with pg_dump…") }
                manifest = try await StoreBackup.backupPostgres(configuration, to: to, now: now)
            } else {
                let directory = DataDirectory(path: data.dataDir)
                manifest = try StoreBackup.backupSQLite(databasePath: directory.databasePath, to: to, now: now) { name in
                    if !json { print("copying \(name)…") }
                }
            }
        } catch let error as BackupError {
            throw ValidationError(error.description)
        }
        report(manifest, seconds: started.duration(to: .now).seconds, verb: "backed up", json: json)
    }
}

struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Restore a backup into a new data directory (or an empty PostgreSQL database) and check it whole.",
        discussion: """
            The target must hold no store yet. After restoring, the store is opened (and migrated if the \
            backup came from an older Warden), its event count is checked against the backup's manifest and \
            the audit chain is verified to the head the manifest recorded. Exit status 1 when a check fails.
            """
    )

    @OptionGroup var data: DataDirOption
    @Option(help: "The backup's directory (made by `warden backup`).") var from: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let started = ContinuousClock.now
        let manifest: BackupManifest
        let restored: any EventStore & AuditStore
        var shutdown: () -> Void = {}
        do {
            if let configuration = try data.postgres() {
                manifest = try await StoreBackup.restorePostgres(from: from, into: configuration)
                let postgres = try await PostgresStore(configuration: configuration)
                shutdown = { postgres.shutdown() }
                restored = postgres
            } else {
                let directory = DataDirectory(path: data.dataDir)
                try directory.prepare()
                let lock = try directory.lock()
                manifest = try StoreBackup.restoreSQLite(from: from, databasePath: directory.databasePath)
                restored = try SQLiteStore(path: directory.databasePath)
                withExtendedLifetime(lock) {}
            }
        } catch let error as BackupError {
            throw ValidationError(error.description)
        }
        defer { shutdown() }
        let events = try await restored.statistics().eventCount
        var progress = ProgressBar(label: "audit entries", total: Int(manifest.auditSeq))
        let audit = try await AuditVerification.verify(restored, digest: SQLiteStore.auditDigest) { progress.update(Int($0)) }
        progress.finish()
        var problems: [String] = []
        if events != Int(manifest.events) { problems.append("the restored log holds \(events) events, the backup recorded \(manifest.events)") }
        if let failure = audit.failure { problems.append("audit chain broken: \(failure)") }
        if audit.checked != manifest.auditSeq || audit.head.hexString != (manifest.auditSeq == 0 ? AuditChain.genesis.hexString : manifest.auditHash) {
            problems.append("the audit chain ends at entry \(audit.checked), the backup recorded entry \(manifest.auditSeq)")
        }
        if json {
            printJSON(["store": manifest.store, "events": events, "audit_entries": audit.checked, "intact": problems.isEmpty, "problems": problems,
                       "backup_created_at": Timestamp.formatRFC3339(manifest.createdAt),
                       "seconds": (started.duration(to: .now).seconds * 1000).rounded() / 1000])
        } else if problems.isEmpty {
            report(manifest, seconds: started.duration(to: .now).seconds, verb: "restored and checked", json: false)
        } else {
            for problem in problems { print("restore check FAILED: \(problem)") }
        }
        if !problems.isEmpty { throw ExitCode(1) }
    }
}

private func report(_ manifest: BackupManifest, seconds: Double, verb: String, json: Bool) {
    if json {
        printJSON(["store": manifest.store, "events": manifest.events, "audit_entries": manifest.auditSeq, "audit_head": manifest.auditHash,
                   "files": manifest.files, "created_at": Timestamp.formatRFC3339(manifest.createdAt), "seconds": (seconds * 1000).rounded() / 1000])
    } else {
        print("\(verb) a \(manifest.store) store: \(manifest.events) events, \(manifest.auditSeq) audit entries "
              + "(head \(manifest.auditHash.isEmpty ? "none" : String(manifest.auditHash.prefix(16)) + "…")), in \(String(format: "%.1f", seconds))s")
    }
}
