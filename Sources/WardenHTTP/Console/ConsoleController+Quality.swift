import Foundation
import Hummingbird
import WardenCore
import WardenEngine
import WardenQuality

/// The quality page: the health of the operation as scorecards per reviewer, team (vendor), queue
/// and policy, escalation accuracy and weekly trends, each rate with its interval, the same numbers
/// as `GET /v1/quality/health` and as CSV.
extension ConsoleController {
    static let qualityWindows = [7, 28, 90]

    struct QualityView {
        struct Window { var days: Int; var current: Bool }
        struct Row {
            var group: String
            var decisions: Int
            var violations: String
            var overturned: String
            var overturnedInterval: String
            var slaMet: String
            var slaInterval: String
            var firstAction: String
            var resolution: String
            /// The overturn rate is above the whole operation's beyond noise.
            var high: Bool
        }
        struct Section { var id: String; var title: String; var rows: [Row]; var hasRows: Bool }
        struct Escalation { var escalator: String; var agreed: String; var interval: String }
        struct Week { var week: String; var decisions: Int; var overturned: String; var slaMet: String; var changes: String; var changed: Bool }
        struct Backlog { var queue: String; var undecided: Int; var waiting: Int; var oldest: String; var warnings: Int; var breaches: Int; var breached: Bool }
        var windows: [Window]
        var days: Int
        var summary: String
        var sections: [Section]
        var escalations: [Escalation]
        var hasEscalations: Bool
        var weeks: [Week]
        var backlog: [Backlog]
        var chart: String
        var csv: String
        var weeksCSV: String
    }

    func qualityWindow(_ request: Request) -> Int {
        let asked = request.uri.queryParameters["days"].flatMap { Int(String($0)) } ?? 28
        return Self.qualityWindows.contains(asked) ? asked : 28
    }

    static func percent(_ rate: Rate) -> String {
        guard let value = rate.value else { return "—" }
        return String(format: "%.1f%% of %d", value * 100, rate.of)
    }

    static func percentInterval(_ rate: Rate) -> String {
        guard let interval = rate.interval else { return "" }
        return String(format: "%.1f–%.1f%%", interval.lower * 100, interval.upper * 100)
    }

    @Sendable func qualityPage(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        _ = try person(context, needs: .qualityRead)
        let days = qualityWindow(request)
        let report = try await components.quality.health(days: days)
        let overall = report.overall.overturned.value
        func rows(_ rows: [HealthReport.Row]) -> [QualityView.Row] {
            rows.map { row in
                QualityView.Row(group: row.group, decisions: row.decisions, violations: Self.percent(row.violations),
                                overturned: Self.percent(row.overturned), overturnedInterval: Self.percentInterval(row.overturned),
                                slaMet: Self.percent(row.slaMet), slaInterval: Self.percentInterval(row.slaMet),
                                firstAction: row.firstActionMillis.map { ConsolePage.age($0.p50) } ?? "—",
                                resolution: row.resolutionMillis.map { ConsolePage.age($0.p50) } ?? "—",
                                high: overall.map { (row.overturned.interval?.lower ?? 0) > $0 } ?? false)
            }
        }
        let sections = [("reviewers", "By reviewer", report.byReviewer), ("teams", "By team (vendor)", report.byTeam),
                        ("queues", "By queue", report.byQueue), ("policies", "By policy area (category)", report.byPolicy)]
            .map { QualityView.Section(id: $0.0, title: $0.1, rows: rows($0.2), hasRows: !$0.2.isEmpty) }
        let labels = report.weeks.map { String(Self.day($0.start).dropFirst(5)) }
        let chart = SVG.lineChart(title: "Weekly appeal overturn rate and SLA attainment", labels: labels, series: [
            SVG.Series(name: "overturned", values: report.weeks.map { $0.overturned.value ?? 0 }),
            SVG.Series(name: "SLA met", values: report.weeks.map { $0.slaMet.value ?? 0 }),
        ], percent: true)
        let view = QualityView(
            windows: Self.qualityWindows.map { .init(days: $0, current: $0 == days) }, days: days,
            summary: "\(report.overall.decisions) decisions since \(Self.day(report.from)); appeals overturned: "
                + (report.overall.overturned.interval == nil ? "none appealed" : "\(Self.percent(report.overall.overturned)) (\(Self.percentInterval(report.overall.overturned)))")
                + "; SLA met: \(Self.percent(report.overall.slaMet)).",
            sections: [QualityView.Section(id: "overall", title: "The whole operation", rows: rows([report.overall]), hasRows: true)] + sections,
            escalations: report.escalations.map { .init(escalator: $0.escalator, agreed: Self.percent($0.agreed), interval: Self.percentInterval($0.agreed)) },
            hasEscalations: !report.escalations.isEmpty,
            weeks: report.weeks.map { week in
                .init(week: Self.day(week.start), decisions: week.decisions, overturned: Self.percent(week.overturned), slaMet: Self.percent(week.slaMet),
                      changes: week.changes.joined(separator: ", "), changed: !week.changes.isEmpty)
            },
            backlog: report.backlog.map { .init(queue: $0.queue, undecided: $0.undecided, waiting: $0.waiting, oldest: $0.oldestAgeMillis.map(ConsolePage.age) ?? "—",
                                                warnings: $0.warnings, breaches: $0.breaches, breached: $0.breaches > 0) },
            chart: chart, csv: "/quality/scorecards.csv?days=\(days)", weeksCSV: "/quality/weeks.csv?days=\(days)")
        return render("quality", title: "Quality", path: "/quality", context, body: view)
    }

