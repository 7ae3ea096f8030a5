import Foundation
public import Logging
public import ServiceLifecycle
public import WardenCore
public import WardenInvestigations
public import WardenStore

/// Derived tables: saved queries materialised on a schedule (full or incremental by a cursor
/// column), queried like views and fed to rules as lists. Every schedule change and refresh is
/// audited (a refresh as `system:derived`, or as the person who asked for it).
public final class DerivedTables: Sendable {
    public let store: any DerivedTableStore & InvestigationStore
    public let lookups: LiveLookups
    public let clock: any WallClock

    public init(store: any DerivedTableStore & InvestigationStore, lookups: LiveLookups, clock: any WallClock) {
        self.store = store
        self.lookups = lookups
        self.clock = clock
    }

    /// Puts every materialised table's first column in force for rules (at start).
    public func load() async throws {
        for table in try await store.derivedTables() where table.columns != nil {
            lookups.replaceDerived(table.query, items: DerivedTable.listItems(try await store.derivedRows(query: table.query)))
        }
    }

    public func tables() async throws -> [DerivedTable] { try await store.derivedTables() }

    /// Saves the queries a pack declares that Warden does not have (as the pack's), and schedules
    /// those with a schedule. Returns the names created.
    @discardableResult
    public func ensure(_ declared: QueryPack, investigations: InvestigationService) async throws -> [String] {
        var created: [String] = []
        for query in declared.queries where try await store.savedQuery(named: query.name) == nil {
            let actor = ActorRef.system("pack")
            _ = try await investigations.save(name: query.name, description: query.description, sql: query.sql, actor: actor, onlyNew: true)
            if let schedule = query.schedule {
                _ = try await self.schedule(query: query.name, every: schedule.every, mode: schedule.mode, cursorColumn: schedule.cursorColumn, actor: actor)
            }
            created.append(query.name)
        }
        return created
    }

    /// Schedules saved query `query`; its first refresh runs now (returned).
    public func schedule(query: String, every: Int64, mode: DerivedMode, cursorColumn: String?, actor: ActorRef) async throws -> DerivedTable {
        guard let saved = try await store.savedQuery(named: query) else { throw QueryError(.notFound, "there is no saved query \(query.prefix(70))") }
        let schedule = DerivedSchedule(every: every, mode: mode, cursorColumn: cursorColumn)
        try schedule.check(parameters: saved.parameters)
        let taken = try await store.derivedTables().first { $0.query != query && $0.viewName == DerivedTable.viewName(query) }
        if let taken { throw QueryError(.conflict, "saved query \(taken.query) is already materialised as \(taken.viewName); rename one of them") }
        let now = clock.nowMillis()
        let table = DerivedTable(query: query, schedule: schedule, nextAt: now, scheduledBy: actor.description)
        let detail = JSONWriter.object {
            $0.field("every", DurationText.format(every))
            $0.field("mode", mode.rawValue)
            if let cursorColumn { $0.field("cursor_column", cursorColumn) }
        }
        guard try await store.scheduleDerived(table, audit: AuditDraft(at: now, actor: actor, action: "derived.schedule", target: "query:\(query)", detail: detail)) else {
            throw QueryError(.notFound, "there is no saved query \(query.prefix(70))")
        }
        lookups.removeDerived(query)
        return try await refresh(query: query, actor: actor)
    }

    public func unschedule(query: String, actor: ActorRef) async throws {
        guard try await store.unscheduleDerived(query: query, audit: AuditDraft(at: clock.nowMillis(), actor: actor, action: "derived.drop",
                                                                                 target: "query:\(query)", detail: "{}")) else {
            throw QueryError(.notFound, "saved query \(query.prefix(70)) is not materialised")
        }
        lookups.removeDerived(query)
    }

    /// Refreshes one table now. A failed refresh keeps the rows it had and records why (the
    /// returned table's `error`); the next try is a period later.
    @discardableResult
    public func refresh(query: String, actor: ActorRef = .system("derived")) async throws -> DerivedTable {
        guard var table = try await store.derivedTable(query: query) else { throw QueryError(.notFound, "saved query \(query.prefix(70)) is not materialised") }
        let started = clock.nowMillis()
        table.nextAt = started + table.schedule.every
        do {
            guard let saved = try await store.savedQuery(named: query) else { throw QueryError(.notFound, "saved query \(query) was deleted") }
            let parameters: [String: QueryValue] = table.schedule.mode == .incremental ? ["cursor": table.cursor] : [:]
            let result = try await store.runQuery(saved.sql, parameters: parameters,
                                                  limits: QueryLimits(rows: DerivedTable.maximumRows, millis: DerivedTable.refreshMillis))
            let (rows, cursor) = try table.applying(result)
            table.columns = result.columns
            table.cursor = cursor
            table.refreshedAt = started
            table.millis = (result.elapsedMillis * 10).rounded() / 10
            table.error = nil
            let detail = JSONWriter.object {
                $0.field("mode", table.schedule.mode.rawValue)
                $0.field("rows", Int64(rows.count))
                $0.key("millis")
                $0.number(table.millis ?? 0)
            }
            try await store.storeRefresh(table, rows: rows, replace: table.schedule.mode == .full,
                                         audit: AuditDraft(at: clock.nowMillis(), actor: actor, action: "derived.refresh", target: "query:\(query)", detail: detail))
            let stored = try await store.derivedRows(query: query)
            lookups.replaceDerived(query, items: DerivedTable.listItems(stored))
            return try await store.derivedTable(query: query) ?? table
        } catch let error as QueryError {
            table.error = error.message
            try await store.storeRefreshFailure(table, audit: AuditDraft(at: clock.nowMillis(), actor: actor, action: "derived.refresh", target: "query:\(query)",
                                                                          detail: JSONWriter.object { $0.field("error", error.message) }))
            return try await store.derivedTable(query: query) ?? table
        }
    }

    /// Refreshes every table that is due; returns how many ran.
    @discardableResult
    public func refreshDue() async throws -> Int {
        let now = clock.nowMillis()
        var ran = 0
        for table in try await store.derivedTables() where table.isDue(at: now) {
            try await refresh(query: table.query)
            ran += 1
        }
        return ran
    }
}

/// Refreshes derived tables when they are due (checked every few seconds).
public struct DerivedTableScheduler: Service {
    let tables: DerivedTables
    let interval: Duration
    let logger: Logger

    public init(tables: DerivedTables, interval: Duration = .seconds(5), logger: Logger) {
        self.tables = tables
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await tables.refreshDue()
                    try await Task.sleep(for: interval)
                } catch is CancellationError {
                    return
                } catch {
                    logger.error("derived tables failed to refresh; retrying", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: .seconds(5))
                }
            }
        }
    }
}
