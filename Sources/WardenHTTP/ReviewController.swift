import Foundation
import Hummingbird
import NIOCore
import WardenCore
import WardenEngine
import WardenReview
import WardenStore

/// Review over HTTP: queues, claiming, working and deciding cases, reversals, appeals, the
/// outbox, statements of reasons and the audit log. Each handler parses the request, calls one
/// ``ReviewService`` method and returns its typed answer; refusals become problem documents.
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
                let body = try await input(request).body(NoteBody.self, allowEmpty: true) ?? NoteBody()
                return try await change(context, command.map { .command($0, note: body.note) } ?? .renew)
            }
        }
        routes.add(.post, "/v1/cases/{id}/handoff", scope: .casesReview) { request, context in
            let body = try await input(request).body(HandoffBody.self)
            return try await change(context, .handoff(to: body.reviewer, note: body.note))
        }
        routes.add(.post, "/v1/cases/{id}/reassign", scope: .casesLead) { request, context in
            let body = try await input(request).body(ReassignBody.self, allowEmpty: true) ?? ReassignBody()
            return try await change(context, .reassign(to: body.reviewer, note: body.note))
        }
        routes.add(.post, "/v1/cases/{id}/consult", scope: .casesReview) { request, context in
            let body = try await input(request).body(ConsultBody.self)
            return try await change(context, .consult(with: body.reviewer, question: body.question))
        }
        routes.add(.get, "/v1/consults", scope: .casesReview, consults)
        routes.add(.post, "/v1/consults/{id}/answer", scope: .casesReview, answerConsult)
        routes.add(.post, "/v1/cases/{id}/comments", scope: .casesReview) { request, context in
            try await change(context, .comment(try await input(request).body(CommentBody.self).text))
        }
        routes.add(.post, "/v1/cases/{id}/escalate", scope: .casesReview) { request, context in
            let body = try await input(request).body(EscalateBody.self)
            return try await change(context, .escalate(queue: body.queue, reason: body.reason))
        }
        routes.add(.post, "/v1/cases/{id}/decision", scope: .casesReview, status: .created, decide)
        routes.add(.get, "/v1/trees", scope: .casesRead) { _, _ in TreeList(Array(review.pack.review.trees.values)) }
        routes.add(.post, "/v1/trees/{name}/walk", scope: .casesRead, walk)
        routes.add(.post, "/v1/actions/{id}/reverse", scope: .casesLead, reverse)
        routes.add(.post, "/v1/appeals", scope: .appealsWrite, status: .created, appeal)
        routes.add(.post, "/v1/reporters/{reporter}/mute", scope: .casesLead, mute)
        routes.add(.get, "/v1/outbox", scope: .casesLead, outbox)
        routes.add(.post, "/v1/outbox/redrive", scope: .casesLead) { request, context in
            let body = try await input(request).body(RedriveBody.self, allowEmpty: true)
            return RedriveResponse(redriven: try await review.redrive(ids: body?.ids, actor: context.actor))
        }
        routes.add(.get, "/v1/exports/statements-of-reasons", scope: .exportsRead, exportStatements)
        routes.add(.get, "/v1/audit", scope: .auditRead, audit)
    }

    func input(_ request: Request) -> RequestInput { RequestInput(request: request, limit: maxBodyBytes) }

    // MARK: Access

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
        try requireWork(try await Self.run { try await review.caseRecord(id: id) }.queue, context)
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

    /// A case as the caller may see it, at this moment.
    func response(_ record: CaseRecord, _ context: WardenRequestContext, timeline: [TimelineEntry]? = nil, decisions: [DecisionRecord]? = nil) -> CaseResponse {
        CaseResponse(record, policy: review.policy, now: review.clock.nowMillis(), timeline: timeline, decisions: decisions)
            .masked(if: context.masksPersonalData)
    }

    // MARK: Handlers

    @Sendable func queues(_ request: Request, _ context: WardenRequestContext) async throws -> QueueList {
        let counts = try await review.queueCounts()
        let assigned = context.assignedQueues.map(Array.init)
        return QueueList(configuration: review.policy.configuration, counts: counts) { QueueAccess.sees($0, assigned: assigned) }
    }

    @Sendable func claimNext(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let queue = context.path("queue")
        try requireWork(queue, context)
        guard let claimed = try await Self.run({ try await review.claimNext(queue: queue, reviewer: context.actor) }) else {
            return Response(status: .noContent)
        }
        return try response(claimed, context).response(from: request, context: context)
    }

    @Sendable func listCases(_ request: Request, _ context: WardenRequestContext) async throws -> CaseList {
        let query = input(request)
        let limit = try query.integer("limit", default: 50, range: 1...500)
        let before = try query.integer("before", range: 1...Int64.max)
        let state = try query.choice("state", CaseState.self)
        var assignee: ActorRef?
        if let text = try query.string("assignee") {
            guard let named = text == "me" ? context.actor : ActorRef(parsing: text) else {
                throw Problem.badRequest("invalid-parameter", "query parameter assignee must be me or a holder such as user:ana; got \(text.prefix(40))")
            }
            assignee = named
        }
        let queue = try query.string("queue")
        if let queue { try Self.requireQueue(queue, context) }
        var cases = try await review.cases(queue: queue, state: state, assignee: assignee, before: before, limit: Int(limit))
        if let assigned = context.assignedQueues { cases = cases.filter { assigned.contains($0.queue) } }
        return CaseList(cases: cases.map { response($0, context) }, nextBefore: cases.count == Int(limit) ? cases.last?.id : nil)
    }

    @Sendable func showCase(_ request: Request, _ context: WardenRequestContext) async throws -> CaseResponse {
        try await caseDetail(try context.id(), context)
    }

    /// A case as a reviewer opens it (audited as a read): the API's and the MCP server's answer.
    func caseDetail(_ id: Int64, _ context: WardenRequestContext) async throws -> CaseResponse {
        try Self.requireQueue(try await Self.run { try await review.caseRecord(id: id) }.queue, context)
        let opened = try await Self.run { try await review.open(caseID: id, actor: context.actor) }
        return response(opened.record, context, timeline: opened.timeline, decisions: opened.decisions)
    }

    @Sendable func claim(_ request: Request, _ context: WardenRequestContext) async throws -> CaseResponse {
        let id = try context.id()
        try await requireCase(id, context)
        return response(try await Self.run { try await review.claim(caseID: id, reviewer: context.actor) }, context)
    }

    func change(_ context: WardenRequestContext, _ change: CaseChange) async throws -> CaseResponse {
        let id = try context.id()
        try await requireCase(id, context)
        return response(try await Self.run { try await review.change(caseID: id, change, actor: context.actor) }, context)
    }

    /// The caller's consult inbox: questions other reviewers asked them about cases, newest first
    /// (`?answered=false` for the open ones), with each case's queue, state and holder.
    @Sendable func consults(_ request: Request, _ context: WardenRequestContext) async throws -> ConsultList {
        let query = input(request)
        let limit = try query.integer("limit", default: 100, range: 1...1000)
        let answered = try query.bool("answered")
        let consults = try await review.consults(for: context.actor, answered: answered, limit: Int(limit))
            .filter { context.assignedQueues?.contains($0.queue) ?? true }
        return ConsultList(consults: consults.map(ConsultResponse.init)).masked(if: context.masksPersonalData)
    }

    /// Answers a consult asked of the caller; the answer goes on the case's timeline.
    @Sendable func answerConsult(_ request: Request, _ context: WardenRequestContext) async throws -> ConsultResponse {
        let id = try context.id()
        let body = try await input(request).body(AnswerBody.self)
        if let asked = try await review.consult(id: id), asked.reviewer == context.actor {
            try Self.requireQueue(asked.queue, context)
        }
        let consult = try await Self.run { try await review.answerConsult(id: id, answer: body.answer, actor: context.actor) }
        return ConsultResponse(consult).masked(if: context.masksPersonalData)
    }

    @Sendable func decide(_ request: Request, _ context: WardenRequestContext) async throws -> DecisionResponse {
        let id = try context.id()
        let body = try await input(request).body(DecisionBody.self)
        let record = try await Self.run { try await review.caseRecord(id: id) }
        try requireWork(record.queue, context)
        guard record.kind == .appeal || body.violation != nil || body.tree != nil else {
            throw RequestInput.invalid("violation", "say whether the case breaks policy (true or false)")
        }
        let treePath = body.treePath.map { path -> String in
            var writer = JSONWriter(capacity: 128)
            writer.beginArray()
            for step in path { writer.string(step) }
            writer.endArray()
            return String(decoding: writer.bytes, as: UTF8.self)
        }
        let draft = DecisionDraft(category: body.category ?? record.category, violation: body.violation ?? (body.outcome == .upheld),
                                  actions: body.requestedActions, policy: body.policy, rationale: body.rationale, illegal: body.illegal ?? false,
                                  legalGround: body.legalGround, treePath: treePath, macro: body.macro, appealOutcome: body.outcome)
        let tree = body.tree.map { (name: $0, answers: body.answers ?? []) }
        let decision = try await Self.run { try await review.decide(caseID: id, draft, tree: tree, actor: context.actor, read: record) }
        return DecisionResponse(decision).masked(if: context.masksPersonalData)
    }

    /// Walks a tree with the answers so far: the next question, or the outcome to submit.
    @Sendable func walk(_ request: Request, _ context: WardenRequestContext) async throws -> WalkResponse {
        let name = context.path("name")
        let body = try await input(request).body(WalkBody.self, allowEmpty: true) ?? WalkBody(answers: nil)
        let walked = try await Self.run { try review.walk(tree: name, answers: body.answers ?? []) }
        return WalkResponse(tree: name, path: walked.path, position: walked.position)
    }

    @Sendable func reverse(_ request: Request, _ context: WardenRequestContext) async throws -> ActionResponse {
        let id = try context.id()
        let body = try await input(request).body(ReverseBody.self)
        return ActionResponse(try await Self.run { try await review.reverse(actionID: id, reason: body.reason, actor: context.actor) })
    }

    @Sendable func appeal(_ request: Request, _ context: WardenRequestContext) async throws -> CaseResponse {
        let body = try await input(request).body(AppealBody.self)
        let record = try await Self.run {
            try await review.openAppeal(caseID: body.caseID, appellant: body.appellant, statement: body.statement, actor: context.actor)
        }
        return response(record, context)
    }

    @Sendable func mute(_ request: Request, _ context: WardenRequestContext) async throws -> ReporterMuteResponse {
        let reporter = context.path("reporter")
        guard reporter.schemaLength <= 300, EntityRef(parsing: reporter) != nil else {
            throw Problem.badRequest("invalid-parameter", "reporter must be an entity such as user:u1")
        }
        let body = try await input(request).body(MuteBody.self)
        try await review.setReporter(reporter, muted: body.muted, actor: context.actor)
        return ReporterMuteResponse(reporter: reporter, muted: body.muted)
    }

    @Sendable func outbox(_ request: Request, _ context: WardenRequestContext) async throws -> OutboxList {
        let query = input(request)
        let state = try query.choice("state", OutboxItem.State.self)
        let limit = try query.integer("limit", default: 100, range: 1...1000)
        return OutboxList(try await review.outbox(state: state, limit: Int(limit)))
    }

    /// NDJSON, one statement per line, the whole range however long (paged from the store as it streams).
    @Sendable func exportStatements(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let query = input(request)
        let from = try query.time("from") ?? 0
        let to = try query.time("to") ?? Int64.max
        guard from < to else { throw Problem.badRequest("invalid-parameter", "from must be before to") }
        try await review.auditStatementExport(from: from, to: to, actor: context.actor)
        let store = review.store
        return Response(status: .ok, headers: [.contentType: "application/x-ndjson"], body: Encode.statements(from: from, to: to, store: store))
    }

    @Sendable func audit(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let query = input(request)
        let after = try query.integer("after", default: 0, range: 0...Int64.max)
        let limit = try query.integer("limit", default: 100, range: 1...1000)
        let entries = try await review.auditEntries(after: after, limit: Int(limit))
        return .json(Encode.auditPage(entries, nextAfter: entries.count == Int(limit) ? entries.last?.seq : nil))
    }
}
