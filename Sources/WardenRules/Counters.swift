import WardenCore

/// Velocity counter state, kept small: a live key costs one dictionary entry of 32 bytes (a 64-bit
/// key hash and an inline window) until it holds more than one bucket or value.
///
/// Precision: a window of length W counts everything in buckets that end after `t - W`, so its
/// oldest edge is rounded outwards by at most W/60 (10 s for a 10-minute window). Sums and counts
/// are exact within that; distinct counts are exact, with at most 10,000 values kept per key.
///
/// Keys and distinct values are 64-bit hashes of their text (``StableHash``), not the text: two
/// different keys share a window only if their hashes collide, which for a million live keys of
/// one counter happens with probability about 3 in 100 million (n²/2⁶⁵), and a collision can only
/// add counts together, never lose one.

/// A hash of text that is the same in every process (Swift's `Hasher` is seeded per process, and
/// counter state outlives processes in snapshots).
struct StableHash {
    private var state: UInt64 = 0x243F_6A88_85A3_08D3
    private var pending: UInt64 = 0
    private var count: UInt64 = 0

    mutating func combine(_ byte: UInt8) {
        pending |= UInt64(byte) << ((count & 7) &* 8)
        count &+= 1
        if count & 7 == 0 {
            // Each step is a bijection of the state for a given word, so inputs of equal length
            // that differ in one word never collide.
            state = (state ^ pending) &* 0x9E37_79B9_7F4A_7C15
            state ^= state >> 29
            pending = 0
        }
    }

    mutating func combine(_ text: String) {
        for byte in text.utf8 { combine(byte) }
    }

    /// The hash (the SplitMix64 finaliser over the state, the unfinished word and the length).
    func finalize() -> UInt64 {
        var z = (state ^ pending) &+ count &* 0xD6E8_FEB8_6659_FD93
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    static func of(_ text: String) -> UInt64 {
        var hasher = StableHash()
        hasher.combine(text)
        return hasher.finalize()
    }

    /// The hash of an entity reference's `type:id` text, without making the text.
    static func of(_ ref: EntityRef) -> UInt64 {
        var hasher = StableHash()
        hasher.combine(ref.type)
        hasher.combine(UInt8(ascii: ":"))
        hasher.combine(ref.id)
        return hasher.finalize()
    }
}

/// One event-time bucket of a count or sum.
struct Bucket: Sendable, Codable, Equatable {
    var index: Int64
    var total: Double
}

/// One key's sliding window for a count or sum: buckets of 1/60 of the window, the newest inline
/// and the older ones (ascending) in an array that stays empty, without a heap allocation, for a
/// key seen within one bucket.
struct BucketWindow: Sendable, Equatable {
    private(set) var newest: Bucket
    private(set) var older: [Bucket] = []

    init(_ amount: Double, at time: Int64, width: Int64) {
        newest = Bucket(index: time / width, total: amount)
    }

    init?(buckets: [Bucket]) {
        guard let last = buckets.last else { return nil }
        newest = last
        older = Array(buckets.dropLast())
    }

    var buckets: [Bucket] { older + [newest] }

    mutating func add(_ amount: Double, at time: Int64, width: Int64, window: Int64) {
        let index = time / width
        if index == newest.index {
            newest.total += amount
        } else if index > newest.index {
            // The old newest bucket joins the older ones only while it still counts; when it no
            // longer does, neither do they (a key seen less often than its window allocates nothing).
            if Self.counts(newest, at: time, width: width, window: window) {
                older.append(newest)
                trim(before: time, width: width, window: window)
            } else if !older.isEmpty {
                older = []
            }
            newest = Bucket(index: index, total: amount)
        } else if let position = older.firstIndex(where: { $0.index >= index }) {
            // A late event lands in its own bucket.
            if older[position].index == index {
                older[position].total += amount
            } else {
                older.insert(Bucket(index: index, total: amount), at: position)
            }
        } else {
            older.append(Bucket(index: index, total: amount))
        }
    }

    func total(at time: Int64, width: Int64, window: Int64) -> Double {
        var sum = 0.0
        if Self.counts(newest, at: time, width: width, window: window) { sum += newest.total }
        for bucket in older where Self.counts(bucket, at: time, width: width, window: window) {
            sum += bucket.total
        }
        return sum
    }

    /// Whether nothing in the window at `time` remains.
    func isStale(at time: Int64, width: Int64, window: Int64) -> Bool {
        (newest.index + 1) * width <= time - window
    }

    private static func counts(_ bucket: Bucket, at time: Int64, width: Int64, window: Int64) -> Bool {
        (bucket.index + 1) * width > time - window && bucket.index * width <= time
    }

    private mutating func trim(before time: Int64, width: Int64, window: Int64) {
        let firstKept = older.firstIndex { ($0.index + 1) * width > time - window } ?? older.count
        if firstKept == older.count {
            older = []
        } else if firstKept > 0 {
            older.removeFirst(firstKept)
        }
    }
}

/// A distinct value (by hash) and when it was last seen.
struct Seen: Sendable, Codable, Equatable {
    var value: UInt64
    var at: Int64
}

/// One key's window for a distinct count: the first value inline, the others in a dictionary that
/// stays empty, without a heap allocation, while the key has seen one value.
struct DistinctWindow: Sendable, Equatable {
    private(set) var first: Seen
    private(set) var others: [UInt64: Int64] = [:]

    static let maxValues = 10_000

    init(_ value: UInt64, at time: Int64) {
        first = Seen(value: value, at: time)
    }

    init?(seen: [Seen]) {
        guard let head = seen.first else { return nil }
        first = head
        for item in seen.dropFirst() { others[item.value] = item.at }
    }

    /// Every value, the first one first and the others in hash order (canonical).
    var seen: [Seen] {
        [first] + others.map { Seen(value: $0.key, at: $0.value) }.sorted { $0.value < $1.value }
    }

    mutating func add(_ value: UInt64, at time: Int64, window: Int64) {
        if value == first.value {
            first.at = max(first.at, time)
        } else if let seen = others[value] {
            others[value] = max(seen, time)
        } else if others.count + 1 < Self.maxValues {
            others[value] = time
        } else {
            others = others.filter { $0.value > time - window }
            if others.count + 1 < Self.maxValues { others[value] = time }
        }
    }

    func contains(_ value: UInt64, at time: Int64, window: Int64) -> Bool {
        let seen = value == first.value ? first.at : others[value]
        return seen.map { $0 > time - window && $0 <= time } ?? false
    }

    func count(at time: Int64, window: Int64) -> Int {
        let live = { (at: Int64) in at > time - window && at <= time }
        return (live(first.at) ? 1 : 0) + others.values.count(where: live)
    }

    /// Whether nothing in the window at `time` remains.
    func isStale(at time: Int64, window: Int64) -> Bool {
        max(first.at, others.values.max() ?? .min) <= time - window
    }
}

/// A counter's saved windows: one entry per key, in key order.
struct SavedWindow: Sendable, Codable, Equatable {
    var key: UInt64
    var buckets: [Bucket]?
    var seen: [Seen]?
}
