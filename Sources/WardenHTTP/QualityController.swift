import Foundation
import Hummingbird
import WardenCore
import WardenEngine
import WardenStore
public import WardenQuality

/// The health report as the API (and `warden qa health --json`) shows it: the report's rows as they
/// are, times as RFC 3339.
public struct HealthResponse: Encodable, Sendable {
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
    var backlog: [HealthReport.BacklogRow]

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
        backlog = report.backlog
        weeks = report.weeks.map { Week(start: Timestamp.formatRFC3339($0.start), decisions: $0.decisions, overturned: $0.overturned, slaMet: $0.slaMet, changes: $0.changes) }
    }
}

/// Accuracy on golden items mixed unseen into live queues, as the API shows it.
public struct GoldenChecksResponse: Encodable, Sendable {
    struct Mix: Encodable {
        var queue: String
        var rate: Double
    }
    var days: Int
    var from: String
    var to: String
    /// The queues golden items are mixed into, and the share of claims that get one.
    var mix: [Mix]
    var overall: AccuracyRow
    var byReviewer: [AccuracyRow]
    var byTeam: [AccuracyRow]
    var byQueue: [AccuracyRow]

    public init(_ report: GoldenCheckReport, days: Int, mix: [String: Double]) {
        self.days = days
        from = Timestamp.formatRFC3339(report.from)
        to = Timestamp.formatRFC3339(report.to)
        self.mix = mix.sorted { $0.key < $1.key }.map { Mix(queue: $0.key, rate: $0.value) }
        overall = report.overall
        byReviewer = report.byReviewer
        byTeam = report.byTeam
        byQueue = report.byQueue
    }
}

/// Public answers (the CLI prints them with `--json`) go out through this internal wrapper, because
/// Hummingbird's protocol is not re-exported; it encodes exactly the same document.
struct Body<T: Encodable & Sendable>: ResponseEncodable {
    let response: T
    func encode(to encoder: any Encoder) throws { try response.encode(to: encoder) }
}

/// A QA item as the API shows it. The re-review is blind: until the item has a verdict, nobody sees
/// the original decision or who made it through QA (`original` is absent).
public struct QAItemResponse: Encodable, Sendable {
    struct Original: Encodable {
        var decisionId: Int64
        var decider: String
        var decidedAt: String
        var violation: Bool
        var category: String
    }
    struct Verdict: Encodable {
        var by: String
        var at: String
        var violation: Bool
        var category: String?
        var errors: [String]
        var notes: String?
        var agrees: Bool
    }
    struct Dispute: Encodable {
        var by: String
        var at: String
        var reason: String
    }
    struct Ruling: Encodable {
        var by: String
        var at: String
        var stands: QARuling
        var notes: String?
    }
    var id: Int64
    var auditId: Int64
    var caseId: Int64
    var queue: String
    var state: QAState
    var stratum: String?
    var reviewer: String?
    var claimedAt: String?
    var original: Original?
    var verdict: Verdict?
    var dispute: Dispute?
    var ruling: Ruling?
    /// Whether the original decision counts as correct (absent before the verdict).
    var correct: Bool?

    public init(_ item: QAItem) {
        id = item.id
        auditId = item.auditID
        caseId = item.caseID
        queue = item.queue
        state = item.state
        stratum = item.revealsOriginal ? item.stratum : nil
        reviewer = item.reviewer
        claimedAt = item.claimedAt.map(Timestamp.formatRFC3339)
        if item.revealsOriginal {
            original = Original(decisionId: item.decisionID, decider: item.decider, decidedAt: Timestamp.formatRFC3339(item.decidedAt),
                                violation: item.violation, category: item.category)
        }
        if let verdict = item.verdict, let at = item.verdictAt {
            self.verdict = Verdict(by: item.reviewer ?? "", at: Timestamp.formatRFC3339(at), violation: verdict.violation, category: verdict.category,
                                   errors: verdict.errors, notes: verdict.notes,
                                   agrees: QAItem.agrees(verdict, violation: item.violation, category: item.category))
        }
        if let by = item.disputedBy, let at = item.disputedAt, let reason = item.disputeReason {
            dispute = Dispute(by: by, at: Timestamp.formatRFC3339(at), reason: reason)
        }
        if let stands = item.ruling, let by = item.ruledBy, let at = item.ruledAt {
            ruling = Ruling(by: by, at: Timestamp.formatRFC3339(at), stands: stands, notes: item.rulingNotes)
        }
        correct = item.correct
    }
}

