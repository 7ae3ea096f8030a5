import ArgumentParser
import Logging
import Foundation
import WardenCore
import WardenEngine
import WardenStore

/// `--data-dir`, shared by every command that works on a data directory.
struct DataDirOption: ParsableArguments {
    @Option(name: .long, help: "The data directory (created on first use).")
    var dataDir = "./warden-data"

    @Option(help: "A postgres:// URL: work on this PostgreSQL store instead of the data directory's SQLite store (also WARDEN_DATABASE_URL).")
    var database: String?

    /// The PostgreSQL store named (by --database or WARDEN_DATABASE_URL), if any.
    func postgres() throws -> PostgresConfiguration? {
        guard let url = database ?? ProcessInfo.processInfo.environment["WARDEN_DATABASE_URL"].flatMap({ $0.isEmpty ? nil : $0 }) else { return nil }
        do {
            return try PostgresConfiguration(url: url)
        } catch {
            throw ValidationError("--database: \(error)")
        }
    }
}

/// `--policy-pack`, shared by commands that need the policy pack.
struct PackOption: ParsableArguments {
    @Option(name: [.long, .customLong("pack")], help: "The policy pack directory.")
    var policyPack = "policies/example"

    func load() throws -> PolicyPack {
        guard FileManager.default.fileExists(atPath: policyPack) else {
            throw ValidationError("policy pack \(policyPack) not found; run from the Warden checkout or pass --policy-pack DIR")
        }
        do {
            return try PolicyPack.load(from: policyPack)
        } catch {
            throw ValidationError(error.description)
        }
    }
}

/// An opened store: the data directory's SQLite store (locked when `exclusive`, migrated), or the
/// PostgreSQL store `--database` names (migrated; nothing local to lock).
struct OpenedDataDir {
    let directory: DataDirectory
    let lock: DataDirectoryLock?
    let store: any WardenStorage
    /// Where the store is, for messages.
    let description: String

    /// Opens the store. `exclusive` takes the data directory's lock: commands that append events
    /// need it, because a running server caches entity keys; token management does not.
    /// `logLevel` is the PostgreSQL store's (its driver is chatty below `notice`).
    init(_ option: DataDirOption, exclusive: Bool = true, logLevel: Logger.Level = .warning) async throws {
        directory = DataDirectory(path: option.dataDir)
        if let postgres = try option.postgres() {
            var logger = Logger(label: "warden.postgres")
            logger.logLevel = logLevel
            lock = nil
            store = try await PostgresStore(configuration: postgres, logger: logger)
            description = "PostgreSQL \(postgres.database) on \(postgres.host):\(postgres.port)"
        } else {
            try directory.prepare()
            lock = exclusive ? try directory.lock() : nil
            store = try SQLiteStore(path: directory.databasePath)
            description = "data dir \(option.dataDir)"
        }
    }

    /// Releases the data directory's lock, or closes the PostgreSQL store's connections.
    func close() {
        lock?.release()
        (store as? PostgresStore)?.shutdown()
    }
}

/// Writes a progress bar to standard error when it is a terminal.
struct ProgressBar {
    let total: Int?
    let label: String
    let enabled = isatty(STDERR_FILENO) == 1
    private var lastDraw = ContinuousClock.now - .seconds(1)
    let started = ContinuousClock.now

    init(label: String, total: Int?) {
        self.label = label
        self.total = total
    }

    mutating func update(_ done: Int, force: Bool = false) {
        guard enabled, force || lastDraw.duration(to: .now) > .milliseconds(100) else { return }
        lastDraw = .now
        let seconds = max(started.duration(to: .now).seconds, 0.001)
        let rate = Int(Double(done) / seconds)
        var line = "\r\(label) "
        if let total, total > 0 {
            let width = 30
            let filled = min(width, done * width / total)
            line += "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] \(done)/\(total)"
        } else {
            line += "\(done)"
        }
        line += "  \(rate)/s   "
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }
}

extension Duration {
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

/// Parses `90s`, `10m`, `1h`, `2d` into milliseconds.
func parseDuration(_ text: String) throws -> Int64 {
    guard let value = DurationText.millis(text), value > 0 else {
        throw ValidationError("\(text) is not a duration; use a number and s, m, h or d, such as 10m")
    }
    return value
}

func printJSON(_ object: [String: Any]) {
    if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
        print(String(decoding: data, as: UTF8.self))
    }
}
