/// A sparse feature vector: sorted, distinct indices and their values.
public struct SparseVector: Sendable, Equatable {
    public var indices: [Int32]
    public var values: [Float]
}

/// Turns text into hashed features: word unigrams and bigrams and character n-grams (within
/// words, with boundary marks; words are runs of letters, digits and non-ASCII bytes, lower-cased), each hashed into `dimension` buckets, present-or-absent, scaled to
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

    /// The features of a text. One pass over its bytes, lower-casing in place; n-grams are hashed
    /// where they lie, so the only allocations are the byte copy and the two result arrays.
    public func features(of text: String) -> SparseVector {
        var bytes = Array(text.utf8)
        var hashes: [Int32] = []
        hashes.reserveCapacity(bytes.count * (characterGrams.count + 1) + 8)
        let mask = UInt64(dimension - 1)
        var previous: UInt64?
        var start = -1
        bytes.withUnsafeMutableBufferPointer { bytes in
            func word(_ start: Int, _ end: Int) {
                let wordHash = Self.hash(UnsafeBufferPointer(rebasing: bytes[start..<end]), seed: 0x77)
                hashes.append(Int32(truncatingIfNeeded: wordHash & mask))
                if wordBigrams, let previous { hashes.append(Int32(truncatingIfNeeded: Self.mix(previous &* 31 &+ wordHash) & mask)) }
                previous = wordHash
                // Character n-grams of " word ", so prefixes and suffixes are marked.
                let padded = end - start + 2
                for length in characterGrams where length <= padded {
                    for offset in 0...(padded - length) {
                        var state: UInt64 = 0xCBF2_9CE4_8422_2325 ^ UInt64(length)
                        for position in (start - 1 + offset)..<(start - 1 + offset + length) {
                            let byte = position < start || position >= end ? UInt8(ascii: " ") : bytes[position]
                            state = (state ^ UInt64(byte)) &* 0x100_0000_01B3
                        }
                        hashes.append(Int32(truncatingIfNeeded: Self.mix(state) & mask))
                    }
                }
            }
            for index in bytes.indices {
                let byte = bytes[index]
                let isWord: Bool
                switch byte {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"):
                    bytes[index] = byte + 32
                    isWord = true
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), 0x80...: isWord = true
                default: isWord = false
                }
                if isWord, start < 0 { start = index }
                if !isWord, start >= 0 {
                    word(start, index)
                    start = -1
                }
            }
            if start >= 0 { word(start, bytes.count) }
        }
        hashes.sort()
        var count = 0
        for index in hashes.indices where count == 0 || hashes[count - 1] != hashes[index] {
            hashes[count] = hashes[index]
            count += 1
        }
        hashes.removeLast(hashes.count - count)
        let value = count == 0 ? 0 : Float(1 / Double(count).squareRoot())
        return SparseVector(indices: hashes, values: Array(repeating: value, count: count))
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
