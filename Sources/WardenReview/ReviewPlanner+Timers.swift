import WardenCore

/// An SLA warning or breach raised on a case.
public struct RaisedSLAEvent: Sendable, Equatable {
    public var caseID: Int64
    public var queue: String
    public var event: SLAEvent
}

extension ReviewPlanner {
    /// A held case whose lease lapsed without activity goes back to its queue.
    public func expireLease(_ record: CaseRecord) throws(ReviewError) -> ReviewPlan {
        var plan = ReviewPlan()
        var record = record
        let holder = record.assignee?.description ?? "nobody"
        try move(&record, .release, actor: .system("leases"), detail: Self.json { $0.field("reason", "the lease of \(holder) lapsed without activity") },
                 auditAction: "case.lease_expired", plan: &plan)
        plan.update(record)
        return plan
    }

    /// Raises every SLA warning and breach of a case that fell due by now: each goes on the
    /// timeline and in the audit chain, out by webhook, and into the signal list (a breach at the
    /// pack's highest severity, a warning one below).
    public func raiseSLAEvents(_ record: CaseRecord) -> (ReviewPlan, [RaisedSLAEvent]) {
        var plan = ReviewPlan()
        var raised: [RaisedSLAEvent] = []
        var record = record
        let id = record.id
        let sla = policy.sla(of: record.queue)
        while let next = record.clock.nextEvent(targets: sla.targets[record.band], firstActionDone: record.firstActionAt != nil,
                                                raised: record.slaRaised, policy: sla), next.at <= now {
            record.slaRaised |= next.event.flag
            raised.append(RaisedSLAEvent(caseID: id, queue: record.queue, event: next.event))
            let due = Timestamp.formatRFC3339(next.at)
            let detail = Self.json {
                $0.field("event", next.event.rawValue)
                $0.field("due", due)
                $0.field("band", record.band.name)
            }
            plan.timeline.append(timeline(id, actor: .system("sla"), .sla, detail: detail))
            plan.audit.append(AuditDraft(at: now, actor: .system("sla"), action: "sla.\(next.event.rawValue)", target: "case:\(id)", detail: detail))
            let body = Self.jsonBytes(capacity: 256) {
                $0.field("case_id", id)
                $0.field("queue", record.queue)
                $0.field("subject", record.subject.description)
                $0.field("event", next.event.rawValue)
                $0.field("band", record.band.name)
                $0.field("due_at", due)
                if let assignee = record.assignee { $0.field("assignee", assignee.description) }
            }
            plan.outbox.append(delivery(topic: next.event.isBreach ? "sla.breached" : "sla.warning", key: "sla:\(id):\(next.event.rawValue)",
                                        order: "case:\(id)", data: body))
            let severities = policy.severities
            let severity = next.event.isBreach ? (severities.last ?? record.severity)
                : (severities.count > 1 ? severities[severities.count - 2] : record.severity)
            let what = next.event.rawValue.replacingOccurrences(of: "_", with: " ").replacingOccurrences(of: ".", with: " SLA ")
            let reason = "\(what): case \(id) (\(record.band.name), queue \(record.queue)) due \(due)"
            plan.caseSignals.append(CaseSignal(caseID: id, rule: "sla", ruleVersion: next.event.rawValue, category: record.category, severity: severity,
                                               subject: record.subject, reason: reason,
                                               explanation: reason + (record.assignee.map { ", held by \($0)" } ?? ", unassigned"),
                                               queue: record.queue, at: now))
        }
        reprioritise(&record)
        plan.update(record)
        return (plan, raised)
    }
}
