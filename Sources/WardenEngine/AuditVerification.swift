public import WardenCore
public import WardenStore

/// Walks the audit log's hash chain from the first entry to the head the store records apart:
/// the one check behind `warden audit verify` and the console's audit page.
public enum AuditVerification {
    /// What a walk found.
    public struct Result: Sendable {
        /// Entries whose hashes were recomputed and matched.
        public var checked: Int64
        /// The hash of the last entry checked.
        public var head: [UInt8]
        /// The first break, or nil when the chain is intact.
        public var failure: AuditChain.Break?

        public var intact: Bool { failure == nil }
    }

    /// Verifies the whole chain, reporting entries checked so far to `progress` after each page.
    public static func verify(_ store: any AuditStore, digest: @escaping @Sendable ([UInt8]) -> [UInt8],
                              pageSize: Int = 5000, progress: (Int64) -> Void = { _ in }) async throws -> Result {
        let head = try await store.auditHead()
        var verifier = AuditChain.Verifier(digest: digest)
        var failure: AuditChain.Break?
        var after: Int64 = 0
        walk: while true {
            let page = try await store.auditEntries(after: after, limit: pageSize)
            for entry in page {
                do {
                    try verifier.check(entry)
                } catch {
                    failure = error
                    break walk
                }
            }
            progress(verifier.count)
            guard let last = page.last, page.count == pageSize else { break }
            after = last.seq
        }
        if failure == nil {
            do { try verifier.finish(expectedHead: head) } catch { failure = error }
        }
        return Result(checked: verifier.count, head: verifier.head, failure: failure)
    }
}
