import Foundation
import Hummingbird
import WardenCore
import WardenEngine
import WardenInvestigations
import WardenReview

/// A value for a query's named parameter: a JSON string, number, boolean (1 or 0) or null.
struct ParameterValue: Decodable, Sendable {
    var value: QueryValue

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            value = .null
        } else if let bool = try? container.decode(Bool.self) {
            value = .integer(bool ? 1 : 0)
        } else if let integer = try? container.decode(Int64.self) {
            value = .integer(integer)
        } else if let number = try? container.decode(Double.self) {
            value = .real(number)
        } else if let text = try? container.decode(String.self) {
            value = .text(text)
        } else {
            throw DecodingError.typeMismatch(QueryValue.self, .init(codingPath: decoder.codingPath,
                                                                    debugDescription: "a parameter is a string, number, boolean or null"))
        }
    }
}

enum ResultFormat: String, Codable, CaseIterable, Sendable { case json, csv, ndjson }

/// How a query runs: its parameters, limits and the answer's format.
protocol QueryRunOptions {
    var parameters: [String: ParameterValue]? { get }
    var limit: Int? { get }
    var timeoutMs: Int64? { get }
    var format: ResultFormat? { get }
}

extension QueryRunOptions {
    func checkedOptions() throws(Problem) -> ([String: QueryValue], QueryLimits) {
        if (parameters?.count ?? 0) > 100 { throw RequestInput.invalid("parameters", "has \(parameters?.count ?? 0) members; the limit is 100") }
        for (name, value) in parameters ?? [:] {
            if case .text(let text) = value.value, text.schemaLength > 10_000 {
                throw RequestInput.invalid("parameters.\(name)", "is \(text.schemaLength) characters long; the limit is 10000")
            }
        }
        do {
            return ((parameters ?? [:]).mapValues(\.value), try QueryLimits.checked(rows: limit, millis: timeoutMs))
        } catch {
            throw RequestInput.invalid(error.message.hasPrefix("limit") ? "limit" : "timeout_ms", error.message)
        }
    }
}

struct QueryBody: RequestBody, QueryRunOptions {
    var sql: String
    var parameters: [String: ParameterValue]?
    var limit: Int?
    var timeoutMs: Int64?
    var format: ResultFormat?
    enum CodingKeys: String, CodingKey, CaseIterable { case sql, parameters, limit, timeoutMs = "timeout_ms", format }

    func validate() throws(Problem) {
        try Bounds.text(sql, "sql", max: SavedQuery.maximumSQL, nonBlank: true)
        _ = try checkedOptions()
    }
}

struct RunSavedBody: RequestBody, QueryRunOptions {
    var parameters: [String: ParameterValue]?
    var limit: Int?
    var timeoutMs: Int64?
    var format: ResultFormat?
    enum CodingKeys: String, CodingKey, CaseIterable { case parameters, limit, timeoutMs = "timeout_ms", format }

    func validate() throws(Problem) { _ = try checkedOptions() }
}

struct SaveQueryBody: RequestBody {
    var name: String
    var description: String?
    var sql: String
    enum CodingKeys: String, CodingKey, CaseIterable { case name, description, sql }

    func validate() throws(Problem) {
        try Bounds.text(name, "name", max: 64, nonBlank: true)
        try Bounds.text(description, "description", max: SavedQuery.maximumDescription)
        try Bounds.text(sql, "sql", max: SavedQuery.maximumSQL, nonBlank: true)
    }
}

struct ChangeQueryBody: RequestBody {
    var description: String?
    var sql: String
    enum CodingKeys: String, CodingKey, CaseIterable { case description, sql }

    func validate() throws(Problem) {
        try Bounds.text(description, "description", max: SavedQuery.maximumDescription)
        try Bounds.text(sql, "sql", max: SavedQuery.maximumSQL, nonBlank: true)
    }
}

struct QueryResultResponse: ResponseEncodable {
    struct Chart: Encodable {
        struct Point: Encodable { var at: String; var value: Double }
        var timeColumn: String
        var valueColumn: String?
        var points: [Point]
    }
    var columns: [String]
    var rows: [[QueryValue]]
    var rowCount: Int
    var truncated: Bool
    var elapsedMs: Double
    var chart: Chart?

    init(_ result: QueryResult) {
        columns = result.columns
        rows = result.rows
        rowCount = result.rows.count
        truncated = result.truncated
        elapsedMs = (result.elapsedMillis * 10).rounded() / 10
        chart = TimeChart.of(result).map { chart in
            Chart(timeColumn: chart.timeColumn, valueColumn: chart.valueColumn,
                  points: chart.points.map { Chart.Point(at: Timestamp.formatRFC3339($0.at), value: $0.value) })
        }
    }
}

