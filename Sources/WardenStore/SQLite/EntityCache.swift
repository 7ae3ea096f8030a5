import Synchronization
import WardenCore

/// Entity keys and links known to be committed, so intake skips writes that would change nothing.
/// Entries are added only after their transaction commits, and entities are never deleted, so an
/// entry is never wrong; a miss just costs an upsert. Bounded: when full it starts over.
struct EntityCache: Sendable {
    struct Entry: Sendable {
        var key: Int64
        var firstSeenAt: Int64
    }

    struct Link: Hashable, Sendable {
        let low: Int64
        let high: Int64
        init(_ a: Int64, _ b: Int64) {
            low = min(a, b)
            high = max(a, b)
        }
    }

    /// What one transaction learned, merged in after it commits.
    struct Staged {
        var entities: [EntityRef: Entry] = [:]
        var links = Set<Link>()
    }

    /// At 200,000 entities the cache emptied every ~600,000 simulated events and every entity of the
    /// following batches went to the database's `(type, id)` index, which made the graph fall behind
    /// at 30,000 events/s once the log passed ~1.5M events (lag p99 15 s → 3 s at a million). A
    /// dictionary's table doubles when it passes three quarters full, so a million entries took
    /// 2^21 slots of 48 bytes (~96 MiB, measured by a heap profile); 786,000 fit in 2^20 (~48 MiB),
    /// and the links' set likewise (32 → 16 MiB).
    static let maxEntities = 786_000
    static let maxLinks = 786_000

    var entities: [EntityRef: Entry] = [:]
    var links = Set<Link>()

    mutating func merge(_ staged: Staged) {
        if entities.count + staged.entities.count > Self.maxEntities { entities.removeAll(keepingCapacity: true) }
        if links.count + staged.links.count > Self.maxLinks { links.removeAll(keepingCapacity: true) }
        entities.merge(staged.entities) { _, new in new }
        links.formUnion(staged.links)
    }
}

/// The cache shared by a store's transactions and their commit hooks.
final class SharedEntityCache: Sendable {
    private let state = Mutex(EntityCache())

    func withLock<T, E: Error>(_ body: (inout EntityCache) throws(E) -> T) throws(E) -> T {
        try state.withLock { (cache: inout EntityCache) throws(E) -> T in try body(&cache) }
    }
}
