public import WardenCore

/// The review rules as pure planning: each operation takes the state the store loaded and the
/// request, and returns a ``ReviewPlan`` (or throws a ``ReviewError`` saying why not). Nothing here
/// reads or writes storage; the store loads, calls the planner and applies the plan in one
/// transaction, so the rules are the same on every store and are tested without one.
public struct ReviewPlanner: Sendable {
    /// Routing, priority, SLA and lease length in force.
    public var policy: ReviewPolicy
    /// When the operation happens (ms since the epoch).
    public var now: Int64

    /// A planner for one operation at `now`.
    public init(policy: ReviewPolicy, now: Int64) {
        self.policy = policy
        self.now = now
    }

    // MARK: Claiming and moving

    /// A reviewer takes a waiting case.
    public func claim(_ record: CaseRecord, reviewer: ActorRef) throws(ReviewError) -> (ReviewPlan, CaseRecord) {
        if record.excludedReviewer == reviewer {
            throw ReviewError(.forbidden, "\(reviewer) decided the appealed case, so someone else must review the appeal")
        }
        var plan = ReviewPlan()
        var record = record
        try move(&record, .claim, actor: reviewer, detail: "{}", plan: &plan)
        plan.update(record)
        return (plan, record)
    }

    /// Moves or annotates a case. Only its holder may move a held case. `nextConsultID` is the
    /// identifier a new consult gets (needed for ``CaseChange/consult(with:question:)``).
    public func change(_ record: CaseRecord, _ change: CaseChange, actor: ActorRef, nextConsultID: Int64 = 0) throws(ReviewError)
        -> (ReviewPlan, CaseRecord) {
        var plan = ReviewPlan()
        var record = record
        let caseID = record.id
        switch change {
        case .command(let command, let note):
            try requireHolder(record, actor, toDo: command.verb)
            try move(&record, command, actor: actor, detail: Self.json { if let note { $0.field("note", note) } }, plan: &plan)
        case .escalate(let queue, let reason):
            if record.state.isHeld { try requireHolder(record, actor, toDo: "escalate") }
            guard policy.configuration.queues[queue] != nil else {
                throw ReviewError(.invalid, "queue \"\(queue)\" does not exist; use one of \(policy.configuration.queueOrder.joined(separator: ", "))")
            }
            let from = record.queue
            record.queue = queue
            record.escalationReason = reason
            try move(&record, .escalate, actor: actor, detail: Self.json {
                $0.field("from_queue", from)
                $0.field("to_queue", queue)
                $0.field("reason", reason)
            }, plan: &plan)
        case .handoff(let reviewer, let note):
            try requireHolder(record, actor, toDo: "hand off")
            guard reviewer != actor else { throw ReviewError(.invalid, "the case is already yours") }
            if record.excludedReviewer == reviewer {
                throw ReviewError(.forbidden, "\(reviewer) decided the appealed case and may not review the appeal")
            }
            record.assignee = reviewer
            record.leaseExpiresAt = now + policy.leaseMillis
            record.updatedAt = now
            plan.timeline.append(timeline(caseID, actor: actor, .handoff, detail: Self.json {
                $0.field("to", reviewer.description)
                if let note { $0.field("note", note) }
            }))
            plan.audit.append(AuditDraft(at: now, actor: actor, action: "case.handoff", target: "case:\(caseID)", detail: Self.json { $0.field("to", reviewer.description) }))
        case .reassign(let reviewer, let note):
            let detail = Self.json {
                $0.field("by", actor.description)
                if let holder = record.assignee { $0.field("from", holder.description) }
                if let reviewer { $0.field("to", reviewer.description) }
                if let note { $0.field("note", note) }
            }
            guard let reviewer else {
                guard record.state.isHeld else {
                    throw ReviewError(.conflict, "case \(caseID) is \(record.state.rawValue); only a held case can be taken back to its queue")
                }
                try move(&record, .release, actor: actor, detail: detail, auditAction: "case.reassign", plan: &plan)
                break
            }
            if record.excludedReviewer == reviewer {
                throw ReviewError(.forbidden, "\(reviewer) decided the appealed case and may not review the appeal")
            }
            if record.state.isHeld {
                guard record.assignee != reviewer else { throw ReviewError(.conflict, "\(reviewer) already holds case \(caseID)") }
                record.assignee = reviewer
                if record.state == .inReview { record.leaseExpiresAt = now + policy.leaseMillis }
                record.updatedAt = now
                plan.timeline.append(timeline(caseID, actor: actor, .handoff, detail: detail))
                plan.audit.append(AuditDraft(at: now, actor: actor, action: "case.reassign", target: "case:\(caseID)", detail: detail))
            } else {
                try move(&record, .claim, actor: actor, detail: detail, auditAction: "case.reassign", plan: &plan)
                record.assignee = reviewer
            }
        case .consult(let reviewer, let question):
            try requireHolder(record, actor, toDo: "ask for a consult on")
            guard reviewer != actor else { throw ReviewError(.invalid, "ask someone else for a consult: \(actor) holds the case") }
            if record.firstActionAt == nil { record.firstActionAt = now }
            record.leaseExpiresAt = now + policy.leaseMillis
            record.updatedAt = now
            reprioritise(&record)
            plan.consults.append(ConsultRow(id: nextConsultID, caseID: caseID, askedBy: actor, reviewer: reviewer, question: question, askedAt: now))
            plan.timeline.append(timeline(caseID, actor: actor, .consult, detail: Self.json {
                $0.field("consult_id", nextConsultID)
                $0.field("with", reviewer.description)
                $0.field("question", question)
            }))
            plan.audit.append(AuditDraft(at: now, actor: actor, action: "case.consult", target: "case:\(caseID)", detail: Self.json { $0.field("with", reviewer.description) }))
        case .comment(let text):
            if record.assignee == actor {
                if record.firstActionAt == nil { record.firstActionAt = now }
                record.leaseExpiresAt = now + policy.leaseMillis
            }
            record.updatedAt = now
            reprioritise(&record)
            plan.timeline.append(timeline(caseID, actor: actor, .comment, detail: Self.json { $0.field("text", text) }))
            plan.audit.append(AuditDraft(at: now, actor: actor, action: "case.comment", target: "case:\(caseID)", detail: "{}"))
        case .renew:
            try requireHolder(record, actor, toDo: "renew the lease of")
            record.leaseExpiresAt = now + policy.leaseMillis
        }
        plan.update(record)
        return (plan, record)
    }

