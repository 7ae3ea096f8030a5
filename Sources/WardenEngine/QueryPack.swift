import Foundation
public import WardenInvestigations
import WardenCore
import Yams

/// Saved queries a pack declares in `queries.yaml`, each optionally materialised on a schedule
/// (a derived table that rules can read as a list). Created at start when Warden does not have a
/// saved query of that name; after that they are the team's to change (the API and console).
public struct QueryPack: Sendable {
    public struct Declared: Sendable {
        public var name: String
        public var description: String
        public var sql: String
        public var schedule: DerivedSchedule?
    }

    public var queries: [Declared] = []

    struct File: Decodable {
        struct Query: Decodable {
            struct Schedule: Decodable {
                var every: String
                var mode: DerivedMode?
                var cursorColumn: String?
                enum CodingKeys: String, CodingKey { case every, mode, cursorColumn = "cursor_column" }
            }
            var name: String
            var description: String?
            var sql: String
            var schedule: Schedule?
        }
        var queries: [Query]
    }

    static func load(directory: String, problems: inout [PolicyPackError.Problem]) -> QueryPack {
        let path = (directory as NSString).appendingPathComponent("queries.yaml")
        guard let data = FileManager.default.contents(atPath: path) else { return QueryPack() }
        let file: File
        do {
            file = try YAMLDecoder().decode(File.self, from: String(decoding: data, as: UTF8.self))
        } catch let error as DecodingError {
            problems.append(.init(decoding: error, file: "queries.yaml"))
            return QueryPack()
        } catch {
            problems.append(.init(file: "queries.yaml", message: "is not valid YAML: \(error)"))
            return QueryPack()
        }
        var pack = QueryPack()
        var seen = Set<String>()
        for (index, item) in file.queries.enumerated() {
            let where_ = "queries[\(index)]"
            do {
                try SavedQuery.check(name: item.name)
                try SavedQuery.check(sql: item.sql)
                try SavedQuery.check(description: item.description ?? "")
            } catch {
                problems.append(.init(file: "queries.yaml", path: where_, message: error.message))
                continue
            }
            guard seen.insert(item.name).inserted else {
                problems.append(.init(file: "queries.yaml", path: "\(where_).name", message: "query \(item.name) is declared twice"))
                continue
            }
            var schedule: DerivedSchedule?
            if let given = item.schedule {
                guard let every = DurationText.millis(given.every) else {
                    problems.append(.init(file: "queries.yaml", path: "\(where_).schedule.every", message: "is a duration such as 15m, 1h or 1d, not \(given.every)"))
                    continue
                }
                schedule = DerivedSchedule(every: every, mode: given.mode ?? .full, cursorColumn: given.cursorColumn)
            }
            pack.queries.append(Declared(name: item.name, description: item.description ?? "", sql: item.sql, schedule: schedule))
        }
        return pack
    }
}
