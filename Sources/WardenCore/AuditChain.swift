/// One entry of the audit log. Each entry commits to the one before it: `hash` is the digest of
/// the previous entry's hash followed by this entry's canonical bytes, so editing, deleting or
/// reordering any entry breaks every hash after it.
public struct AuditEntry: Sendable, Equatable {
    /// Position in the log, from 1, without gaps.
    public var seq: Int64
    /// When (ms since the epoch).
    public var at: Int64
    /// Who: `token:<id>`, `user:<name>`, or a service such as `system:sla`.
    public var actor: String
    /// What, such as `case.claim`, `decision.create`, `case.read`.
    public var action: String
    /// What it was done to, such as `case:12`.
    public var target: String
    /// Details as a JSON object.
    public var detail: String
    /// The previous entry's hash (32 zero bytes for the first).
    public var previousHash: [UInt8]
    /// This entry's hash.
    public var hash: [UInt8]

    /// Creates an entry.
    public init(seq: Int64, at: Int64, actor: String, action: String, target: String, detail: String, previousHash: [UInt8], hash: [UInt8]) {
        self.seq = seq
        self.at = at
        self.actor = actor
        self.action = action
        self.target = target
        self.detail = detail
        self.previousHash = previousHash
        self.hash = hash
    }
}

/// The hash chain over the audit log. The digest is injected (SHA-256 in the store) so this stays
/// free of I/O and crypto libraries.
public enum AuditChain {
    /// The previous hash of the first entry.
    public static let genesis = [UInt8](repeating: 0, count: 32)

    /// What an entry's hash covers: the previous hash, then seq, time, actor, action, target and
    /// detail, each length-prefixed so no two different entries share bytes.
    public static func hashInput(seq: Int64, at: Int64, actor: String, action: String, target: String, detail: String, previousHash: [UInt8]) -> [UInt8] {
        var bytes = previousHash
        for field in [String(seq), String(at), actor, action, target, detail] {
            let utf8 = Array(field.utf8)
            let count = UInt32(utf8.count)
            bytes += [UInt8(count >> 24), UInt8((count >> 16) & 0xFF), UInt8((count >> 8) & 0xFF), UInt8(count & 0xFF)]
            bytes += utf8
        }
        return bytes
    }

    /// Where a chain breaks.
    public struct Break: Error, Sendable, Equatable, CustomStringConvertible {
        /// The first entry that does not follow from what came before (nil: the end was cut).
        public var seq: Int64?
        /// What is wrong there.
        public var reason: String

        public var description: String {
            if let seq { return "audit entry \(seq): \(reason)" }
            return reason
        }
    }

    /// Walks entries in stored order and reports the first break: a gap or step back in `seq`
    /// (deleted or reordered entries), a previous hash that is not the last entry's hash, or a hash
    /// that does not match the entry's content (an edit). `expectedHead`, when known (the head the
    /// store keeps apart), catches entries cut from the end.
    public struct Verifier {
        let digest: ([UInt8]) -> [UInt8]
        /// Entries checked so far.
        public private(set) var count: Int64 = 0
        /// The last good hash.
        public private(set) var head: [UInt8] = AuditChain.genesis
        var lastSeq: Int64 = 0

        /// A verifier using `digest` (SHA-256).
        public init(digest: @escaping ([UInt8]) -> [UInt8]) {
            self.digest = digest
        }

        /// Checks the next entry.
        public mutating func check(_ entry: AuditEntry) throws(Break) {
            if entry.seq != lastSeq + 1 {
                let what = entry.seq <= lastSeq ? "comes after entry \(lastSeq) (entries were reordered)"
                    : "follows entry \(lastSeq) (entries \(lastSeq + 1)…\(entry.seq - 1) are missing)"
                throw Break(seq: entry.seq, reason: what)
            }
            if entry.previousHash != head {
                throw Break(seq: entry.seq, reason: "does not commit to entry \(lastSeq) (an entry before it was removed, replaced or reordered)")
            }
            let expected = digest(AuditChain.hashInput(seq: entry.seq, at: entry.at, actor: entry.actor, action: entry.action,
                                                       target: entry.target, detail: entry.detail, previousHash: entry.previousHash))
            if expected != entry.hash {
                throw Break(seq: entry.seq, reason: "its content does not match its hash (the entry was edited)")
            }
            head = entry.hash
            lastSeq = entry.seq
            count += 1
        }

        /// Checks that the chain ends where the store says its head is.
        public func finish(expectedHead: (seq: Int64, hash: [UInt8])?) throws(Break) {
            guard let expectedHead else { return }
            if expectedHead.seq > lastSeq {
                throw Break(seq: nil, reason: "the log ends at entry \(lastSeq) but its head records entry \(expectedHead.seq): entries were cut from the end")
            }
            if expectedHead.seq == lastSeq, expectedHead.hash != head {
                throw Break(seq: lastSeq, reason: "the last entry's hash differs from the recorded head")
            }
        }
    }
}
