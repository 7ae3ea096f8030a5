import Testing
import WardenCore
@testable import WardenInvestigations

/// Published PDQ test data: the hashes Meta's reference implementation gives the eight dihedral
/// variants of ThreatExchange's `pdq/data/reg-test-input/dih/bridge-*.jpg` (ThreatExchange,
/// `pdq/python/pdqhashing/tests/pdq_test.py`, BSD licence), and the hashes its C++ hasher prints for
/// the same original and 90° rotation (`pdq/cpp/README.md`): one picture hashed by two
/// implementations, which differ in a few bits. The distances are those of the hex strings.
enum PDQVectors {
    static let reference: [(String, String)] = [
        ("bridge-1-original", "d8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22"),
        ("bridge-2-rotate-90", "38a50efd71c83f429013d68d0ffffc52e34e0e15ada952a9d29684214aa9e5af"),
        ("bridge-3-rotate-180", "2dadda64b5a142e5d362209057da895ae63b8c7fc277b4b766b319361f893188"),
        ("bridge-4-rotate-270", "a5f0a457248995e8c9065c275aaa54d8b61ba4bdf8fcfc0387c32f8b0bfc4f05"),
        ("bridge-5-flipx", "d8f80f31e0f417b00e37f5dd028f980fb36ed12a9662c1e233e64c634e9c64dd"),
        ("bridge-6-flipy", "0dad259bb1a1bd18d362576556da32a1e63b7380c2374b4866b3c6c91b89ce77"),
        ("bridge-7-flip-plus-1", "f0a5e10271dcc0bd9c5309720fff018de34ef1e8ada9a956d2967ade1ea91a50"),
        ("bridge-8-flip-minus-1", "69f05aa8a4996a17c146a2da5aaaab07b61b5b60f8fc07fc83c3d0740bfcb0fa"),
    ]
    static let cppOriginal = "f8f8f0cce0f4e84d0e370a22028f67f0b36e2ed596623e1d33e6339c4e9c9b22"
    static let cppRotate90 = "b0a10efd71cc3f429413d48d0ffffe12e34e0e17ada952a9d29684210aa9e5af"
    /// `Hash256Test.SAMPLE_HASH` of the reference tests: 128 bits set.
    static let sample = "9c151c3af838278e3ef57c180c7d031c07aefd12f2ccc1e18f2a1e1c7d0ff163"
}

@Suite struct HashMatchingTests {
    func hash(_ hex: String) -> Hash256 { Hash256(hex: hex)! }

    @Test func distancesAgreeWithThePublishedVectors() {
        let zero = Hash256(0, 0, 0, 0), ones = Hash256(.max, .max, .max, .max)
        #expect(hash(PDQVectors.sample).norm == 128)
        #expect(hash(PDQVectors.sample).distance(to: zero) == 128)
        #expect(ones.distance(to: zero) == 256)
        #expect(hash(PDQVectors.sample).hex == PDQVectors.sample)
        #expect(Hash256(hex: PDQVectors.sample.uppercased()) == hash(PDQVectors.sample))
        let original = hash(PDQVectors.reference[0].1)
        // One picture, two implementations: a few bits apart.
        #expect(original.distance(to: hash(PDQVectors.cppOriginal)) == 4)
        #expect(hash(PDQVectors.reference[1].1).distance(to: hash(PDQVectors.cppRotate90)) == 10)
        // Rotations and flips of it are different hashes: about half the bits differ.
        let expected = [122, 126, 118, 126, 132, 112, 122]
        #expect(PDQVectors.reference.dropFirst().map { original.distance(to: hash($0.1)) } == expected)
        #expect(Hash256(hex: String(PDQVectors.sample.dropLast())) == nil)
        #expect(Hash256(hex: String(PDQVectors.sample.dropLast()) + "g") == nil)
    }

    @Test func multiIndexHashingFindsWhatAScanFinds() {
        var random = SplitMix64(seed: 42)
        var hashes = (0..<20_000).map { _ in Hash256(random.next(), random.next(), random.next(), random.next()) }
        // Near copies at known distances, including ones just over the threshold.
        let base = hashes[7]
        for bits in [0, 1, 5, 16, 17, 30, 31, 32, 40] {
            var copy = base
            for bit in 0..<bits { flip(&copy, bit: bit * 7 % 256) }
            hashes.append(copy)
        }
        let index = PDQIndex(hashes)
        for threshold in [0, 15, 31, 47] {
            for query in hashes.suffix(12) + [Hash256(random.next(), random.next(), random.next(), random.next())] {
                var probe = query
                flip(&probe, bit: 200)
                let viaIndex = index.nearest(probe, within: threshold)
                let viaScan = index.scan(probe, within: threshold)
                #expect(viaIndex?.distance == viaScan?.distance, "threshold \(threshold)")
                var all = Set<Int>()
                index.search(probe, within: threshold) { position, _ in all.insert(position) }
                let expected = Set(hashes.indices.filter { hashes[$0].distance(to: probe) <= threshold })
                #expect(all == expected)
            }
        }
    }

