import Foundation
import GRDB
import Logging
import PostgresNIO
public import WardenCore

/// What a backup holds, written beside it as `backup.json`: enough to check a restore whole.
public struct BackupManifest: Codable, Sendable, Equatable {
    /// `sqlite` or `postgres`.
    public var store: String
    /// When the backup was taken (ms since the epoch).
    public var createdAt: Int64
    /// The last event in the backup (the log is dense, so also how many).
    public var events: Int64
    /// The audit chain's head in the backup: its position and hash (hex); 0 and "" when empty.
    public var auditSeq: Int64
    public var auditHash: String
    /// The files of the backup, beside the manifest.
    public var files: [String]

    public init(store: String, createdAt: Int64, events: Int64, auditSeq: Int64, auditHash: String, files: [String]) {
        self.store = store
        self.createdAt = createdAt
        self.events = events
        self.auditSeq = auditSeq
        self.auditHash = auditHash
        self.files = files
    }

    static let fileName = "backup.json"

    func write(to directory: String) throws {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: URL(fileURLWithPath: (directory as NSString).appendingPathComponent(Self.fileName)))
    }

    /// Reads the manifest of the backup in `directory`.
    public static func read(from directory: String) throws -> BackupManifest {
        let path = (directory as NSString).appendingPathComponent(fileName)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BackupError("\(directory) is not a Warden backup: it has no \(fileName)")
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            return try decoder.decode(BackupManifest.self, from: data)
        } catch {
            throw BackupError("\(path) is not a backup manifest: \(error)")
        }
    }
}

/// A backup or restore Warden cannot make, and why.
public struct BackupError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Consistent copies of a store taken while a server writes to it, and their return.
public enum StoreBackup {
    // MARK: SQLite

    /// The files of a SQLite data directory's store, derived ones first: the entity graph and the
    /// search index follow the log with cursors, so copying them before the log keeps every cursor
    /// within the log it derives from (they catch up after a restore, as after a crash).
    static func sqliteFiles(databasePath: String) -> [String] {
        [SQLiteStore.searchPath(for: databasePath), SQLiteStore.graphPath(for: databasePath), databasePath]
    }

