import Hummingbird
import WardenCore
import WardenEngine
import WardenStore

/// Intake and reading of the event log: `POST /v1/events`, `GET /v1/events`, `GET /v1/events/{id}`.
struct EventsController {
    let intake: Intake
    let store: any EventStore
    let maxBodyBytes: Int

    func addRoutes(to routes: RouteTable) {
        routes.add(.post, "/v1/events", scope: .eventsWrite, submit)
        routes.add(.get, "/v1/events", scope: .read, list)
        routes.add(.get, "/v1/events/{id}", scope: .read, show)
    }

    @Sendable func submit(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let format = try Self.format(of: request)
        let body = try await RequestInput.collect(request, limit: maxBodyBytes)
        let prepared = body.withUnsafeReadableBytes { raw in
            intake.prepare(raw.assumingMemoryBound(to: UInt8.self), format: format)
        }
        do {
            return Self.respond(try await intake.commit(prepared))
        } catch IntakeError.emptyBody {
            throw Problem.badRequest("empty-body", "the body holds no event; send one JSON object, or NDJSON with one event per line")
        }
    }

    @Sendable func list(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let query = RequestInput(request: request, limit: maxBodyBytes)
        let after = try query.integer("after", default: 0, range: 0...Int64.max)
        let limit = try query.integer("limit", default: 100, range: 1...1000)
        let type = try query.string("type", maxLength: 100)
        let events = try await store.events(after: after, limit: Int(limit), type: type)
        var writer = JSONWriter(capacity: 512 * events.count + 64)
        writer.beginObject()
        writer.key("events")
        writer.beginArray()
        for event in events { Encode.storedEvent(event, into: &writer) }
        writer.endArray()
        writer.key("next_after")
        if events.count == Int(limit), let last = events.last { writer.number(last.seq) } else { writer.null() }
        writer.endObject()
        return .json(writer.bytes)
    }

    @Sendable func show(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let id = context.path("id")
        guard let event = try await store.event(id: id) else { throw Problem.notFound("no event has id \(id)") }
        var writer = JSONWriter(capacity: event.body.count + 64)
        Encode.storedEvent(event, into: &writer)
        return .json(writer.bytes)
    }

    // MARK: - Helpers shared with reports

    static let ndjsonTypes: Set<String> = ["application/x-ndjson", "application/ndjson", "application/jsonl", "application/jsonlines", "application/x-jsonlines"]

    static func format(of request: Request) throws -> IntakeFormat {
        let mediaType = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        switch mediaType {
        case "application/json": return .json
        case let type? where ndjsonTypes.contains(type): return .ndjson
        default:
            throw Problem(.unsupportedMediaType, "unsupported-media-type", title: "Unsupported media type",
                          detail: "send Content-Type application/json (one event) or application/x-ndjson (one event per line)"
                              + (mediaType.map { "; got \($0)" } ?? "; the request had none"))
        }
    }

    /// Collects the body up to `limit` bytes. A larger body is read to its end and discarded
    /// (up to a hard cap) before the 413, so the client, still sending, gets to read the answer.
    /// 200 when every line is in the log; 207 when some lines are and others are not; a problem
    /// document (409, 400 or 422) listing every line when nothing was stored.
    static func respond(_ result: IntakeResult) -> Response {
        guard result.accepted + result.duplicates == 0 else {
            var writer = JSONWriter(capacity: 64 * result.results.count + 128)
            writer.beginObject()
            Encode.intakeResult(result, into: &writer)
            writer.endObject()
            return .json(writer.bytes, status: result.isComplete ? .ok : HTTPResponse.Status(code: 207, reasonPhrase: "Multi-Status"))
        }
        let codes = Set(result.results.compactMap { $0.error?.code })
        var problem: Problem
        if codes == ["conflict"] {
            problem = Problem(.conflict, "event-conflict", title: "Event id already used",
                              detail: "every event's id is already stored with different content; nothing was stored")
        } else if codes == [EventError.Kind.syntax.rawValue] {
            problem = Problem(.badRequest, "malformed-json", title: "Malformed JSON", detail: "")
        } else {
            problem = Problem(.unprocessableContent, "invalid-event", title: "Invalid event", detail: "")
        }
        if result.results.count == 1, let error = result.results[0].error {
            if problem.detail.isEmpty {
                let place = [error.field, error.line.map { "line \($0)" }, error.column.map { "column \($0)" }].compactMap { $0 }
                problem.detail = (place.isEmpty ? "" : place.joined(separator: ", ") + ": ") + error.message
            }
            if let field = error.field { problem.extensions.append(("field", jsonString(field))) }
            if let line = error.line { problem.extensions.append(("line", Array(String(line).utf8))) }
            if let column = error.column { problem.extensions.append(("column", Array(String(column).utf8))) }
        } else if problem.detail.isEmpty {
            problem.detail = "none of the \(result.results.count) lines was stored; see results for each line's error"
        }
        // The per-line answer travels inside the problem document as extension members.
        problem.extensions += Encode.intakeMembers(result)
        return problem.response
    }

    static func jsonString(_ value: String) -> [UInt8] {
        var writer = JSONWriter()
        writer.string(value)
        return writer.bytes
    }
}
