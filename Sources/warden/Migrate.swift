import ArgumentParser
import Foundation
import Logging
import WardenCore
import WardenEngine
import WardenStore

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy a SQLite data directory into an empty PostgreSQL database, and check the copy.",
        discussion: """
            Stop the server first (the data directory's lock is taken). Every table is copied row for row, \
            parents before children; the entity graph and the search index are not (they follow the log, \
            and the first node on PostgreSQL rebuilds them). The copy is checked table by table (rows in \
            the data directory against rows in PostgreSQL) and the audit chain is verified entry by entry \
            to its head. Exit 1 when a check fails. Then: warden serve --database URL.
            """
    )

    @OptionGroup var data: DataDirOption
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        guard let target = try data.postgres() else {
            throw ValidationError("name the PostgreSQL database to copy into with --database postgres://… (or WARDEN_DATABASE_URL)")
        }
        let directory = DataDirectory(path: data.dataDir)
        guard FileManager.default.fileExists(atPath: directory.databasePath) else {
            throw ValidationError("\(data.dataDir) holds no Warden store (no \(directory.databasePath))")
        }
        let lock: DataDirectoryLock
        do {
            lock = try directory.lock()
        } catch {
            throw ValidationError("\(data.dataDir) is in use (is a server running on it? stop it first): \(error)")
        }
        defer { lock.release() }
        var logger = Logger(label: "warden.migrate")
        logger.logLevel = .warning
        let started = ContinuousClock.now
        let quiet = json
        let report: StoreCopy.Report
        do {
            report = try await StoreCopy.sqliteToPostgres(sqlitePath: directory.databasePath, target: target, logger: logger) { table, rows in
                if !quiet, isatty(STDERR_FILENO) == 1 { FileHandle.standardError.write(Data("\r\u{1B}[K  copying \(table): \(rows) rows".utf8)) }
            }
        } catch let error as StoreCopy.CopyError {
            throw ValidationError(error.description)
        }
        if !quiet, isatty(STDERR_FILENO) == 1 { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        let counts = try await StoreCopy.counts(sqlitePath: directory.databasePath, target: target, tables: report.tables.map(\.name), logger: logger)
        let mismatched = counts.filter { $0.source != $0.target }
        let store = try await PostgresStore(configuration: target, logger: logger)
        let audit = try await AuditVerification.verify(store, digest: SQLiteStore.auditDigest)
        store.shutdown()
        let seconds = started.duration(to: .now).seconds
        let ok = mismatched.isEmpty && audit.intact
        if json {
            var writer = JSONWriter()
            writer.beginObject()
            writer.key("ok"); writer.bool(ok)
            writer.field("database", target.database)
            writer.field("events", report.events)
            writer.field("audit_entries", report.auditEntries)
            writer.key("audit_intact"); writer.bool(audit.intact)
            writer.key("seconds"); writer.number(seconds)
            writer.key("tables")
            writer.beginObject()
            for count in counts {
                writer.key(count.table)
                writer.beginObject()
                writer.field("source", Int64(count.source))
                writer.field("target", Int64(count.target))
                writer.endObject()
            }
            writer.endObject()
            writer.endObject()
            print(String(decoding: writer.bytes, as: UTF8.self))
        } else {
            let rows = counts.reduce(0) { $0 + $1.target }
            print("copied \(rows) rows in \(counts.count) tables (\(report.events) events, \(report.auditEntries) audit entries) into \(target.database) on \(target.host):\(target.port) in \(String(format: "%.1f", seconds)) s")
            for count in mismatched { print("  MISMATCH \(count.table): \(count.source) rows in the data directory, \(count.target) in PostgreSQL") }
            print(audit.intact ? "audit chain verified: \(audit.checked) entries to its head" : "AUDIT CHAIN BROKEN: \(audit.failure.map { "\($0)" } ?? "")")
            if ok { print("next: warden serve --database <the same URL> (the entity graph and search index rebuild on the first node)") }
        }
        if !ok { throw ExitCode(1) }
    }
}