    /// The quality page's numbers as CSV: `scorecards.csv` (every group of every dimension) or `weeks.csv`.
    @Sendable func qualityCSV(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        _ = try person(context, needs: .qualityRead)
        let name = context.path("name")
        let days = qualityWindow(request)
        let report = try await components.quality.health(days: days)
        func rate(_ rate: Rate) -> [String] {
            [String(rate.count), String(rate.of), rate.value.map { String(format: "%.4f", $0) } ?? "",
             rate.interval.map { String(format: "%.4f", $0.lower) } ?? "", rate.interval.map { String(format: "%.4f", $0.upper) } ?? ""]
        }
        var rows: [[String]]
        switch name {
        case "scorecards.csv":
            func seconds(_ millis: Int64?) -> String { millis.map { String($0 / 1000) } ?? "" }
            rows = [["dimension", "group", "decisions", "violations", "violation_rate", "appealed", "overturned", "overturn_rate", "overturn_low", "overturn_high",
                     "sla_met", "resolved", "sla_rate", "sla_low", "sla_high", "first_action_p50_s", "first_action_p90_s", "resolution_p50_s", "resolution_p90_s"]]
            for (dimension, group) in [("overall", [report.overall]), ("reviewer", report.byReviewer), ("team", report.byTeam),
                                       ("queue", report.byQueue), ("policy", report.byPolicy)] {
                for row in group {
                    let violations = rate(row.violations)
                    let overturned = rate(row.overturned)
                    rows.append([dimension, row.group, String(row.decisions), violations[0], violations[2], overturned[1], overturned[0]]
                                + overturned[2...4] + rate(row.slaMet)[0...1] + rate(row.slaMet)[2...4]
                                + [seconds(row.firstActionMillis?.p50), seconds(row.firstActionMillis?.p90),
                                   seconds(row.resolutionMillis?.p50), seconds(row.resolutionMillis?.p90)])
                }
            }
        case "weeks.csv":
            rows = [["week", "decisions", "overturned", "appealed", "overturn_rate", "sla_met", "resolved", "sla_rate", "changes_beyond_noise"]]
            for week in report.weeks {
                rows.append([Self.day(week.start), String(week.decisions)] + rate(week.overturned)[0...2] + rate(week.slaMet)[0...2]
                            + [week.changes.joined(separator: "; ")])
            }
        default:
            throw Problem.notFound("there is no quality export \(name.prefix(40)); exports: scorecards.csv, weeks.csv")
        }
        return ConsolePage.csv(rows, filename: "warden-quality-\(name.dropLast(4))-\(days)d.csv")
    }
}