    /// The consulted reviewer answers (only they can, once).
    public func answer(_ consult: ConsultRecord, answer: String, actor: ActorRef) throws(ReviewError) -> (ReviewPlan, ConsultRecord) {
        guard consult.reviewer == actor else {
            throw ReviewError(.forbidden, "consult \(consult.id) was asked of \(consult.reviewer), not \(actor); only they can answer it")
        }
        guard consult.answeredAt == nil else { throw ReviewError(.conflict, "consult \(consult.id) is already answered") }
        var plan = ReviewPlan()
        plan.answers.append(ConsultAnswer(consultID: consult.id, answer: answer, at: now))
        plan.timeline.append(timeline(consult.caseID, actor: actor, .consultAnswer, detail: Self.json {
            $0.field("consult_id", consult.id)
            $0.field("answer", answer)
        }))
        plan.audit.append(AuditDraft(at: now, actor: actor, action: "case.consult_answer", target: "case:\(consult.caseID)",
                                     detail: Self.json { $0.field("consult_id", consult.id) }))
        var answered = consult
        answered.answer = answer
        answered.answeredAt = now
        return (plan, answered)
    }

    /// Mutes or unmutes a reporter (a muted reporter's reports weigh nothing from then on).
    public func setReporter(_ reporter: ReporterRecord?, id: String, muted: Bool, actor: ActorRef) -> ReviewPlan {
        var plan = ReviewPlan()
        var record = reporter ?? .new(id, trust: policy.configuration.defaultReporterTrust)
        record.muted = muted
        plan.reporters.append(record)
        plan.audit.append(AuditDraft(at: now, actor: actor, action: muted ? "reporter.mute" : "reporter.unmute", target: "reporter:\(id)", detail: "{}"))
        return plan
    }

    // MARK: Shared rules

