/// One key's sliding window for one counter: event-time buckets of 1/60 of the window.
///
/// Precision: a window of length W counts everything in buckets that end after `t - W`, so its
/// oldest edge is rounded outwards by at most W/60 (10 s for a 10-minute window). Sums and counts
/// are exact within that; distinct counts are exact, with at most 10,000 values kept per key.
struct CounterWindow: Sendable, Codable, Equatable {
    private var buckets: [Bucket] = []
    private var distinct: [String: Int64] = [:]

    struct Bucket: Sendable, Codable, Equatable {
        var index: Int64
        var total: Double
    }

    static let maxDistinctValues = 10_000

    mutating func add(_ amount: Double, at time: Int64, width: Int64, window: Int64) {
        let index = time / width
        if let last = buckets.indices.last, buckets[last].index == index {
            buckets[last].total += amount
        } else if let position = buckets.firstIndex(where: { $0.index >= index }) {
            if buckets[position].index == index {
                buckets[position].total += amount
            } else {
                buckets.insert(Bucket(index: index, total: amount), at: position)
            }
        } else {
            buckets.append(Bucket(index: index, total: amount))
        }
        trim(before: time, width: width, window: window)
    }

    mutating func addDistinct(_ value: String, at time: Int64, window: Int64) {
        if let seen = distinct[value] {
            distinct[value] = max(seen, time)
        } else if distinct.count < Self.maxDistinctValues {
            distinct[value] = time
        } else {
            distinct = distinct.filter { $0.value > time - window }
            if distinct.count < Self.maxDistinctValues { distinct[value] = time }
        }
    }

    func total(at time: Int64, width: Int64, window: Int64) -> Double {
        var sum = 0.0
        for bucket in buckets where (bucket.index + 1) * width > time - window && bucket.index * width <= time {
            sum += bucket.total
        }
        return sum
    }

    func containsDistinct(_ value: String, at time: Int64, window: Int64) -> Bool {
        distinct[value].map { $0 > time - window && $0 <= time } ?? false
    }

    func distinctCount(at time: Int64, window: Int64) -> Int {
        distinct.values.count { $0 > time - window && $0 <= time }
    }

    /// Whether nothing in the window at `time` remains.
    func isStale(at time: Int64, width: Int64, window: Int64) -> Bool {
        let newestBucket = buckets.last.map { ($0.index + 1) * width } ?? .min
        let newestDistinct = distinct.values.max() ?? .min
        return max(newestBucket, newestDistinct) <= time - window
    }

    private mutating func trim(before time: Int64, width: Int64, window: Int64) {
        let firstKept = buckets.firstIndex { ($0.index + 1) * width > time - window } ?? buckets.count
        if firstKept > 0 { buckets.removeFirst(firstKept) }
    }
}
