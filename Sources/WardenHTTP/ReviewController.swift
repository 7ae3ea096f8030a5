import Foundation
import Hummingbird
import NIOCore
import WardenCore
import WardenReview
import WardenEngine
import WardenStore

/// Review over HTTP: queues, claiming, working and deciding cases, reversals, appeals, the
/// outbox, statements of reasons and the audit log. The acting person or system is the token
/// (`token:<id>`); every change lands in the case timeline and the audit chain.
struct ReviewController {
    let review: ReviewService
    let maxBodyBytes: Int

    func addRoutes(to routes: RouteTable) {
        routes.add(.get, "/v1/queues", scope: .casesRead, queues)
        routes.add(.post, "/v1/queues/{queue}/next", scope: .casesReview, claimNext)
        routes.add(.get, "/v1/cases", scope: .casesRead, listCases)
        routes.add(.get, "/v1/cases/{id}", scope: .casesRead, showCase)
        routes.add(.post, "/v1/cases/{id}/claim", scope: .casesReview, claim)
        for (verb, command) in [("renew", nil), ("release", CaseCommand.release), ("hold", .hold), ("resume", .resume)] as [(String, CaseCommand?)] {
            routes.add(.post, "/v1/cases/{id}/\(verb)", scope: .casesReview) { request, context in
                let body: NoteBody = try await decode(request, allowEmpty: true) ?? NoteBody()
                return try await change(request, context, command.map { .command($0, note: body.note) } ?? .renew)
            }
        }
        routes.add(.post, "/v1/cases/{id}/handoff", scope: .casesReview, handoff)
        routes.add(.post, "/v1/cases/{id}/consult", scope: .casesReview, consult)
        routes.add(.get, "/v1/consults", scope: .casesReview, consults)
        routes.add(.post, "/v1/consults/{id}/answer", scope: .casesReview, answerConsult)
        routes.add(.post, "/v1/cases/{id}/comments", scope: .casesReview, comment)
        routes.add(.post, "/v1/cases/{id}/escalate", scope: .casesReview, escalate)
        routes.add(.post, "/v1/cases/{id}/decision", scope: .casesReview, decide)
        routes.add(.get, "/v1/trees", scope: .casesRead, trees)
        routes.add(.post, "/v1/trees/{name}/walk", scope: .casesRead, walk)
        routes.add(.post, "/v1/actions/{id}/reverse", scope: .casesLead, reverse)
        routes.add(.post, "/v1/appeals", scope: .appealsWrite, appeal)
        routes.add(.post, "/v1/reporters/{reporter}/mute", scope: .casesLead, mute)
        routes.add(.get, "/v1/outbox", scope: .casesLead, outbox)
        routes.add(.post, "/v1/outbox/redrive", scope: .casesLead, redrive)
        routes.add(.get, "/v1/exports/statements-of-reasons", scope: .exportsRead, exportStatements)
        routes.add(.get, "/v1/audit", scope: .auditRead, audit)
    }

    // MARK: Bodies

    struct NoteBody: Decodable { var note: String? }
    struct HandoffBody: Decodable { var reviewer: String; var note: String? }
    struct ConsultBody: Decodable { var reviewer: String; var question: String }
    struct CommentBody: Decodable { var text: String }
    struct AnswerBody: Decodable { var answer: String }
    struct EscalateBody: Decodable { var queue: String; var reason: String }
    struct ReverseBody: Decodable { var reason: String }
    struct MuteBody: Decodable { var muted: Bool }
    struct RedriveBody: Decodable { var ids: [Int64]? }
    struct AppealBody: Decodable {
        var caseID: Int64
        var appellant: String
        var statement: String?
        enum CodingKeys: String, CodingKey { case caseID = "case_id", appellant, statement }
    }
    struct DecisionBody: Decodable {
        struct Action: Decodable {
            var action: String
            var duration: String?
        }
        var category: String?
        var violation: Bool?
        var actions: [Action]?
        var policy: String?
        var rationale: String?
        var illegal: Bool?
        var legalGround: String?
        var treePath: [String]?
        var macro: String?
        var outcome: String?
        var tree: String?
        var answers: [String]?
        enum CodingKeys: String, CodingKey {
            case category, violation, actions, policy, rationale, illegal, macro, outcome, tree, answers
            case legalGround = "legal_ground", treePath = "tree_path"
        }
    }

