import Foundation
import GRDB
public import WardenCore
public import WardenInvestigations

extension SQLiteStore: HashBankStore {
    public func hashBanks() async throws -> [HashBank] {
        try await pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM hash_bank ORDER BY name").compactMap(Self.hashBank) }
    }

    public func hashBank(named name: String) async throws -> HashBank? {
        try await pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM hash_bank WHERE name = ?", arguments: [name]).flatMap(Self.hashBank) }
    }

    public func hashBankCounts() async throws -> [String: (total: Int, deconfirmed: Int)] {
        try await pool.read { db in
            var counts: [String: (total: Int, deconfirmed: Int)] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT bank, count(*) AS total, sum(opinion = 'deconfirmed') AS deconfirmed FROM hash_entry GROUP BY bank
                """) {
                counts[row["bank"]] = (row["total"], row["deconfirmed"] ?? 0)
            }
            return counts
        }
    }

    public func createHashBank(_ bank: HashBank, audit: AuditDraft) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO hash_bank (name, kind, threshold, negative, description, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (name) DO NOTHING
                """, arguments: [bank.name, bank.kind.rawValue, bank.threshold, bank.negative, bank.description, bank.createdBy, bank.createdAt])
            guard db.changesCount == 1 else { return false }
            try Self.appendAudit(db, at: audit.at, actor: audit.actor.description, action: audit.action, target: audit.target, detail: audit.detail)
            return true
        }
    }

    public func updateHashBank(_ bank: HashBank, audit: AuditDraft) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "UPDATE hash_bank SET threshold = ?, description = ? WHERE name = ?",
                           arguments: [bank.threshold, bank.description, bank.name])
            guard db.changesCount == 1 else { return false }
            try Self.appendAudit(db, at: audit.at, actor: audit.actor.description, action: audit.action, target: audit.target, detail: audit.detail)
            return true
        }
    }

    public func deleteHashBank(named name: String, audit: AuditDraft) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM hash_entry WHERE bank = ?", arguments: [name])
            try db.execute(sql: "DELETE FROM hash_bank WHERE name = ?", arguments: [name])
            guard db.changesCount == 1 else { return false }
            try Self.appendAudit(db, at: audit.at, actor: audit.actor.description, action: audit.action, target: audit.target, detail: audit.detail)
            return true
        }
    }

    public func bankEntries(bank: String, after: Int64, limit: Int) async throws -> [BankEntry] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM hash_entry WHERE bank = ? AND id > ? ORDER BY id LIMIT ?", arguments: [bank, after, limit])
                .compactMap(Self.bankEntry)
        }
    }

    public func bankEntry(bank: String, id: Int64) async throws -> BankEntry? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM hash_entry WHERE bank = ? AND id = ?", arguments: [bank, id]).flatMap(Self.bankEntry)
        }
    }

    public func addHashes(bank: String, _ hashes: [ImportedHash], by actor: String, at time: Int64, audit: AuditDraft) async throws -> HashAddition {
        try await pool.write { db in
            var result = HashAddition(added: 0, updated: 0, unchanged: 0)
            let find = try db.makeStatement(sql: "SELECT * FROM hash_entry WHERE bank = ? AND hash = ?")
            let insert = try db.makeStatement(sql: """
                INSERT INTO hash_entry (bank, hash, opinion, tags, content_id, added_by, added_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                """)
            let update = try db.makeStatement(sql: "UPDATE hash_entry SET opinion = ?, tags = ?, content_id = ? WHERE id = ?")
            for hash in hashes {
                if let row = try Row.fetchOne(find, arguments: [bank, hash.hash]), let existing = Self.bankEntry(row) {
                    guard let merged = existing.merging(hash) else {
                        result.unchanged += 1
                        continue
                    }
                    try update.execute(arguments: [merged.opinion.rawValue, Self.tagText(merged.tags), merged.contentID, existing.id])
                    result.updated += 1
                } else {
                    try insert.execute(arguments: [bank, hash.hash, (hash.opinion ?? .unreviewed).rawValue, Self.tagText(hash.tags), hash.contentID, actor, time])
                    result.added += 1
                }
            }
            try Self.appendAudit(db, at: audit.at, actor: audit.actor.description, action: audit.action, target: audit.target,
                                 detail: Self.withCounts(audit.detail, result))
            return result
        }
    }

    public func setOpinion(bank: String, id: Int64, opinion: HashOpinion, audit: AuditDraft) async throws -> BankEntry? {
        try await pool.write { db in
            try db.execute(sql: "UPDATE hash_entry SET opinion = ? WHERE bank = ? AND id = ?", arguments: [opinion.rawValue, bank, id])
            guard db.changesCount == 1 else { return nil }
            try Self.appendAudit(db, at: audit.at, actor: audit.actor.description, action: audit.action, target: audit.target, detail: audit.detail)
            return try Row.fetchOne(db, sql: "SELECT * FROM hash_entry WHERE id = ?", arguments: [id]).flatMap(Self.bankEntry)
        }
    }

    public func deleteBankEntry(bank: String, id: Int64, audit: AuditDraft) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM hash_entry WHERE bank = ? AND id = ?", arguments: [bank, id])
            guard db.changesCount == 1 else { return false }
            try Self.appendAudit(db, at: audit.at, actor: audit.actor.description, action: audit.action, target: audit.target, detail: audit.detail)
            return true
        }
    }

    /// An audit detail object with the addition's counts added to its members.
    static func withCounts(_ detail: String, _ result: HashAddition) -> String {
        let counts = "\"added\":\(result.added),\"updated\":\(result.updated),\"unchanged\":\(result.unchanged)"
        guard detail.hasSuffix("}"), detail.count > 2 else { return "{" + counts + "}" }
        return String(detail.dropLast()) + "," + counts + "}"
    }

    static func tagText(_ tags: [String]) -> String {
        var writer = JSONWriter()
        writer.beginArray()
        for tag in tags { writer.string(tag) }
        writer.endArray()
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    static func hashBank(_ row: Row) -> HashBank? {
        guard let kind = HashKind(rawValue: row["kind"]) else { return nil }
        return HashBank(name: row["name"], kind: kind, threshold: row["threshold"], negative: row["negative"], description: row["description"],
                        createdBy: row["created_by"], createdAt: row["created_at"])
    }

    static func bankEntry(_ row: Row) -> BankEntry? {
        guard let opinion = HashOpinion(rawValue: row["opinion"]) else { return nil }
        let tagText: String = row["tags"]
        var tags: [String] = []
        if case .array(let items)? = JSONValue.parse(Array(tagText.utf8)) {
            tags = items.compactMap { if case .string(let tag) = $0 { tag } else { nil } }
        }
        return BankEntry(id: row["id"], bank: row["bank"], hash: row["hash"], opinion: opinion, tags: tags, contentID: row["content_id"],
                         addedBy: row["added_by"], addedAt: row["added_at"])
    }
}