    /// Copies the SQLite store at `databasePath` into `directory` (created; it must not exist) with
    /// SQLite's online backup API: each file from one read snapshot, which a WAL-mode writer never
    /// waits for. `progress` hears each file's name as it starts.
    public static func backupSQLite(databasePath: String, to directory: String, now: Int64,
                                    progress: (String) -> Void = { _ in }) throws -> BackupManifest {
        guard FileManager.default.fileExists(atPath: databasePath) else {
            throw BackupError("there is no database at \(databasePath)")
        }
        try createEmptyDirectory(directory)
        var names: [String] = []
        for source in sqliteFiles(databasePath: databasePath) where FileManager.default.fileExists(atPath: source) {
            let name = (source as NSString).lastPathComponent
            progress(name)
            var configuration = Configuration()
            configuration.readonly = true
            configuration.busyMode = .timeout(10)
            let from = try DatabaseQueue(path: source, configuration: configuration)
            let to = try DatabaseQueue(path: (directory as NSString).appendingPathComponent(name))
            try from.backup(to: to)
            try to.close()
            try from.close()
            names.append(name)
        }
        let copy = try DatabaseQueue(path: (directory as NSString).appendingPathComponent((databasePath as NSString).lastPathComponent))
        let (events, audit) = try copy.read { db in
            (try Int64.fetchOne(db, sql: "SELECT max(seq) FROM event") ?? 0,
             try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_head WHERE id = 1").map { row -> (Int64, [UInt8]) in
                 let hash: Data = row["hash"]
                 return (row["seq"], Array(hash))
             })
        }
        // Back to a single file: no WAL beside the copy.
        try copy.writeWithoutTransaction { try $0.execute(sql: "PRAGMA journal_mode = DELETE") }
        try copy.close()
        let manifest = BackupManifest(store: "sqlite", createdAt: now, events: events, auditSeq: audit?.0 ?? 0,
                                      auditHash: audit?.1.hexString ?? "", files: names)
        try manifest.write(to: directory)
        return manifest
    }

    /// Puts a SQLite backup's files in place for `databasePath`, which must not exist yet (restore
    /// into a new data directory). Returns the backup's manifest, for the caller to check the
    /// restored store against.
    public static func restoreSQLite(from directory: String, databasePath: String) throws -> BackupManifest {
        let manifest = try BackupManifest.read(from: directory)
        guard manifest.store == "sqlite" else {
            throw BackupError("\(directory) is a backup of a \(manifest.store) store: restore it with --database")
        }
        for path in sqliteFiles(databasePath: databasePath) where FileManager.default.fileExists(atPath: path) {
            throw BackupError("\(path) exists: restore into a new data directory")
        }
        let target = (databasePath as NSString).deletingLastPathComponent
        for name in manifest.files {
            let source = (directory as NSString).appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: source) else { throw BackupError("the backup lacks \(name)") }
            try FileManager.default.copyItem(atPath: source, toPath: (target as NSString).appendingPathComponent(name))
        }
        return manifest
    }

    // MARK: PostgreSQL

    /// Dumps the PostgreSQL store with `pg_dump` (custom format) into `directory` (created; it
    /// must not exist). Without owners or grants: roles belong to the server, not the database, and
    /// the store grants its investigators' login the views again when it opens. The dump and the manifest's counts come from one snapshot: a transaction
    /// reads them and exports its snapshot, and `pg_dump --snapshot` dumps exactly what it saw.
    public static func backupPostgres(_ configuration: PostgresConfiguration, to directory: String, now: Int64) async throws -> BackupManifest {
        let dump = try postgresProgram("pg_dump")
        try createEmptyDirectory(directory)
        let file = "warden.pgdump"
        let logger = Logger(label: "warden.backup")
        let client = PostgresClient(configuration: configuration.client, backgroundLogger: logger)
        let running = await PostgresStore.start(client)
        defer { running.cancel() }
        let (events, auditSeq, auditHash) = try await client.withConnection { connection in
            try await connection.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            do {
                let snapshot = try await connection.rows("SELECT pg_export_snapshot()", logger: logger).first?.decode(String.self) ?? ""
                guard let (events, auditSeq, auditHash) = try await connection.rows("""
                    SELECT (SELECT seq FROM log_head WHERE id = 1), seq, hash FROM audit_head WHERE id = 1
                    """, logger: logger).first?.decode((Int64, Int64, Data).self) else {
                    throw BackupError("the database has no Warden store in it")
                }
                try await run(dump, ["--format=custom", "--no-owner", "--no-privileges", "--snapshot=\(snapshot)",
                                     "--file=\((directory as NSString).appendingPathComponent(file))"], configuration)
                try await connection.query("COMMIT", logger: logger)
                return (events, auditSeq, auditSeq == 0 ? "" : Array(auditHash).hexString)
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
        let manifest = BackupManifest(store: "postgres", createdAt: now, events: events, auditSeq: auditSeq, auditHash: auditHash, files: [file])
        try manifest.write(to: directory)
        return manifest
    }

    /// Restores a PostgreSQL backup with `pg_restore` into the database `configuration` names,
    /// which must hold no Warden store yet.
    public static func restorePostgres(from directory: String, into configuration: PostgresConfiguration) async throws -> BackupManifest {
        let manifest = try BackupManifest.read(from: directory)
        guard manifest.store == "postgres", let file = manifest.files.first else {
            throw BackupError("\(directory) is a backup of a \(manifest.store) store: restore it with --data-dir")
        }
        let restore = try postgresProgram("pg_restore")
        let logger = Logger(label: "warden.restore")
        let client = PostgresClient(configuration: configuration.client, backgroundLogger: logger)
        let running = await PostgresStore.start(client)
        defer { running.cancel() }
        let existing = try await client.query("SELECT to_regclass('public.schema_migration') IS NOT NULL", logger: logger).collect()
        if try existing.first?.decode(Bool.self) == true {
            throw BackupError("database \(configuration.database) holds a Warden store already: restore into a new, empty database")
        }
        try await run(restore, ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", "--dbname=\(configuration.database)",
                                (directory as NSString).appendingPathComponent(file)], configuration)
        return manifest
    }

    /// The newest installed PostgreSQL client program `name`.
    private static func postgresProgram(_ name: String) throws -> String {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        for version in versions.sorted(by: { (Int($0) ?? 0) > (Int($1) ?? 0) }) {
            let path = "/usr/lib/postgresql/\(version)/bin/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let path = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw BackupError("\(name) is not installed: it comes with PostgreSQL's client programs (apt-get install postgresql-client)")
    }

    /// Runs a PostgreSQL client program against the server; the password goes in its environment,
    /// never on a command line.
    private static func run(_ program: String, _ arguments: [String], _ configuration: PostgresConfiguration) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        var environment = ProcessInfo.processInfo.environment
        environment["PGHOST"] = configuration.host
        environment["PGPORT"] = String(configuration.port)
        environment["PGUSER"] = configuration.username
        environment["PGDATABASE"] = configuration.database
        environment["PGPASSWORD"] = configuration.password ?? ""
        environment["PGSSLMODE"] = configuration.tls == .disable ? "disable" : configuration.tls == .require ? "require" : "prefer"
        process.environment = environment
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let output = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let name = (program as NSString).lastPathComponent
            throw BackupError("\(name) failed (exit \(process.terminationStatus)): \(String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))")
        }
    }

    private static func createEmptyDirectory(_ directory: String) throws {
        guard !FileManager.default.fileExists(atPath: directory) else {
            throw BackupError("\(directory) exists: back up into a new directory")
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }
}
