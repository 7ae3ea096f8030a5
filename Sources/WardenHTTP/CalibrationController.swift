import Foundation
import Hummingbird
import WardenCore
import WardenEngine
import WardenReview
import WardenStore
public import WardenQuality

/// A golden item as the API shows it.
public struct GoldenItemResponse: Encodable, Sendable {
    var id: Int64
    var caseId: Int64?
    var queue: String
    var text: String
    var answer: String
    var explanation: String
    var createdBy: String
    var createdAt: String
    var retiredAt: String?

    init(_ item: GoldenItem, masked: Bool) {
        id = item.id
        caseId = item.caseID
        queue = item.queue
        text = masked ? PersonalData.mask(text: item.text) : item.text
        answer = item.answer
        explanation = item.explanation
        createdBy = item.createdBy
        createdAt = Timestamp.formatRFC3339(item.createdAt)
        retiredAt = item.retiredAt.map(Timestamp.formatRFC3339)
    }
}

/// A calibration session or training run as `viewer` may see it: while it is open, only their own
/// answers (and, in training, the key of what they answered); once closed, everything and the
/// agreement report.
public struct CalibrationSessionResponse: Encodable, Sendable {
    struct Rater: Encodable {
        var rater: String
        var rated: Int
    }
    struct Item: Encodable {
        var number: Int
        var caseId: Int64?
        var goldenId: Int64?
        var text: String
        var gold: String?
        var explanation: String?
    }
    struct RatingView: Encodable {
        var item: Int
        var rater: String
        var answer: String
        var notes: String?
        var at: String
        var correct: Bool?
    }
    struct Note: Encodable {
        var id: Int64
        var by: String
        var at: String
        var item: Int?
        var text: String
        var article: String?
    }
    struct Score: Encodable {
        var right: Int
        var answered: Int
        var of: Int
        var threshold: Double
        var passed: Bool?
    }
    var id: Int64
    var kind: SessionKind
    var name: String
    var queue: String?
    var state: SessionState
    var raters: [Rater]
    var items: [Item]?
    var ratings: [RatingView]?
    var discussion: [Note]?
    var createdBy: String
    var createdAt: String
    var closedAt: String?
    var outcome: String?
    var score: Score?
    var report: CalibrationReport?

    /// The whole session for `viewer`; `summary` leaves out items, ratings and the discussion.
    init(_ session: CalibrationSession, viewer: String, masked: Bool, report: CalibrationReport? = nil) {
        self.init(summary: session, rated: Dictionary(grouping: session.ratings, by: \.rater).mapValues(\.count))
        let (visible, keyOf) = session.visible(to: viewer)
        items = session.items.map { item in
            let key = keyOf.contains(item.number)
            return Item(number: item.number, caseId: item.caseID, goldenId: item.goldenID,
                        text: masked ? PersonalData.mask(text: item.text) : item.text, gold: key ? item.gold : nil, explanation: key ? item.explanation : nil)
        }
        let gold = Dictionary(session.items.map { ($0.number, $0.gold) }, uniquingKeysWith: { first, _ in first })
        ratings = visible.map { rating in
            RatingView(item: rating.item, rater: rating.rater, answer: rating.answer, notes: rating.notes, at: Timestamp.formatRFC3339(rating.at),
                       correct: keyOf.contains(rating.item) ? gold[rating.item].flatMap { $0.map { $0 == rating.answer } } : nil)
        }
        discussion = session.discussion.map { Note(id: $0.id, by: $0.by, at: Timestamp.formatRFC3339($0.at), item: $0.item, text: $0.text, article: $0.article) }
        self.report = report
    }

    init(summary session: CalibrationSession, rated: [String: Int]) {
        id = session.id
        kind = session.kind
        name = session.name
        queue = session.queue
        state = session.state
        raters = session.raters.map { Rater(rater: $0, rated: rated[$0] ?? 0) }
        createdBy = session.createdBy
        createdAt = Timestamp.formatRFC3339(session.createdAt)
        closedAt = session.closedAt.map(Timestamp.formatRFC3339)
        outcome = session.outcome
        if session.kind == .training, let threshold = session.threshold {
            let answered = rated[session.raters.first ?? ""] ?? 0
            let right = session.ratings.isEmpty ? nil : session.score.right
            score = right.map { Score(right: $0, answered: answered, of: session.items.count, threshold: threshold, passed: session.passed) }
        }
    }
}