struct SavedQueryResponse: ResponseEncodable {
    var name: String
    var description: String
    var sql: String
    var parameters: [String]
    var createdBy: String
    var createdAt: String
    var updatedBy: String
    var updatedAt: String

    init(_ query: SavedQuery) {
        name = query.name
        description = query.description
        sql = query.sql
        parameters = query.parameters
        createdBy = query.createdBy
        createdAt = Timestamp.formatRFC3339(query.createdAt)
        updatedBy = query.updatedBy
        updatedAt = Timestamp.formatRFC3339(query.updatedAt)
    }
}

struct SavedQueryList: ResponseEncodable { var queries: [SavedQueryResponse] }

struct ViewsResponse: ResponseEncodable {
    struct View: Encodable {
        struct Column: Encodable { var name: String; var type: String; var about: String }
        var name: String
        var about: String
        var columns: [Column]
    }
    struct Function: Encodable { var name: String; var about: String }
    var views: [View]
    var functions: [Function]
    var limits: [String: Int64]

    static let current = ViewsResponse(
        views: InvestigationViews.all.map { view in
            View(name: view.name, about: view.about, columns: view.columns.map { View.Column(name: $0.name, type: $0.type, about: $0.about) })
        },
        functions: [
            Function(name: "iso(ms)", about: "milliseconds since 1970 as RFC 3339 text"),
            Function(name: "hour(ms)", about: "the hour it falls in, as 2026-11-30T14:00Z"),
            Function(name: "day(ms)", about: "the day it falls in, as 2026-11-30"),
            Function(name: "ago(duration)", about: "now minus a duration such as '24h', '7d' or '30m', in milliseconds"),
        ],
        limits: ["default_rows": Int64(QueryLimits.defaultRows), "max_rows": Int64(QueryLimits.maximumRows),
                 "default_timeout_ms": QueryLimits.defaultMillis, "max_timeout_ms": QueryLimits.maximumMillis])
}

/// `/v1/query` and `/v1/queries`: read-only SQL over the investigation views, and saved queries.
struct InvestigationsController {
    let investigations: InvestigationService
    let maxBodyBytes: Int

    func addRoutes(to routes: RouteTable) {
        routes.add(.get, "/v1/query/views", scope: .queryRead) { _, _ in ViewsResponse.current }
        routes.add(.post, "/v1/query", scope: .queryRead) { request, context in
            let body = try await input(request).body(QueryBody.self)
            let (parameters, limits) = try body.checkedOptions()
            let result = try await Self.run { try await investigations.run(body.sql, parameters: parameters, limits: limits, actor: context.actor) }
            return try Self.answer(result, format: body.format, context: context)
        }
        routes.add(.get, "/v1/queries", scope: .queryRead) { _, _ in
            SavedQueryList(queries: try await investigations.savedQueries().map(SavedQueryResponse.init))
        }
        routes.add(.post, "/v1/queries", scope: .queryWrite, status: .created) { request, context in
            let body = try await input(request).body(SaveQueryBody.self)
            let name = body.name
            let (query, _) = try await Self.run {
                try await investigations.save(name: name, description: body.description ?? "", sql: body.sql, actor: context.actor, onlyNew: true)
            }
            return SavedQueryResponse(query)
        }
        routes.add(.get, "/v1/queries/{name}", scope: .queryRead) { _, context in
            let name = context.path("name")
            guard let query = try await investigations.savedQuery(named: name) else { throw Problem.notFound("there is no saved query \(name.prefix(70))") }
            return SavedQueryResponse(query)
        }
        routes.add(.put, "/v1/queries/{name}", scope: .queryWrite) { request, context in
            let name = context.path("name")
            let body = try await input(request).body(ChangeQueryBody.self)
            let (query, _) = try await Self.run {
                guard let existing = try await investigations.savedQuery(named: name) else { throw QueryError(.notFound, "there is no saved query \(name.prefix(70)); create it with POST /v1/queries") }
                return try await investigations.save(name: name, description: body.description ?? existing.description, sql: body.sql, actor: context.actor)
            }
            return SavedQueryResponse(query)
        }
        routes.add(.delete, "/v1/queries/{name}", scope: .queryWrite) { _, context in
            let name = context.path("name")
            try await Self.run { try await investigations.delete(name: name, actor: context.actor) }
            return Response(status: .noContent)
        }
        routes.add(.post, "/v1/queries/{name}/run", scope: .queryRead) { request, context in
            let name = context.path("name")
            let body = try await input(request).body(RunSavedBody.self, allowEmpty: true) ?? RunSavedBody()
            let (parameters, limits) = try body.checkedOptions()
            let (_, result) = try await Self.run { try await investigations.run(saved: name, parameters: parameters, limits: limits, actor: context.actor) }
            return try Self.answer(result, format: body.format, context: context)
        }
    }

