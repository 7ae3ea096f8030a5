import Foundation
public import WardenCore
public import WardenInvestigations
public import WardenStore

/// The SQL console's service: runs investigators' read-only queries (ad hoc or saved) within their
/// limits, keeps the team's saved queries, and audits every run with who ran it and what came of it,
/// refusals and timeouts included.
public final class InvestigationService: Sendable {
    public let store: any InvestigationStore
    public let clock: any WallClock

    public init(store: any InvestigationStore, clock: any WallClock) {
        self.store = store
        self.clock = clock
    }

    /// The audit keeps this much of a query's text.
    static let auditedSQL = 4_000

    /// Runs `sql` for `actor`; `saved` names the saved query it came from.
    public func run(_ sql: String, parameters: [String: QueryValue] = [:], limits: QueryLimits = QueryLimits(), actor: ActorRef,
                    saved: String? = nil) async throws -> QueryResult {
        do {
            try SavedQuery.check(sql: sql)
            let result = try await store.runQuery(sql, parameters: parameters, limits: limits)
            try await audit(sql, saved: saved, actor: actor, outcome: "ok") {
                $0.field("rows", Int64(result.rows.count))
                $0.key("truncated")
                $0.bool(result.truncated)
                $0.key("millis")
                $0.number((result.elapsedMillis * 10).rounded() / 10)
            }
            return result
        } catch let error as QueryError {
            let outcome = switch error.kind {
            case .timeout: "timeout"
            case .refused: "refused"
            default: "invalid"
            }
            try await audit(sql, saved: saved, actor: actor, outcome: outcome) { $0.field("error", error.message) }
            throw error
        }
    }

    /// Runs saved query `name` with `parameters`.
    public func run(saved name: String, parameters: [String: QueryValue] = [:], limits: QueryLimits = QueryLimits(),
                    actor: ActorRef) async throws -> (SavedQuery, QueryResult) {
        guard let query = try await store.savedQuery(named: name) else { throw QueryError(.notFound, "there is no saved query \(name.prefix(70))") }
        return (query, try await run(query.sql, parameters: parameters, limits: limits, actor: actor, saved: name))
    }

    public func savedQueries() async throws -> [SavedQuery] { try await store.savedQueries() }

    public func savedQuery(named name: String) async throws -> SavedQuery? { try await store.savedQuery(named: name) }

    /// Creates or replaces saved query `name` (with `onlyNew`, refuses one that exists: a conflict):
    /// the SQL must compile under the same rules as a run. Returns the query and whether it is new.
    public func save(name: String, description: String, sql: String, actor: ActorRef, onlyNew: Bool = false) async throws -> (SavedQuery, Bool) {
        try SavedQuery.check(name: name)
        try SavedQuery.check(description: description)
        try SavedQuery.check(sql: sql)
        let parameters = try await store.queryParameters(sql)
        let now = clock.nowMillis()
        let existing = try await store.savedQuery(named: name)
        let query = SavedQuery(name: name, description: description, sql: sql, parameters: parameters,
                               createdBy: existing?.createdBy ?? actor.description, createdAt: existing?.createdAt ?? now,
                               updatedBy: actor.description, updatedAt: now)
        let detail = JSONWriter.object {
            $0.field("sql", String(sql.prefix(Self.auditedSQL)))
            $0.field("description", description)
        }
        let created = try await store.saveQuery(query, onlyNew: onlyNew,
                                                audit: AuditDraft(at: now, actor: actor, action: "query.save", target: "query:\(name)", detail: detail))
        if onlyNew, !created { throw QueryError(.conflict, "there is already a saved query \(name); change it with PUT /v1/queries/\(name)") }
        return (query, created)
    }

    public func delete(name: String, actor: ActorRef) async throws {
        let audit = AuditDraft(at: clock.nowMillis(), actor: actor, action: "query.delete", target: "query:\(name)", detail: "{}")
        guard try await store.deleteSavedQuery(named: name, audit: audit) else {
            throw QueryError(.notFound, "there is no saved query \(name.prefix(70))")
        }
    }

    private func audit(_ sql: String, saved: String?, actor: ActorRef, outcome: String, _ more: (inout JSONWriter) -> Void) async throws {
        let detail = JSONWriter.object {
            $0.field("sql", String(sql.prefix(Self.auditedSQL)))
            if let saved { $0.field("saved", saved) }
            $0.field("outcome", outcome)
            more(&$0)
        }
        try await store.audit(actor: actor, action: "query.run", target: saved.map { "query:\($0)" } ?? "query", detail: detail, now: clock.nowMillis())
    }
}