    /// Decodes a JSON body; nil for an empty body when allowed. Problems name the field at fault.
    func decode<T: Decodable>(_ request: Request, allowEmpty: Bool = false) async throws -> T? {
        let body = try await EventsController.collect(request, limit: maxBodyBytes)
        if body.readableBytes == 0 {
            if allowEmpty { return nil }
            throw Problem(.unprocessableContent, "invalid-body", title: "Invalid body", detail: "send a JSON object")
        }
        if request.headers[.contentType] != nil { try EventsController.requireJSON(request, "a JSON object") }
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer: body))
        } catch let error as DecodingError {
            if error.isSyntaxError {
                throw Problem(.badRequest, "malformed-json", title: "Malformed JSON", detail: "the body is not a JSON object")
            }
            var problem = Problem(.unprocessableContent, "invalid-body", title: "Invalid body", detail: "\(error.fieldPath): \(error.problem)")
            problem.extensions.append(("field", EventsController.jsonString(error.fieldPath)))
            throw problem
        }
    }

    func required<T: Decodable>(_ request: Request) async throws -> T {
        guard let value: T = try await decode(request) else {
            throw Problem(.unprocessableContent, "invalid-body", title: "Invalid body", detail: "send a JSON object")
        }
        return value
    }

    /// Vendor reviewers see only their assigned queues.
    static func requireQueue(_ queue: String, _ context: WardenRequestContext) throws {
        if !QueueAccess.sees(queue, assigned: context.assignedQueues.map(Array.init)) {
            throw Problem(.forbidden, "forbidden", title: "Not allowed", detail: "queue \(queue) is not one of the queues assigned to \(context.actor)")
        }
    }

    /// Working a queue (claiming, moving, deciding its cases) also needs the queue's access
    /// (``QueueAccess``); API tokens are integrations and are not limited by team.
    func requireWork(_ queue: String, _ context: WardenRequestContext) throws {
        try Self.requireQueue(queue, context)
        guard let user = context.user else { return }
        let person = QueueAccess.Person(name: user.name, role: user.role, teams: user.teams, assignedQueues: context.assignedQueues.map(Array.init))
        if let refusal = QueueAccess.refusal(person, queue: queue, definition: review.policy.configuration.queues[queue]) {
            throw Problem(.forbidden, "forbidden", title: "Not allowed", detail: refusal.message)
        }
    }

    /// Checks a case is in a queue the caller may work (reads it only for people).
    func requireCase(_ id: Int64, _ context: WardenRequestContext) async throws {
        guard context.user != nil else { return }
        guard let record = try await review.store.caseRecord(id: id) else { throw Problem.notFound("there is no case \(id)") }
        try requireWork(record.queue, context)
    }

    static func id(_ context: WardenRequestContext, _ name: String = "id") throws -> Int64 {
        guard let text = context.parameters.get(name), let value = Int64(text), value > 0 else {
            throw Problem.badRequest("invalid-parameter", "\(name) must be a positive integer")
        }
        return value
    }

    /// Runs a review operation, turning its refusals into problem documents.
    static func run<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as ReviewError {
            switch error.kind {
            case .notFound: throw Problem.notFound(error.message)
            case .conflict: throw Problem(.conflict, "case-conflict", title: "Conflict", detail: error.message)
            case .invalid: throw Problem(.unprocessableContent, "invalid-decision", title: "Not allowed by the policy pack", detail: error.message)
            case .forbidden: throw Problem(.forbidden, "forbidden", title: "Not allowed", detail: error.message)
            case .limited: throw Problem(.tooManyRequests, "exposure-limit", title: "Exposure limit reached", detail: error.message)
            }
        }
    }

    // MARK: Handlers

    @Sendable func queues(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let now = review.clock.nowMillis()
        let counts = try await review.store.queueCounts(now: now)
        let configuration = review.policy.configuration
        var writer = JSONWriter(capacity: 2048)
        writer.beginObject()
        writer.key("queues")
        writer.beginArray()
        for name in configuration.queueOrder where context.assignedQueues?.contains(name) ?? true {
            guard let queue = configuration.queues[name] else { continue }
            let mine = counts.filter { $0.queue == name }
            writer.beginObject()
            writer.field("name", name)
            if let description = queue.description { writer.field("description", description) }
            writer.key("counts")
            writer.beginObject()
            for state in CaseState.allCases where state.isOpen {
                writer.field(state.rawValue, Int64(mine.first { $0.state == state }?.count ?? 0))
            }
            writer.endObject()
            writer.field("past_due", Int64(mine.reduce(0) { $0 + $1.breached }))
            writer.key("teams")
            Self.strings(queue.teams, into: &writer)
            writer.key("roles")
            Self.strings(queue.roles, into: &writer)
            if let allowed = queue.allowedActions {
                writer.key("allowed_actions")
                Self.strings(allowed, into: &writer)
            }
            writer.key("requires")
            Self.strings((queue.requiresPolicy ? ["policy"] : []) + (queue.requiresRationale ? ["rationale"] : []), into: &writer)
            writer.key("wellness")
            writer.beginObject()
            writer.key("blur")
            writer.bool(queue.blur)
            if let limit = queue.maxCasesPerHour { writer.field("max_cases_per_hour", Int64(limit)) }
            writer.endObject()
            writer.key("sla")
            writer.beginObject()
            for band in CasePriority.Band.allCases {
                guard let targets = queue.sla.targets[band] else { continue }
                writer.key(band.name)
                writer.beginObject()
                if let first = targets.firstAction { writer.field("first_action", DurationText.format(first)) }
                if let resolution = targets.resolution { writer.field("resolution", DurationText.format(resolution)) }
                writer.endObject()
            }
            writer.key("business_hours")
            writer.bool(queue.sla.businessHours != nil)
            writer.endObject()
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        return .json(writer.bytes)
    }

    @Sendable func claimNext(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let queue = context.parameters.get("queue") ?? ""
        try requireWork(queue, context)
        let claimed = try await Self.run { try await review.claimNext(queue: queue, reviewer: context.actor) }
        guard let claimed else { return Response(status: .noContent) }
        return .json(caseJSON(claimed, detail: nil, mask: context.masksPersonalData))
    }

    @Sendable func listCases(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let limit = try EventsController.integer(request, "limit", default: 50, range: 1...500)
        let before: Int64? = request.uri.queryParameters.get("before") == nil
            ? nil : try EventsController.integer(request, "before", default: Int64.max, range: 1...Int64.max)
        var state: CaseState?
        if let text = request.uri.queryParameters.get("state") {
            guard let parsed = CaseState(rawValue: text) else {
                throw Problem.badRequest("invalid-parameter", "state must be one of \(CaseState.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            state = parsed
        }
        var assignee = request.uri.queryParameters.get("assignee").map { String($0) }
        if assignee == "me" { assignee = context.actor }
        let queue = request.uri.queryParameters.get("queue").map { String($0) }
        if let queue { try Self.requireQueue(queue, context) }
        var cases = try await review.store.cases(queue: queue, state: state, assignee: assignee, before: before, limit: Int(limit))
        if let assigned = context.assignedQueues { cases = cases.filter { assigned.contains($0.queue) } }
        var writer = JSONWriter(capacity: 1024 * cases.count + 64)
        writer.beginObject()
        writer.key("cases")
        writer.beginArray()
        for record in cases { writer.raw(caseJSON(record, detail: nil, mask: context.masksPersonalData)) }
        writer.endArray()
        writer.key("next_before")
        if cases.count == Int(limit), let last = cases.last { writer.number(last.id) } else { writer.null() }
        writer.endObject()
        return .json(writer.bytes)
    }

    @Sendable func showCase(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let id = try Self.id(context)
        guard let record = try await review.store.caseRecord(id: id) else { throw Problem.notFound("there is no case \(id)") }
        try Self.requireQueue(record.queue, context)
        let timeline = try await review.store.timeline(caseID: id)
        let decisions = try await review.store.decisions(caseID: id)
        // Opening a case shows reported content: a read of sensitive content, so it is audited.
        try await review.store.audit(actor: context.actor, action: "case.read", target: "case:\(id)", detail: "{}", now: review.clock.nowMillis())
        return .json(caseJSON(record, detail: (timeline, decisions), mask: context.masksPersonalData))
    }

    @Sendable func claim(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let id = try Self.id(context)
        try await requireCase(id, context)
        let record = try await Self.run { try await review.claim(caseID: id, reviewer: context.actor) }
        return .json(caseJSON(record, detail: nil, mask: context.masksPersonalData))
    }

    func change(_ request: Request, _ context: WardenRequestContext, _ change: CaseChange) async throws -> Response {
        let id = try Self.id(context)
        try await requireCase(id, context)
        let record = try await Self.run { try await review.change(caseID: id, change, actor: context.actor) }
        return .json(caseJSON(record, detail: nil, mask: context.masksPersonalData))
    }

    @Sendable func handoff(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let body: HandoffBody = try await required(request)
        return try await change(request, context, .handoff(to: body.reviewer, note: body.note))
    }

    @Sendable func consult(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let body: ConsultBody = try await required(request)
        return try await change(request, context, .consult(with: body.reviewer, question: body.question))
    }

    /// The caller's consult inbox: questions other reviewers asked them about cases, newest first
    /// (`?answered=false` for the open ones), with each case's queue, state and holder.
    @Sendable func consults(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let limit = try EventsController.integer(request, "limit", default: 100, range: 1...1000)
        var answered: Bool?
        if let text = request.uri.queryParameters.get("answered") {
            guard text == "true" || text == "false" else { throw Problem.badRequest("invalid-parameter", "answered must be true or false") }
            answered = text == "true"
        }
        let consults = try await review.store.consults(for: context.actor, answered: answered, limit: Int(limit))
            .filter { context.assignedQueues?.contains($0.queue) ?? true }
        var writer = JSONWriter(capacity: 256 * consults.count + 32)
        writer.beginObject()
        writer.key("consults")
        writer.beginArray()
        for consult in consults { write(consult, into: &writer, mask: context.masksPersonalData) }
        writer.endArray()
        writer.endObject()
        return .json(writer.bytes)
    }

    /// Answers a consult asked of the caller; the answer goes on the case's timeline.
    @Sendable func answerConsult(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let id = try Self.id(context)
        let body: AnswerBody = try await required(request)
        guard !body.answer.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw Problem(.unprocessableContent, "invalid-body", title: "Invalid body", detail: "answer: an answer cannot be empty")
        }
        if let asked = try await review.store.consult(id: id), asked.reviewer == context.actor {
            try Self.requireQueue(asked.queue, context)
        }
        let consult = try await Self.run {
            try await review.answerConsult(id: id, answer: body.answer, actor: context.actor)
        }
        var writer = JSONWriter(capacity: 512)
        write(consult, into: &writer, mask: context.masksPersonalData)
        return .json(writer.bytes)
    }

    private func write(_ consult: ConsultRecord, into writer: inout JSONWriter, mask: Bool) {
        writer.beginObject()
        writer.field("id", consult.id)
        writer.field("case_id", consult.caseID)
        writer.field("asked_by", consult.askedBy)
        writer.field("reviewer", consult.reviewer)
        writer.field("question", consult.question)
        writer.field("asked_at", Timestamp.formatRFC3339(consult.askedAt))
        if let answer = consult.answer { writer.field("answer", answer) }
        if let answered = consult.answeredAt { writer.field("answered_at", Timestamp.formatRFC3339(answered)) }
        writer.key("case")
        writer.beginObject()
        writer.field("queue", consult.queue)
        writer.field("state", consult.state.rawValue)
        writer.field("subject", mask ? PersonalData.mask(entity: consult.subject) : consult.subject)
        writer.field("category", consult.category)
        if let assignee = consult.assignee { writer.field("assignee", assignee) }
        writer.endObject()
        writer.endObject()
    }

    @Sendable func comment(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let body: CommentBody = try await required(request)
        guard !body.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw Problem(.unprocessableContent, "invalid-body", title: "Invalid body", detail: "text: a comment cannot be empty")
        }
        return try await change(request, context, .comment(body.text))
    }

    @Sendable func escalate(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let body: EscalateBody = try await required(request)
        guard !body.reason.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw Problem(.unprocessableContent, "invalid-body", title: "Invalid body", detail: "reason: say why the case is escalated")
        }
        return try await change(request, context, .escalate(queue: body.queue, reason: body.reason))
    }

    @Sendable func decide(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let id = try Self.id(context)
        let body: DecisionBody = try await required(request)
        guard let record = try await review.store.caseRecord(id: id) else { throw Problem.notFound("there is no case \(id)") }
        try requireWork(record.queue, context)
        var actions: [RequestedAction] = []
        for (index, action) in (body.actions ?? []).enumerated() {
            var duration: Int64?
            if let text = action.duration {
                guard let millis = DurationText.millis(text), millis > 0 else {
                    var problem = Problem(.unprocessableContent, "invalid-body", title: "Invalid body",
                                          detail: "actions[\(index)].duration: \"\(text)\" is not a duration; use a number and s, m, h or d, such as 24h")
                    problem.extensions.append(("field", EventsController.jsonString("actions[\(index)].duration")))
                    throw problem
                }
                duration = millis
            }
            actions.append(RequestedAction(name: action.action, duration: duration))
        }
        var outcome: DecisionDraft.AppealOutcome?
        if let text = body.outcome {
            guard let parsed = DecisionDraft.AppealOutcome(rawValue: text) else {
                throw Problem(.unprocessableContent, "invalid-body", title: "Invalid body", detail: "outcome: use upheld or overturned")
            }
            outcome = parsed
        }
        let isAppeal = record.kind == .appeal
        guard isAppeal || body.violation != nil || body.tree != nil else {
            throw Problem(.unprocessableContent, "invalid-body", title: "Invalid body", detail: "violation: say whether the case breaks policy (true or false)")
        }
        let treePath = body.treePath.map { path -> String in
            var writer = JSONWriter(capacity: 128)
            writer.beginArray()
            for step in path { writer.string(step) }
            writer.endArray()
            return String(decoding: writer.bytes, as: UTF8.self)
        }
        let draft = DecisionDraft(category: body.category ?? record.category, violation: body.violation ?? (outcome == .upheld), actions: actions,
                                  policy: body.policy, rationale: body.rationale, illegal: body.illegal ?? false, legalGround: body.legalGround,
                                  treePath: treePath, macro: body.macro, appealOutcome: outcome)
        let tree = body.tree.map { (name: $0, answers: body.answers ?? []) }
        let decision = try await Self.run { try await review.decide(caseID: id, draft, tree: tree, actor: context.actor, read: record) }
        return .json(Self.decisionJSON(decision), status: .created)
    }

    struct WalkBody: Decodable { var answers: [String] }

    @Sendable func trees(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        var writer = JSONWriter(capacity: 4096)
        writer.beginObject()
        writer.key("trees")
        writer.beginArray()
        for tree in review.pack.review.trees.values.sorted(by: { $0.name < $1.name }) {
            writer.beginObject()
            writer.field("name", tree.name)
            if let description = tree.description { writer.field("description", description) }
            writer.key("categories")
            Self.strings(tree.categories, into: &writer)
            writer.field("start", tree.start)
            writer.key("questions")
            writer.beginObject()
            for question in tree.questions.values.sorted(by: { $0.id < $1.id }) {
                writer.key(question.id)
                Self.question(question, into: &writer)
            }
            writer.endObject()
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        return .json(writer.bytes)
    }

    /// Walks a tree with the answers so far: the next question, or the outcome to submit.
    @Sendable func walk(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let name = context.parameters.get("name") ?? ""
        let body: WalkBody = try await decode(request, allowEmpty: true) ?? WalkBody(answers: [])
        let walked = try await Self.run { try review.walk(tree: name, answers: body.answers) }
        var writer = JSONWriter(capacity: 1024)
        writer.beginObject()
        writer.field("tree", name)
        writer.key("path")
        Self.strings(walked.path, into: &writer)
        switch walked.position {
        case .question(let question):
            writer.key("question")
            Self.question(question, into: &writer)
        case .outcome(let outcome):
            writer.key("outcome")
            writer.beginObject()
            writer.field("id", outcome.id)
            writer.field("category", outcome.category)
            writer.key("violation")
            writer.bool(outcome.violation)
            writer.key("actions")
            Self.strings(outcome.actions, into: &writer)
            if let policy = outcome.policy { writer.field("policy", policy) }
            if let macro = outcome.macro { writer.field("macro", macro) }
            writer.endObject()
        }
        writer.endObject()
        return .json(writer.bytes)
    }

    static func question(_ question: DecisionTree.Question, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("id", question.id)
        writer.field("text", question.text)
        if let help = question.help { writer.field("help", help) }
        writer.key("answers")
        Self.strings(question.answers.map(\.label), into: &writer)
        writer.endObject()
    }

    @Sendable func reverse(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let id = try Self.id(context)
        let body: ReverseBody = try await required(request)
        let action = try await Self.run { try await review.reverse(actionID: id, reason: body.reason, actor: context.actor) }
        var writer = JSONWriter(capacity: 256)
        Self.action(action, into: &writer)
        return .json(writer.bytes)
    }

    @Sendable func appeal(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let body: AppealBody = try await required(request)
        guard EntityRef(parsing: body.appellant) != nil else {
            throw Problem(.unprocessableContent, "invalid-body", title: "Invalid body", detail: "appellant must be an entity such as user:u1")
        }
        let record = try await Self.run {
            try await review.openAppeal(caseID: body.caseID, appellant: body.appellant, statement: body.statement, actor: context.actor)
        }
        return .json(caseJSON(record, detail: nil, mask: context.masksPersonalData), status: .created)
    }

    @Sendable func mute(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        guard let reporter = context.parameters.get("reporter"), EntityRef(parsing: reporter) != nil else {
            throw Problem.badRequest("invalid-parameter", "reporter must be an entity such as user:u1")
        }
        let body: MuteBody = try await required(request)
        try await review.setReporter(reporter, muted: body.muted, actor: context.actor)
        return .json(Array(#"{"reporter":\#(EventsController.jsonString(reporter)),"muted":\#(body.muted)}"#.utf8))
    }

    @Sendable func outbox(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        var state: OutboxItem.State?
        if let text = request.uri.queryParameters.get("state") {
            guard let parsed = OutboxItem.State(rawValue: text) else {
                throw Problem.badRequest("invalid-parameter", "state must be pending, delivered or dead")
            }
            state = parsed
        }
        let limit = try EventsController.integer(request, "limit", default: 100, range: 1...1000)
        let items = try await review.store.outbox(state: state, limit: Int(limit))
        var writer = JSONWriter(capacity: 512 * items.count + 64)
        writer.beginObject()
        writer.key("deliveries")
        writer.beginArray()
        for item in items {
            writer.beginObject()
            writer.field("id", item.id)
            writer.field("topic", item.topic)
            writer.field("idempotency_key", item.idempotencyKey)
            writer.field("state", item.state.rawValue)
            writer.field("attempts", Int64(item.attempts))
            writer.field("next_attempt_at", Timestamp.formatRFC3339(item.nextAttemptAt))
            if let error = item.lastError { writer.field("last_error", error) }
            writer.field("created_at", Timestamp.formatRFC3339(item.createdAt))
            if let delivered = item.deliveredAt { writer.field("delivered_at", Timestamp.formatRFC3339(delivered)) }
            writer.key("body")
            writer.raw(Array(item.body.utf8))
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        return .json(writer.bytes)
    }

    @Sendable func redrive(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let body: RedriveBody = try await decode(request, allowEmpty: true) ?? RedriveBody(ids: nil)
        let count = try await review.store.redrive(ids: body.ids, actor: context.actor, now: review.clock.nowMillis())
        return .json(Array(#"{"redriven":\#(count)}"#.utf8))
    }

    /// NDJSON, one statement per line, the whole range however long (paged from the store as it streams).
    @Sendable func exportStatements(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        func time(_ name: String, _ fallback: Int64) throws -> Int64 {
            guard let text = request.uri.queryParameters.get(name) else { return fallback }
            guard let value = Timestamp.parseRFC3339(String(text)) ?? (text.count == 10 ? Timestamp.parseRFC3339(text + "T00:00:00Z") : nil) else {
                throw Problem.badRequest("invalid-parameter", "\(name) must be a date (2026-11-23) or an RFC 3339 time; got \(text.prefix(40))")
            }
            return value
        }
        let from = try time("from", 0)
        let to = try time("to", Int64.max)
        guard from < to else { throw Problem.badRequest("invalid-parameter", "from must be before to") }
        let store = review.store
        try await store.audit(actor: context.actor, action: "export.statements_of_reasons", target: "statements",
                              detail: #"{"from":"\#(Timestamp.formatRFC3339(from))","to":"\#(to == Int64.max ? "end" : Timestamp.formatRFC3339(to))"}"#,
                              now: review.clock.nowMillis())
        let body = ResponseBody { writer in
            var after: Int64 = 0
            while true {
                let page = try await store.statements(from: from, to: to, after: after, limit: 1000)
                if page.isEmpty { break }
                var buffer = ByteBuffer()
                buffer.reserveCapacity(page.reduce(0) { $0 + $1.body.utf8.count + 1 })
                for statement in page {
                    buffer.writeString(statement.body)
                    buffer.writeInteger(UInt8(ascii: "\n"))
                }
                try await writer.write(buffer)
                after = page.last?.decisionID ?? after
                if page.count < 1000 { break }
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/x-ndjson"], body: body)
    }

    @Sendable func audit(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let after = try EventsController.integer(request, "after", default: 0, range: 0...Int64.max)
        let limit = try EventsController.integer(request, "limit", default: 100, range: 1...1000)
        let entries = try await review.store.auditEntries(after: after, limit: Int(limit))
        var writer = JSONWriter(capacity: 256 * entries.count + 64)
        writer.beginObject()
        writer.key("entries")
        writer.beginArray()
        for entry in entries {
            writer.beginObject()
            writer.field("seq", entry.seq)
            writer.field("at", Timestamp.formatRFC3339(entry.at))
            writer.field("actor", entry.actor)
            writer.field("action", entry.action)
            writer.field("target", entry.target)
            writer.key("detail")
            writer.raw(Array(entry.detail.utf8))
            writer.field("previous_hash", Self.hex(entry.previousHash))
            writer.field("hash", Self.hex(entry.hash))
            writer.endObject()
        }
        writer.endArray()
        writer.key("next_after")
        if entries.count == Int(limit), let last = entries.last { writer.number(last.seq) } else { writer.null() }
        writer.endObject()
        return .json(writer.bytes)
    }

    // MARK: Encoding

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    static func strings(_ values: [String], into writer: inout JSONWriter) {
        writer.beginArray()
        for value in values { writer.string(value) }
        writer.endArray()
    }

    /// A case as JSON; with `mask`, personal data (e-mails, IPs, phones) in the subject and timeline is masked.
    func caseJSON(_ record: CaseRecord, detail: ([TimelineEntry], [DecisionRecord])?, mask: Bool) -> [UInt8] {
        let now = review.clock.nowMillis()
        let sla = review.policy.sla(of: record.queue)
        var writer = JSONWriter(capacity: 1024)
        writer.beginObject()
        writer.field("id", record.id)
        writer.field("kind", record.kind.rawValue)
        writer.field("subject", mask ? PersonalData.mask(entity: record.subject) : record.subject)
        writer.field("source", record.source.rawValue)
        writer.field("queue", record.queue)
        writer.field("state", record.state.rawValue)
        writer.field("category", record.category)
        writer.field("severity", record.severity)
        let elapsed = record.clock.elapsed(at: now, policy: sla)
        let target = sla.targets[record.band]
        let used = target?.resolution.map { Double(elapsed) / Double($0) }
        writer.key("priority")
        writer.beginObject()
        writer.field("score", Int64(record.score))
        writer.field("band", record.band.name)
        writer.field("urgency", Int64(CasePriority.urgency(score: record.score, waitedMillis: now - record.createdAt, slaUsed: used)))
        writer.endObject()
        writer.field("signals", Int64(record.signals))
        writer.field("reports", Int64(record.reports))
        writer.key("reporter_weight")
        writer.number(record.reporterWeight)
        if let assignee = record.assignee { writer.field("assignee", assignee) }
        if let lease = record.leaseExpiresAt { writer.field("lease_expires_at", Timestamp.formatRFC3339(lease)) }
        writer.key("sla")
        writer.beginObject()
        writer.field("elapsed", DurationText.format(max(1000, elapsed / 1000 * 1000)))
        writer.key("running")
        writer.bool(record.clock.since != nil)
        if let resolution = target?.resolution { writer.field("resolution_target", DurationText.format(resolution)) }
        if let first = target?.firstAction { writer.field("first_action_target", DurationText.format(first)) }
        if record.dueAt != ReviewPolicy.noDeadline { writer.field("due_at", Timestamp.formatRFC3339(record.dueAt)) }
        let status: String
        if target?.resolution == nil { status = "none" } else if let used, used >= 1 { status = "breached" } else if let used, used >= sla.warnFraction {
            status = "warning"
        } else if record.clock.since == nil { status = record.state.isOpen ? "paused" : "stopped" } else { status = "ok" }
        writer.field("status", status)
        writer.endObject()
        writer.field("created_at", Timestamp.formatRFC3339(record.createdAt))
        writer.field("updated_at", Timestamp.formatRFC3339(record.updatedAt))
        writer.field("content_at", Timestamp.formatRFC3339(record.contentAt))
        if let first = record.firstActionAt { writer.field("first_action_at", Timestamp.formatRFC3339(first)) }
        if let resolved = record.resolvedAt { writer.field("resolved_at", Timestamp.formatRFC3339(resolved)) }
        if let original = record.appealOf { writer.field("appeal_of", original) }
        if let reason = record.escalationReason { writer.field("escalation_reason", reason) }
        writer.key("allowed")
        Self.strings(CaseLifecycle.allowedCommands(from: record.state).map(\.verb), into: &writer)
        if let (timeline, decisions) = detail {
            writer.key("timeline")
            writer.beginArray()
            for entry in timeline {
                writer.beginObject()
                writer.field("at", Timestamp.formatRFC3339(entry.at))
                writer.field("actor", entry.actor)
                writer.field("kind", entry.kind.rawValue)
                if let from = entry.fromState { writer.field("from", from.rawValue) }
                if let to = entry.toState { writer.field("to", to.rawValue) }
                writer.key("detail")
                writer.raw(Array((mask ? PersonalData.mask(text: entry.detail) : entry.detail).utf8))
                writer.endObject()
            }
            writer.endArray()
            writer.key("decisions")
            writer.beginArray()
            for decision in decisions {
                let json = Self.decisionJSON(decision)
                writer.raw(mask ? Array(PersonalData.mask(text: String(decoding: json, as: UTF8.self)).utf8) : json)
            }
            writer.endArray()
        }
        writer.endObject()
        return writer.bytes
    }

    static func decisionJSON(_ decision: DecisionRecord) -> [UInt8] {
        var writer = JSONWriter(capacity: 512)
        writer.beginObject()
        writer.field("id", decision.id)
        writer.field("case_id", decision.caseID)
        writer.field("decided_by", decision.decidedBy)
        writer.field("at", Timestamp.formatRFC3339(decision.at))
        writer.field("category", decision.category)
        writer.key("violation")
        writer.bool(decision.violation)
        if let policy = decision.policy { writer.field("policy", policy) }
        if let rationale = decision.rationale { writer.field("rationale", rationale) }
        if let path = decision.treePath {
            writer.key("tree_path")
            writer.raw(Array(path.utf8))
        }
        if let macro = decision.macro { writer.field("macro", macro) }
        if let outcome = decision.appealOutcome { writer.field("outcome", outcome.rawValue) }
        writer.key("actions")
        writer.beginArray()
        for action in decision.actions { Self.action(action, into: &writer) }
        writer.endArray()
        writer.key("statement_of_reasons")
        writer.bool(decision.hasStatement)
        writer.endObject()
        return writer.bytes
    }

    static func action(_ action: ActionRecord, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("id", action.id)
        writer.field("action", action.action)
        writer.field("subject", action.subject)
        if let duration = action.duration { writer.field("duration", DurationText.format(duration)) }
        writer.field("created_at", Timestamp.formatRFC3339(action.createdAt))
        if let reverses = action.reverses { writer.field("reverses", reverses) }
        if let at = action.reversedAt {
            writer.key("reversed")
            writer.beginObject()
            writer.field("at", Timestamp.formatRFC3339(at))
            if let by = action.reversedBy { writer.field("by", by) }
            if let reason = action.reversalReason { writer.field("reason", reason) }
            writer.endObject()
        }
        writer.endObject()
    }
}
