import Foundation
import Hummingbird
import WardenCore
import WardenEngine
import WardenReview
import WardenStore

/// A response that can hide personal data (e-mail addresses, IP addresses, phone numbers) from
/// people who may not see it: masking is the type's own, field by field.
protocol PersonalDataMasking {
    /// The same response with personal data masked.
    func masked() -> Self
}

extension PersonalDataMasking {
    /// Masked when `mask`, as is otherwise.
    func masked(if mask: Bool) -> Self { mask ? masked() : self }
}

/// An answer on the claim and decide path (measured hot: the 1M-case review benchmark): its members
/// are spelled in snake_case by its own `CodingKeys`, so it is encoded by an encoder that converts
/// and sorts nothing (converting every key of every answer showed in that benchmark's latency).
protocol PlainKeysResponse: ResponseGenerator, Encodable {}

extension PlainKeysResponse {
    func response(from request: Request, context: some RequestContext) throws -> Response {
        var buffer = ByteBuffer()
        try buffer.writeBytes(plainEncoder.encode(self))
        return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: buffer))
    }
}

private let plainEncoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.withoutEscapingSlashes]
    return encoder
}()

/// A review case as the API shows it: its state, priority and SLA standing at the time of asking,
/// and (when one case is opened) its timeline and decisions.
struct CaseResponse: PlainKeysResponse, PersonalDataMasking {
    struct Priority: Encodable {
        var score: Int
        var band: String
        var urgency: Int
    }

    struct SLA: Encodable {
        var elapsed: String
        var running: Bool
        var resolutionTarget: String?
        var firstActionTarget: String?
        var dueAt: String?
        var status: CaseSLAStatus.Status

        enum CodingKeys: String, CodingKey {
            case elapsed, running, status
            case resolutionTarget = "resolution_target", firstActionTarget = "first_action_target", dueAt = "due_at"
        }
    }

    struct Entry: Encodable {
        var at: String
        var actor: String
        var kind: TimelineEntry.Kind
        var from: CaseState?
        var to: CaseState?
        var detail: JSONValue
    }

    var id: Int64
    var kind: CaseKind
    var subject: String
    var source: CaseSource
    var queue: String
    var state: CaseState
    var category: String
    var severity: String
    var priority: Priority
    var signals: Int
    var reports: Int
    var reporterWeight: Double
    var assignee: String?
    var leaseExpiresAt: String?
    var sla: SLA
    var createdAt: String
    var updatedAt: String
    var contentAt: String
    var firstActionAt: String?
    var resolvedAt: String?
    var appealOf: Int64?
    var escalationReason: String?
    /// The lifecycle commands the case's state allows.
    var allowed: [String]
    var timeline: [Entry]?
    var decisions: [DecisionResponse]?

    enum CodingKeys: String, CodingKey {
        case id, kind, subject, source, queue, state, category, severity, priority, signals, reports, assignee, sla, allowed, timeline, decisions
        case reporterWeight = "reporter_weight", leaseExpiresAt = "lease_expires_at", createdAt = "created_at", updatedAt = "updated_at"
        case contentAt = "content_at", firstActionAt = "first_action_at", resolvedAt = "resolved_at", appealOf = "appeal_of"
        case escalationReason = "escalation_reason"
    }

