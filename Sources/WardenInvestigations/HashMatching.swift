/// Matching content hashes against banks of known hashes: exact (MD5, SHA-256) and perceptual
/// (PDQ: 256 bits, compared by Hamming distance). Producers compute hashes and send them on events
/// (`data.pdq`, `data.md5`, `data.sha256`); Warden keeps the banks, matches, and lets a negative
/// (allow) bank override a match. Pure: the store keeps banks and entries, the engine holds the
/// indexes built here.

/// The kinds of hash a bank holds.
public enum HashKind: String, Sendable, CaseIterable, Codable {
    case pdq, md5, sha256

    /// Hex digits in a hash of this kind.
    public var hexLength: Int {
        switch self {
        case .pdq: 64
        case .md5: 32
        case .sha256: 64
        }
    }

    /// Whether matches are within a distance (perceptual) or exact.
    public var isPerceptual: Bool { self == .pdq }

    /// A hash of this kind as stored: lower-case hex of the right length, or why not.
    public func normalize(_ text: String) throws(HashError) -> String {
        let lower = text.lowercased()
        guard lower.utf8.count == hexLength, lower.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
            throw HashError("a \(rawValue) hash is \(hexLength) hexadecimal digits, not \"\(text.prefix(80))\"")
        }
        return lower
    }
}

