import Foundation
import GRDB
public import WardenCore
public import WardenInvestigations

extension SQLiteStore: InvestigationStore {
    public func runQuery(_ sql: String, parameters: [String: QueryValue], limits: QueryLimits) async throws -> QueryResult {
        try await investigator.run(sql, parameters: parameters, limits: limits)
    }

    public func queryParameters(_ sql: String) async throws -> [String] {
        try await investigator.parameters(sql)
    }

    public func savedQueries() async throws -> [SavedQuery] {
        try await pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM saved_query ORDER BY name").map(Self.savedQuery) }
    }

    public func savedQuery(named name: String) async throws -> SavedQuery? {
        try await pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM saved_query WHERE name = ?", arguments: [name]).map(Self.savedQuery) }
    }

    public func saveQuery(_ query: SavedQuery, onlyNew: Bool, audit: AuditDraft) async throws -> Bool {
        try await pool.write { db in
            let existed = try Bool.fetchOne(db, sql: "SELECT 1 FROM saved_query WHERE name = ?", arguments: [query.name]) ?? false
            if existed, onlyNew { return false }
            try db.execute(sql: """
                INSERT INTO saved_query (name, description, sql, parameters, created_by, created_at, updated_by, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (name) DO UPDATE SET description = excluded.description, sql = excluded.sql, parameters = excluded.parameters,
                    updated_by = excluded.updated_by, updated_at = excluded.updated_at
                """, arguments: [query.name, query.description, query.sql, query.parameters.joined(separator: "\n"), query.createdBy, query.createdAt,
                                 query.updatedBy, query.updatedAt])
            try Self.appendAudit(db, at: audit.at, actor: audit.actor.description, action: audit.action, target: audit.target, detail: audit.detail)
            return !existed
        }
    }

    public func deleteSavedQuery(named name: String, audit: AuditDraft) async throws -> Bool {
        let deleted = try await pool.write { db -> Bool in
            try db.execute(sql: "DELETE FROM saved_query WHERE name = ?", arguments: [name])
            guard db.changesCount == 1 else { return false }
            // Its derived table goes with it.
            try db.execute(sql: "DELETE FROM derived_table WHERE query = ?", arguments: [name])
            try db.execute(sql: "DELETE FROM derived_row WHERE query = ?", arguments: [name])
            try Self.appendAudit(db, at: audit.at, actor: audit.actor.description, action: audit.action, target: audit.target, detail: audit.detail)
            return true
        }
        if deleted { investigator.derivedChanged() }
        return deleted
    }

    private static func savedQuery(_ row: Row) -> SavedQuery {
        let parameters: String = row["parameters"]
        return SavedQuery(name: row["name"], description: row["description"], sql: row["sql"],
                          parameters: parameters.split(separator: "\n").map(String.init), createdBy: row["created_by"], createdAt: row["created_at"],
                          updatedBy: row["updated_by"], updatedAt: row["updated_at"])
    }
}