    init(_ record: CaseRecord, policy: ReviewPolicy, now: Int64, timeline: [TimelineEntry]? = nil, decisions: [DecisionRecord]? = nil) {
        let status = CaseSLAStatus(record, policy: policy, now: now)
        id = record.id
        kind = record.kind
        subject = record.subject.description
        source = record.source
        queue = record.queue
        state = record.state
        category = record.category
        severity = record.severity
        priority = Priority(score: record.score, band: record.band.name,
                            urgency: CasePriority.urgency(score: record.score, waitedMillis: now - record.createdAt, slaUsed: status.used))
        signals = record.signals
        reports = record.reports
        reporterWeight = record.reporterWeight
        assignee = record.assignee?.description
        leaseExpiresAt = record.leaseExpiresAt.map(Timestamp.formatRFC3339)
        sla = SLA(elapsed: DurationText.format(max(1000, status.elapsed / 1000 * 1000)), running: status.running,
                  resolutionTarget: status.targets?.resolution.map(DurationText.format), firstActionTarget: status.targets?.firstAction.map(DurationText.format),
                  dueAt: status.dueAt.map(Timestamp.formatRFC3339), status: status.status)
        createdAt = Timestamp.formatRFC3339(record.createdAt)
        updatedAt = Timestamp.formatRFC3339(record.updatedAt)
        contentAt = Timestamp.formatRFC3339(record.contentAt)
        firstActionAt = record.firstActionAt.map(Timestamp.formatRFC3339)
        resolvedAt = record.resolvedAt.map(Timestamp.formatRFC3339)
        appealOf = record.appealOf
        escalationReason = record.escalationReason
        allowed = CaseLifecycle.allowedCommands(from: record.state).map(\.verb)
        self.timeline = timeline?.map { entry in
            Entry(at: Timestamp.formatRFC3339(entry.at), actor: entry.actor.description, kind: entry.kind, from: entry.fromState, to: entry.toState,
                  detail: JSONValue.parse(Array(entry.detail.utf8)) ?? .object([:]))
        }
        self.decisions = decisions?.map(DecisionResponse.init)
    }

    func masked() -> CaseResponse {
        var copy = self
        copy.subject = PersonalData.mask(entity: subject)
        copy.escalationReason = escalationReason.map { PersonalData.mask(text: $0) }
        copy.timeline = timeline?.map { entry in
            var entry = entry
            entry.detail = entry.detail.mapStrings { PersonalData.mask(text: $0) }
            return entry
        }
        copy.decisions = decisions?.map { $0.masked() }
        return copy
    }
}

/// A page of cases, newest first.
struct CaseList: ResponseEncodable, PersonalDataMasking {
    var cases: [CaseResponse]
    /// Pass as `before` for the next page (null on the last).
    var nextBefore: Int64?

    func masked() -> CaseList { CaseList(cases: cases.map { $0.masked() }, nextBefore: nextBefore) }
}

/// A recorded decision.
struct DecisionResponse: PlainKeysResponse, PersonalDataMasking {
    var id: Int64
    var caseID: Int64
    var decidedBy: String
    var at: String
    var category: String
    var violation: Bool
    var policy: String?
    var rationale: String?
    var treePath: [String]?
    var macro: String?
    var outcome: DecisionDraft.AppealOutcome?
    var actions: [ActionResponse]
    var statementOfReasons: Bool

    enum CodingKeys: String, CodingKey {
        case id, at, category, violation, policy, rationale, macro, outcome, actions
        case caseID = "case_id", decidedBy = "decided_by", treePath = "tree_path", statementOfReasons = "statement_of_reasons"
    }

    init(_ decision: DecisionRecord) {
        id = decision.id
        caseID = decision.caseID
        decidedBy = decision.decidedBy.description
        at = Timestamp.formatRFC3339(decision.at)
        category = decision.category
        violation = decision.violation
        policy = decision.policy
        rationale = decision.rationale
        if let path = decision.treePath, case .array(let steps)? = JSONValue.parse(Array(path.utf8)) {
            treePath = steps.compactMap { if case .string(let step) = $0 { step } else { nil } }
        }
        macro = decision.macro
        outcome = decision.appealOutcome
        actions = decision.actions.map(ActionResponse.init)
        statementOfReasons = decision.hasStatement
    }

    func masked() -> DecisionResponse {
        var copy = self
        copy.rationale = rationale.map { PersonalData.mask(text: $0) }
        copy.actions = actions.map { $0.masked() }
        return copy
    }
}

