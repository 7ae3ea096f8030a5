import Foundation
import Hummingbird
import WardenCore
import WardenEngine
import WardenRules
import WardenStore

/// Detection over HTTP: synchronous evaluation, signals and the rules in force.
struct DetectionController {
    let intake: Intake
    let pipeline: DetectionPipeline
    let detections: any DetectionStore
    let clock: any WallClock
    let maxBodyBytes: Int

    func addRoutes(to routes: RouteTable) {
        routes.add(.post, "/v1/evaluate", scope: .eventsWrite, evaluate)
        routes.add(.get, "/v1/signals", scope: .read, signals)
        routes.add(.get, "/v1/rules", scope: .read, rules)
        routes.add(.get, "/v1/classifications", scope: .read, classifications)
    }

    /// Evaluates one event against the current state and answers the verdict and the rules that
    /// fired, with why. With `ingest=true` the event is also stored (and detection then acts on it).
    @Sendable func evaluate(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        guard try EventsController.format(of: request) == .json else {
            throw Problem(.unsupportedMediaType, "unsupported-media-type", title: "Unsupported media type", detail: "send one event as Content-Type application/json")
        }
        let ingest = try RequestInput(request: request, limit: maxBodyBytes).bool("ingest") ?? false
        let body = Array(buffer: try await RequestInput.collect(request, limit: maxBodyBytes))
        let parsed: ParsedEvent
        do {
            parsed = try body.withUnsafeBufferPointer { buffer throws(EventError) in try intake.schema.parse(buffer, now: clock.nowMillis()) }
        } catch {
            let position = error.offset.map { offset in body.withUnsafeBufferPointer { TextPosition(offset: offset, in: $0) } }
            return EventsController.respond(IntakeResult(results: [LineResult(line: 1, status: .rejected, error: LineError(error, position: position))]))
        }
        let evaluation = pipeline.peek(parsed, body: body)
        let ingested = ingest ? try await intake.submit(body, format: .json).results.first : nil
        return .json(Encode.evaluation(evaluation, eventID: parsed.id, ingested: ingested))
    }

    @Sendable func signals(_ request: Request, _ context: WardenRequestContext) async throws -> SignalList {
        let query = RequestInput(request: request, limit: maxBodyBytes)
        let limit = try query.integer("limit", default: 100, range: 1...1000)
        let before = try query.integer("before", range: 1...Int64.max)
        let subject = try query.entity("subject")
        let signals = try await detections.signals(before: before, limit: Int(limit), subject: subject, rule: try query.string("rule"))
        return SignalList(signals, nextBefore: signals.count == Int(limit) ? signals.last?.id : nil)
    }

    /// Rule hits that waited for served classifiers: pending, fired, not fired or failed, newest
    /// first, with the classifiers' answers or the error, and a count per state.
    @Sendable func classifications(_ request: Request, _ context: WardenRequestContext) async throws -> ClassificationList {
        let query = RequestInput(request: request, limit: maxBodyBytes)
        let limit = try query.integer("limit", default: 100, range: 1...1000)
        let before = try query.integer("before", range: 1...Int64.max)
        let state = try query.string("state")
        if let state, !ClassificationJob.states.contains(state) {
            throw Problem.badRequest("invalid-parameter", "query parameter state must be one of \(ClassificationJob.states.joined(separator: ", ")); got \(state.prefix(40))")
        }
        let jobs = try await detections.classificationJobs(state: state, before: before, limit: Int(limit))
        return ClassificationList(jobs, counts: try await detections.classificationJobCounts(), nextBefore: jobs.count == Int(limit) ? jobs.last?.id : nil)
    }

    @Sendable func rules(_ request: Request, _ context: WardenRequestContext) async throws -> RuleList {
        let hour = clock.nowMillis() / 3_600_000
        let counts = try await detections.ruleHits(sinceHour: hour - 23)
        let demotions = pipeline.demotions
        return RuleList(rules: pipeline.rules.rules.map { rule in
            let mine = counts.filter { $0.rule == rule.name && $0.version == rule.version }
            return RuleList.Rule(name: rule.name, description: rule.description, category: rule.category, severity: rule.severity,
                                 mode: demotions[rule.name] == nil ? rule.mode.rawValue : RuleMode.shadow.rawValue, demoted: demotions[rule.name],
                                 budgetPerHour: rule.budget, version: rule.version, owner: rule.owner, location: rule.location.description,
                                 hits24h: mine.reduce(0) { $0 + $1.hits },
                                 hitsByHour: mine.sorted { $0.hour < $1.hour }.map {
                                     RuleList.Hour(hour: Timestamp.formatRFC3339($0.hour * 3_600_000), mode: $0.mode, hits: $0.hits)
                                 })
        })
    }
}
