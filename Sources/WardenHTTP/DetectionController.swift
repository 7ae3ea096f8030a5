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
        try EventsController.requireJSON(request, "one event")
        let ingest = request.uri.queryParameters.get("ingest") == "true"
        let body = Array(buffer: try await EventsController.collect(request, limit: maxBodyBytes))
        let parsed: ParsedEvent
        do {
            parsed = try body.withUnsafeBufferPointer { buffer throws(EventError) in try intake.schema.parse(buffer, now: clock.nowMillis()) }
        } catch {
            let position = error.offset.map { offset in body.withUnsafeBufferPointer { TextPosition(offset: offset, in: $0) } }
            return EventsController.respond(IntakeResult(results: [LineResult(line: 1, status: .rejected, error: LineError(error, position: position))]))
        }
        let evaluation = pipeline.peek(parsed, body: body)
        var writer = JSONWriter(capacity: 512)
        writer.beginObject()
        writer.field("event_id", parsed.id)
        writer.field("verdict", evaluation.verdict.rawValue)
        writer.key("hits")
        writer.beginArray()
        for hit in evaluation.hits { Self.write(hit, into: &writer) }
        writer.endArray()
        // Rules whose other conditions hold, waiting for classifiers served over an API: they do
        // not change the verdict; once ingested, the classification stage settles them.
        writer.key("pending")
        writer.beginArray()
        for hit in evaluation.pending { Self.write(hit, into: &writer) }
        writer.endArray()
        if ingest {
            let result = try await intake.submit(body, format: .json)
            writer.key("ingested")
            writer.beginObject()
            writer.field("status", result.results.first?.status.rawValue ?? "rejected")
            if let seq = result.results.first?.seq { writer.field("seq", seq) }
            writer.endObject()
        }
        writer.endObject()
        return .json(writer.bytes)
    }

    /// One rule hit; a pending one also says what it waits for.
    static func write(_ hit: RuleHit, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("rule", hit.rule)
        writer.field("version", hit.version)
        writer.field("mode", hit.mode.rawValue)
        writer.field("category", hit.category)
        writer.field("severity", hit.severity)
        writer.field("explanation", hit.explanation)
        if let condition = hit.condition { writer.field("waiting_for", condition.describe()) }
        writer.key("effects")
        EffectJSON.write(hit.effects, into: &writer)
        writer.endObject()
    }

    @Sendable func signals(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let limit = try EventsController.integer(request, "limit", default: 100, range: 1...1000)
        let before: Int64? = request.uri.queryParameters.get("before") == nil
            ? nil : try EventsController.integer(request, "before", default: Int64.max, range: 1...Int64.max)
        var subject: EntityRef?
        if let text = request.uri.queryParameters.get("subject") {
            guard let ref = EntityRef(parsing: text) else {
                throw Problem.badRequest("invalid-parameter", "subject must be type:id, such as user:u1")
            }
            subject = ref
        }
        let signals = try await detections.signals(before: before, limit: Int(limit), subject: subject, rule: request.uri.queryParameters.get("rule"))
        var writer = JSONWriter(capacity: 512 * signals.count + 64)
        writer.beginObject()
        writer.key("signals")
        writer.beginArray()
        for signal in signals {
            writer.beginObject()
            writer.field("id", signal.id)
            if let seq = signal.eventSeq { writer.field("event_seq", seq) }
            if let caseID = signal.caseID { writer.field("case_id", caseID) }
            writer.field("rule", signal.rule)
            writer.field("rule_version", signal.ruleVersion)
            writer.field("category", signal.category)
            writer.field("severity", signal.severity)
            if let subject = signal.subject { writer.field("subject", subject.description) }
            if let reason = signal.reason { writer.field("reason", reason) }
            writer.field("explanation", signal.explanation)
            if let queue = signal.queue { writer.field("queue", queue) }
            if let verdict = signal.verdict { writer.field("verdict", verdict) }
            writer.key("effects")
            writer.raw(Array(signal.effects.utf8))
            writer.field("occurred_at", Timestamp.formatRFC3339(signal.occurredAt))
            writer.field("created_at", Timestamp.formatRFC3339(signal.createdAt))
            writer.endObject()
        }
        writer.endArray()
        writer.key("next_before")
        if signals.count == Int(limit), let last = signals.last { writer.number(last.id) } else { writer.null() }
        writer.endObject()
        return .json(writer.bytes)
    }

    /// Rule hits that waited for served classifiers: pending, fired, not fired or failed, newest
    /// first, with the classifiers' answers or the error, and a count per state.
    @Sendable func classifications(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let limit = try EventsController.integer(request, "limit", default: 100, range: 1...1000)
        let before: Int64? = request.uri.queryParameters.get("before") == nil
            ? nil : try EventsController.integer(request, "before", default: Int64.max, range: 1...Int64.max)
        let state = request.uri.queryParameters.get("state").map { String($0) }
        if let state, !ClassificationJob.states.contains(state) {
            throw Problem.badRequest("invalid-parameter", "state must be one of \(ClassificationJob.states.joined(separator: ", ")), not \(state)")
        }
        let jobs = try await detections.classificationJobs(state: state, before: before, limit: Int(limit))
        let counts = try await detections.classificationJobCounts()
        var writer = JSONWriter(capacity: 512 * jobs.count + 128)
        writer.beginObject()
        writer.key("counts")
        writer.beginObject()
        for name in ClassificationJob.states { writer.field(name, Int64(counts[name] ?? 0)) }
        writer.endObject()
        writer.key("classifications")
        writer.beginArray()
        for job in jobs {
            writer.beginObject()
            writer.field("id", job.id)
            writer.field("state", job.state)
            writer.field("event_seq", job.signal.eventSeq ?? 0)
            writer.field("rule", job.signal.rule)
            writer.field("rule_version", job.signal.ruleVersion)
            writer.field("mode", job.mode)
            writer.field("category", job.signal.category)
            if let subject = job.signal.subject { writer.field("subject", subject.description) }
            writer.field("explanation", job.signal.explanation)
            if let condition = try? JSONDecoder().decode(PendingCondition.self, from: Data(job.condition.utf8)) {
                writer.field("waiting_for", condition.describe())
            }
            writer.field("attempts", Int64(job.attempts))
            if let error = job.lastError { writer.field("last_error", error) }
            if let answers = job.answers {
                writer.key("answers")
                writer.raw(Array(answers.utf8))
            }
            writer.field("occurred_at", Timestamp.formatRFC3339(job.signal.occurredAt))
            writer.field("created_at", Timestamp.formatRFC3339(job.createdAt))
            if job.state == "pending" { writer.field("next_attempt_at", Timestamp.formatRFC3339(job.nextAttemptAt)) }
            if let settled = job.settledAt { writer.field("settled_at", Timestamp.formatRFC3339(settled)) }
            writer.endObject()
        }
        writer.endArray()
        writer.key("next_before")
        if jobs.count == Int(limit), let last = jobs.last { writer.number(last.id) } else { writer.null() }
        writer.endObject()
        return .json(writer.bytes)
    }

    @Sendable func rules(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let hour = clock.nowMillis() / 3_600_000
        let counts = try await detections.ruleHits(sinceHour: hour - 23)
        let demotions = pipeline.demotions
        var writer = JSONWriter(capacity: 4096)
        writer.beginObject()
        writer.key("rules")
        writer.beginArray()
        for rule in pipeline.rules.rules {
            let mine = counts.filter { $0.rule == rule.name && $0.version == rule.version }
            writer.beginObject()
            writer.field("name", rule.name)
            if let description = rule.description { writer.field("description", description) }
            writer.field("category", rule.category)
            writer.field("severity", rule.severity)
            writer.field("mode", demotions[rule.name] == nil ? rule.mode.rawValue : RuleMode.shadow.rawValue)
            if let reason = demotions[rule.name] { writer.field("demoted", reason) }
            writer.field("budget_per_hour", Int64(rule.budget))
            writer.field("version", rule.version)
            if let owner = rule.owner { writer.field("owner", owner) }
            writer.field("location", rule.location.description)
            writer.field("hits_24h", Int64(mine.reduce(0) { $0 + $1.hits }))
            writer.key("hits_by_hour")
            writer.beginArray()
            for count in mine.sorted(by: { $0.hour < $1.hour }) {
                writer.beginObject()
                writer.field("hour", Timestamp.formatRFC3339(count.hour * 3_600_000))
                writer.field("mode", count.mode)
                writer.field("hits", Int64(count.hits))
                writer.endObject()
            }
            writer.endArray()
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        return .json(writer.bytes)
    }
}
