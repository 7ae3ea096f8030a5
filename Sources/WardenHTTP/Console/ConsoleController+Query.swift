import Foundation
import Hummingbird
import WardenCore
import WardenEngine
import WardenInvestigations
import WardenReview
import WardenStore

/// The SQL console: a query box over the investigation views, the result as a table with its quick
/// chart, CSV download, and the team's saved queries with their parameters. The same
/// ``InvestigationService`` and scopes as the API (`query:read` to run, `query:write` to save).
extension ConsoleController {
    struct QueryView {
        struct Saved { var name: String; var description: String; var parameters: String; var selected: Bool }
        struct Parameter { var name: String; var value: String }
        struct ViewDoc { var name: String; var about: String; var columns: String }
        struct Derived { var query: String; var view: String; var every: String; var mode: String; var rows: Int; var refreshed: String
            var fresh: Bool; var error: String? }
        var sql: String
        var limit: Int
        var timeout: Int64
        var name: String
        var description: String
        var parameters: [Parameter]
        var hasParameters: Bool
        var savedName: String?
        var saved: [Saved]
        var hasSaved: Bool
        var views: [ViewDoc]
        /// Saved queries materialised as tables, with their freshness.
        var derived: [Derived]
        var hasDerived: Bool
        var canWrite: Bool
        /// Whether the person may act on a result in bulk (`bulk:write`).
        var canBulk: Bool
        var csrf: String
        var ran: Bool
        struct Row { var cells: [String] }
        var columns: [String]
        var hasColumns: Bool
        var rows: [Row]
        var summary: String?
        var truncated: Bool
        var chart: String?
        var refusal: String?
    }

    static let queryPageRows = 1_000

    @Sendable func queryPage(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let user = try person(context, needs: .queryRead)
        var view = try await queryView(user, context, sql: "SELECT type, count(*) AS n FROM events WHERE received_at > ago('24h') GROUP BY type ORDER BY n DESC")
        if let name = request.uri.queryParameters["saved"].map(String.init) {
            guard let saved = try await components.investigations.savedQuery(named: name) else { throw Problem.notFound("there is no saved query \(name.prefix(70))") }
            view = try await queryView(user, context, sql: saved.sql, name: saved.name, description: saved.description,
                                       parameters: saved.parameters.map { .init(name: $0, value: "") })
        }
        return render("query", title: "Query", path: "/query", context, body: view)
    }

