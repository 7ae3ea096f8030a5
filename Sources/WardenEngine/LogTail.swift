import Synchronization
public import WardenCore

/// The newest committed events, kept in memory as intake commits them, so consumers that keep up
/// (detection) read them without going back to the store and parsing them again. A consumer that
/// falls behind the window, or a process that did not see the commits, reads the store instead.
///
/// A consumer with nothing to do waits for the next commit (``waitForCommit(after:timeout:)``)
/// instead of polling the store: it wakes as soon as intake commits, and an idle server does not
/// read the log hundreds of times a second.
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

    private struct Signal {
        /// Commits appended so far.
        var generation: UInt64 = 0
        var nextWaiter: UInt64 = 0
        var waiting: [UInt64: CheckedContinuation<Void, Never>] = [:]
        /// Waiters released (timed out, cancelled) before they began waiting.
        var released: Set<UInt64> = []
    }

    private let signal = Mutex(Signal())

    /// A tail holding the last `capacity` events (and up to a quarter more between trims).
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
            // Trimmed in steps of a quarter of the capacity: removing the oldest on every commit
            // moved the whole window (50,000 entries) each time, ~1 % of a sustained run's CPU.
            if entries.count > capacity + capacity / 4 { entries.removeFirst(entries.count - capacity) }
        }
        let woken = signal.withLock { signal in
            signal.generation &+= 1
            defer { signal.waiting.removeAll() }
            return Array(signal.waiting.values)
        }
        for waiter in woken { waiter.resume() }
    }

    /// How many commits the tail has seen. Read it before looking for work and pass it to
    /// ``waitForCommit(after:timeout:)``, so a commit in between is not slept through.
    public var generation: UInt64 { signal.withLock { $0.generation } }

    /// Returns once a commit after `generation` was appended, after `timeout`, or when the task is
    /// cancelled, whichever comes first.
    public func waitForCommit(after generation: UInt64, timeout: Duration) async {
        let id = signal.withLock { signal -> UInt64 in
            signal.nextWaiter &+= 1
            return signal.nextWaiter
        }
        let timer = Task {
            do {
                try await Task.sleep(for: timeout)
                self.release(id)
            } catch {}
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = signal.withLock { signal -> Bool in
                    if signal.generation != generation || signal.released.remove(id) != nil { return true }
                    signal.waiting[id] = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            self.release(id)
        }
        timer.cancel()
        await timer.value
        signal.withLock { _ = $0.released.remove(id) }
    }

    /// Wakes waiter `id`, or marks it released if it has not begun waiting.
    private func release(_ id: UInt64) {
        let waiter = signal.withLock { signal -> CheckedContinuation<Void, Never>? in
            if let waiter = signal.waiting.removeValue(forKey: id) { return waiter }
            signal.released.insert(id)
            return nil
        }
        waiter?.resume()
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

extension LogTail {
    /// What a consumer of the log does when it found nothing new. With a tail (the store is this
    /// process's alone) it waits for intake's next commit, read as `seen` before it looked, for at
    /// most a second; without one (a store shared between nodes, which commit where no tail sees
    /// it) it polls, sleeping `poll`.
    static func idle(_ tail: LogTail?, seen: UInt64, poll: Duration) async throws {
        if let tail {
            await tail.waitForCommit(after: seen, timeout: .seconds(1))
        } else {
            try await Task.sleep(for: poll)
        }
    }
}