    @Test func aFoldNeverSaysTwoHashesAreFartherApartThanTheyAre() {
        // The index rejects candidates by their folds, so a fold's distance must never exceed the
        // hashes' own: any pair, near or far.
        var random = SplitMix64(seed: 96)
        for round in 0..<2_000 {
            let one = Hash256(random.next(), random.next(), random.next(), random.next())
            var other = round % 2 == 0 ? one : Hash256(random.next(), random.next(), random.next(), random.next())
            for _ in 0..<Int(random.next() % 40) { flip(&other, bit: Int(random.next() % 256)) }
            let folds = PDQIndex.Fold(one, position: 0).distance(to: PDQIndex.Fold(other, position: 1))
            #expect(folds <= one.distance(to: other))
        }
    }

    func flip(_ hash: inout Hash256, bit: Int) {
        let mask = UInt64(1) << UInt64(63 - bit % 64)
        switch bit / 64 {
        case 0: hash.w0 ^= mask
        case 1: hash.w1 ^= mask
        case 2: hash.w2 ^= mask
        default: hash.w3 ^= mask
        }
    }

    func bank(_ name: String, _ kind: HashKind = .pdq, threshold: Int = 31, negative: Bool = false) -> HashBank {
        HashBank(name: name, kind: kind, threshold: threshold, negative: negative, description: "", createdBy: "test", createdAt: 0)
    }

    func entries(_ bank: String, _ hashes: [String], opinion: HashOpinion = .unreviewed, from id: Int64 = 1) -> [BankEntry] {
        hashes.enumerated().map { BankEntry(id: id + Int64($0.offset), bank: bank, hash: $0.element, opinion: opinion, tags: [], contentID: nil, addedBy: "t", addedAt: 0) }
    }

    @Test func aBankMatchesTheSamePictureHashedElsewhereAndNotItsRotations() {
        let known = BankIndex(bank: bank("known"), entries: entries("known", PDQVectors.reference.map(\.1)))
        var matcher = HashMatcher([known])
        // The C++ hash of the original finds the reference original (entry 1) at 4 bits, the C++
        // rotation finds the reference rotation (entry 2) at 10.
        #expect(matcher.matches(PDQVectors.cppOriginal, kind: .pdq) == [HashMatch(bank: "known", entry: 1, distance: 4)])
        #expect(matcher.matches(PDQVectors.cppRotate90, kind: .pdq) == [HashMatch(bank: "known", entry: 2, distance: 10)])
        #expect(matcher.distance(bank: "known", hash: PDQVectors.cppOriginal) == 4)
        // A stricter bank does not take the 10-bit match.
        matcher.replace(BankIndex(bank: bank("known", threshold: 8), entries: entries("known", PDQVectors.reference.map(\.1))))
        #expect(matcher.matches(PDQVectors.cppRotate90, kind: .pdq).isEmpty)
        #expect(matcher.matches(PDQVectors.sample, kind: .pdq).isEmpty)
        #expect(matcher.distance(bank: "missing", hash: PDQVectors.cppOriginal) == nil)
        #expect(matcher.distance(bank: "known", hash: "abc") == nil)
    }

    @Test func aNegativeBankSuppressesAMatchAndADeconfirmedHashNeverMatches() {
        let known = BankIndex(bank: bank("known"), entries: entries("known", PDQVectors.reference.map(\.1)))
        let allow = BankIndex(bank: bank("allow", threshold: 5, negative: true), entries: entries("allow", [PDQVectors.cppOriginal], from: 100))
        let matcher = HashMatcher([known, allow])
        #expect(matcher.matches(PDQVectors.cppOriginal, kind: .pdq) == [HashMatch(bank: "known", entry: 1, distance: 4, suppressedBy: "allow", suppressingEntry: 100)])
        #expect(matcher.distance(bank: "known", hash: PDQVectors.cppOriginal) == nil)
        // The reference original is 4 bits from the allowed hash: also allowed. The rotation is not.
        #expect(matcher.distance(bank: "known", hash: PDQVectors.reference[0].1) == nil)
        #expect(matcher.distance(bank: "known", hash: PDQVectors.cppRotate90) == 10)
        // A negative bank is not a bank to match against.
        #expect(matcher.distance(bank: "allow", hash: PDQVectors.cppOriginal) == nil)

        var mixed = entries("known", PDQVectors.reference.map(\.1))
        mixed[0].opinion = .deconfirmed
        let deconfirmed = HashMatcher([BankIndex(bank: bank("known"), entries: mixed)])
        #expect(deconfirmed.matches(PDQVectors.cppOriginal, kind: .pdq).isEmpty)
        mixed[1].opinion = .confirmed
        #expect(HashMatcher([BankIndex(bank: bank("known"), entries: mixed)]).distance(bank: "known", hash: PDQVectors.cppRotate90) == 10)
    }

