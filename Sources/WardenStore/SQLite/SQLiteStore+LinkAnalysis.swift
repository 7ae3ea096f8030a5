import Foundation
import GRDB
public import WardenCore
public import WardenInvestigations

/// What link analysis reads: account–pivot links, an entity's neighbours, and what is known about a
/// set of accounts.
public protocol LinkStore: Sendable {
    /// Links from accounts of `accountType` to entities of `pivotTypes` first seen after event `afterSeq`, at most `limit`.
    func memberships(accountType: String, pivotTypes: Set<String>, afterSeq: Int64, limit: Int) async throws -> [Membership]
    /// Each entity's neighbours (both directions), at most `limit` each.
    func neighbours(of entities: [String], limit: Int) async throws -> [String: [String]]
    /// Activity, labels and decisions of `accounts`.
    func accountFacts(_ accounts: [String]) async throws -> AccountFacts
    /// The first event received at or after `time`.
    func firstSeq(receivedSince time: Int64) async throws -> Int64?
}

public struct AccountFacts: Sendable, Equatable {
    public var firstSeenAt: Int64?
    public var lastActiveAt: Int64?
    /// Labels by entity.
    public var labels: [String: [String]]
    public var cases: Int
    public var decisions: Int
    public var violations: Int

    public init(firstSeenAt: Int64?, lastActiveAt: Int64?, labels: [String: [String]], cases: Int, decisions: Int, violations: Int) {
        self.firstSeenAt = firstSeenAt
        self.lastActiveAt = lastActiveAt
        self.labels = labels
        self.cases = cases
        self.decisions = decisions
        self.violations = violations
    }
}

extension SQLiteStore: LinkStore {
    /// A JSON array of strings (for `json_each`), every character escaped as JSON requires.
    static func jsonArray(_ items: [String]) -> String {
        var writer = JSONWriter()
        writer.beginArray()
        for item in items { writer.string(item) }
        writer.endArray()
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    public func memberships(accountType: String, pivotTypes: Set<String>, afterSeq: Int64, limit: Int) async throws -> [Membership] {
        let types = Self.jsonArray(pivotTypes.sorted())
        return try await graph.read { db in
            // From each account (the (type, id) index) along its links (the (a, b) key); a link merged
            // and added again since (see GraphSchema v2) counts once, by its first event.
            try Row.fetchAll(db, sql: """
                SELECT x.type || ':' || x.id AS account, y.type || ':' || y.id AS pivot, min(l.first_seq) AS first_seq
                FROM entity x
                JOIN (SELECT a, b, first_seq FROM entity_link UNION ALL SELECT a, b, first_seq FROM entity_link_recent) l ON l.a = x.key
                JOIN entity y ON y.key = l.b
                WHERE x.type = ? AND y.type IN (SELECT value FROM json_each(?)) AND l.first_seq > ?
                GROUP BY l.a, l.b
                LIMIT ?
                """, arguments: [accountType, types, afterSeq, limit]).map { Membership(account: $0["account"], pivot: $0["pivot"], firstSeq: $0["first_seq"]) }
        }
    }

    public func neighbours(of entities: [String], limit: Int) async throws -> [String: [String]] {
        try await graph.read { db in
            var found: [String: [String]] = [:]
            for text in entities {
                guard let ref = EntityRef(parsing: text),
                      let key = try Int64.fetchOne(db, sql: "SELECT key FROM entity WHERE type = ? AND id = ?", arguments: [ref.type, ref.id])
                else { continue }
                found[text] = try String.fetchAll(db, sql: """
                    SELECT DISTINCT n.type || ':' || n.id FROM (
                        SELECT b FROM (SELECT b FROM entity_link WHERE a = ?1 LIMIT ?2)
                        UNION SELECT b FROM (\(GraphSchema.recentLinks(from: "?1")) LIMIT ?2)) l
                    JOIN entity n ON n.key = l.b LIMIT ?2
                    """, arguments: [key, limit])
            }
            return found
        }
    }

    public func accountFacts(_ accounts: [String]) async throws -> AccountFacts {
        let list = Self.jsonArray(accounts)
        let (firstSeen, lastSeq) = try await graph.read { db -> (Int64?, Int64?) in
            var firstSeen: Int64?, lastSeq: Int64?
            for text in accounts.prefix(1_000) {
                guard let ref = EntityRef(parsing: text),
                      let row = try Row.fetchOne(db, sql: """
                        SELECT first_seen_at, max(coalesce((SELECT max(seq) FROM event_entity WHERE entity = e.key), 0),
                                                  coalesce((SELECT max(seq) FROM (\(GraphSchema.recentMentions(of: "e.key")))), 0)) AS last_seq
                        FROM entity e WHERE type = ? AND id = ?
                        """, arguments: [ref.type, ref.id])
                else { continue }
                let first: Int64 = row["first_seen_at"], last: Int64 = row["last_seq"]
                firstSeen = min(firstSeen ?? first, first)
                lastSeq = max(lastSeq ?? last, last)
            }
            return (firstSeen, lastSeq)
        }
        return try await pool.read { db in
            let lastActive = try lastSeq.flatMap { try Int64.fetchOne(db, sql: "SELECT received_at FROM event WHERE seq = ?", arguments: [$0]) }
            var labels: [String: [String]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT entity, name FROM entity_label WHERE entity IN (SELECT value FROM json_each(?)) ORDER BY entity, name",
                                        arguments: [list]) {
                labels[row["entity"], default: []].append(row["name"])
            }
            let counts = try Row.fetchOne(db, sql: """
                SELECT count(DISTINCT c.id) AS cases, count(d.id) AS decisions, coalesce(sum(d.violation), 0) AS violations
                FROM review_case c LEFT JOIN decision d ON d.case_id = c.id
                WHERE c.subject IN (SELECT value FROM json_each(?))
                """, arguments: [list])
            return AccountFacts(firstSeenAt: firstSeen, lastActiveAt: lastActive, labels: labels, cases: counts?["cases"] ?? 0,
                                decisions: counts?["decisions"] ?? 0, violations: counts?["violations"] ?? 0)
        }
    }
}
