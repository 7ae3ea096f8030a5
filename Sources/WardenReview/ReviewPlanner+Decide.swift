public import WardenCore

/// What planning a decision needs, as the store found it.
public struct DecisionState: Sendable, Equatable {
    /// The case decided.
    public var record: CaseRecord
    /// The reporters whose reports count on it, with their standing.
    public var reporters: [ReporterRecord]
    /// The identifiers the decision and its first action get.
    public var nextDecisionID: Int64
    public var nextActionID: Int64
    /// For an appeal: the appealed case and its latest decision.
    public var appealed: AppealedDecision?
    /// For a golden item mixed into a live queue: the item and its key.
    public var golden: GoldenKey?
    /// The subject's live strikes under the category of ``ReviewPlanner/ladder(for:on:context:)``, counted in the decision's own transaction (0 when it names none).
    public var liveStrikes: Int

    /// Creates a decision state.
    public init(record: CaseRecord, reporters: [ReporterRecord], nextDecisionID: Int64, nextActionID: Int64, appealed: AppealedDecision? = nil,
                golden: GoldenKey? = nil, liveStrikes: Int = 0) {
        self.record = record
        self.reporters = reporters
        self.nextDecisionID = nextDecisionID
        self.nextActionID = nextActionID
        self.appealed = appealed
        self.golden = golden
        self.liveStrikes = liveStrikes
    }
}

/// The decision an appeal is about.
public struct AppealedDecision: Sendable, Equatable {
    /// The appealed case.
    public var record: CaseRecord
    /// Its latest decision and that decision's category (nil when it has none).
    public var decisionID: Int64?
    public var category: String?
    /// That decision's actions still in force (not reversals, not reversed), oldest first.
    public var liveActions: [ActionRecord]

    /// Creates an appealed decision.
    public init(record: CaseRecord, decisionID: Int64?, category: String?, liveActions: [ActionRecord]) {
        self.record = record
        self.decisionID = decisionID
        self.category = category
        self.liveActions = liveActions
    }
}

/// What planning a reversal needs.
public struct ReversalState: Sendable, Equatable {
    /// The action reversed, the case it was taken on, and its decision's category.
    public var action: ActionRecord
    public var record: CaseRecord
    public var category: String
    /// The identifier the compensating action gets.
    public var nextActionID: Int64

    /// Creates a reversal state.
    public init(action: ActionRecord, record: CaseRecord, category: String, nextActionID: Int64) {
        self.action = action
        self.record = record
        self.category = category
        self.nextActionID = nextActionID
    }
}

extension ReviewPlanner {
    /// The ladder whose live strikes planning `draft` needs: a violation on a review case that names
    /// no actions takes its category's ladder step. Nil when no ladder applies. The store counts the
    /// strikes under its category inside the decision's transaction, so the step is chosen from the
    /// same state the decision's own strike is added to, without a read of its own before it.
    public static func ladder(for draft: DecisionDraft, on record: CaseRecord, context: DecisionContext) -> EnforcementLadder? {
        guard draft.actions.isEmpty, draft.violation, record.kind == .review else { return nil }
        return context.catalogue.ladder(for: draft.category)
    }

    /// `draft` with what the pack completes: the ladder's step when it names no actions, then its
    /// macro's message rendered against those actions.
    static func completed(_ submitted: DecisionDraft, on record: CaseRecord, liveStrikes: Int, context: DecisionContext) -> DecisionDraft {
        var draft = submitted
        if let ladder = ladder(for: draft, on: record, context: context) {
            let step = ladder.step(afterStrikes: liveStrikes)
            draft.actions = [RequestedAction(name: step.action, duration: step.duration)]
        }
        if draft.macro != nil, let message = context.renderMacro(draft, record) {
            draft.messages = [message]
        }
        return draft
    }

