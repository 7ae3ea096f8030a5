import Foundation
import GRDB

extension SQLiteStore: ClassifierModelStore {
    public func saveModel(_ model: StoredClassifierModel) async throws -> Int {
        try await pool.write { db in
            let version = (try Int.fetchOne(db, sql: "SELECT max(version) FROM classifier_model WHERE name = ?", arguments: [model.name]) ?? 0) + 1
            try db.execute(sql: """
                INSERT INTO classifier_model (name, version, kind, created_at, trained_on, examples, labels, metrics, data)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [model.name, version, model.kind, model.createdAt, model.trainedOn, model.examples,
                                 model.labels.joined(separator: "\n"), model.metrics, Data(model.data)])
            return version
        }
    }

    public func model(named name: String, version: Int?) async throws -> StoredClassifierModel? {
        try await pool.read { db in
            let row = if let version {
                try Row.fetchOne(db, sql: "SELECT * FROM classifier_model WHERE name = ? AND version = ?", arguments: [name, version])
            } else {
                try Row.fetchOne(db, sql: "SELECT * FROM classifier_model WHERE name = ? ORDER BY version DESC LIMIT 1", arguments: [name])
            }
            return row.map { row in
                let data: Data = row["data"]
                return Self.model(row, data: Array(data))
            }
        }
    }

    public func models() async throws -> [StoredClassifierModel] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT name, version, kind, created_at, trained_on, examples, labels, metrics FROM classifier_model ORDER BY name, version
                """).map { Self.model($0, data: []) }
        }
    }

    private static func model(_ row: Row, data: [UInt8]) -> StoredClassifierModel {
        let labels: String = row["labels"]
        return StoredClassifierModel(name: row["name"], version: row["version"], kind: row["kind"], createdAt: row["created_at"],
                                     trainedOn: row["trained_on"], examples: row["examples"],
                                     labels: labels.split(separator: "\n").map(String.init), metrics: row["metrics"], data: data)
    }
}