/// A QA audit with its plan, what it drew, and (when asked) its report.
public struct QAAuditResponse: Encodable, Sendable {
    struct Plan: Encodable {
        var queue: String?
        var reviewer: String?
        var team: String?
        var policy: String?
        var margin: Double?
        var confidence: Double?
        var expected: Double?
        var rate: Double?
        var size: Int?
        var stratifyBy: SamplingPlan.StratifyBy?
        var allocation: SamplingPlan.Allocation
        var seed: UInt64
    }
    var id: Int64
    var name: String
    var plan: Plan
    var from: String
    var to: String
    var population: Int
    var sampleSize: Int
    var strata: [SampleDraw.Stratum]
    var createdBy: String
    var createdAt: String
    var report: QAReport?

    public init(_ audit: QAAudit, report: QAReport? = nil) {
        id = audit.id
        name = audit.name
        let p = audit.plan
        plan = Plan(queue: p.queue, reviewer: p.reviewer, team: p.team, policy: p.policy, allocation: p.allocation, seed: p.seed)
        plan.stratifyBy = p.stratifyBy
        switch p.sizing {
        case .margin(let margin, let confidence, let expected):
            plan.margin = margin
            plan.confidence = confidence
            plan.expected = expected
        case .rate(let rate): plan.rate = rate
        case .count(let size): plan.size = size
        }
        from = Timestamp.formatRFC3339(audit.from)
        to = Timestamp.formatRFC3339(audit.to)
        population = audit.population
        sampleSize = audit.sampleSize
        strata = audit.strata
        createdBy = audit.createdBy
        createdAt = Timestamp.formatRFC3339(audit.createdAt)
        self.report = report
    }
}

struct QAAuditList: ResponseEncodable {
    var audits: [QAAuditResponse]
}

struct QAItemList: ResponseEncodable {
    var items: [QAItemResponse]
}

struct ErrorTypesResponse: ResponseEncodable {
    var errorTypes: [ErrorType]
    var targetAccuracy: Double?
}

// MARK: Request bodies

struct CreateAuditBody: RequestBody {
    var name: String
    var days: Int?
    var queue: String?
    var reviewer: String?
    var team: String?
    var policy: String?
    var margin: Double?
    var confidence: Double?
    var expected: Double?
    var rate: Double?
    var size: Int?
    var stratifyBy: SamplingPlan.StratifyBy?
    var allocation: SamplingPlan.Allocation?
    var seed: Int64?
    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, days, queue, reviewer, team, policy, margin, confidence, expected, rate, size, allocation, seed
        case stratifyBy = "stratify_by"
    }

    func validate() throws(Problem) {
        try Bounds.text(name, "name", max: 200, nonBlank: true)
        for (value, field) in [(queue, "queue"), (reviewer, "reviewer"), (team, "team"), (policy, "policy")] {
            try Bounds.text(value, field, max: 200, nonBlank: true)
        }
        if let days, !(1...QualityService.maximumDays).contains(days) { throw RequestInput.invalid("days", "must be 1 to \(QualityService.maximumDays)") }
        let sizings = [margin != nil, rate != nil, size != nil].filter { $0 }.count
        guard sizings == 1 else { throw RequestInput.invalid(nil, "give exactly one of margin (with confidence), rate or size") }
        if margin == nil, confidence != nil || expected != nil { throw RequestInput.invalid("confidence", "goes with margin") }
        if let margin, !(0.01...0.5).contains(margin) { throw RequestInput.invalid("margin", "must be 0.01 to 0.5") }
        if let confidence, !(0.5...0.999).contains(confidence) { throw RequestInput.invalid("confidence", "must be 0.5 to 0.999") }
        if let expected, !(0.01...0.99).contains(expected) { throw RequestInput.invalid("expected", "must be 0.01 to 0.99") }
        if let rate, !(rate > 0 && rate <= 1) { throw RequestInput.invalid("rate", "must be above 0 and at most 1") }
        if let size, !(1...10_000).contains(size) { throw RequestInput.invalid("size", "must be 1 to 10000") }
        if let seed, seed < 0 { throw RequestInput.invalid("seed", "must be 0 or more") }
        if allocation == .perStratum, stratifyBy == nil { throw RequestInput.invalid("allocation", "per_stratum needs stratify_by") }
    }

    func plan(seed fallback: UInt64) -> SamplingPlan {
        let sizing: SamplingPlan.Sizing = if let margin {
            .margin(margin, confidence: confidence ?? 0.95, expected: expected ?? 0.5)
        } else if let rate {
            .rate(rate)
        } else {
            .count(size ?? 1)
        }
        return SamplingPlan(queue: queue, reviewer: reviewer, team: team, policy: policy, sizing: sizing, stratifyBy: stratifyBy,
                            allocation: allocation ?? .proportional, seed: seed.map(UInt64.init) ?? fallback)
    }
}