/// Why a hash, bank or file was refused.
public struct HashError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A 256-bit perceptual hash (PDQ) as four 64-bit words, most significant first (the hex string's
/// order), with Hamming distance.
public struct Hash256: Hashable, Sendable {
    public var w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    public init(_ w0: UInt64, _ w1: UInt64, _ w2: UInt64, _ w3: UInt64) {
        (self.w0, self.w1, self.w2, self.w3) = (w0, w1, w2, w3)
    }

    /// From 64 hex digits (either case); nil for anything else.
    public init?(hex: String) {
        let bytes = Array(hex.utf8)
        guard bytes.count == 64 else { return nil }
        var words: [UInt64] = [0, 0, 0, 0]
        for (index, byte) in bytes.enumerated() {
            let nibble: UInt64
            switch byte {
            case 48...57: nibble = UInt64(byte - 48)
            case 97...102: nibble = UInt64(byte - 87)
            case 65...70: nibble = UInt64(byte - 55)
            default: return nil
            }
            words[index / 16] = words[index / 16] << 4 | nibble
        }
        self.init(words[0], words[1], words[2], words[3])
    }

    /// Lower-case hex, 64 digits.
    public var hex: String {
        [w0, w1, w2, w3].map { word in
            let text = String(word, radix: 16)
            return String(repeating: "0", count: 16 - text.count) + text
        }.joined()
    }

    /// Bits that differ.
    @inline(__always)
    public func distance(to other: Hash256) -> Int {
        (w0 ^ other.w0).nonzeroBitCount + (w1 ^ other.w1).nonzeroBitCount + (w2 ^ other.w2).nonzeroBitCount + (w3 ^ other.w3).nonzeroBitCount
    }

    /// Bits set.
    public var norm: Int { w0.nonzeroBitCount + w1.nonzeroBitCount + w2.nonzeroBitCount + w3.nonzeroBitCount }

    /// The 16-bit segment `index` (0 is the most significant), as multi-index hashing slices it.
    @inline(__always)
    func segment(_ index: Int) -> Int {
        let word = index < 4 ? w0 : index < 8 ? w1 : index < 12 ? w2 : w3
        return Int(truncatingIfNeeded: (word >> UInt64(48 - 16 * (index & 3))) & 0xFFFF)
    }
}

/// A multi-index hash (Norouzi, Punjani and Fleet, "Fast Search in Hamming Space with Multi-Index
/// Hashing", CVPR 2012) over PDQ hashes: each hash is cut into 16 segments of 16 bits, and each
/// segment has its own table from segment value to the hashes that have it. Two hashes within
/// distance d agree within ⌊d/16⌋ bits on at least one segment (pigeonhole), so a query probes, in
/// each table, the values within that many bits of its own segment and checks only the hashes found
/// there. At the usual thresholds (d ≤ 31: one bit per segment, 17 probes per table) a query reads a
/// few thousand candidates of a million instead of all of them.
///
/// Those candidates sit at random places in the hash array, and reading each one is a trip to main
/// memory: that, not arithmetic, bounded lookups. So every table row also carries a 96-bit fold of
/// the hash (`Fold`, XOR of disjoint groups of its bits) next to its position, in the row's order: a
/// fold's distance is never more than the hashes' distance, and an unrelated candidate's fold
/// differs in about 48 bits, so nearly every candidate is rejected from memory read in sequence and
/// only the few that pass are read from the hash array. The price is memory: 16 bytes per hash per
/// table, about 290 bytes per hash in all (`memoryBytes`).
///
/// Immutable once built; tables are compressed rows (offsets into one array of folds).
public struct PDQIndex: Sendable {
    public let hashes: [Hash256]
    /// Per segment: `offsets[s][v] ..< offsets[s][v + 1]` are the rows in `rows[s]` of the hashes
    /// whose segment s is v.
    let offsets: [[Int32]]
    let rows: [[Fold]]

    public static let segments = 16

    /// A hash folded to 96 bits, with its position in `hashes`. Every bit of the hash goes into
    /// exactly one bit of the fold (`a` = w0 ^ w3; `b` = the four 32-bit halves of w1 and w2 XORed),
    /// so two hashes' folds differ in at most as many bits as the hashes do.
    struct Fold: Sendable {
        var a: UInt64
        var b: UInt32
        var position: Int32

        @inline(__always)
        init(_ hash: Hash256, position: Int32) {
            let middle = hash.w1 ^ hash.w2
            a = hash.w0 ^ hash.w3
            b = UInt32(truncatingIfNeeded: middle) ^ UInt32(truncatingIfNeeded: middle >> 32)
            self.position = position
        }

        @inline(__always)
        func distance(to other: Fold) -> Int { (a ^ other.a).nonzeroBitCount + (b ^ other.b).nonzeroBitCount }
    }

    public init(_ hashes: [Hash256]) {
        precondition(hashes.count < Int(Int32.max), "a PDQ index holds at most 2^31 hashes")
        self.hashes = hashes
        var offsets: [[Int32]] = []
        var rows: [[Fold]] = []
        offsets.reserveCapacity(Self.segments)
        rows.reserveCapacity(Self.segments)
        for segment in 0..<Self.segments {
            var counts = [Int32](repeating: 0, count: 65_537)
            for hash in hashes { counts[hash.segment(segment) + 1] += 1 }
            for value in 0..<65_536 { counts[value + 1] += counts[value] }
            var fill = counts
            var table = [Fold](repeating: Fold(Hash256(0, 0, 0, 0), position: 0), count: hashes.count)
            for (position, hash) in hashes.enumerated() {
                let value = hash.segment(segment)
                table[Int(fill[value])] = Fold(hash, position: Int32(position))
                fill[value] += 1
            }
            offsets.append(counts)
            rows.append(table)
        }
        self.offsets = offsets
        self.rows = rows
    }

    public var count: Int { hashes.count }

    /// What the index holds in memory, in bytes (hashes, offsets and rows).
    public var memoryBytes: Int {
        hashes.count * MemoryLayout<Hash256>.stride
            + offsets.reduce(0) { $0 + $1.count * MemoryLayout<Int32>.stride }
            + rows.reduce(0) { $0 + $1.count * MemoryLayout<Fold>.stride }
    }

    /// Calls `found(position, distance)` for every hash within `maximum` bits of `query` (a hash
    /// found through several segments is reported once per segment; callers keep the best).
    ///
    /// The hot loop of matching, shared by `search` and `nearest`: rows are read in sequence and
    /// rejected by their folds; only a row whose fold is within `maximum` reads its hash.
    @inline(__always)
    func visit(_ query: Hash256, within maximum: Int, _ found: (Int, Int) -> Void) {
        guard !hashes.isEmpty, maximum >= 0 else { return }
        let flips = Self.flipMasks(min(maximum / Self.segments, 16))
        let folded = Fold(query, position: 0)
        hashes.withUnsafeBufferPointer { all in
            for segment in 0..<Self.segments {
                let mine = query.segment(segment)
                offsets[segment].withUnsafeBufferPointer { offsets in
                    rows[segment].withUnsafeBufferPointer { rows in
                        for mask in flips {
                            let value = mine ^ mask
                            var row = Int(offsets[value])
                            let end = Int(offsets[value + 1])
                            while row < end {
                                let fold = rows[row]
                                if fold.distance(to: folded) <= maximum {
                                    let position = Int(fold.position)
                                    let distance = all[position].distance(to: query)
                                    if distance <= maximum { found(position, distance) }
                                }
                                row += 1
                            }
                        }
                    }
                }
            }
        }
    }

    /// Calls `found(position, distance)` for every hash within `maximum` bits of `query` (a hash
    /// found through several segments is reported once per segment; callers keep the best).
    public func search(_ query: Hash256, within maximum: Int, _ found: (Int, Int) -> Void) {
        visit(query, within: maximum, found)
    }

    /// The nearest hash within `maximum` bits through the index (ties: the earliest position).
    public func nearest(_ query: Hash256, within maximum: Int) -> (position: Int, distance: Int)? {
        var best: (position: Int, distance: Int)?
        visit(query, within: maximum) { position, distance in
            if let current = best, current.distance < distance || (current.distance == distance && current.position <= position) { return }
            best = (position, distance)
        }
        return best
    }

    /// The 16-bit masks with at most `radius` bits set (0 first).
    static func flipMasks(_ radius: Int) -> [Int] {
        switch radius {
        case 0: return cachedMasks0
        case 1: return cachedMasks1
        default: return (0..<65_536).filter { $0.nonzeroBitCount <= radius }
        }
    }
    static let cachedMasks0 = [0]
    static let cachedMasks1 = [0] + (0..<16).map { 1 << $0 }

    /// The nearest hash within `maximum` bits (position and distance), by a full scan: the
    /// reference the index is tested and benchmarked against.
    public func scan(_ query: Hash256, within maximum: Int) -> (position: Int, distance: Int)? {
        var best: (Int, Int)?
        for (position, hash) in hashes.enumerated() {
            let distance = hash.distance(to: query)
            if distance <= maximum, distance < (best?.1 ?? Int.max) { best = (position, distance) }
        }
        return best
    }
}

/// What a person has said about one hash in a bank.
public enum HashOpinion: String, Sendable, CaseIterable, Codable {
    /// Added or imported; matches.
    case unreviewed
    /// Someone checked the content and agrees; matches.
    case confirmed
    /// Someone found it a false match; never matches, and is kept so a re-import does not bring it back.
    case deconfirmed

    public var matches: Bool { self != .deconfirmed }
}

/// A bank: a named set of hashes of one kind with its match threshold. A negative bank lists
/// content known to be fine: a hash that matches a negative bank of its kind matches nothing.
public struct HashBank: Sendable, Equatable {
    public var name: String
    public var kind: HashKind
    /// Largest Hamming distance that matches (PDQ; exact kinds use 0).
    public var threshold: Int
    public var negative: Bool
    public var description: String
    public var createdBy: String
    public var createdAt: Int64

    public init(name: String, kind: HashKind, threshold: Int, negative: Bool, description: String, createdBy: String, createdAt: Int64) {
        self.name = name
        self.kind = kind
        self.threshold = threshold
        self.negative = negative
        self.description = description
        self.createdBy = createdBy
        self.createdAt = createdAt
    }

    /// PDQ's suggested threshold (ThreatExchange's documentation: 31 of 256 bits).
    public static let defaultPDQThreshold = 31
    /// The largest threshold a bank may have: beyond it, perceptual matches are mostly chance (two
    /// unrelated PDQ hashes differ in about 128 bits) and the index degrades towards a scan.
    public static let maximumPDQThreshold = 63

    /// Checks a bank's name (as saved queries: 1–64 lower-case letters, digits, `-`, `_`) and threshold.
    public static func check(name: String, kind: HashKind, threshold: Int) throws(HashError) {
        let allowed = name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" }
        guard (1...64).contains(name.count), allowed, let first = name.unicodeScalars.first, ("a"..."z").contains(first) else {
            throw HashError("a bank's name has 1 to 64 lower-case letters, digits, - and _, starting with a letter (not \"\(name.prefix(70))\")")
        }
        if kind.isPerceptual {
            guard (0...maximumPDQThreshold).contains(threshold) else {
                throw HashError("a PDQ bank's threshold is 0 to \(maximumPDQThreshold) bits (31 is usual), not \(threshold)")
            }
        } else if threshold != 0 {
            throw HashError("\(kind.rawValue) banks match exactly: their threshold is 0, not \(threshold)")
        }
    }
}

/// One hash in a bank.
public struct BankEntry: Sendable, Equatable {
    public var id: Int64
    public var bank: String
    public var hash: String
    public var opinion: HashOpinion
    public var tags: [String]
    /// The producer's or exchange's id for the content or descriptor, when known.
    public var contentID: String?
    public var addedBy: String
    public var addedAt: Int64

    public init(id: Int64, bank: String, hash: String, opinion: HashOpinion, tags: [String], contentID: String?, addedBy: String, addedAt: Int64) {
        self.id = id
        self.bank = bank
        self.hash = hash
        self.opinion = opinion
        self.tags = tags
        self.contentID = contentID
        self.addedBy = addedBy
        self.addedAt = addedAt
    }
}

/// The matchable hashes of one bank (deconfirmed ones left out), indexed.
public struct BankIndex: Sendable {
    public let bank: HashBank
    /// Entry ids by position.
    let ids: [Int64]
    let pdq: PDQIndex?
    let exact: [String: Int64]

    public init(bank: HashBank, entries: [BankEntry]) {
        self.bank = bank
        let live = entries.filter { $0.opinion.matches && $0.bank == bank.name }
        if bank.kind.isPerceptual {
            var ids: [Int64] = []
            var hashes: [Hash256] = []
            for entry in live {
                guard let hash = Hash256(hex: entry.hash) else { continue }
                ids.append(entry.id)
                hashes.append(hash)
            }
            self.ids = ids
            pdq = PDQIndex(hashes)
            exact = [:]
        } else {
            ids = live.map(\.id)
            pdq = nil
            exact = Dictionary(live.map { ($0.hash, $0.id) }, uniquingKeysWith: min)
        }
    }

    public var count: Int { pdq?.count ?? exact.count }

    /// The nearest matching entry within the bank's threshold (or `within`, if smaller).
    public func match(_ hash: String, within limit: Int? = nil) -> (entry: Int64, distance: Int)? {
        let maximum = min(bank.threshold, limit ?? bank.threshold)
        if let pdq {
            guard let query = Hash256(hex: hash), let found = pdq.nearest(query, within: maximum) else { return nil }
            return (ids[found.position], found.distance)
        }
        guard maximum >= 0, let id = exact[hash.lowercased()] else { return nil }
        return (id, 0)
    }
}

/// A match of a hash against a bank.
public struct HashMatch: Sendable, Equatable {
    public var bank: String
    public var entry: Int64
    public var distance: Int
    /// The negative bank (and its entry) that overrides this match, if any.
    public var suppressedBy: String?
    public var suppressingEntry: Int64?

    public var counts: Bool { suppressedBy == nil }
}

/// Every bank's index: matching one hash against some banks, with negative banks applied.
public struct HashMatcher: Sendable {
    public private(set) var indexes: [String: BankIndex]

    public init(_ indexes: [BankIndex] = []) {
        self.indexes = Dictionary(indexes.map { ($0.bank.name, $0) }, uniquingKeysWith: { _, last in last })
    }

    public mutating func replace(_ index: BankIndex) { indexes[index.bank.name] = index }
    public mutating func remove(bank: String) { indexes[bank] = nil }

    /// Matches of `hash` (of `kind`) against the positive banks named (all of that kind when nil),
    /// each with the negative bank that suppresses it, if one does.
    public func matches(_ hash: String, kind: HashKind, banks names: [String]? = nil) -> [HashMatch] {
        let positive = (names.map { $0.compactMap { indexes[$0] } } ?? Array(indexes.values))
            .filter { $0.bank.kind == kind && !$0.bank.negative }
            .sorted { $0.bank.name < $1.bank.name }
        guard !positive.isEmpty else { return [] }
        var found: [HashMatch] = []
        for index in positive {
            if let hit = index.match(hash) { found.append(HashMatch(bank: index.bank.name, entry: hit.entry, distance: hit.distance)) }
        }
        guard !found.isEmpty, let allow = allowed(hash, kind: kind) else { return found }
        return found.map { HashMatch(bank: $0.bank, entry: $0.entry, distance: $0.distance, suppressedBy: allow.bank, suppressingEntry: allow.entry) }
    }

    /// The first negative bank of `kind` (by name) that matches `hash`.
    func allowed(_ hash: String, kind: HashKind) -> (bank: String, entry: Int64)? {
        for index in indexes.values.filter({ $0.bank.negative && $0.bank.kind == kind }).sorted(by: { $0.bank.name < $1.bank.name }) {
            if let hit = index.match(hash) { return (index.bank.name, hit.entry) }
        }
        return nil
    }

    /// What the rule language's `hash_distance("bank", hash)` reads: the distance of the nearest
    /// match in that bank, nil when there is none, the bank is unknown or negative, the hash is not
    /// of the bank's kind, or a negative bank overrides the match.
    public func distance(bank: String, hash: String) -> Int? {
        guard let index = indexes[bank], !index.bank.negative else { return nil }
        guard (try? index.bank.kind.normalize(hash)) != nil, let hit = index.match(hash) else { return nil }
        if allowed(hash, kind: index.bank.kind) != nil { return nil }
        return hit.distance
    }
}
