import Foundation
public import WardenCore
public import WardenInvestigations
public import WardenStore

/// Banks of known content hashes: creating and changing banks, adding, importing and exporting
/// hashes, confirming and deconfirming them, and matching. Every change is audited and rebuilds
/// that bank's index in ``LiveLookups``, which rules (`hash_distance`) and the match API read.
public final class HashBankService: Sendable {
    public let store: any HashBankStore
    public let lookups: LiveLookups
    public let clock: any WallClock

    public init(store: any HashBankStore, lookups: LiveLookups, clock: any WallClock) {
        self.store = store
        self.lookups = lookups
        self.clock = clock
    }

    /// Page size when a bank is read whole (to index or export it).
    static let page = 50_000

    /// Builds every bank's index from the store (at start).
    public func load() async throws {
        for bank in try await store.hashBanks() { try await reindex(bank) }
    }

    /// Creates the banks a pack declares that the store does not have, each with its seed hashes
    /// (audited as the pack's). Banks that exist are left as they are. Returns the names created.
    @discardableResult
    public func ensure(_ declared: BankPack) async throws -> [String] {
        let actor = ActorRef.system("pack")
        var created: [String] = []
        for item in declared.banks where try await store.hashBank(named: item.bank.name) == nil {
            _ = try await create(name: item.bank.name, kind: item.bank.kind, threshold: item.bank.threshold, negative: item.bank.negative,
                                 description: item.bank.description, actor: actor)
            if !item.seed.isEmpty {
                _ = try await add(try await bank(named: item.bank.name), item.seed, actor: actor, action: "bank.import",
                                  detail: JSONWriter.object {
                                      $0.field("format", "hma")
                                      $0.field("seed", item.seedFile ?? "")
                                      $0.field("given", Int64(item.seed.count))
                                  })
            }
            created.append(item.bank.name)
        }
        return created
    }

    /// Every hash of a bank, in id order.
    public func entries(of bank: String) async throws -> [BankEntry] {
        var all: [BankEntry] = []
        var after: Int64 = 0
        while true {
            let page = try await store.bankEntries(bank: bank, after: after, limit: Self.page)
            all += page
            guard let last = page.last, page.count == Self.page else { return all }
            after = last.id
        }
    }

    func reindex(_ bank: HashBank) async throws {
        lookups.replace(BankIndex(bank: bank, entries: try await entries(of: bank.name)))
    }

    func reindex(named name: String) async throws {
        if let bank = try await store.hashBank(named: name) { try await reindex(bank) } else { lookups.removeBank(name) }
    }

    public func banks() async throws -> [(HashBank, total: Int, deconfirmed: Int)] {
        let counts = try await store.hashBankCounts()
        return try await store.hashBanks().map { ($0, counts[$0.name]?.total ?? 0, counts[$0.name]?.deconfirmed ?? 0) }
    }

    public func bank(named name: String) async throws -> HashBank {
        guard let bank = try await store.hashBank(named: name) else { throw HashBankError.notFound("there is no bank \(name.prefix(70))") }
        return bank
    }

    /// Creates a bank (a conflict when one has the name).
    public func create(name: String, kind: HashKind, threshold: Int?, negative: Bool, description: String, actor: ActorRef) async throws -> HashBank {
        let threshold = threshold ?? (kind.isPerceptual ? HashBank.defaultPDQThreshold : 0)
        do { try HashBank.check(name: name, kind: kind, threshold: threshold) } catch { throw HashBankError.invalid(error.description) }
        let now = clock.nowMillis()
        let bank = HashBank(name: name, kind: kind, threshold: threshold, negative: negative, description: description, createdBy: actor.description, createdAt: now)
        let detail = JSONWriter.object {
            $0.field("kind", kind.rawValue)
            $0.field("threshold", Int64(threshold))
            $0.key("negative")
            $0.bool(negative)
        }
        guard try await store.createHashBank(bank, audit: AuditDraft(at: now, actor: actor, action: "bank.create", target: "bank:\(name)", detail: detail)) else {
            throw HashBankError.conflict("there is already a bank \(name)")
        }
        try await reindex(bank)
        return bank
    }

    /// Changes a bank's threshold or description.
    public func update(name: String, threshold: Int?, description: String?, actor: ActorRef) async throws -> HashBank {
        var bank = try await self.bank(named: name)
        if let threshold {
            do { try HashBank.check(name: name, kind: bank.kind, threshold: threshold) } catch { throw HashBankError.invalid(error.description) }
            bank.threshold = threshold
        }
        if let description { bank.description = description }
        let detail = JSONWriter.object {
            $0.field("threshold", Int64(bank.threshold))
            $0.field("description", bank.description)
        }
        guard try await store.updateHashBank(bank, audit: AuditDraft(at: clock.nowMillis(), actor: actor, action: "bank.update", target: "bank:\(name)", detail: detail)) else {
            throw HashBankError.notFound("there is no bank \(name.prefix(70))")
        }
        try await reindex(bank)
        return bank
    }

