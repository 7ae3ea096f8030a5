import Testing
@testable import WardenCore

@Suite struct AuditChainTests {
    /// A stand-in digest (the chain logic does not depend on which one; the store uses SHA-256).
    static func digest(_ bytes: [UInt8]) -> [UInt8] {
        var state: [UInt64] = [0xcbf2_9ce4_8422_2325, 0x9e37_79b9_7f4a_7c15, 0x1234_5678_9abc_def0, 0x0fed_cba9_8765_4321]
        for byte in bytes {
            for lane in 0..<4 { state[lane] = (state[lane] ^ UInt64(byte)) &* 0x100_0000_01b3 &+ UInt64(lane) }
        }
        return state.flatMap { value in (0..<8).map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) } }
    }

    func chain(_ count: Int) -> [AuditEntry] {
        var entries: [AuditEntry] = []
        var previous = AuditChain.genesis
        for seq in 1...Int64(count) {
            let hash = Self.digest(AuditChain.hashInput(seq: seq, at: 1000 * seq, actor: "token:t1", action: "case.claim", target: "case:\(seq)",
                                                        detail: "{}", previousHash: previous))
            entries.append(AuditEntry(seq: seq, at: 1000 * seq, actor: "token:t1", action: "case.claim", target: "case:\(seq)", detail: "{}",
                                      previousHash: previous, hash: hash))
            previous = hash
        }
        return entries
    }

    func verify(_ entries: [AuditEntry], head: (Int64, [UInt8])? = nil) -> AuditChain.Break? {
        var verifier = AuditChain.Verifier(digest: Self.digest)
        do {
            for entry in entries { try verifier.check(entry) }
            try verifier.finish(expectedHead: head.map { (seq: $0.0, hash: $0.1) })
            return nil
        } catch {
            return error
        }
    }

    @Test func intactChainVerifies() {
        let entries = chain(5)
        #expect(verify(entries, head: (5, entries[4].hash)) == nil)
    }

    @Test func editsDeletionsReordersAndCutsAreFoundWhereTheyAre() {
        var edited = chain(5)
        edited[2].detail = #"{"x":1}"#
        #expect(verify(edited)?.seq == 3)
        #expect(verify(edited)?.reason.contains("edited") == true)

        var deleted = chain(5)
        deleted.remove(at: 1)
        #expect(verify(deleted)?.seq == 3)
        #expect(verify(deleted)?.reason.contains("missing") == true)

        // Deleting and renumbering the rest still breaks the hash links.
        var renumbered = chain(5)
        renumbered.remove(at: 1)
        for index in 1..<renumbered.count { renumbered[index].seq -= 1 }
        #expect(verify(renumbered)?.seq == 2)

        var reordered = chain(5)
        reordered.swapAt(1, 2)
        #expect(verify(reordered)?.seq == 3)
        #expect(verify(reordered)?.reason.contains("missing") == true)

        let entries = chain(5)
        let cut = Array(entries.prefix(3))
        #expect(verify(cut, head: (5, entries[4].hash))?.reason.contains("cut from the end") == true)
    }
}