public struct CertificationResponse: Encodable, Sendable {
    var user: String
    var queue: String
    var sessionId: Int64
    var score: Double
    var grantedAt: String
    var active: Bool
    var revokedAt: String?
    var revokedBy: String?
    var revokeReason: String?

    init(_ certification: Certification) {
        user = certification.user
        queue = certification.queue
        sessionId = certification.sessionID
        score = certification.score
        grantedAt = Timestamp.formatRFC3339(certification.grantedAt)
        active = certification.isActive
        revokedAt = certification.revokedAt.map(Timestamp.formatRFC3339)
        revokedBy = certification.revokedBy
        revokeReason = certification.revokeReason
    }
}

struct GoldenItemList: ResponseEncodable { var items: [GoldenItemResponse] }
struct CalibrationSessionList: ResponseEncodable { var sessions: [CalibrationSessionResponse] }
struct CertificationList: ResponseEncodable {
    struct Rule: Encodable {
        var queue: String
        var threshold: Double
        var items: Int
        var required: Bool
        var goldenItems: Int
    }
    var rules: [Rule]
    var certifications: [CertificationResponse]
}

// MARK: Request bodies

struct GoldenBody: RequestBody {
    var caseId: Int64?
    var text: String?
    var queue: String?
    var answer: String?
    var explanation: String
    enum CodingKeys: String, CodingKey, CaseIterable {
        case caseId = "case_id", text, queue, answer, explanation
    }
    func validate() throws(Problem) {
        try Bounds.text(explanation, "explanation", max: 10_000, nonBlank: true)
        try Bounds.text(answer, "answer", max: 200, nonBlank: true)
        if let caseId {
            if caseId < 1 { throw RequestInput.invalid("case_id", "must be a positive integer") }
            if text != nil { throw RequestInput.invalid("text", "goes with an imported item, not with case_id (the case's content is kept)") }
            if queue != nil { throw RequestInput.invalid("queue", "goes with an imported item; a confirmed case keeps its own queue") }
        } else {
            guard text != nil, queue != nil, answer != nil else {
                throw RequestInput.invalid(nil, "give case_id (to confirm a past case), or text, queue and answer (to import an item)")
            }
            try Bounds.text(text, "text", max: 20_000, nonBlank: true)
            try Bounds.text(queue, "queue", max: 200, nonBlank: true)
        }
    }
}

struct CreateSessionBody: RequestBody {
    var name: String
    var queue: String?
    var caseIds: [Int64]?
    var goldenIds: [Int64]?
    var raters: [String]?
    var models: [String]?
    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, queue, raters, models
        case caseIds = "case_ids", goldenIds = "golden_ids"
    }
    func validate() throws(Problem) {
        try Bounds.text(name, "name", max: 200, nonBlank: true)
        try Bounds.text(queue, "queue", max: 200, nonBlank: true)
        let items = (caseIds ?? []) + (goldenIds ?? [])
        guard !items.isEmpty else { throw RequestInput.invalid(nil, "give case_ids or golden_ids: the items to rate") }
        if items.count > CalibrationSession.maximumItems {
            throw RequestInput.invalid(nil, "\(items.count) items; a session holds at most \(CalibrationSession.maximumItems)")
        }
        for (field, ids) in [("case_ids", caseIds ?? []), ("golden_ids", goldenIds ?? [])] {
            for (index, id) in ids.enumerated() where id < 1 { throw RequestInput.invalid("\(field)[\(index)]", "must be a positive integer") }
            if Set(ids).count != ids.count { throw RequestInput.invalid(field, "names an item twice") }
        }
        try Bounds.texts(raters, "raters", max: 200, maxItems: CalibrationSession.maximumRaters)
        try Bounds.texts(models, "models", max: 200, maxItems: 10)
    }
}

struct RateBody: RequestBody {
    var item: Int
    var answer: String
    var notes: String?
    enum CodingKeys: String, CodingKey, CaseIterable { case item, answer, notes }
    func validate() throws(Problem) {
        if item < 1 { throw RequestInput.invalid("item", "must be a positive integer") }
        try Bounds.text(answer, "answer", max: 200, nonBlank: true)
        try Bounds.text(notes, "notes", max: 10_000)
    }
}