    /// Refuses unless `actor` holds the case.
    func requireHolder(_ record: CaseRecord, _ actor: ActorRef, toDo verb: String) throws(ReviewError) {
        guard record.state.isHeld else {
            throw ReviewError(.conflict, "case \(record.id) is \(record.state.rawValue), not held by anyone; claim it before you \(verb) it")
        }
        guard record.assignee == actor else {
            throw ReviewError(.conflict, "case \(record.id) is held by \(record.assignee?.description ?? "nobody"), not \(actor); only its holder can \(verb) it")
        }
    }

    /// Applies a lifecycle command: state, clock, holder, lease, deadlines, and its timeline and
    /// audit entries (the audit entry is left out when another entry of the operation covers it).
    func move(_ record: inout CaseRecord, _ command: CaseCommand, actor: ActorRef, detail: String, auditAction: String? = nil,
              audited: Bool = true, plan: inout ReviewPlan) throws(ReviewError) {
        let from = record.state
        let to: CaseState
        do {
            to = try CaseLifecycle.next(from, command)
        } catch {
            throw ReviewError(.conflict, "case \(record.id): \(error)")
        }
        record.state = to
        record.clock = record.clock.moved(to: to, at: now, policy: policy.sla(of: record.queue))
        switch to {
        case .inReview:
            if command == .claim { record.assignee = actor }
            record.leaseExpiresAt = now + policy.leaseMillis
        case .onHold:
            record.leaseExpiresAt = nil
        default:
            record.assignee = nil
            record.leaseExpiresAt = nil
        }
        // A person's hold, escalation or decision is the case's first action; the system's moves are not.
        if [.hold, .escalate, .resolve].contains(command), !actor.isSystem, record.firstActionAt == nil { record.firstActionAt = now }
        if to == .resolved { record.resolvedAt = now }
        record.updatedAt = now
        reprioritise(&record)
        plan.timeline.append(TimelineDraft(caseID: record.id, at: now, actor: actor, kind: .transition, from: from, to: to, detail: detail))
        if audited {
            plan.audit.append(AuditDraft(at: now, actor: actor, action: auditAction ?? "case.\(command.verb)", target: "case:\(record.id)",
                                         detail: Self.json {
                                             $0.field("from", from.rawValue)
                                             $0.field("to", to.rawValue)
                                         }))
        }
    }

    /// Recomputes score, band, deadline and next SLA event.
    public func reprioritise(_ record: inout CaseRecord) {
        let priority = policy.priority(severity: record.severity, reporterWeight: record.reporterWeight, reach: record.signals + record.reports)
        record.score = priority.score
        record.band = priority.band
        let schedule = policy.schedule(clock: record.clock, band: record.band, queue: record.queue,
                                       firstActionDone: record.firstActionAt != nil, raised: record.slaRaised)
        record.dueAt = schedule.dueAt
        record.slaNextAt = schedule.nextEventAt
    }

    func timeline(_ caseID: Int64, actor: ActorRef, _ kind: TimelineEntry.Kind, detail: String) -> TimelineDraft {
        TimelineDraft(caseID: caseID, at: now, actor: actor, kind: kind, from: nil, to: nil, detail: detail)
    }

    /// A webhook delivery in its envelope: `id` (the idempotency key), `topic`, `created_at`, `data`.
    func delivery(topic: String, key: String, order: String, data: [UInt8]) -> OutboxMessage {
        var body = JSONWriter(capacity: data.count + 160)
        body.beginObject()
        body.field("id", key)
        body.field("topic", topic)
        body.field("created_at", Timestamp.formatRFC3339(now))
        body.key("data")
        body.raw(data)
        body.endObject()
        return OutboxMessage(topic: topic, idempotencyKey: key, orderingKey: order, body: String(decoding: body.bytes, as: UTF8.self), at: now)
    }

    /// A JSON object written by `members`.
    static func json(capacity: Int = 128, _ members: (inout JSONWriter) -> Void) -> String {
        String(decoding: jsonBytes(capacity: capacity, members), as: UTF8.self)
    }

    static func jsonBytes(capacity: Int = 128, _ members: (inout JSONWriter) -> Void) -> [UInt8] {
        var writer = JSONWriter(capacity: capacity)
        writer.beginObject()
        members(&writer)
        writer.endObject()
        return writer.bytes
    }
}