/// An enforcement action (or a reversal).
struct ActionResponse: PlainKeysResponse, PersonalDataMasking {
    struct Reversed: Encodable {
        var at: String
        var by: String?
        var reason: String?
    }

    var id: Int64
    var action: String
    var subject: String
    var duration: String?
    var createdAt: String
    var reverses: Int64?
    var reversed: Reversed?

    enum CodingKeys: String, CodingKey {
        case id, action, subject, duration, reverses, reversed
        case createdAt = "created_at"
    }

    init(_ action: ActionRecord) {
        id = action.id
        self.action = action.action
        subject = action.subject.description
        duration = action.duration.map(DurationText.format)
        createdAt = Timestamp.formatRFC3339(action.createdAt)
        reverses = action.reverses
        reversed = action.reversedAt.map { Reversed(at: Timestamp.formatRFC3339($0), by: action.reversedBy?.description, reason: action.reversalReason) }
    }

    func masked() -> ActionResponse {
        var copy = self
        copy.subject = PersonalData.mask(entity: subject)
        return copy
    }
}

/// A consult: a question one reviewer asked another about a case, and the case as it is now.
struct ConsultResponse: ResponseEncodable, PersonalDataMasking {
    struct Case: Encodable {
        var queue: String
        var state: CaseState
        var subject: String
        var category: String
        var assignee: String?
    }

    var id: Int64
    var caseID: Int64
    var askedBy: String
    var reviewer: String
    var question: String
    var askedAt: String
    var answer: String?
    var answeredAt: String?
    var `case`: Case

    init(_ consult: ConsultRecord) {
        id = consult.id
        caseID = consult.caseID
        askedBy = consult.askedBy.description
        reviewer = consult.reviewer.description
        question = consult.question
        askedAt = Timestamp.formatRFC3339(consult.askedAt)
        answer = consult.answer
        answeredAt = consult.answeredAt.map(Timestamp.formatRFC3339)
        `case` = Case(queue: consult.queue, state: consult.state, subject: consult.subject.description, category: consult.category, assignee: consult.assignee?.description)
    }

    func masked() -> ConsultResponse {
        var copy = self
        copy.case.subject = PersonalData.mask(entity: `case`.subject)
        copy.question = PersonalData.mask(text: question)
        copy.answer = answer.map { PersonalData.mask(text: $0) }
        return copy
    }
}

/// The caller's consults.
struct ConsultList: ResponseEncodable, PersonalDataMasking {
    var consults: [ConsultResponse]

    func masked() -> ConsultList { ConsultList(consults: consults.map { $0.masked() }) }
}

/// The queues the caller may see, with their counts, access, wellness settings and SLA targets.
struct QueueList: ResponseEncodable {
    struct Queue: Encodable {
        struct Wellness: Encodable {
            var blur: Bool
            var maxCasesPerHour: Int?
        }

        struct Targets: Encodable {
            var firstAction: String?
            var resolution: String?
        }

        var name: String
        var description: String?
        /// Cases in each open state.
        var counts: [String: Int]
        /// Waiting cases past their resolution deadline.
        var pastDue: Int
        var teams: [String]
        var roles: [String]
        var allowedActions: [String]?
        /// What a decision in the queue must carry (`policy`, `rationale`).
        var requires: [String]
        var wellness: Wellness
        /// Targets by priority band (`p1`…), and whether the clock counts business hours only.
        var sla: [String: Targets]
        var businessHours: Bool
    }

    var queues: [Queue]