    func input(_ request: Request) -> RequestInput { RequestInput(request: request, limit: maxBodyBytes) }

    /// The result in the asked format, with personal data masked for roles that see it masked.
    static func answer(_ result: QueryResult, format: ResultFormat?, context: WardenRequestContext) throws -> Response {
        let result = context.masksPersonalData ? result.masked(PersonalData.mask(text:)) : result
        switch format ?? .json {
        case .json:
            let data = try context.responseEncoder.encode(QueryResultResponse(result))
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        case .csv:
            return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"warden-query.csv\""],
                            body: .init(byteBuffer: ByteBuffer(string: result.csv)))
        case .ndjson:
            return Response(status: .ok, headers: [.contentType: "application/x-ndjson"], body: .init(byteBuffer: ByteBuffer(string: result.ndjson)))
        }
    }

    /// Runs a query operation, turning its refusals into problem documents.
    static func run<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as QueryError {
            switch error.kind {
            case .notFound: throw Problem.notFound(error.message)
            case .conflict: throw Problem(.conflict, "query-conflict", title: "Conflict", detail: error.message)
            case .invalid: throw Problem(.unprocessableContent, "invalid-query", title: "Invalid query", detail: error.message)
            case .refused: throw Problem(.unprocessableContent, "query-refused", title: "Query refused", detail: error.message)
            case .timeout: throw Problem(.unprocessableContent, "query-timeout", title: "Query stopped at its time limit", detail: error.message)
            }
        }
    }
}

struct ScheduleBody: RequestBody {
    var every: String
    var mode: DerivedMode?
    var cursorColumn: String?
    enum CodingKeys: String, CodingKey, CaseIterable { case every, mode, cursorColumn = "cursor_column" }

    func validate() throws(Problem) {
        guard DurationText.millis(every) != nil else { throw RequestInput.invalid("every", "is a duration such as 15m, 1h or 1d; got \(every.prefix(40))") }
        try Bounds.text(cursorColumn, "cursor_column", max: 200, nonBlank: true)
    }
}

extension DerivedMode: Decodable {}

struct DerivedTableResponse: ResponseEncodable {
    var query: String
    var view: String
    var every: String
    var mode: String
    var cursorColumn: String?
    var columns: [String]?
    var rows: Int
    var refreshedAt: String?
    var nextAt: String
    var millis: Double?
    var error: String?
    var fresh: Bool
    var scheduledBy: String

    init(_ table: DerivedTable, now: Int64) {
        query = table.query
        view = table.viewName
        every = DurationText.format(table.schedule.every)
        mode = table.schedule.mode.rawValue
        cursorColumn = table.schedule.cursorColumn
        columns = table.columns
        rows = table.rows
        refreshedAt = table.refreshedAt.map(Timestamp.formatRFC3339)
        nextAt = Timestamp.formatRFC3339(table.nextAt)
        millis = table.millis
        error = table.error
        fresh = table.isFresh(at: now)
        scheduledBy = table.scheduledBy
    }
}

struct DerivedTableList: ResponseEncodable { var tables: [DerivedTableResponse] }

/// `/v1/derived` and `/v1/queries/{name}/schedule|refresh`: saved queries materialised as tables.
struct DerivedTablesController {
    let derived: DerivedTables
    let maxBodyBytes: Int

    func addRoutes(to routes: RouteTable) {
        routes.add(.get, "/v1/derived", scope: .queryRead) { _, _ in
            let now = derived.clock.nowMillis()
            return DerivedTableList(tables: try await derived.tables().map { DerivedTableResponse($0, now: now) })
        }
        routes.add(.put, "/v1/queries/{name}/schedule", scope: .queryWrite) { request, context in
            let name = context.path("name")
            let body = try await RequestInput(request: request, limit: maxBodyBytes).body(ScheduleBody.self)
            let table = try await InvestigationsController.run {
                try await derived.schedule(query: name, every: DurationText.millis(body.every) ?? 0, mode: body.mode ?? .full,
                                           cursorColumn: body.cursorColumn, actor: context.actor)
            }
            return DerivedTableResponse(table, now: derived.clock.nowMillis())
        }
        routes.add(.delete, "/v1/queries/{name}/schedule", scope: .queryWrite) { _, context in
            let name = context.path("name")
            try await InvestigationsController.run { try await derived.unschedule(query: name, actor: context.actor) }
            return Response(status: .noContent)
        }
        routes.add(.post, "/v1/queries/{name}/refresh", scope: .queryWrite) { _, context in
            let name = context.path("name")
            let table = try await InvestigationsController.run { try await derived.refresh(query: name, actor: context.actor) }
            return DerivedTableResponse(table, now: derived.clock.nowMillis())
        }
    }
}
