import WardenCore
/// Working hours in which an SLA clock runs (for teams that do not work around the clock).
public struct BusinessHours: Sendable, Equatable, Codable {
    /// ISO weekdays that are worked: 1 = Monday … 7 = Sunday.
    public var days: Set<Int>
    /// Start of the working day, minutes after local midnight.
    public var startMinute: Int
    /// End of the working day, minutes after local midnight (after `startMinute`).
    public var endMinute: Int
    /// The team's offset from UTC, in minutes (no daylight-saving rules: state the offset you work in).
    public var utcOffsetMinutes: Int

    /// Creates working hours.
    public init(days: Set<Int>, startMinute: Int, endMinute: Int, utcOffsetMinutes: Int = 0) {
        self.days = days
        self.startMinute = startMinute
        self.endMinute = endMinute
        self.utcOffsetMinutes = utcOffsetMinutes
    }

    private static let day: Int64 = 86_400_000

    /// The working interval of the local day that contains `time`, as UTC ms (possibly empty).
    private func window(ofDayContaining time: Int64) -> (dayStart: Int64, open: Int64, close: Int64, worked: Bool) {
        let offset = Int64(utcOffsetMinutes) * 60_000
        let local = time + offset
        let dayIndex = local >= 0 ? local / Self.day : (local - Self.day + 1) / Self.day
        let dayStart = dayIndex * Self.day - offset
        // 1970-01-01 was a Thursday (ISO weekday 4).
        let weekday = Int(((dayIndex % 7) + 7 + 3) % 7) + 1
        return (dayStart, dayStart + Int64(startMinute) * 60_000, dayStart + Int64(endMinute) * 60_000, days.contains(weekday))
    }

    /// Working milliseconds between `start` and `end`.
    public func workingMillis(from start: Int64, to end: Int64) -> Int64 {
        guard end > start, !days.isEmpty, endMinute > startMinute else { return 0 }
        var total: Int64 = 0
        var cursor = start
        while cursor < end {
            let window = window(ofDayContaining: cursor)
            if window.worked {
                let from = max(cursor, window.open), to = min(end, window.close)
                if to > from { total += to - from }
            }
            cursor = window.dayStart + Self.day
        }
        return total
    }

    /// The time at which `amount` working milliseconds have passed after `start`.
    public func advance(from start: Int64, by amount: Int64) -> Int64 {
        guard !days.isEmpty, endMinute > startMinute else { return Int64.max }
        var remaining = max(0, amount)
        var cursor = start
        while true {
            let window = window(ofDayContaining: cursor)
            if window.worked {
                let from = max(cursor, window.open)
                if from < window.close {
                    if remaining <= window.close - from { return from + remaining }
                    remaining -= window.close - from
                }
            }
            cursor = window.dayStart + Self.day
        }
    }
}

/// Targets of one priority band, in (working) milliseconds.
public struct SLATargets: Sendable, Equatable, Codable {
    /// Time to first action (hold, escalation, comment or decision).
    public var firstAction: Int64?
    /// Time to resolution.
    public var resolution: Int64?

    /// Creates targets.
    public init(firstAction: Int64?, resolution: Int64?) {
        self.firstAction = firstAction
        self.resolution = resolution
    }
}

/// A queue's SLA policy.
public struct SLAPolicy: Sendable, Equatable {
    /// Targets per band; a band without targets has no clock.
    public var targets: [CasePriority.Band: SLATargets]
    /// States in which the clock stops (`on_hold` typically). It always stops once a case is decided.
    public var pausedStates: Set<CaseState>
    /// Working hours, or nil for around the clock.
    public var businessHours: BusinessHours?
    /// The fraction of a target after which a warning is raised (0.75 by default).
    public var warnFraction: Double

    /// Creates a policy.
    public init(targets: [CasePriority.Band: SLATargets], pausedStates: Set<CaseState> = [.onHold],
                businessHours: BusinessHours? = nil, warnFraction: Double = 0.75) {
        self.targets = targets
        self.pausedStates = pausedStates
        self.businessHours = businessHours
        self.warnFraction = warnFraction
    }

