public import WardenCore
public import WardenInvestigations

/// Derived tables: saved queries materialised on a schedule. The rows are stored as JSON arrays
/// and read by investigators' queries through a view per table.
public protocol DerivedTableStore: Sendable {
    func derivedTables() async throws -> [DerivedTable]
    func derivedTable(query: String) async throws -> DerivedTable?
    /// Schedules (or reschedules) a saved query's table, audited; a new schedule keeps no rows.
    /// False when there is no such saved query.
    func scheduleDerived(_ table: DerivedTable, audit: AuditDraft) async throws -> Bool
    /// Stops materialising a query and drops its rows, audited; false when it was not scheduled.
    func unscheduleDerived(query: String, audit: AuditDraft) async throws -> Bool
    /// Stores a refresh: replaces the rows (full) or appends them (incremental, oldest dropped past
    /// the table's limit), with the table's new state, audited — all in one transaction.
    func storeRefresh(_ table: DerivedTable, rows: [[QueryValue]], replace: Bool, audit: AuditDraft) async throws
    /// Records a failed refresh (the rows stay), audited.
    func storeRefreshFailure(_ table: DerivedTable, audit: AuditDraft) async throws
    /// A table's rows, in order.
    func derivedRows(query: String) async throws -> [[QueryValue]]
}
