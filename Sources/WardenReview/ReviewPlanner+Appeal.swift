public import WardenCore

/// What opening an appeal needs.
public struct AppealState: Sendable, Equatable {
    /// The case whose decision is appealed.
    public var record: CaseRecord
    /// Who made its latest decision (nil when it has none).
    public var decider: ActorRef?
    /// The identifier the appeal case gets.
    public var nextCaseID: Int64

    /// Creates an appeal state.
    public init(record: CaseRecord, decider: ActorRef?, nextCaseID: Int64) {
        self.record = record
        self.decider = decider
        self.nextCaseID = nextCaseID
    }
}

extension ReviewPlanner {
    /// Opens an appeal of a resolved case's latest decision: the case becomes `appealed` and a new
    /// appeal case waits in the pack's appeals queue, which the original decider may not review.
    public func openAppeal(_ state: AppealState, appellant: EntityRef, statement: String?, actor: ActorRef) throws(ReviewError) -> (ReviewPlan, CaseRecord) {
        var original = state.record
        guard original.kind == .review else { throw ReviewError(.invalid, "case \(original.id) is itself an appeal; appeals cannot be appealed") }
        guard let decider = state.decider else { throw ReviewError(.conflict, "case \(original.id) has no decision to appeal") }
        var plan = ReviewPlan()
        try move(&original, .appeal, actor: actor, detail: Self.json { $0.field("appellant", appellant.description) }, auditAction: "appeal.create", plan: &plan)
        plan.update(original)
        let queue = policy.configuration.appealsQueue
        var appeal = CaseRecord.opened(id: state.nextCaseID, kind: .appeal, subject: original.subject, source: .appeal, queue: queue,
                                       category: original.category, severity: original.severity, contentAt: original.contentAt, policy: policy, now: now)
        appeal.appealOf = original.id
        appeal.excludedReviewer = decider
        reprioritise(&appeal)
        plan.insertedCases.append(appeal)
        let detail = Self.json {
            $0.field("appeal_of", original.id)
            $0.field("appellant", appellant.description)
            if let statement { $0.field("statement", statement) }
        }
        plan.timeline.append(TimelineDraft(caseID: appeal.id, at: now, actor: actor, kind: .created, from: nil, to: .open, detail: detail))
        plan.audit.append(AuditDraft(at: now, actor: actor, action: "case.create", target: "case:\(appeal.id)", detail: detail))
        return (plan, appeal)
    }
}
