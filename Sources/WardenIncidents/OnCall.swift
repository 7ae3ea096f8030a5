public import WardenCore

/// An on-call rotation (`oncall.yaml`, `schedules:`): participants take turns of `turnMillis`,
/// handing over at `handoverAt` and every turn after it. Overrides (from the API) replace whoever
/// the rotation names for a stretch of time.
public struct OnCallSchedule: Sendable, Equatable {
    public var name: String
    public var participants: [String]
    /// Length of a turn (a day, a week, twelve hours …).
    public var turnMillis: Int64
    /// A hand-over time: the first participant's turn starts here (ms since the epoch).
    public var handoverAt: Int64

    public init(name: String, participants: [String], turnMillis: Int64, handoverAt: Int64) {
        self.name = name
        self.participants = participants
        self.turnMillis = turnMillis
        self.handoverAt = handoverAt
    }

    /// Who the rotation names at `time` (before the first hand-over the rotation runs backwards).
    public func rotationOnCall(at time: Int64) -> String? {
        guard !participants.isEmpty, turnMillis > 0 else { return nil }
        let turns = (time - handoverAt).floorDivided(by: turnMillis)
        let index = Int(turns.modulo(Int64(participants.count)))
        return participants[index]
    }

    /// Who is on call at `time`: the latest override covering it, else the rotation.
    public func onCall(at time: Int64, overrides: [OnCallOverride]) -> String? {
        overrides.filter { $0.schedule == name && $0.startsAt <= time && time < $0.endsAt }.max { $0.id < $1.id }?.person
            ?? rotationOnCall(at: time)
    }

    /// When the current turn ends (the next hand-over after `time`).
    public func nextHandover(after time: Int64) -> Int64 {
        guard turnMillis > 0 else { return .max }
        return handoverAt + ((time - handoverAt).floorDivided(by: turnMillis) + 1) * turnMillis
    }
}

/// Someone covering a schedule for a while.
public struct OnCallOverride: Sendable, Equatable {
    public var id: Int64
    public var schedule: String
    public var person: String
    public var startsAt: Int64
    public var endsAt: Int64
    public var createdBy: ActorRef

    public init(id: Int64, schedule: String, person: String, startsAt: Int64, endsAt: Int64, createdBy: ActorRef) {
        self.id = id
        self.schedule = schedule
        self.person = person
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.createdBy = createdBy
    }
}

/// Who to page, and when, until someone acknowledges (`oncall.yaml`, `escalation_policies:`).
public struct EscalationPolicy: Sendable, Equatable {
    public enum Target: Sendable, Equatable {
        /// Whoever is on call in the schedule.
        case schedule(String)
        /// A named person.
        case person(String)
    }
    public struct Step: Sendable, Equatable {
        /// Time after the page starts (ms).
        public var after: Int64
        public var targets: [Target]

        public init(after: Int64, targets: [Target]) {
            self.after = after
            self.targets = targets
        }
    }
    public var name: String
    /// In order of `after`.
    public var steps: [Step]
    /// The channels pages go out on.
    public var channels: [String]

    public init(name: String, steps: [Step], channels: [String]) {
        self.name = name
        self.steps = steps.sorted { $0.after < $1.after }
        self.channels = channels
    }
}

/// A page in progress: an escalation policy working through its steps about one subject.
public struct PageRecord: Sendable, Equatable {
    public var id: Int64
    /// `incident:4`, `alert:9`.
    public var subject: String
    public var policy: String
    public var summary: String
    public var severity: String
    public var startedAt: Int64
    /// The next step to fire (steps before it have fired).
    public var nextStep: Int
    /// When the next step fires; nil once every step has.
    public var nextAt: Int64?
    /// Everyone paged so far, in order.
    public var paged: [String]
    public var acknowledgedAt: Int64?
    public var acknowledgedBy: ActorRef?
    public var resolvedAt: Int64?

    public init(id: Int64, start: PageStart) {
        self.id = id
        subject = start.subject
        policy = start.policy
        summary = start.summary
        severity = start.severity
        startedAt = start.at
        nextStep = 0
        nextAt = start.at
        paged = []
    }