    /// No targets: nothing is ever due.
    public static let none = SLAPolicy(targets: [:])

    /// Whether the clock runs in `state`.
    public func runs(in state: CaseState) -> Bool {
        state.isOpen && !pausedStates.contains(state)
    }

    func span(from start: Int64, to end: Int64) -> Int64 {
        guard end > start else { return 0 }
        return businessHours?.workingMillis(from: start, to: end) ?? end - start
    }

    func advance(from start: Int64, by amount: Int64) -> Int64 {
        businessHours?.advance(from: start, by: amount) ?? start + max(0, amount)
    }
}

/// An SLA event the timer raises once per case.
public enum SLAEvent: String, Sendable, CaseIterable {
    case firstActionWarning = "first_action.warning"
    case firstActionBreached = "first_action.breached"
    case resolutionWarning = "resolution.warning"
    case resolutionBreached = "resolution.breached"

    /// Its bit in a case's record of events already raised.
    public var flag: Int { 1 << (SLAEvent.allCases.firstIndex(of: self) ?? 0) }
    /// Whether it is a breach (rather than a warning).
    public var isBreach: Bool { self == .firstActionBreached || self == .resolutionBreached }
}

/// A case's SLA clock: running time accumulated so far and, while it runs, since when. One clock
/// serves both targets: time to first action is its reading at the first action.
public struct SLAClock: Sendable, Equatable, Codable {
    /// Running time up to `since` (or up to the pause), in (working) milliseconds.
    public var accumulated: Int64
    /// When the clock last started running; nil while stopped.
    public var since: Int64?

    /// Creates a clock.
    public init(accumulated: Int64 = 0, since: Int64?) {
        self.accumulated = accumulated
        self.since = since
    }

    /// A new case's clock.
    public static func start(at time: Int64, state: CaseState, policy: SLAPolicy) -> SLAClock {
        SLAClock(accumulated: 0, since: policy.runs(in: state) ? time : nil)
    }

    /// The clock after the case moved to `state` at `time`.
    public func moved(to state: CaseState, at time: Int64, policy: SLAPolicy) -> SLAClock {
        let total = elapsed(at: time, policy: policy)
        return SLAClock(accumulated: total, since: policy.runs(in: state) ? time : nil)
    }

    /// Running time at `now`.
    public func elapsed(at now: Int64, policy: SLAPolicy) -> Int64 {
        guard let since else { return accumulated }
        return accumulated + policy.span(from: since, to: now)
    }

    /// When the running time reaches `target`, if the clock keeps running (nil while stopped;
    /// a time in the past once passed).
    public func due(_ target: Int64, policy: SLAPolicy) -> Int64? {
        guard let since else { return nil }
        if accumulated >= target { return since }
        return policy.advance(from: since, by: target - accumulated)
    }

    /// The next SLA event not yet raised and when it falls due, given the band's targets, whether
    /// the first action happened, and the events already raised (`raised`, a set of flags).
    public func nextEvent(targets: SLATargets?, firstActionDone: Bool, raised: Int, policy: SLAPolicy) -> (event: SLAEvent, at: Int64)? {
        guard let targets, since != nil else { return nil }
        var candidates: [(SLAEvent, Int64)] = []
        if !firstActionDone, let target = targets.firstAction {
            candidates.append((.firstActionWarning, Int64(Double(target) * policy.warnFraction)))
            candidates.append((.firstActionBreached, target))
        }
        if let target = targets.resolution {
            candidates.append((.resolutionWarning, Int64(Double(target) * policy.warnFraction)))
            candidates.append((.resolutionBreached, target))
        }
        return candidates.filter { raised & $0.0.flag == 0 }
            .compactMap { event, target in due(target, policy: policy).map { (event, $0) } }
            .min { $0.1 < $1.1 }
    }
}
