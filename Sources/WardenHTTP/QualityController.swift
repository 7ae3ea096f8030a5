import Foundation
import Hummingbird
import WardenCore
import WardenEngine
public import WardenQuality

/// The health report as the API (and `warden qa health --json`) shows it: the report's rows as they
/// are, times as RFC 3339.
public struct HealthResponse: Encodable {
    struct Week: Encodable {
        var start: String
        var decisions: Int
        var overturned: Rate
        var slaMet: Rate
        var changes: [String]
    }
    var days: Int
    var from: String
    var to: String
    var overall: HealthReport.Row
    var byReviewer: [HealthReport.Row]
    var byTeam: [HealthReport.Row]
    var byQueue: [HealthReport.Row]
    var byPolicy: [HealthReport.Row]
    var escalations: [HealthReport.Escalation]
    var weeks: [Week]

    public init(_ report: HealthReport, days: Int) {
        self.days = days
        from = Timestamp.formatRFC3339(report.from)
        to = Timestamp.formatRFC3339(report.to)
        overall = report.overall
        byReviewer = report.byReviewer
        byTeam = report.byTeam
        byQueue = report.byQueue
        byPolicy = report.byPolicy
        escalations = report.escalations
        weeks = report.weeks.map { Week(start: Timestamp.formatRFC3339($0.start), decisions: $0.decisions, overturned: $0.overturned, slaMet: $0.slaMet, changes: $0.changes) }
    }
}

/// `HealthResponse` is public for the CLI; Hummingbird's protocol is not re-exported, so the route
/// answers through this internal wrapper, which encodes exactly the same document.
struct HealthBody: ResponseEncodable {
    let response: HealthResponse
    func encode(to encoder: any Encoder) throws { try response.encode(to: encoder) }
}

/// Quality reports over HTTP.
struct QualityController {
    let quality: QualityService

    func addRoutes(to routes: RouteTable) {
        routes.add(.get, "/v1/quality/health", scope: .qualityRead) { request, _ in
            let days = Int(try RequestInput(request: request, limit: 0).integer("days", default: 28, range: 1...Int64(QualityService.maximumDays)))
            return HealthBody(response: HealthResponse(try await quality.health(days: days), days: days))
        }
    }
}