    /// Records a decision on a case its holder is reviewing: the actions (each delivered by
    /// webhook), a strike on a violation under the category's ladder, a statement of reasons when
    /// something is restricted, the reporters' trust, the rendered messages; the case resolves.
    /// On an appeal the appealed case closes and, when overturned, its actions are reversed and
    /// its strikes lifted; the appellant is told the outcome.
    ///
    /// On a golden item mixed into a live queue the decision is recorded and the case resolves as
    /// any other, but nothing is enforced or sent (no actions, strikes, statement, reporter trust or
    /// messages: the content was decided before) and the answer is scored against the item's key.
    public func decide(_ state: DecisionState, _ submitted: DecisionDraft, actor: ActorRef, context: DecisionContext) throws(ReviewError)
        -> (ReviewPlan, DecisionRecord) {
        var record = state.record
        let caseID = record.id
        try requireHolder(record, actor, toDo: "decide")
        guard record.state == .inReview else { throw ReviewError(.conflict, "case \(caseID) is on hold; resume it before deciding") }
        let draft = Self.completed(submitted, on: record, liveStrikes: state.liveStrikes, context: context)
        var plan = ReviewPlan()
        let decisionID = state.nextDecisionID
        plan.decisions.append(DecisionRow(id: decisionID, caseID: caseID, decidedBy: actor, at: now, draft: draft))

        // The actions are final here (the ladder applied above), so what the macro rendered into the
        // decision's messages is exactly what is done.
        var nextActionID = state.nextActionID
        var applied: [StatementOfReasons.AppliedAction] = []
        var records: [ActionRecord] = []
        for action in draft.actions {
            guard let definition = context.catalogue.actions[action.name] else {
                throw ReviewError(.invalid, "\"\(action.name)\" is not an action of the pack's catalogue")
            }
            applied.append(.init(definition: definition, duration: action.duration))
            if state.golden != nil { continue }
            records.append(apply(action, definition: definition, id: nextActionID, decisionID: decisionID, on: record, category: draft.category,
                                 reverses: nil, plan: &plan))
            nextActionID += 1
        }
        if draft.violation, record.kind == .review, state.golden == nil, let ladder = context.catalogue.ladder(for: draft.category) {
            plan.strikes.append(Strike(subject: record.subject, policy: ladder.category, decisionID: decisionID, at: now, expiresAt: now + ladder.strikeExpiry))
        }
        let restrictive = StatementOfReasons.isRestrictive(applied) && state.golden == nil
        if StatementOfReasons.isRestrictive(applied), draft.illegal, (draft.legalGround ?? "").allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }) {
            throw ReviewError(.invalid, "a restriction for illegal content needs legal_ground: the law it breaks goes into the statement of reasons")
        }
        if restrictive {
            let statement = statementOfReasons(record, draft, decisionID: decisionID, applied: applied, context: context)
            plan.statements.append(StatementRow(decisionID: decisionID, createdAt: now, body: String(decoding: statement.json(), as: UTF8.self)))
        }
        // Reporters whose report was upheld gain trust; the others lose it.
        for reporter in state.reporters where state.golden == nil {
            plan.reporters.append(reporter.judged(upheld: draft.violation, prior: policy.configuration.defaultReporterTrust))
        }
        let detail = Self.json(capacity: 256) {
            $0.field("decision_id", decisionID)
            $0.field("category", draft.category)
            $0.key("violation")
            $0.bool(draft.violation)
            $0.key("actions")
            $0.beginArray()
            for action in draft.actions { $0.string(action.name + (action.duration.map { " " + DurationText.format($0) } ?? "")) }
            $0.endArray()
            if let outcome = draft.appealOutcome { $0.field("appeal_outcome", outcome.rawValue) }
            $0.field("from", record.state.rawValue)
            $0.field("to", CaseState.resolved.rawValue)
        }
        plan.timeline.append(timeline(caseID, actor: actor, .decision, detail: detail))
        // One audit entry for the decision and the case's move to resolved.
        plan.audit.append(AuditDraft(at: now, actor: actor, action: "decision.create", target: "case:\(caseID)", detail: detail))
        try move(&record, .resolve, actor: actor, detail: Self.json { $0.field("decision_id", decisionID) }, audited: false, plan: &plan)
        plan.update(record)
        if let golden = state.golden {
            let answer = GoldenKey.answer(of: draft)
            plan.goldenChecks.append(GoldenCheckRow(caseID: caseID, decisionID: decisionID, decidedBy: actor, answer: answer, expected: golden.answer,
                                                    correct: answer == golden.answer, at: now))
            plan.audit.append(AuditDraft(at: now, actor: actor, action: "golden.check", target: "case:\(caseID)", detail: Self.json {
                $0.field("golden_item", golden.id)
                $0.field("answer", answer)
                $0.field("expected", golden.answer)
                $0.key("correct")
                $0.bool(answer == golden.answer)
            }))
        } else {
            messages(draft, record: record, decisionID: decisionID, reporters: state.reporters.map(\.id), actor: actor, plan: &plan)
        }

        if record.kind == .appeal, let appealed = state.appealed {
            try closeAppealed(appealed, by: record, draft, actor: actor, nextActionID: nextActionID, context: context, plan: &plan)
        }
        let decision = DecisionRecord(id: decisionID, caseID: caseID, decidedBy: actor, at: now, category: draft.category, violation: draft.violation,
                                      policy: draft.policy, rationale: draft.rationale, treePath: draft.treePath, macro: draft.macro,
                                      appealOutcome: draft.appealOutcome, packVersion: draft.packVersion, actions: records, hasStatement: restrictive)
        return (plan, decision)
    }

    /// The statement of reasons for a restricting decision, in the DSA Transparency Database's terms.
    func statementOfReasons(_ record: CaseRecord, _ draft: DecisionDraft, decisionID: Int64, applied: [StatementOfReasons.AppliedAction],
                            context: DecisionContext) -> StatementOfReasons {
        return StatementOfReasons(
            decisionID: decisionID, category: draft.category,
            dsaCategory: context.dsaCategories[draft.category] ?? TransparencyDatabase.defaultCategory,
            keywords: context.dsaKeywords[draft.category] ?? [],
            actions: applied, illegal: draft.illegal, ground: draft.illegal ? (draft.legalGround ?? "") : (draft.policy ?? draft.category),
            explanation: draft.rationale ?? "Decided under policy \(draft.policy ?? draft.category).",
            contentType: context.catalogue.contentTypes[record.subject.type] ?? "CONTENT_TYPE_OTHER",
            contentTypeOther: record.subject.type,
            automatedDetection: record.signals > 0, automatedDecision: false, source: record.reports > 0 ? .report : record.source,
            contentDate: record.contentAt, applicationDate: now,
            facts: "Case \(record.id) about \(record.subject): \(record.signals) signal(s), \(record.reports) report(s); "
                + "reviewed in queue \(record.queue)." + (draft.rationale.map { " " + $0 } ?? ""),
            territorialScope: context.catalogue.territorialScope)
    }

    /// The decision's rendered messages: a notice to the subject (an appeal's goes with its
    /// outcome instead), a reply to each counted reporter, or an internal note on the timeline.
    func messages(_ draft: DecisionDraft, record: CaseRecord, decisionID: Int64, reporters: [String], actor: ActorRef, plan: inout ReviewPlan) {
        for message in draft.messages {
            let body = Self.jsonBytes(capacity: 256 + message.text.utf8.count) {
                $0.field("case_id", record.id)
                $0.field("decision_id", decisionID)
                $0.field("macro", message.macro)
                $0.field("message", message.text)
                if message.kind == .userNotice { $0.field("subject", record.subject.description) }
            }
            switch message.kind {
            case .userNotice where record.kind == .appeal:
                continue  // the appeal's notice carries it
            case .userNotice:
                plan.outbox.append(delivery(topic: "user.notice", key: "decision:\(decisionID):notice", order: record.subject.description, data: body))
            case .reporterReply:
                for reporter in reporters {
                    let reply = Self.jsonBytes(capacity: body.count + 64) {
                        $0.field("reporter", reporter)
                        $0.key("reply")
                        $0.raw(body)
                    }
                    plan.outbox.append(delivery(topic: "reporter.reply", key: "decision:\(decisionID):reply:\(reporter)", order: reporter, data: reply))
                }
            case .internalNote:
                plan.timeline.append(timeline(record.id, actor: actor, .note, detail: String(decoding: body, as: UTF8.self)))
            }
        }
    }

    /// An appeal's decision closes the appealed case; an overturn reverses its decision's
    /// reversible actions and lifts its strikes. The subject is told the outcome.
    func closeAppealed(_ appealed: AppealedDecision, by appeal: CaseRecord, _ draft: DecisionDraft, actor: ActorRef, nextActionID: Int64,
                       context: DecisionContext, plan: inout ReviewPlan) throws(ReviewError) {
        var original = appealed.record
        let outcome = draft.appealOutcome ?? .upheld
        if outcome == .overturned, let decisionID = appealed.decisionID {
            var nextID = nextActionID
            for action in appealed.liveActions where context.catalogue.actions[action.action]?.reversal != nil {
                let state = ReversalState(action: action, record: original, category: appealed.category ?? original.category, nextActionID: nextID)
                _ = try reverse(state, reason: "appeal overturned (case \(appeal.id))", actor: actor, context: context, plan: &plan)
                nextID += 1
            }
            plan.liftStrikes(of: decisionID, at: now)
        }
        try move(&original, .close, actor: actor, detail: Self.json {
            $0.field("appeal_case", appeal.id)
            $0.field("outcome", outcome.rawValue)
        }, plan: &plan)
        plan.update(original)
        let notice = Self.jsonBytes(capacity: 256) {
            $0.field("subject", original.subject.description)
            $0.field("case_id", original.id)
            $0.field("appeal_case_id", appeal.id)
            $0.field("outcome", outcome.rawValue)
            if let macro = draft.macro { $0.field("macro", macro) }
            if let message = draft.messages.first(where: { $0.kind == .userNotice })?.text ?? draft.rationale { $0.field("message", message) }
        }
        plan.outbox.append(delivery(topic: "user.notice", key: "appeal:\(appeal.id):notice", order: original.subject.description, data: notice))
    }

    /// Reverses an action: marks it reversed, delivers the catalogue's compensating action and
    /// lifts its decision's strikes.
    public func reverse(_ state: ReversalState, reason: String, actor: ActorRef, context: DecisionContext) throws(ReviewError) -> (ReviewPlan, ActionRecord) {
        var plan = ReviewPlan()
        let reversed = try reverse(state, reason: reason, actor: actor, context: context, plan: &plan)
        return (plan, reversed)
    }

    func reverse(_ state: ReversalState, reason: String, actor: ActorRef, context: DecisionContext, plan: inout ReviewPlan) throws(ReviewError) -> ActionRecord {
        let action = state.action
        guard action.reverses == nil else { throw ReviewError(.conflict, "action \(action.id) is itself a reversal; it cannot be reversed") }
        if let at = action.reversedAt {
            throw ReviewError(.conflict, "action \(action.id) was already reversed by \(action.reversedBy?.description ?? "someone") at \(Timestamp.formatRFC3339(at))")
        }
        guard let definition = context.catalogue.actions[action.action], let reversal = definition.reversal,
              let reversalDefinition = context.catalogue.actions[reversal] else {
            throw ReviewError(.invalid, "\(action.action) cannot be reversed: the catalogue names no reversal for it")
        }
        plan.reversals.append(ActionReversal(actionID: action.id, at: now, by: actor, reason: reason))
        _ = apply(RequestedAction(name: reversal, duration: nil), definition: reversalDefinition, id: state.nextActionID, decisionID: action.decisionID,
                  on: state.record, category: state.category, reverses: action.id, plan: &plan)
        plan.liftStrikes(of: action.decisionID, at: now)
        plan.audit.append(AuditDraft(at: now, actor: actor, action: "action.reverse", target: "action:\(action.id)", detail: Self.json {
            $0.field("reason", reason)
            $0.field("reversal", reversal)
        }))
        var result = action
        result.reversedAt = now
        result.reversedBy = actor
        result.reversalReason = reason
        return result
    }

    /// Records an action (or a reversal), its timeline entry, and its webhook.
    func apply(_ action: RequestedAction, definition: ActionDefinition, id: Int64, decisionID: Int64, on record: CaseRecord, category: String,
               reverses: Int64?, plan: inout ReviewPlan) -> ActionRecord {
        let taken = ActionRecord(id: id, decisionID: decisionID, caseID: record.id, subject: record.subject, action: action.name,
                                 duration: action.duration, createdAt: now, reverses: reverses, reversedAt: nil, reversedBy: nil, reversalReason: nil)
        plan.actions.append(taken)
        let body = Self.jsonBytes(capacity: 256) {
            $0.field("action_id", id)
            $0.field("action", action.name)
            $0.field("subject", record.subject.description)
            if let duration = action.duration {
                $0.field("duration", DurationText.format(duration))
                $0.field("ends_at", Timestamp.formatRFC3339(now + duration))
            }
            if let reverses { $0.field("reverses_action_id", reverses) }
            $0.field("decision_id", decisionID)
            $0.field("case_id", record.id)
            $0.field("category", category)
            $0.key("reversible")
            $0.bool(definition.reversal != nil && reverses == nil)
        }
        if let reverses {
            plan.outbox.append(delivery(topic: "action.reversed", key: "reversal:\(reverses)", order: record.subject.description, data: body))
        } else {
            plan.outbox.append(delivery(topic: "action.applied", key: "action:\(id)", order: record.subject.description, data: body))
        }
        plan.timeline.append(timeline(record.id, actor: .system("enforcement"), reverses == nil ? .action : .reversal, detail: Self.json {
            $0.field("action_id", id)
            $0.field("action", action.name)
        }))
        return taken
    }
}