    public var isOpen: Bool { acknowledgedAt == nil && resolvedAt == nil }
}

/// Someone paged by a step.
public struct PageSent: Sendable, Equatable {
    public var step: Int
    public var person: String
    public var at: Int64
}

/// The pager as pure planning: which steps of a page are due, who they reach, and what goes out.
public struct Pager: Sendable {
    public var policies: [String: EscalationPolicy]
    public var schedules: [String: OnCallSchedule]
    public var channels: [String: NotificationChannel]
    public var overrides: [OnCallOverride]

    public init(policies: [String: EscalationPolicy], schedules: [String: OnCallSchedule], channels: [String: NotificationChannel],
                overrides: [OnCallOverride]) {
        self.policies = policies
        self.schedules = schedules
        self.channels = channels
        self.overrides = overrides
    }

    /// The people a target names at `time`.
    public func people(_ target: EscalationPolicy.Target, at time: Int64) -> [String] {
        switch target {
        case .person(let name): [name]
        case .schedule(let name): schedules[name]?.onCall(at: time, overrides: overrides).map { [$0] } ?? []
        }
    }

    /// Fires every step of `page` due at `now`: the page as it stands after, who was reached, and
    /// the deliveries (one per person and channel, keyed by page, step and person so a retry of
    /// the round queues nothing twice).
    public func advance(_ page: PageRecord, now: Int64) -> (page: PageRecord, sent: [PageSent], outbox: [OutboxMessage]) {
        guard page.isOpen, let policy = policies[page.policy] else { return (page, [], []) }
        var page = page
        var sent: [PageSent] = []
        var outbox: [OutboxMessage] = []
        while page.nextStep < policy.steps.count, page.startedAt + policy.steps[page.nextStep].after <= now {
            let step = policy.steps[page.nextStep]
            for person in Self.unique(step.targets.flatMap { people($0, at: now) }) {
                sent.append(PageSent(step: page.nextStep, person: person, at: now))
                page.paged.append(person)
                let notice = Notice(topic: "page", subject: page.subject, summary: page.summary,
                                    text: "Step \(page.nextStep + 1) of \(policy.name): paging \(person). Acknowledge in Warden to stop escalation.",
                                    severity: page.severity, person: person, key: "\(page.id)-\(page.nextStep)-\(person)",
                                    details: [("page", String(page.id)), ("step", String(page.nextStep + 1)), ("policy", policy.name)])
                outbox += policy.channels.compactMap { channels[$0] }.map { notice.delivery(to: $0, at: now) }
            }
            page.nextStep += 1
        }
        page.nextAt = page.nextStep < policy.steps.count ? page.startedAt + policy.steps[page.nextStep].after : nil
        return (page, sent, outbox)
    }

    /// Stops `page`: acknowledged (by `actor`) or resolved. PagerDuty channels hear the matching
    /// event action so the alert there follows.
    public func stop(_ page: PageRecord, acknowledgedBy actor: ActorRef?, now: Int64) -> (PageRecord, [OutboxMessage]) {
        guard page.isOpen else { return (page, []) }
        var page = page
        let action: Notice.Action
        if let actor {
            page.acknowledgedAt = now
            page.acknowledgedBy = actor
            action = .acknowledge
        } else {
            page.resolvedAt = now
            action = .resolve
        }
        page.nextAt = nil
        let notice = Notice(topic: "page.\(action.rawValue)", subject: page.subject, summary: page.summary,
                            text: actor.map { "Acknowledged by \($0.name)." } ?? "Resolved.", severity: page.severity, action: action,
                            key: "\(page.id)-\(action.rawValue)")
        let outbox = (policies[page.policy]?.channels ?? []).compactMap { channels[$0] }
            .filter { $0.kind == .pagerduty || page.paged.isEmpty == false }
            .map { notice.delivery(to: $0, at: now) }
        return (page, outbox)
    }

    static func unique(_ items: [String]) -> [String] {
        var seen = Set<String>()
        return items.filter { seen.insert($0).inserted }
    }
}

extension Int64 {
    func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }

    func modulo(_ divisor: Int64) -> Int64 {
        let remainder = self % divisor
        return remainder < 0 ? remainder + divisor : remainder
    }
}
