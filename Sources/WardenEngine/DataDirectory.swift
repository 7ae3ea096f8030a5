import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The data directory: the SQLite database and the lock that keeps two processes from writing
/// through different caches at once.
public struct DataDirectory: Sendable {
    /// The directory path.
    public let path: String

    /// A data directory at `path` (created on ``prepare()``).
    public init(path: String) {
        self.path = path
    }

    /// The database file.
    public var databasePath: String { (path as NSString).appendingPathComponent("warden.sqlite") }

    /// Creates the directory (owner-only permissions) if needed; true if it was created now.
    @discardableResult
    public func prepare() throws -> Bool {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw DataDirectoryError.notADirectory(path) }
            return false
        }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return true
    }

    /// Takes the directory's exclusive lock for the life of the returned value.
    public func lock() throws -> DataDirectoryLock {
        try DataDirectoryLock(path: (path as NSString).appendingPathComponent("warden.lock"), directory: path)
    }
}

/// An exclusive `flock` on the data directory, released when the process ends or the lock is released.
public final class DataDirectoryLock: Sendable {
    private let descriptor: Int32

    init(path: String, directory: String) throws {
        let descriptor = open(path, O_RDWR | O_CREAT, 0o600)
        guard descriptor >= 0 else { throw DataDirectoryError.cannotLock(directory, String(cString: strerror(errno))) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            var buffer = [UInt8](repeating: 0, count: 32)
            let count = read(descriptor, &buffer, 31)
            let holder = count > 0 ? String(decoding: buffer[..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : "?"
            close(descriptor)
            throw DataDirectoryError.inUse(directory, holder)
        }
        _ = ftruncate(descriptor, 0)
        let pid = "\(getpid())\n"
        _ = pid.withCString { pwrite(descriptor, $0, strlen($0), 0) }
        self.descriptor = descriptor
    }

    /// Releases the lock.
    public func release() {
        flock(descriptor, LOCK_UN)
    }

    deinit {
        close(descriptor)
    }
}

/// Problems with the data directory.
public enum DataDirectoryError: Error, CustomStringConvertible {
    /// The path exists and is a file.
    case notADirectory(String)
    /// Another process holds the lock.
    case inUse(String, String)
    /// The lock file cannot be opened.
    case cannotLock(String, String)

    public var description: String {
        switch self {
        case .notADirectory(let path): "\(path) exists and is not a directory; pass another --data-dir"
        case .inUse(let path, let pid):
            "data dir \(path) is in use by another warden process (pid \(pid)); stop it, or send to the running server with --to URL"
        case .cannotLock(let path, let reason): "cannot lock data dir \(path): \(reason)"
        }
    }
}
