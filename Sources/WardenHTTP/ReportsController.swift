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
            throw Problem(.unsupportedMediaType, "unsupported-media-type", title: "Unsupported media type",
                          detail: "send one report as Content-Type application/json")
        }
        let body = try await EventsController.collect(request, limit: maxBodyBytes)
        let report: ReportSubmission
        do {
            report = try JSONDecoder().decode(ReportSubmission.self, from: Data(buffer: body))
        } catch let error as DecodingError {
            throw Problem(.unprocessableContent, "invalid-report", title: "Invalid report", detail: Self.describe(error))
        }
        let result = try await intake.submit(report: report, defaultID: "rpt_" + UUID().uuidString.lowercased())
        return EventsController.respond(result)
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingPrefix(".").description
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "\(path(context.codingPath + [key])): is required"
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)): must be \(type == String.self ? "a string" : "\(type)")"
        case .valueNotFound(_, let context):
            return "\(path(context.codingPath)): must not be null"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "the body is not valid JSON" : "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "the report could not be read"
        }
    }
}