struct SessionNoteBody: RequestBody {
    var item: Int?
    var text: String
    var article: String?
    enum CodingKeys: String, CodingKey, CaseIterable { case item, text, article }
    func validate() throws(Problem) {
        if let item, item < 1 { throw RequestInput.invalid("item", "must be a positive integer") }
        try Bounds.text(text, "text", max: 10_000, nonBlank: true)
        try Bounds.text(article, "article", max: 200, nonBlank: true)
    }
}

struct CloseSessionBody: RequestBody {
    var outcome: String?
    enum CodingKeys: String, CodingKey, CaseIterable { case outcome }
    func validate() throws(Problem) { try Bounds.text(outcome, "outcome", max: 10_000, nonBlank: true) }
}

struct TrainingBody: RequestBody {
    var queue: String
    enum CodingKeys: String, CodingKey, CaseIterable { case queue }
    func validate() throws(Problem) { try Bounds.text(queue, "queue", max: 200, nonBlank: true) }
}

struct RevokeBody: RequestBody {
    var user: String
    var queue: String
    var reason: String
    enum CodingKeys: String, CodingKey, CaseIterable { case user, queue, reason }
    func validate() throws(Problem) {
        try Bounds.text(user, "user", max: 200, nonBlank: true)
        try Bounds.text(queue, "queue", max: 200, nonBlank: true)
        try Bounds.text(reason, "reason", max: 10_000, nonBlank: true)
    }
}

/// Golden items, calibration sessions, training and certification over HTTP.
struct CalibrationController {
    let quality: QualityService
    let maxBodyBytes: Int

    func addRoutes(to routes: RouteTable) {
        routes.add(.post, "/v1/quality/golden", scope: .qualityWrite, status: .created) { request, context in
            let body = try await input(request).body(GoldenBody.self)
            let item = try await QualityController.run {
                if let caseID = body.caseId {
                    try await quality.confirmGolden(caseID: caseID, answer: body.answer, explanation: body.explanation, actor: context.actor)
                } else {
                    try await quality.importGolden(text: body.text ?? "", queue: body.queue ?? "", answer: body.answer ?? "",
                                                   explanation: body.explanation, actor: context.actor)
                }
            }
            return Body(response: GoldenItemResponse(item, masked: false))
        }
        routes.add(.get, "/v1/quality/golden", scope: .qualityRead) { request, context in
            let query = input(request)
            let queue = try query.string("queue")
            let retired = try query.bool("retired") ?? false
            let after = try query.integer("after", range: 0...Int64.max)
            let limit = Int(try query.integer("limit", default: 100, range: 1...1000))
            return GoldenItemList(items: try await quality.store.goldenItems(queue: queue, retired: retired, after: after, limit: limit)
                .map { GoldenItemResponse($0, masked: context.masksPersonalData) })
        }
        routes.add(.get, "/v1/quality/golden/{id}", scope: .qualityRead) { _, context in
            let id = try context.id()
            return Body(response: GoldenItemResponse(try await QualityController.run { try await quality.goldenItem(id: id) }, masked: context.masksPersonalData))
        }
        routes.add(.post, "/v1/quality/golden/{id}/retire", scope: .qualityWrite) { _, context in
            let id = try context.id()
            return Body(response: GoldenItemResponse(try await QualityController.run { try await quality.retireGolden(id: id, actor: context.actor) }, masked: false))
        }
        routes.add(.post, "/v1/quality/sessions", scope: .qualityWrite, status: .created) { request, context in
            let body = try await input(request).body(CreateSessionBody.self)
            let session = try await QualityController.run {
                try await quality.createCalibration(name: body.name, queue: body.queue, caseIDs: body.caseIds ?? [], goldenIDs: body.goldenIds ?? [],
                                                    people: body.raters ?? [], models: body.models ?? [], actor: context.actor)
            }
            return Body(response: CalibrationSessionResponse(session, viewer: context.actor.description, masked: false))
        }
        routes.add(.get, "/v1/quality/sessions", scope: .casesRead) { request, context in
            let query = input(request)
            let kind = try query.choice("kind", SessionKind.self)
            let before = try query.integer("before", range: 1...Int64.max)
            let limit = Int(try query.integer("limit", default: 50, range: 1...200))
            // Leads and auditors see every session; others, the sessions they rate.
            let rater = Self.seesAll(context) ? nil : context.actor.description
            return CalibrationSessionList(sessions: try await quality.store.sessions(kind: kind, rater: rater, before: before, limit: limit)
                .map { CalibrationSessionResponse(summary: $0.session, rated: $0.rated) })
        }
        routes.add(.get, "/v1/quality/sessions/{id}", scope: .casesRead) { _, context in
            let session = try await visibleSession(context)
            return Body(response: response(session, context))
        }
        routes.add(.post, "/v1/quality/sessions/{id}/ratings", scope: .casesReview) { request, context in
            let body = try await input(request).body(RateBody.self)
            return try await command(context, .rate(item: body.item, answer: body.answer, notes: body.notes))
        }
        routes.add(.post, "/v1/quality/sessions/{id}/notes", scope: .casesReview) { request, context in
            let body = try await input(request).body(SessionNoteBody.self)
            return try await command(context, .note(item: body.item, text: body.text, article: body.article))
        }
        routes.add(.post, "/v1/quality/sessions/{id}/close", scope: .qualityWrite) { request, context in
            let body = try await input(request).body(CloseSessionBody.self, allowEmpty: true)
            return try await command(context, .close(outcome: body?.outcome))
        }
        routes.add(.post, "/v1/quality/training", scope: .casesReview, status: .created) { request, context in
            let body = try await input(request).body(TrainingBody.self)
            let session = try await QualityController.run { try await quality.startTraining(queue: body.queue, actor: context.actor) }
            return Body(response: response(session, context))
        }
        routes.add(.get, "/v1/quality/certifications", scope: .casesRead) { request, context in
            let query = input(request)
            let queue = try query.string("queue")
            var user = try query.string("user").map { $0.hasPrefix("user:") ? $0 : "user:\($0)" }
            if !Self.seesAll(context) { user = context.actor.description }
            return try await certifications(user: user, queue: queue)
        }
        routes.add(.post, "/v1/quality/certifications/revoke", scope: .qualityWrite) { request, context in
            let body = try await input(request).body(RevokeBody.self)
            let revoked = try await QualityController.run {
                try await quality.revokeCertification(user: body.user, queue: body.queue, reason: body.reason, actor: context.actor)
            }
            return Body(response: CertificationResponse(revoked))
        }
    }

