import ArgumentParser
import Foundation
import WardenCore
import WardenEngine
import WardenInvestigations
import WardenStore

/// `warden query`: read-only SQL over the investigation views of a data directory, as the console and
/// `POST /v1/query` run it (the same views, refusals, limits and audit).
struct Query: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run read-only SQL over the investigation views of a data directory (docs/investigations.md).",
        discussion: """
            One statement over the views events, entities, mentions, links, labels, signals, cases, decisions, actions, \
            reports and statements; every run is audited. Examples:
              warden query "SELECT type, count(*) AS n FROM events GROUP BY type ORDER BY n DESC"
              warden query --saved texts-by-actor --param actor=user:42 --format csv
              warden query --views
            """)

    @OptionGroup var data: DataDirOption
    @Argument(help: "The SQL (one read-only statement). Leave out with --saved or --views.") var sql: String?
    @Option(help: "Run this saved query instead.") var saved: String?
    @Option(name: .customLong("param"), help: "A parameter as name=value (repeat); whole numbers and decimals bind as numbers.") var parameters: [String] = []
    @Option(help: "At most this many rows (1–\(QueryLimits.maximumRows)).") var limit = QueryLimits.defaultRows
    @Option(help: "Time limit in milliseconds (1–\(QueryLimits.maximumMillis)).") var timeoutMs = QueryLimits.defaultMillis
    @Option(help: "table (default), csv, ndjson or json.") var format = "table"
    @Flag(help: "Print JSON (the API's answer).") var json = false
    @Flag(help: "List the views and their columns.") var views = false

    func validate() throws {
        guard views || (sql == nil) != (saved == nil) else { throw ValidationError("give the SQL or --saved NAME (one of them), or --views") }
        guard ["table", "csv", "ndjson", "json"].contains(format) else { throw ValidationError("--format must be table, csv, ndjson or json") }
        for parameter in parameters where !parameter.contains("=") { throw ValidationError("--param \(parameter): give it as name=value") }
    }

    func run() async throws {
        if views {
            for view in InvestigationViews.all {
                print("\(view.name): \(view.about)")
                for column in view.columns { print("  \(column.name.padding(toLength: 16, withPad: " ", startingAt: 0)) \(column.type.padding(toLength: 8, withPad: " ", startingAt: 0)) \(column.about)") }
            }
            return
        }
        let limits: QueryLimits
        do { limits = try QueryLimits.checked(rows: limit, millis: timeoutMs) } catch { throw ValidationError(error.message) }
        var values: [String: QueryValue] = [:]
        for parameter in parameters {
            let name = String(parameter.prefix { $0 != "=" }), value = String(parameter.drop { $0 != "=" }.dropFirst())
            values[name] = Int64(value).map(QueryValue.integer) ?? Double(value).map(QueryValue.real) ?? .text(value)
        }
        let opened = try await OpenedDataDir(data, exclusive: false)
        let service = InvestigationService(store: opened.store, clock: SystemWallClock())
        let actor = ActorRef(.cli, NSUserName())
        let result: QueryResult
        do {
            if let saved {
                result = try await service.run(saved: saved, parameters: values, limits: limits, actor: actor).1
            } else {
                result = try await service.run(sql ?? "", parameters: values, limits: limits, actor: actor)
            }
        } catch let error as QueryError {
            throw ValidationError(error.message)
        }
        switch json ? "json" : format {
        case "csv": print(result.csv, terminator: "")
        case "ndjson": print(result.ndjson, terminator: "")
        case "json":
            printJSON(["columns": result.columns, "rows": result.rows.map { $0.map(Self.plain) }, "row_count": result.rows.count,
                       "truncated": result.truncated, "elapsed_ms": result.elapsedMillis])
        default:
            let cells = [result.columns] + result.rows.map { $0.map { String($0.text.replacingOccurrences(of: "\n", with: " ").prefix(60)) } }
            let widths = result.columns.indices.map { column in cells.map { $0[column].count }.max() ?? 0 }
            for (index, row) in cells.enumerated() {
                print(zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  "))
                if index == 0 { print(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")) }
            }
            let note = result.truncated ? " (more were left: raise --limit)" : ""
            FileHandle.standardError.write(Data("\(result.rows.count) row\(result.rows.count == 1 ? "" : "s")\(note) in \(String(format: "%.1f", result.elapsedMillis)) ms\n".utf8))
        }
    }

    static func plain(_ value: QueryValue) -> Any {
        switch value {
        case .null: NSNull()
        case .integer(let number): number
        case .real(let number): number.isFinite ? number : NSNull()
        case .text(let text): text
        case .blob(let bytes): bytes.hexString
        }
    }
}
