import Synchronization
public import WardenCore

/// The newest committed events, kept in memory as intake commits them, so consumers that keep up
/// (detection) read them without going back to the store and parsing them again. A consumer that
/// falls behind the window, or a process that did not see the commits, reads the store instead.
public final class LogTail: Sendable {
    /// One committed event.
    public struct Entry: Sendable {
        /// Its position in the log.
        public var seq: Int64
        /// Its fields.
        public var parsed: ParsedEvent
        /// Its text.
        public var body: [UInt8]
    }

    private let entries = Mutex<[Entry]>([])
    private let capacity: Int

    /// A tail holding up to `capacity` events.
    public init(capacity: Int = 50_000) {
        self.capacity = capacity
    }

    /// Adds events just committed, in log order.
    func append(_ committed: [Entry]) {
        guard !committed.isEmpty else { return }
        entries.withLock { entries in
            if let last = entries.last, let first = committed.first, first.seq != last.seq + 1 {
                entries.removeAll(keepingCapacity: true)
            }
            entries.append(contentsOf: committed)
            if entries.count > capacity { entries.removeFirst(entries.count - capacity) }
        }
    }

    /// Up to `limit` events after `seq`, if the tail holds the one right after it; nil when the
    /// caller must read the store.
    public func events(after seq: Int64, limit: Int) -> [Entry]? {
        entries.withLock { entries in
            guard let first = entries.first, let last = entries.last else { return nil }
            guard seq >= first.seq - 1 else { return nil }
            guard seq < last.seq else { return [] }
            let start = Int(seq - first.seq + 1)
            return Array(entries[start..<min(entries.count, start + limit)])
        }
    }
}
