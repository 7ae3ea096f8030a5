import Foundation
import Hummingbird
import WardenCore
import WardenEngine
import WardenReview
import WardenStore

/// Dashboards: inbound, backlog, time to first action and to resolution against targets, SLA
/// attainment, decisions by outcome, appeal overturns, weekly trends. Each chart is SVG drawn by
/// the server, with the same numbers as CSV.
extension ConsoleController {
    /// Everything the dashboards show, computed once per request.
    struct DashboardData {
        var days: [Int64]
        var inboundBySource: [(String, [Double])]
        var inboundByCategory: [(String, Double)]
        var backlog: [QueueRow]
        var timings: [ReviewStatistics.Timing]
        var decisionsByOutcome: [(String, [Double])]
        var weeks: [Int64]
        var weeklyInbound: [Double]
        var weeklyDecisions: [Double]
        var weeklyOverturn: [Double]
        var appeals: (upheld: Int, overturned: Int)
    }

    static let dashboardWindows = [7, 30, 90]

    func dashboardData(days window: Int, user: UserRecord, _ context: WardenRequestContext) async throws -> DashboardData {
        let now = components.clock.nowMillis()
        let store = components.store
        let since = ExposurePolicy.startOfDay(now) - Int64(window - 1) * 86_400_000
        let weekStart = ReviewStatistics.startOfWeek(now) - 11 * 7 * 86_400_000
        let earliest = min(since, weekStart)
        let inbound = try await store.inboundCounts(since: earliest)
        let decisions = try await store.decisionCounts(since: earliest)
        let days = ReviewStatistics.days(from: since, to: now)
        let dayIndex = Dictionary(uniqueKeysWithValues: days.enumerated().map { ($1, $0) })
        let weeks = Array(stride(from: weekStart, through: ReviewStatistics.startOfWeek(now), by: 7 * 86_400_000))
        let weekIndex = Dictionary(uniqueKeysWithValues: weeks.enumerated().map { ($1, $0) })

        var bySource: [String: [Double]] = [:]
        var byCategory: [String: Double] = [:]
        var weeklyInbound = [Double](repeating: 0, count: weeks.count)
        for count in inbound {
            if let index = dayIndex[count.day] {
                bySource[count.source, default: [Double](repeating: 0, count: days.count)][index] += Double(count.count)
                byCategory[count.category, default: 0] += Double(count.count)
            }
            if let week = weekIndex[ReviewStatistics.startOfWeek(count.day)] { weeklyInbound[week] += Double(count.count) }
        }
        var byOutcome: [String: [Double]] = [:]
        var weeklyDecisions = [Double](repeating: 0, count: weeks.count)
        var weeklyUpheld = [Double](repeating: 0, count: weeks.count)
        var weeklyOverturned = [Double](repeating: 0, count: weeks.count)
        var upheld = 0, overturned = 0
        for count in decisions {
            if let index = dayIndex[count.day] {
                byOutcome[count.outcome, default: [Double](repeating: 0, count: days.count)][index] += Double(count.count)
                if count.outcome == "upheld" { upheld += count.count }
                if count.outcome == "overturned" { overturned += count.count }
            }
            if let week = weekIndex[ReviewStatistics.startOfWeek(count.day)] {
                weeklyDecisions[week] += Double(count.count)
                if count.outcome == "upheld" { weeklyUpheld[week] += Double(count.count) }
                if count.outcome == "overturned" { weeklyOverturned[week] += Double(count.count) }
            }
        }
        let weeklyOverturn = zip(weeklyUpheld, weeklyOverturned).map { $0 + $1 > 0 ? $1 / ($0 + $1) : 0 }
        let resolved = try await store.resolvedCases(since: since, limit: 100_000)
        let sources = ["signal", "report", "appeal"]
        let outcomes = ["violation", "no_violation", "upheld", "overturned"]
        return DashboardData(
            days: days,
            inboundBySource: sources.map { ($0, bySource[$0] ?? [Double](repeating: 0, count: days.count)) },
            inboundByCategory: byCategory.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }.prefix(12).map { ($0.key, $0.value) },
            backlog: try await queueRows(for: user, context),
            timings: ReviewStatistics.timings(resolved, policy: review.policy),
            decisionsByOutcome: outcomes.map { ($0, byOutcome[$0] ?? [Double](repeating: 0, count: days.count)) },
            weeks: weeks, weeklyInbound: weeklyInbound, weeklyDecisions: weeklyDecisions, weeklyOverturn: weeklyOverturn,
            appeals: (upheld, overturned))
    }

    static func day(_ millis: Int64) -> String { String(Timestamp.formatRFC3339(millis).prefix(10)) }

    struct DashboardView {
        struct Chart { var id: String; var title: String; var svg: String; var csv: String }
        struct TimingRow { var queue: String; var band: String; var resolved: Int; var firstAction: String; var firstActionTarget: String
            var resolution: String; var resolutionTarget: String; var attainment: String; var missed: Bool }
        struct Window { var days: Int; var current: Bool }
        var windows: [Window]
        var days: Int
        var charts: [Chart]
        var timings: [TimingRow]
        var overturnRate: String
        var timingsCSV: String
    }

    func window(_ request: Request) -> Int {
        let asked = request.uri.queryParameters["days"].flatMap { Int(String($0)) } ?? 7
        return Self.dashboardWindows.contains(asked) ? asked : 7
    }

    @Sendable func dashboards(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let user = try person(context, needs: .read)
        let days = window(request)
        let data = try await dashboardData(days: days, user: user, context)
        let labels = data.days.map { String(Self.day($0).dropFirst(5)) }
        let weekLabels = data.weeks.map { String(Self.day($0).dropFirst(5)) }
        func csv(_ name: String) -> String { "/dashboards/\(name).csv?days=\(days)" }
        let charts: [DashboardView.Chart] = [
            .init(id: "inbound", title: "Cases opened per day, by source",
                  svg: SVG.lineChart(title: "Cases opened per day, by source", labels: labels, series: data.inboundBySource.map { SVG.Series(name: $0.0, values: $0.1) }),
                  csv: csv("inbound")),
            .init(id: "categories", title: "Cases opened by category",
                  svg: SVG.barChart(title: "Cases opened by category", bars: data.inboundByCategory.map { (label: $0.0, value: $0.1) }), csv: csv("categories")),
            .init(id: "backlog", title: "Backlog now: cases waiting per queue",
                  svg: SVG.barChart(title: "Cases waiting per queue", bars: data.backlog.map { (label: $0.name, value: Double($0.waiting)) }), csv: csv("backlog")),
            .init(id: "attainment", title: "SLA attainment per queue (resolved within the resolution target)",
                  svg: SVG.barChart(title: "SLA attainment per queue", bars: Self.attainmentByQueue(data.timings), percent: true), csv: csv("timings")),
            .init(id: "decisions", title: "Decisions per day, by outcome",
                  svg: SVG.lineChart(title: "Decisions per day, by outcome", labels: labels, series: data.decisionsByOutcome.map { SVG.Series(name: $0.0, values: $0.1) }),
                  csv: csv("decisions")),
            .init(id: "weekly", title: "Weekly trend: cases opened and decisions",
                  svg: SVG.lineChart(title: "Weekly cases opened and decisions", labels: weekLabels,
                                     series: [SVG.Series(name: "opened", values: data.weeklyInbound), SVG.Series(name: "decisions", values: data.weeklyDecisions)]),
                  csv: csv("weekly")),
            .init(id: "overturns", title: "Weekly appeal overturn rate",
                  svg: SVG.lineChart(title: "Weekly appeal overturn rate", labels: weekLabels, series: [SVG.Series(name: "overturned", values: data.weeklyOverturn)],
                                     percent: true), csv: csv("weekly")),
        ]
        let appeals = data.appeals.upheld + data.appeals.overturned
        let view = DashboardView(
            windows: Self.dashboardWindows.map { .init(days: $0, current: $0 == days) }, days: days, charts: charts,
            timings: data.timings.map { timing in
                func text(_ millis: Int64?) -> String { millis.map { ConsolePage.age($0) } ?? "—" }
                return .init(queue: timing.queue, band: timing.band.name, resolved: timing.resolved, firstAction: text(timing.firstActionP90),
                             firstActionTarget: text(timing.firstActionTarget), resolution: text(timing.resolutionP90), resolutionTarget: text(timing.resolutionTarget),
                             attainment: timing.attainment.map { String(format: "%.0f%%", $0 * 100) } ?? "—", missed: (timing.attainment ?? 1) < 0.9)
            },
            overturnRate: appeals == 0 ? "no appeals decided" : String(format: "%.0f%% of %d appeals overturned", Double(data.appeals.overturned) / Double(appeals) * 100, appeals),
            timingsCSV: csv("timings"))
        return render("dashboards", title: "Dashboards", path: "/dashboards", context, body: view)
    }

    static func attainmentByQueue(_ timings: [ReviewStatistics.Timing]) -> [(label: String, value: Double)] {
        var order: [String] = []
        var sums: [String: (within: Double, total: Double)] = [:]
        for timing in timings {
            guard let attainment = timing.attainment else { continue }
            if sums[timing.queue] == nil { order.append(timing.queue) }
            sums[timing.queue, default: (0, 0)].within += attainment * Double(timing.resolved)
            sums[timing.queue, default: (0, 0)].total += Double(timing.resolved)
        }
        return order.map { (label: $0, value: sums[$0]!.within / max(sums[$0]!.total, 1)) }
    }

    /// A dashboard's numbers as CSV (RFC 4180), named by the chart.
    @Sendable func dashboardCSV(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let user = try person(context, needs: .read)
        let name = context.path("name")
        let days = window(request)
        let data = try await dashboardData(days: days, user: user, context)
        var rows: [[String]]
        switch name {
        case "inbound.csv":
            rows = [["day"] + data.inboundBySource.map(\.0)]
            for (index, day) in data.days.enumerated() { rows.append([Self.day(day)] + data.inboundBySource.map { String(Int($0.1[index])) }) }
        case "categories.csv":
            rows = [["category", "cases"]] + data.inboundByCategory.map { [$0.0, String(Int($0.1))] }
        case "backlog.csv":
            rows = [["queue", "waiting", "in_review", "on_hold", "escalated", "sla_warning", "breached", "p1", "p2", "p3", "p4", "oldest_waiting"]]
                + data.backlog.map { [$0.name, String($0.waiting), String($0.inReview), String($0.onHold), String($0.escalated), String($0.warning),
                                      String($0.breached)] + $0.byBand.map(String.init) + [$0.oldestWaiting == "—" ? "" : $0.oldestWaiting] }
        case "timings.csv":
            func seconds(_ millis: Int64?) -> String { millis.map { String($0 / 1000) } ?? "" }
            rows = [["queue", "band", "resolved", "first_action_p50_s", "first_action_p90_s", "first_action_target_s", "resolution_p50_s",
                     "resolution_p90_s", "resolution_target_s", "attainment"]]
                + data.timings.map { [$0.queue, $0.band.name, String($0.resolved), seconds($0.firstActionP50), seconds($0.firstActionP90),
                                      seconds($0.firstActionTarget), seconds($0.resolutionP50), seconds($0.resolutionP90), seconds($0.resolutionTarget),
                                      $0.attainment.map { String(format: "%.4f", $0) } ?? ""] }
        case "decisions.csv":
            rows = [["day"] + data.decisionsByOutcome.map(\.0)]
            for (index, day) in data.days.enumerated() { rows.append([Self.day(day)] + data.decisionsByOutcome.map { String(Int($0.1[index])) }) }
        case "weekly.csv":
            rows = [["week", "opened", "decisions", "appeal_overturn_rate"]]
            for (index, week) in data.weeks.enumerated() {
                rows.append([Self.day(week), String(Int(data.weeklyInbound[index])), String(Int(data.weeklyDecisions[index])),
                             String(format: "%.4f", data.weeklyOverturn[index])])
            }
        default:
            throw Problem.notFound("there is no dashboard \(name.prefix(40)); dashboards: inbound, categories, backlog, timings, decisions, weekly")
        }
        return ConsolePage.csv(rows, filename: "warden-\(name.dropLast(4))-\(days)d.csv")
    }
}