    func input(_ request: Request) -> RequestInput { RequestInput(request: request, limit: maxBodyBytes) }

    static func seesAll(_ context: WardenRequestContext) -> Bool { Scope.qualityRead.isSatisfied(by: context.scopes ?? []) }

    /// A session the caller rates, or any session for those who read quality; others get 404.
    func visibleSession(_ context: WardenRequestContext) async throws -> CalibrationSession {
        let id = try context.id()
        let session = try await QualityController.run { try await quality.session(id: id) }
        guard Self.seesAll(context) || session.raters.contains(context.actor.description) else {
            throw Problem.notFound("there is no session \(id)")
        }
        return session
    }

    func response(_ session: CalibrationSession, _ context: WardenRequestContext) -> CalibrationSessionResponse {
        let report = session.kind == .calibration && session.state == .closed ? quality.report(session) : nil
        return CalibrationSessionResponse(session, viewer: context.actor.description, masked: context.masksPersonalData, report: report)
    }

    func command(_ context: WardenRequestContext, _ command: SessionCommand) async throws -> Body<CalibrationSessionResponse> {
        let id = try context.id()
        let isLead = Scope.qualityWrite.isSatisfied(by: context.scopes ?? [])
        let session = try await QualityController.run { try await quality.command(sessionID: id, command, actor: context.actor, isLead: isLead) }
        return Body(response: response(session, context))
    }

    func certifications(user: String?, queue: String?) async throws -> CertificationList {
        var rules: [CertificationList.Rule] = []
        for (name, rule) in quality.certificationRules.sorted(by: { $0.key < $1.key }) where queue == nil || queue == name {
            let golden = try await quality.store.goldenCount(queue: name)
            rules.append(.init(queue: name, threshold: rule.threshold, items: rule.items, required: rule.required, goldenItems: golden))
        }
        return CertificationList(rules: rules, certifications: try await quality.store.certifications(user: user, queue: queue).map(CertificationResponse.init))
    }
}
