/// Where a case stands against its SLA at a moment: what a reviewer or lead sees beside it.
public struct CaseSLAStatus: Sendable, Equatable {
    /// The state of the clock against the resolution target.
    public enum Status: String, Sendable, Codable, CaseIterable {
        /// No resolution target applies.
        case none
        /// Running, under the warning threshold.
        case ok
        /// Past the queue's warning fraction of the target.
        case warning
        /// Past the target.
        case breached
        /// Stopped while the case is open (on hold, say).
        case paused
        /// Stopped for good (decided).
        case stopped
    }

    /// SLA time used so far (ms; business hours only where the queue counts them).
    public var elapsed: Int64
    public var running: Bool
    public var targets: SLATargets?
    /// The resolution deadline, if one runs.
    public var dueAt: Int64?
    public var status: Status
    /// The share of the resolution target used (nil without one).
    public var used: Double?

    /// Where `record` stands at `now` under `policy`.
    public init(_ record: CaseRecord, policy: ReviewPolicy, now: Int64) {
        let sla = policy.sla(of: record.queue)
        let elapsed = record.clock.elapsed(at: now, policy: sla)
        let running = record.clock.since != nil
        let targets = sla.targets[record.band]
        let used = targets?.resolution.map { Double(elapsed) / Double($0) }
        self.elapsed = elapsed
        self.running = running
        self.targets = targets
        self.used = used
        dueAt = record.dueAt == ReviewPolicy.noDeadline ? nil : record.dueAt
        if targets?.resolution == nil {
            status = .none
        } else if let used, used >= 1 {
            status = .breached
        } else if let used, used >= sla.warnFraction {
            status = .warning
        } else if !running {
            status = record.state.isOpen ? .paused : .stopped
        } else {
            status = .ok
        }
    }
}
