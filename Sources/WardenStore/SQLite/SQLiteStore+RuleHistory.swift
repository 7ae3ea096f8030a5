import GRDB
import WardenCore

extension SQLiteStore: RuleHistoryStore {
    public func record(_ change: PackChange, activating versions: [RuleVersionRecord]) async throws {
        try await pool.write { db in
            try db.execute(sql: "INSERT INTO pack_change (at, actor, pack_version, outcome, detail) VALUES (?, ?, ?, ?, ?)",
                           arguments: [change.at, change.actor, change.packVersion, change.outcome, change.detail])
            for version in versions {
                try db.execute(sql: """
                    INSERT INTO rule_version (rule, version, mode, source, first_active_at, pack_version) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (rule, version) DO NOTHING
                    """, arguments: [version.rule, version.version, version.mode, version.source, version.firstActiveAt, version.packVersion])
            }
        }
    }

    public func ruleVersions() async throws -> [RuleVersionRecord] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM rule_version ORDER BY first_active_at, rule").map { row in
                RuleVersionRecord(rule: row["rule"], version: row["version"], mode: row["mode"], source: row["source"],
                                  firstActiveAt: row["first_active_at"], packVersion: row["pack_version"])
            }
        }
    }

    public func packChanges(limit: Int) async throws -> [PackChange] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM pack_change ORDER BY id DESC LIMIT ?", arguments: [limit]).map { row in
                PackChange(at: row["at"], actor: row["actor"], packVersion: row["pack_version"], outcome: row["outcome"], detail: row["detail"])
            }
        }
    }
}
