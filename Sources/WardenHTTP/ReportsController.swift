import Foundation
import Hummingbird
import WardenCore
import WardenEngine

/// `POST /v1/reports`: user reports, stored as events of the reserved type `report`.
struct ReportsController {
    let intake: Intake
    let maxBodyBytes: Int

    func addRoutes(to routes: RouteTable) {
        routes.add(.post, "/v1/reports", scope: .reportsWrite, submit)
    }

    @Sendable func submit(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        guard try EventsController.format(of: request) == .json else {
            throw Problem(.unsupportedMediaType, "unsupported-media-type", title: "Unsupported media type", detail: "send one report as Content-Type application/json")
        }
        let body = try await RequestInput.collect(request, limit: maxBodyBytes)
        try RequestInput.checkMembers(Data(buffer: body), allowed: ["id", "reporter", "subject", "content_id", "reason", "text", "occurred_at"],
                                      nested: ["reporter": ["type", "id"], "subject": ["type", "id"]])
        let report: ReportSubmission
        do {
            report = try JSONDecoder().decode(ReportSubmission.self, from: Data(buffer: body))
        } catch let error as DecodingError {
            if error.isSyntaxError {
                throw Problem(.badRequest, "malformed-json", title: "Malformed JSON", detail: "the body is not a JSON object")
            }
            var problem = Problem(.unprocessableContent, "invalid-report", title: "Invalid report", detail: "\(error.fieldPath): \(error.problem)")
            problem.extensions.append(("field", EventsController.jsonString(error.fieldPath)))
            throw problem
        }
        try Bounds.text(report.text, "text", max: 10_000)
        let result = try await intake.submit(report: report, defaultID: "rpt_" + UUID().uuidString.lowercased())
        return EventsController.respond(result)
    }
}