    public func delete(name: String, actor: ActorRef) async throws {
        guard try await store.deleteHashBank(named: name, audit: AuditDraft(at: clock.nowMillis(), actor: actor, action: "bank.delete", target: "bank:\(name)", detail: "{}")) else {
            throw HashBankError.notFound("there is no bank \(name.prefix(70))")
        }
        lookups.removeBank(name)
    }

    /// Adds hashes given one by one (checked first: one bad hash changes nothing).
    public func add(bank name: String, hashes: [(hash: String, tags: [String], contentID: String?)], actor: ActorRef) async throws -> HashAddition {
        let bank = try await self.bank(named: name)
        var checked: [ImportedHash] = []
        for (index, item) in hashes.enumerated() {
            do {
                checked.append(ImportedHash(hash: try bank.kind.normalize(item.hash), opinion: nil, tags: item.tags, contentID: item.contentID))
            } catch {
                throw HashBankError.invalid("hashes[\(index)].hash: \(error.description)")
            }
        }
        return try await add(bank, checked, actor: actor, action: "bank.add", detail: JSONWriter.object { $0.field("given", Int64(checked.count)) })
    }

    /// Imports a file in an exchange format into a bank.
    public func importFile(bank name: String, text: String, format: HashExchangeFormat, actor: ActorRef) async throws -> (HashAddition, otherKinds: Int) {
        let bank = try await self.bank(named: name)
        let read: HashImport
        do { read = try HashExchange.read(text, format: format, kind: bank.kind) } catch { throw HashBankError.invalid(error.description) }
        let detail = JSONWriter.object {
            $0.field("format", format.rawValue)
            $0.field("given", Int64(read.hashes.count))
            $0.field("other_kinds", Int64(read.otherKinds))
        }
        return (try await add(bank, read.hashes, actor: actor, action: "bank.import", detail: detail), read.otherKinds)
    }

    private func add(_ bank: HashBank, _ hashes: [ImportedHash], actor: ActorRef, action: String, detail: String) async throws -> HashAddition {
        let now = clock.nowMillis()
        let result = try await store.addHashes(bank: bank.name, hashes, by: actor.description, at: now,
                                               audit: AuditDraft(at: now, actor: actor, action: action, target: "bank:\(bank.name)", detail: detail))
        if result.added + result.updated > 0 { try await reindex(bank) }
        return result
    }

    /// A bank in an exchange format.
    public func export(bank name: String, format: HashExchangeFormat) async throws -> String {
        let bank = try await self.bank(named: name)
        return HashExchange.write(try await entries(of: name), kind: bank.kind, format: format)
    }

    public func entries(bank name: String, after: Int64, limit: Int) async throws -> [BankEntry] {
        _ = try await bank(named: name)
        return try await store.bankEntries(bank: name, after: after, limit: limit)
    }

    /// Confirms or deconfirms one hash (a deconfirmed hash stops matching at once).
    public func setOpinion(bank name: String, id: Int64, opinion: HashOpinion, note: String?, actor: ActorRef) async throws -> BankEntry {
        _ = try await bank(named: name)
        let detail = JSONWriter.object {
            $0.field("opinion", opinion.rawValue)
            if let note { $0.field("note", note) }
        }
        guard let entry = try await store.setOpinion(bank: name, id: id, opinion: opinion,
                                                     audit: AuditDraft(at: clock.nowMillis(), actor: actor, action: "bank.\(opinion == .deconfirmed ? "deconfirm" : "confirm")",
                                                                       target: "bank:\(name)/\(id)", detail: detail)) else {
            throw HashBankError.notFound("bank \(name) has no hash \(id)")
        }
        try await reindex(named: name)
        return entry
    }

    public func deleteEntry(bank name: String, id: Int64, actor: ActorRef) async throws {
        _ = try await bank(named: name)
        guard try await store.deleteBankEntry(bank: name, id: id, audit: AuditDraft(at: clock.nowMillis(), actor: actor, action: "bank.remove",
                                                                                      target: "bank:\(name)/\(id)", detail: "{}")) else {
            throw HashBankError.notFound("bank \(name) has no hash \(id)")
        }
        try await reindex(named: name)
    }

    /// Matches hashes (by kind) against the banks named, or every bank of their kind.
    public func match(_ hashes: [HashKind: String], banks: [String]?) throws -> [(HashKind, HashMatch)] {
        let matcher = lookups.hashes
        var found: [(HashKind, HashMatch)] = []
        for kind in HashKind.allCases {
            guard let given = hashes[kind] else { continue }
            let hash: String
            do { hash = try kind.normalize(given) } catch { throw HashBankError.invalid("hashes.\(kind.rawValue): \(error.description)") }
            found += matcher.matches(hash, kind: kind, banks: banks).map { (kind, $0) }
        }
        return found
    }
}

/// Why a bank operation was refused.
public enum HashBankError: Error, Sendable, CustomStringConvertible {
    case notFound(String)
    case conflict(String)
    case invalid(String)

    public var description: String {
        switch self {
        case .notFound(let text), .conflict(let text), .invalid(let text): text
        }
    }
}