    @Sendable func queryAction(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let (user, form) = try await post(request, context, needs: .queryRead)
        let investigations = components.investigations
        let sql = form["sql"] ?? ""
        guard sql.unicodeScalars.count <= SavedQuery.maximumSQL else { throw ConsoleRefusal("the query is longer than \(SavedQuery.maximumSQL) characters") }
        let limit = min(max(Int(form.text("limit") ?? "") ?? Self.queryPageRows, 1), QueryLimits.maximumRows)
        let timeout = min(max(Int64(form.text("timeout") ?? "") ?? QueryLimits.defaultMillis, 1), QueryLimits.maximumMillis)
        let name = form.text("name") ?? ""
        let description = form["description"] ?? ""
        // Parameter values as typed: whole numbers and decimals bind as numbers, the rest as text.
        let names = (try? await investigations.store.queryParameters(sql)) ?? []
        let parameters = names.map { QueryView.Parameter(name: $0, value: form["param." + $0] ?? "") }
        var view = try await queryView(user, context, sql: sql, limit: limit, timeout: timeout, name: name, description: description, parameters: parameters)

        if form["action"] == "save" {
            guard Scope.queryWrite.isSatisfied(by: user.role.scopes) else { throw Problem(.forbidden, "forbidden", title: "Not allowed", detail: "saving queries needs the query:write scope") }
            do {
                _ = try await investigations.save(name: name, description: description, sql: sql, actor: context.actor)
            } catch let error as QueryError {
                view.refusal = error.message
                return render("query", title: "Query", path: "/query", context, body: view, status: .unprocessableContent)
            }
            ConsolePage.leaveNotice("Saved as \(name).", for: context)
            return ConsolePage.redirect("/query?saved=\(name)")
        }
        let values = Dictionary(uniqueKeysWithValues: parameters.map { parameter in
            (parameter.name, Int64(parameter.value).map(QueryValue.integer) ?? Double(parameter.value).map(QueryValue.real) ?? .text(parameter.value))
        })
        let result: QueryResult
        do {
            // The run counts as the saved query's only while its text is the saved text.
            var saved: String?
            func plain(_ text: String) -> String { text.replacingOccurrences(of: "\r\n", with: "\n") }
            if let name = form.text("saved"), let stored = try await investigations.savedQuery(named: name), plain(stored.sql) == plain(sql) { saved = name }
            result = try await investigations.run(sql, parameters: values, limits: QueryLimits(rows: limit, millis: timeout), actor: context.actor,
                                                  saved: saved)
        } catch let error as QueryError {
            view.refusal = error.message
            view.ran = true
            return render("query", title: "Query", path: "/query", context, body: view, status: .unprocessableContent)
        }
        let shown = user.role.seesMaskedPersonalData ? result.masked(PersonalData.mask(text:)) : result
        if form["action"] == "csv" {
            return ConsolePage.csv(text: shown.csv, filename: "warden-query.csv")
        }
        view.ran = true
        view.columns = shown.columns
        view.hasColumns = !shown.columns.isEmpty
        view.rows = shown.rows.prefix(Self.queryPageRows).map { QueryView.Row(cells: $0.map(\.text)) }
        view.truncated = shown.truncated || shown.rows.count > Self.queryPageRows
        view.summary = "\(shown.rows.count) row\(shown.rows.count == 1 ? "" : "s")\(shown.truncated ? " (more were left: raise the row limit)" : "") in \(String(format: "%.1f", shown.elapsedMillis)) ms"
        if let chart = TimeChart.of(shown), chart.points.count > 1 {
            view.chart = SVG.lineChart(title: "\(chart.valueColumn ?? "rows") by \(chart.timeColumn)",
                                       labels: chart.points.map { Timestamp.formatRFC3339($0.at) },
                                       series: [.init(name: chart.valueColumn ?? "rows", values: chart.points.map(\.value))])
        }
        return render("query", title: "Query", path: "/query", context, body: view)
    }

    private func queryView(_ user: UserRecord, _ context: WardenRequestContext, sql: String, limit: Int = ConsoleController.queryPageRows,
                           timeout: Int64 = QueryLimits.defaultMillis, name: String = "", description: String = "",
                           parameters: [QueryView.Parameter] = []) async throws -> QueryView {
        let saved = try await components.investigations.savedQueries()
        let now = components.clock.nowMillis()
        let derived = try await components.derived.tables().map { table in
            QueryView.Derived(query: table.query, view: table.viewName, every: DurationText.format(table.schedule.every),
                              mode: table.schedule.mode.rawValue + (table.schedule.cursorColumn.map { " by \($0)" } ?? ""), rows: table.rows,
                              refreshed: table.refreshedAt.map(Timestamp.formatRFC3339) ?? "never", fresh: table.isFresh(at: now), error: table.error)
        }
        return QueryView(
            sql: sql, limit: limit, timeout: timeout, name: name, description: description, parameters: parameters, hasParameters: !parameters.isEmpty,
            savedName: name.isEmpty ? nil : name,
            saved: saved.map { .init(name: $0.name, description: $0.description, parameters: $0.parameters.map { ":" + $0 }.joined(separator: ", "),
                                     selected: $0.name == name) },
            hasSaved: !saved.isEmpty,
            views: InvestigationViews.all.map { .init(name: $0.name, about: $0.about, columns: $0.columns.map(\.name).joined(separator: ", ")) },
            derived: derived, hasDerived: !derived.isEmpty,
            canWrite: Scope.queryWrite.isSatisfied(by: user.role.scopes), canBulk: Scope.bulkWrite.isSatisfied(by: user.role.scopes), csrf: context.session?.csrfToken ?? "",
            ran: false, columns: [], hasColumns: false, rows: [], summary: nil, truncated: false, chart: nil, refusal: nil)
    }
}
