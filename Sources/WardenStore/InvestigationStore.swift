public import WardenCore
public import WardenInvestigations

/// Read-only SQL over the investigation views, and the team's saved queries.
public protocol InvestigationStore: Sendable {
    /// Compiles and runs one read-only statement over the views, within `limits`. Throws
    /// ``QueryError`` (refused, timeout, invalid parameters) or a storage error.
    func runQuery(_ sql: String, parameters: [String: QueryValue], limits: QueryLimits) async throws -> QueryResult
    /// Compiles `sql` as ``runQuery(_:parameters:limits:)`` would and returns its parameter names.
    func queryParameters(_ sql: String) async throws -> [String]

    func savedQueries() async throws -> [SavedQuery]
    func savedQuery(named name: String) async throws -> SavedQuery?
    /// Creates or replaces the saved query `query.name`, audited in the same transaction. Returns
    /// whether it was new. With `onlyNew`, an existing query is left as it is (nothing written) and
    /// the answer is false.
    func saveQuery(_ query: SavedQuery, onlyNew: Bool, audit: AuditDraft) async throws -> Bool
    /// Deletes a saved query, audited; false when there was none.
    func deleteSavedQuery(named name: String, audit: AuditDraft) async throws -> Bool
    /// Appends an audit entry (every query run is audited, refused ones too).
    func audit(actor: ActorRef, action: String, target: String, detail: String, now: Int64) async throws
}