struct NextQABody: RequestBody {
    var auditId: Int64?
    enum CodingKeys: String, CodingKey, CaseIterable { case auditId = "audit_id" }
    func validate() throws(Problem) {
        if let auditId, auditId < 1 { throw RequestInput.invalid("audit_id", "must be a positive integer") }
    }
}

struct VerdictBody: RequestBody {
    var violation: Bool
    var category: String?
    var errors: [String]?
    var notes: String?
    enum CodingKeys: String, CodingKey, CaseIterable { case violation, category, errors, notes }
    func validate() throws(Problem) {
        try Bounds.text(category, "category", max: 200, nonBlank: true)
        try Bounds.texts(errors, "errors", max: 64, maxItems: 20)
        try Bounds.text(notes, "notes", max: 10_000)
    }
    var verdict: QAVerdict { QAVerdict(violation: violation, category: category, errors: errors ?? [], notes: notes) }
}

struct DisputeBody: RequestBody {
    var reason: String
    enum CodingKeys: String, CodingKey, CaseIterable { case reason }
    func validate() throws(Problem) { try Bounds.text(reason, "reason", max: 10_000, nonBlank: true) }
}

struct RulingBody: RequestBody {
    var stands: QARuling
    var notes: String?
    enum CodingKeys: String, CodingKey, CaseIterable { case stands, notes }
    func validate() throws(Problem) { try Bounds.text(notes, "notes", max: 10_000) }
}

/// Quality reports and QA audits over HTTP.
struct QualityController {
    let quality: QualityService
    let maxBodyBytes: Int