    @Test func exactBanksMatchMD5AndSHA256() throws {
        let md5 = "9E107D9D372BB6826BD81D3542A419D6"
        let sha = "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592"
        let matcher = HashMatcher([
            BankIndex(bank: bank("md5s", .md5, threshold: 0), entries: entries("md5s", [try HashKind.md5.normalize(md5)])),
            BankIndex(bank: bank("shas", .sha256, threshold: 0), entries: entries("shas", [sha], from: 10)),
        ])
        #expect(matcher.distance(bank: "md5s", hash: md5) == 0)
        #expect(matcher.distance(bank: "md5s", hash: "9e107d9d372bb6826bd81d3542a419d7") == nil)
        #expect(matcher.matches(sha, kind: .sha256) == [HashMatch(bank: "shas", entry: 10, distance: 0)])
        #expect(matcher.distance(bank: "shas", hash: md5) == nil)
        #expect(throws: HashError.self) { try HashKind.md5.normalize("xyz") }
        #expect(throws: HashError.self) { try HashBank.check(name: "md5s", kind: .md5, threshold: 3) }
        #expect(throws: HashError.self) { try HashBank.check(name: "p", kind: .pdq, threshold: 64) }
        #expect(throws: HashError.self) { try HashBank.check(name: "Bad Name", kind: .pdq, threshold: 31) }
    }

    @Test func exchangeFilesRoundTripAndRefuseBadLinesWithTheirNumber() throws {
        let hma = """
        {"pdq": "\(PDQVectors.reference[0].1)", "metadata": {"content_id": "c-1"}}
        {"pdq": "\(PDQVectors.reference[1].1.uppercased())", "video_md5": "9e107d9d372bb6826bd81d3542a419d6"}

        {"md5": "9e107d9d372bb6826bd81d3542a419d6"}
        """
        let read = try HashExchange.read(hma, format: .hma, kind: .pdq)
        #expect(read.hashes.map(\.hash) == [PDQVectors.reference[0].1, PDQVectors.reference[1].1])
        #expect(read.hashes[0].contentID == "c-1" && read.otherKinds == 2)
        #expect(throws: HashError("line 2: a pdq hash is 64 hexadecimal digits, not \"abc\"")) {
            try HashExchange.read("{\"pdq\": \"\(PDQVectors.sample)\"}\n{\"pdq\": \"abc\"}", format: .hma, kind: .pdq)
        }
        #expect(throws: HashError.self) { try HashExchange.read("not json", format: .hma, kind: .pdq) }

        let page = """
        {"data": [
          {"id": "101", "raw_indicator": "\(PDQVectors.reference[2].1)", "type": "HASH_PDQ", "status": "MALICIOUS", "tags": {"data": [{"id": "1", "text": "photo"}]}},
          {"id": "102", "raw_indicator": "\(PDQVectors.reference[3].1)", "type": "HASH_PDQ", "status": "NON_MALICIOUS", "tags": ["x"]},
          {"id": "103", "raw_indicator": "9e107d9d372bb6826bd81d3542a419d6", "type": "HASH_MD5", "status": "MALICIOUS"}
        ]}
        """
        let te = try HashExchange.read(page, format: .threatexchange, kind: .pdq)
        #expect(te.hashes.map(\.contentID) == ["101", "102"] && te.otherKinds == 1)
        #expect(te.hashes.map(\.opinion) == [nil, .deconfirmed] && te.hashes[0].tags == ["photo"])
        #expect(throws: HashError.self) { try HashExchange.read("{\"data\": [{\"type\": \"HASH_PDQ\"}]}", format: .threatexchange, kind: .pdq) }

        // What Warden writes, it reads back the same.
        let stored = [
            BankEntry(id: 1, bank: "b", hash: PDQVectors.reference[0].1, opinion: .confirmed, tags: ["a", "b\"c"], contentID: "c-1", addedBy: "t", addedAt: 1_700_000_000_000),
            BankEntry(id: 2, bank: "b", hash: PDQVectors.reference[1].1, opinion: .deconfirmed, tags: [], contentID: nil, addedBy: "t", addedAt: 1_700_000_000_000),
        ]
        for format in HashExchangeFormat.allCases {
            let text = HashExchange.write(stored, kind: .pdq, format: format)
            let back = try HashExchange.read(text, format: format, kind: .pdq)
            #expect(back.hashes.map(\.hash) == stored.map(\.hash), "\(format)")
            #expect(back.hashes.map(\.tags) == stored.map(\.tags), "\(format)")
            #expect(back.hashes[1].opinion == .deconfirmed, "\(format)")
        }
        #expect(try HashExchange.read(HashExchange.write(stored, kind: .pdq, format: .threatexchange), format: .threatexchange, kind: .pdq).hashes.map(\.contentID) == ["c-1", "warden-2"])
    }
}
