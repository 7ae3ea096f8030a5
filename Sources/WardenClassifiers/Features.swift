/// A sparse feature vector: sorted, distinct indices and their values.
public struct SparseVector: Sendable, Equatable {
    public var indices: [Int32]
    public var values: [Float]
}

/// Turns text into hashed features: word unigrams and bigrams and character n-grams (within
/// words, with boundary marks), each hashed into `dimension` buckets, present-or-absent, scaled to
/// unit length. Hashing keeps memory fixed whatever the vocabulary; collisions cost a little
/// accuracy, not correctness.
public struct TextFeaturizer: Sendable, Codable, Equatable {
    /// Buckets (a power of two).
    public var dimension: Int
    /// Character n-gram lengths.
    public var characterGrams: ClosedRange<Int>
    /// Whether word pairs are features too.
    public var wordBigrams: Bool

    public init(dimension: Int = 1 << 18, characterGrams: ClosedRange<Int> = 2...5, wordBigrams: Bool = true) {
        precondition(dimension > 0 && dimension & (dimension - 1) == 0, "dimension must be a power of two")
        self.dimension = dimension
        self.characterGrams = characterGrams
        self.wordBigrams = wordBigrams
    }

    /// The features of a text.
    public func features(of text: String) -> SparseVector {
        var hashes: [UInt64] = []
        let words = Self.words(text)
        hashes.reserveCapacity(words.count * 12)
        var previous: UInt64?
        for word in words {
            let wordHash = Self.hash(word, seed: 0x77)
            hashes.append(wordHash)
            if wordBigrams, let previous { hashes.append(Self.mix(previous &* 31 &+ wordHash)) }
            previous = wordHash
            // Character n-grams of " word ", so prefixes and suffixes are marked.
            let padded = [UInt8(ascii: " ")] + word + [UInt8(ascii: " ")]
            for length in characterGrams where length <= padded.count {
                for start in 0...(padded.count - length) {
                    hashes.append(Self.hash(padded[start..<(start + length)], seed: UInt64(length)))
                }
            }
        }
        let mask = UInt64(dimension - 1)
        var indices = hashes.map { Int32(truncatingIfNeeded: $0 & mask) }
        indices.sort()
        var distinct: [Int32] = []
        distinct.reserveCapacity(indices.count)
        for index in indices where distinct.last != index { distinct.append(index) }
        let value = distinct.isEmpty ? 0 : Float(1 / Double(distinct.count).squareRoot())
        return SparseVector(indices: distinct, values: Array(repeating: value, count: distinct.count))
    }

    /// Lower-cased words: runs of letters and digits (UTF-8 bytes; other bytes separate words,
    /// except that non-ASCII bytes are kept as letters).
    static func words(_ text: String) -> [[UInt8]] {
        var words: [[UInt8]] = []
        var current: [UInt8] = []
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): current.append(byte + 32)
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), 0x80...: current.append(byte)
            default:
                if !current.isEmpty { words.append(current) }
                current.removeAll(keepingCapacity: true)
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    static func hash(_ bytes: some Collection<UInt8>, seed: UInt64) -> UInt64 {
        var state: UInt64 = 0xCBF2_9CE4_8422_2325 ^ seed
        for byte in bytes {
            state ^= UInt64(byte)
            state = state &* 0x100_0000_01B3
        }
        return mix(state)
    }

    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
