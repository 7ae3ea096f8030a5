import Synchronization
import WardenCore

/// Entity keys and links the graph holds, so the indexer skips writes that would change nothing.
/// The indexer adds entries as it writes them and empties the cache if its transaction rolls back,
/// and entities are never deleted, so an entry is never wrong; a miss just costs an upsert.
/// Bounded: when full it starts over.
///
/// One lookup per entity and one insert per link: an earlier version kept each batch's entries in a
/// second table merged in after the commit, and looked everything up in both; hashing was a quarter
/// of the indexer's time.
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

        /// One word into the hasher instead of two (a multiply spreads `low` over it).
        func hash(into hasher: inout Hasher) {
            hasher.combine(UInt64(bitPattern: low) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(bitPattern: high))
        }
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

    /// Adds an entity just written.
    mutating func remember(_ ref: EntityRef, _ entry: Entry) {
        if entities.count >= Self.maxEntities { entities.removeAll(keepingCapacity: true) }
        entities[ref] = entry
    }

    /// Adds a link; false if it was already known (and so written before).
    mutating func remember(_ link: Link) -> Bool {
        if links.count >= Self.maxLinks { links.removeAll(keepingCapacity: true) }
        return links.insert(link).inserted
    }

    /// Forgets everything (its transaction rolled back).
    mutating func removeAll() {
        entities.removeAll(keepingCapacity: true)
        links.removeAll(keepingCapacity: true)
    }
}

/// The cache shared by a store's transactions and their commit hooks.
final class SharedEntityCache: Sendable {
    private let state = Mutex(EntityCache())

    func withLock<T, E: Error>(_ body: (inout EntityCache) throws(E) -> T) throws(E) -> T {
        try state.withLock { (cache: inout EntityCache) throws(E) -> T in try body(&cache) }
    }
}