    init(configuration: ReviewConfiguration, counts: [QueueCount], visible: (String) -> Bool) {
        queues = configuration.queueOrder.filter(visible).compactMap { name in
            guard let queue = configuration.queues[name] else { return nil }
            let mine = counts.filter { $0.queue == name }
            var byState: [String: Int] = [:]
            for state in CaseState.allCases where state.isOpen { byState[state.rawValue] = mine.first { $0.state == state }?.count ?? 0 }
            var sla: [String: Queue.Targets] = [:]
            for band in CasePriority.Band.allCases {
                guard let targets = queue.sla.targets[band] else { continue }
                sla[band.name] = Queue.Targets(firstAction: targets.firstAction.map(DurationText.format), resolution: targets.resolution.map(DurationText.format))
            }
            return Queue(name: name, description: queue.description, counts: byState, pastDue: mine.reduce(0) { $0 + $1.breached }, teams: queue.teams,
                         roles: queue.roles, allowedActions: queue.allowedActions,
                         requires: (queue.requiresPolicy ? ["policy"] : []) + (queue.requiresRationale ? ["rationale"] : []),
                         wellness: Queue.Wellness(blur: queue.blur, maxCasesPerHour: queue.maxCasesPerHour), sla: sla, businessHours: queue.sla.businessHours != nil)
        }
    }
}

/// The pack's decision trees.
struct TreeList: ResponseEncodable {
    struct Tree: Encodable {
        var name: String
        var description: String?
        var categories: [String]
        var start: String
        var questions: [String: Question]
    }

    var trees: [Tree]

    init(_ trees: [DecisionTree]) {
        self.trees = trees.sorted { $0.name < $1.name }.map { tree in
            Tree(name: tree.name, description: tree.description, categories: tree.categories, start: tree.start,
                 questions: tree.questions.mapValues(Question.init))
        }
    }
}

/// A question of a decision tree.
struct Question: Encodable {
    var id: String
    var text: String
    var help: String?
    var answers: [String]

    init(_ question: DecisionTree.Question) {
        id = question.id
        text = question.text
        help = question.help
        answers = question.answers.map(\.label)
    }
}

/// Where a walk of a decision tree stands: the next question, or the outcome to submit.
struct WalkResponse: ResponseEncodable {
    struct Outcome: Encodable {
        var id: String
        var category: String
        var violation: Bool
        var actions: [String]
        var policy: String?
        var macro: String?
    }

    var tree: String
    var path: [String]
    var question: Question?
    var outcome: Outcome?

    init(tree: String, path: [String], position: DecisionTree.Position) {
        self.tree = tree
        self.path = path
        switch position {
        case .question(let next):
            question = Question(next)
        case .outcome(let end):
            outcome = Outcome(id: end.id, category: end.category, violation: end.violation, actions: end.actions, policy: end.policy, macro: end.macro)
        }
    }
}

/// A reporter's muted state.
struct ReporterMuteResponse: ResponseEncodable {
    var reporter: String
    var muted: Bool
}

/// Webhook deliveries, newest first.
struct OutboxList: ResponseEncodable {
    struct Delivery: Encodable {
        var id: Int64
        var topic: String
        var idempotencyKey: String
        var state: OutboxItem.State
        var attempts: Int
        var nextAttemptAt: String
        var lastError: String?
        var createdAt: String
        var deliveredAt: String?
        /// "" for the product's webhook, else the notification channel.
        var destination: String
        /// What is delivered: the envelope (`id`, `topic`, `created_at`, `data`), or a chat or PagerDuty body.
        var body: JSONValue
    }

    var deliveries: [Delivery]

    init(_ items: [OutboxItem]) {
        deliveries = items.map { item in
            Delivery(id: item.id, topic: item.topic, idempotencyKey: item.idempotencyKey, state: item.state, attempts: item.attempts,
                     nextAttemptAt: Timestamp.formatRFC3339(item.nextAttemptAt), lastError: item.lastError,
                     createdAt: Timestamp.formatRFC3339(item.createdAt), deliveredAt: item.deliveredAt.map(Timestamp.formatRFC3339),
                     destination: item.destination, body: JSONValue.parse(Array(item.body.utf8)) ?? .null)
        }
    }
}

/// How many dead deliveries went back in line.
struct RedriveResponse: ResponseEncodable {
    var redriven: Int
}