    func addRoutes(to routes: RouteTable) {
        routes.add(.get, "/v1/quality/health", scope: .qualityRead) { request, _ in
            let days = Int(try input(request).integer("days", default: 28, range: 1...Int64(QualityService.maximumDays)))
            return Body(response: HealthResponse(try await quality.health(days: days), days: days))
        }
        routes.add(.get, "/v1/quality/golden-checks", scope: .qualityRead) { request, _ in
            let days = Int(try input(request).integer("days", default: 28, range: 1...Int64(QualityService.maximumDays)))
            return Body(response: GoldenChecksResponse(try await quality.goldenChecks(days: days), days: days, mix: quality.goldenMix))
        }
        routes.add(.get, "/v1/quality/accuracy", scope: .qualityRead) { request, _ in
            let query = input(request)
            let days = Int(try query.integer("days", default: 28, range: 1...Int64(QualityService.maximumDays)))
            let method = try query.choice("method", IntervalMethod.self) ?? .wilson
            return Body(response: try await quality.report(days: days, method: method))
        }
        routes.add(.get, "/v1/quality/error-types", scope: .qualityReview) { _, _ in
            ErrorTypesResponse(errorTypes: quality.errorTypes, targetAccuracy: quality.targetAccuracy)
        }
        routes.add(.post, "/v1/quality/audits", scope: .qualityWrite, status: .created) { request, context in
            let body = try await input(request).body(CreateAuditBody.self)
            let seed = UInt64(quality.clock.nowMillis())
            let audit = try await Self.run {
                try await quality.createAudit(name: body.name, plan: body.plan(seed: seed), days: body.days ?? 28, actor: context.actor)
            }
            return Body(response: QAAuditResponse(audit))
        }
        routes.add(.get, "/v1/quality/audits", scope: .qualityRead) { request, _ in
            let query = input(request)
            let before = try query.integer("before", range: 1...Int64.max)
            let limit = Int(try query.integer("limit", default: 50, range: 1...500))
            return QAAuditList(audits: try await quality.store.audits(before: before, limit: limit).map { QAAuditResponse($0) })
        }
        routes.add(.get, "/v1/quality/audits/{id}", scope: .qualityRead) { request, context in
            let id = try context.id()
            let method = try input(request).choice("method", IntervalMethod.self) ?? .wilson
            let audit = try await Self.run { try await quality.audit(id: id) }
            return Body(response: QAAuditResponse(audit, report: try await quality.report(auditID: id, method: method)))
        }
        routes.add(.get, "/v1/quality/audits/{id}/items", scope: .qualityRead) { request, context in
            let id = try context.id()
            let query = input(request)
            let after = try query.integer("after", range: 0...Int64.max)
            let limit = Int(try query.integer("limit", default: 100, range: 1...1000))
            _ = try await Self.run { try await quality.audit(id: id) }
            return QAItemList(items: try await quality.store.qaItems(QAItemQuery(auditID: id, after: after, limit: limit)).map(QAItemResponse.init))
        }
        routes.add(.post, "/v1/quality/qa/next", scope: .qualityReview) { request, context in
            let body = try await input(request).body(NextQABody.self, allowEmpty: true)
            guard let item = try await Self.run({ try await quality.claimNext(auditID: body?.auditId, actor: context.actor) }) else {
                return Response(status: .noContent)
            }
            return try Body(response: QAItemResponse(item)).response(from: request, context: context)
        }
        routes.add(.get, "/v1/quality/qa/items/{id}", scope: .qualityReview) { _, context in
            let id = try context.id()
            return Body(response: QAItemResponse(try await Self.run { try await quality.item(id: id) }))
        }
        routes.add(.post, "/v1/quality/qa/items/{id}/verdict", scope: .qualityReview) { request, context in
            let body = try await input(request).body(VerdictBody.self)
            return try await command(context, .verdict(body.verdict))
        }
        routes.add(.post, "/v1/quality/qa/items/{id}/release", scope: .qualityReview) { _, context in
            try await command(context, .release)
        }
        routes.add(.post, "/v1/quality/qa/items/{id}/dispute", scope: .casesReview) { request, context in
            let body = try await input(request).body(DisputeBody.self)
            return try await command(context, .dispute(reason: body.reason))
        }
        routes.add(.post, "/v1/quality/qa/items/{id}/ruling", scope: .qualityWrite) { request, context in
            let body = try await input(request).body(RulingBody.self)
            return try await command(context, .rule(body.stands, notes: body.notes))
        }
        routes.add(.get, "/v1/quality/qa/findings", scope: .casesReview) { request, context in
            let limit = Int(try input(request).integer("limit", default: 100, range: 1...1000))
            return QAItemList(items: try await quality.findings(for: context.actor, limit: limit).map(QAItemResponse.init))
        }
        routes.add(.get, "/v1/quality/qa/disputes", scope: .qualityWrite) { request, _ in
            let limit = Int(try input(request).integer("limit", default: 100, range: 1...1000))
            return QAItemList(items: try await quality.openDisputes(limit: limit).map(QAItemResponse.init))
        }
    }

    func input(_ request: Request) -> RequestInput { RequestInput(request: request, limit: maxBodyBytes) }

    func command(_ context: WardenRequestContext, _ command: QACommand) async throws -> Body<QAItemResponse> {
        let id = try context.id()
        let isLead = Scope.qualityWrite.isSatisfied(by: context.scopes ?? [])
        return Body(response: QAItemResponse(try await Self.run { try await quality.command(itemID: id, command, actor: context.actor, isLead: isLead) }))
    }

    /// Runs a QA operation, turning its refusals into problem documents.
    static func run<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as QualityError {
            switch error.kind {
            case .notFound: throw Problem.notFound(error.message)
            case .conflict: throw Problem(.conflict, "qa-conflict", title: "Conflict", detail: error.message)
            case .invalid: throw Problem(.unprocessableContent, "invalid-qa", title: "Not allowed by the QA rules", detail: error.message)
            case .forbidden: throw Problem(.forbidden, "forbidden", title: "Not allowed", detail: error.message)
            }
        }
    }
}
