public import WardenCore
public import WardenInvestigations

/// What a change to a bank's hashes did.
public struct HashAddition: Sendable, Equatable {
    /// Hashes new to the bank.
    public var added: Int
    /// Hashes it had, whose tags, content id or opinion the change updated.
    public var updated: Int
    /// Hashes it had, left as they were.
    public var unchanged: Int

    public init(added: Int, updated: Int, unchanged: Int) {
        self.added = added
        self.updated = updated
        self.unchanged = unchanged
    }
}

/// Banks of known content hashes and what people have said about each hash. Every change is
/// audited in its own transaction.
public protocol HashBankStore: Sendable {
    func hashBanks() async throws -> [HashBank]
    func hashBank(named name: String) async throws -> HashBank?
    /// Hashes per bank: (all, deconfirmed).
    func hashBankCounts() async throws -> [String: (total: Int, deconfirmed: Int)]
    /// Creates a bank; false (nothing written) when one has that name.
    func createHashBank(_ bank: HashBank, audit: AuditDraft) async throws -> Bool
    /// Changes a bank's threshold and description; false when there is none.
    func updateHashBank(_ bank: HashBank, audit: AuditDraft) async throws -> Bool
    /// Deletes a bank and its hashes; false when there is none.
    func deleteHashBank(named name: String, audit: AuditDraft) async throws -> Bool
    /// A page of a bank's hashes by id, after `after`.
    func bankEntries(bank: String, after: Int64, limit: Int) async throws -> [BankEntry]
    /// One hash of a bank.
    func bankEntry(bank: String, id: Int64) async throws -> BankEntry?
    /// Adds hashes to a bank (already checked and normalised). A hash the bank has keeps its
    /// opinion unless the addition says deconfirmed; tags are merged; content ids filled in.
    func addHashes(bank: String, _ hashes: [ImportedHash], by actor: String, at time: Int64, audit: AuditDraft) async throws -> HashAddition
    /// Sets one hash's opinion; nil when the bank has no such hash.
    func setOpinion(bank: String, id: Int64, opinion: HashOpinion, audit: AuditDraft) async throws -> BankEntry?
    /// Removes one hash; false when the bank has no such hash.
    func deleteBankEntry(bank: String, id: Int64, audit: AuditDraft) async throws -> Bool
}

extension BankEntry {
    /// This entry with an imported hash merged in (its tags added, a deconfirmation kept, a content id
    /// filled when missing), or nil when the import changes nothing. Both stores merge with it.
    func merging(_ hash: ImportedHash) -> BankEntry? {
        var merged = self
        for tag in hash.tags where !merged.tags.contains(tag) { merged.tags.append(tag) }
        if hash.opinion == .deconfirmed { merged.opinion = .deconfirmed }
        merged.contentID = contentID ?? hash.contentID
        return merged.tags == tags && merged.opinion == opinion && merged.contentID == contentID ? nil : merged
    }
}
