public import WardenCore

/// What the health report needs to know of one decision on a review case, loaded by the store.
public struct DecisionFact: Sendable, Equatable {
    public enum AppealResult: String, Sendable, Codable {
        case upheld, overturned
    }

    public var decisionID: Int64
    public var caseID: Int64
    public var at: Int64
    /// Who decided (`user:ana`, `system:bulk`).
    public var decider: String
    public var queue: String
    public var category: String
    public var violation: Bool
    public var createdAt: Int64
    public var firstActionAt: Int64?
    public var resolvedAt: Int64?
    public var dueAt: Int64
    /// The outcome of the latest decided appeal against this case, if any.
    public var appeal: AppealResult?
    /// Who first escalated the case, if anyone did.
    public var escalatedBy: String?

    public init(decisionID: Int64, caseID: Int64, at: Int64, decider: String, queue: String, category: String, violation: Bool,
                createdAt: Int64, firstActionAt: Int64?, resolvedAt: Int64?, dueAt: Int64, appeal: AppealResult?, escalatedBy: String?) {
        self.decisionID = decisionID
        self.caseID = caseID
        self.at = at
        self.decider = decider
        self.queue = queue
        self.category = category
        self.violation = violation
        self.createdAt = createdAt
        self.firstActionAt = firstActionAt
        self.resolvedAt = resolvedAt
        self.dueAt = dueAt
        self.appeal = appeal
        self.escalatedBy = escalatedBy
    }
}

/// A rate with its count, base and Wilson interval.
public struct Rate: Sendable, Equatable, Codable {
    public var count: Int
    public var of: Int
    public var value: Double?
    public var interval: Interval?

    public init(_ count: Int, of base: Int, confidence: Double = 0.95) {
        let proportion = Proportion(successes: count, trials: base)
        self.count = count
        self.of = base
        self.value = proportion.estimate
        self.interval = proportion.wilson(confidence: confidence)
    }

    var proportion: Proportion { Proportion(successes: count, trials: of) }
}

/// The health of the operation over a period: appeal overturns, SLA attainment, time to first action
/// and to resolution, escalation accuracy — overall, per reviewer, per team (a vendor is a team), per
/// queue and per policy (category) — and weekly trends that say which changes are beyond noise.
///
/// Definitions, decided here: a decision is *overturned* when the latest decided appeal against its
/// case overturned it (the rate's base is appealed decisions, so a reviewer whose few appeals all
/// fail shows a wide interval, not a verdict); *SLA met* means the case was resolved by its due time
/// (paused time already moves the due time); an *escalation is agreed with* when the decision the
/// next tier made found a violation (the case did need more than the first tier could do); a week's
/// change is *beyond noise* when the two-proportion test against the week before gives p < 0.01.
public struct HealthReport: Sendable, Equatable, Codable {
    public struct Row: Sendable, Equatable, Codable {
        public var group: String
        public var decisions: Int
        public var violations: Rate
        /// Overturned of appealed decisions.
        public var overturned: Rate
        /// Appealed of all decisions.
        public var appealed: Rate
        public var slaMet: Rate
        public var firstActionMillis: Percentiles?
        public var resolutionMillis: Percentiles?
    }

    /// Median and 90th percentile by the nearest-rank method (`Distributions.nearestRank`), as the dashboards use.
    public struct Percentiles: Sendable, Equatable, Codable {
        public var p50: Int64
        public var p90: Int64
    }

    public struct Escalation: Sendable, Equatable, Codable {
        public var escalator: String
        /// Escalated cases whose next decision found a violation.
        public var agreed: Rate
    }

    public struct Week: Sendable, Equatable, Codable {
        public var start: Int64
        public var decisions: Int
        public var overturned: Rate
        public var slaMet: Rate
        /// Metrics that moved beyond noise since the week before (`overturned up`, `sla_met down`).
        public var changes: [String]
    }

    public var from: Int64
    public var to: Int64
    public var overall: Row
    public var byReviewer: [Row]
    public var byTeam: [Row]
    public var byQueue: [Row]
    public var byPolicy: [Row]
    public var escalations: [Escalation]
    public var weeks: [Week]
    /// Undecided cases per queue at the time of the report (filled by ``withBacklog(_:now:)``).
    public var backlog: [BacklogRow] = []

    /// The undecided cases of one queue: how many, how many nobody holds, how old the oldest is, and
    /// how many raised an SLA warning (not yet a breach) or a breach.
    public struct BacklogRow: Sendable, Equatable, Codable {
        public var queue: String
        /// Open, escalated, in review or on hold.
        public var undecided: Int
        /// Open or escalated: waiting for someone to claim them.
        public var waiting: Int
        /// Age of the oldest undecided case (ms since it was opened).
        public var oldestAgeMillis: Int64?
        public var warnings: Int
        public var breaches: Int
    }

    /// One line of the store's backlog counts (a queue, a band, a state).
    public struct BacklogCount: Sendable, Equatable {
        public var queue: String
        public var state: String
        public var count: Int
        public var oldestCreatedAt: Int64?
        public var warnings: Int
        public var breaches: Int

        public init(queue: String, state: String, count: Int, oldestCreatedAt: Int64?, warnings: Int, breaches: Int) {
            self.queue = queue
            self.state = state
            self.count = count
            self.oldestCreatedAt = oldestCreatedAt
            self.warnings = warnings
            self.breaches = breaches
        }
    }

    /// The report with the backlog per queue at `now`, from the store's counts per queue, band and
    /// state; `queues` are listed even when empty. Queues in name order.
    public func withBacklog(_ counts: [BacklogCount], queues: [String], now: Int64) -> HealthReport {
        var rows = Dictionary(uniqueKeysWithValues: queues.map { ($0, BacklogRow(queue: $0, undecided: 0, waiting: 0, oldestAgeMillis: nil, warnings: 0, breaches: 0)) })
        for count in counts {
            var row = rows[count.queue] ?? BacklogRow(queue: count.queue, undecided: 0, waiting: 0, oldestAgeMillis: nil, warnings: 0, breaches: 0)
            row.undecided += count.count
            if count.state == "open" || count.state == "escalated" { row.waiting += count.count }
            if let oldest = count.oldestCreatedAt { row.oldestAgeMillis = max(row.oldestAgeMillis ?? 0, max(0, now - oldest)) }
            row.warnings += count.warnings
            row.breaches += count.breaches
            rows[count.queue] = row
        }
        var report = self
        report.backlog = rows.values.sorted { $0.queue < $1.queue }
        return report
    }

    /// The p-value under which a week-on-week change is reported.
    public static let changeThreshold = 0.01

    /// Builds the report from the decisions made in `from ..< to`. `teams` maps a decider
    /// (`user:ana`) to their teams; a decider in several teams counts in each.
    public init(_ facts: [DecisionFact], from: Int64, to: Int64, teams: [String: [String]] = [:], confidence: Double = 0.95) {
        self.init(parts: [facts], from: from, to: to, teams: teams, confidence: confidence)
    }

    /// The same report from the decisions loaded in several parts (the store reads a long window in
    /// parts at once); the parts are read in order, as if they were one list.
    ///
    /// One pass gives every decision its groups (overall, its reviewer, their teams, its queue, its
    /// policy, its week) as slots of one table of counts; the percentiles of every group come from one
    /// sort of all durations and one walk over them, which meets each group's nearest ranks in order
    /// (instead of a sort per group: at a million decisions that was most of the report's time).
    public init(parts: [[DecisionFact]], from: Int64, to: Int64, teams: [String: [String]] = [:], confidence: Double = 0.95) {
        self.from = from
        self.to = to
        var slots = Slots()
        let overallSlot = slots.slot(.overall, "all")
        // Per decider, the slots of the reviewer and their teams, worked out once.
        var deciderSlots: [String: [Int]] = [:]
        var teamSlots: [String: Int] = [:]
        var queueSlots: [String: Int] = [:]
        var policySlots: [String: Int] = [:]
        var weekSlots: [Int64: Int] = [:]
        // Per decision in the window: where its slots are (`members[offset ..< offset + count]`).
        var members: [Int32] = []
        var memberRange: [(offset: Int32, count: Int32)] = []
        var firstActions: [(value: Int64, decision: Int32)] = []
        var resolutions: [(value: Int64, decision: Int32)] = []
        var escalators: [String: (agreed: Int, of: Int)] = [:]
        let count = parts.reduce(0) { $0 + $1.count }
        members.reserveCapacity(count * 6)
        memberRange.reserveCapacity(count)
        firstActions.reserveCapacity(count)
        resolutions.reserveCapacity(count)
        for part in parts {
            for fact in part where fact.at >= from && fact.at < to {
                let decision = Int32(memberRange.count)
                let offset = Int32(members.count)
                members.append(Int32(overallSlot))
                if let known = deciderSlots[fact.decider] {
                    for slot in known { members.append(Int32(slot)) }
                } else {
                    let made = [slots.slot(.reviewer, fact.decider)] + (teams[fact.decider] ?? []).map { team in
                        teamSlots[team] ?? { let made = slots.slot(.team, team); teamSlots[team] = made; return made }()
                    }
                    deciderSlots[fact.decider] = made
                    for slot in made { members.append(Int32(slot)) }
                }
                let queue = queueSlots[fact.queue] ?? { let made = slots.slot(.queue, fact.queue); queueSlots[fact.queue] = made; return made }()
                let policy = policySlots[fact.category] ?? { let made = slots.slot(.policy, fact.category); policySlots[fact.category] = made; return made }()
                members.append(Int32(queue))
                members.append(Int32(policy))
                let range = (offset: offset, count: Int32(members.count) - offset)
                memberRange.append(range)
                let weekStart = Timestamp.startOfWeek(fact.at)
                let week = weekSlots[weekStart] ?? { let made = slots.slot(.week, String(weekStart)); weekSlots[weekStart] = made; return made }()
                let resolved = fact.resolvedAt.map { (at: $0, met: $0 <= fact.dueAt) }
                for index in Int(range.offset) ..< Int(range.offset + range.count) {
                    slots.tallies[Int(members[index])].add(fact, resolved: resolved)
                }
                slots.tallies[week].add(fact, resolved: resolved)
                if let first = fact.firstActionAt { firstActions.append((first - fact.createdAt, decision)) }
                if let resolved { resolutions.append((resolved.at - fact.createdAt, decision)) }
                if let escalator = fact.escalatedBy, escalator != fact.decider {
                    escalators[escalator, default: (0, 0)].of += 1
                    if fact.violation { escalators[escalator, default: (0, 0)].agreed += 1 }
                }
            }
        }
        // The nearest ranks of every group in one walk over all durations in order.
        func percentiles(_ values: inout [(value: Int64, decision: Int32)], count: (Tally) -> Int) -> [Percentiles?] {
            values.sort { $0.value < $1.value }
            let totals = slots.tallies.map(count)
            let ranks = totals.map { total in
                (p50: min(max(Int((0.5 * Double(total)).rounded(.up)), 1), total), p90: min(max(Int((0.9 * Double(total)).rounded(.up)), 1), total))
            }
            var seen = [Int](repeating: 0, count: totals.count)
            var p50 = [Int64](repeating: 0, count: totals.count), p90 = [Int64](repeating: 0, count: totals.count)
            for (value, decision) in values {
                let range = memberRange[Int(decision)]
                for index in Int(range.offset) ..< Int(range.offset + range.count) {
                    let slot = Int(members[index])
                    seen[slot] += 1
                    if seen[slot] == ranks[slot].p50 { p50[slot] = value }
                    if seen[slot] == ranks[slot].p90 { p90[slot] = value }
                }
            }
            return totals.indices.map { totals[$0] == 0 ? nil : Percentiles(p50: p50[$0], p90: p90[$0]) }
        }
        let firstAction = percentiles(&firstActions) { $0.firstActions }
        let resolution = percentiles(&resolutions) { $0.resolved }
        func row(_ slot: Int) -> Row {
            slots.tallies[slot].row(slots.names[slot].name, firstAction: firstAction[slot], resolution: resolution[slot], confidence: confidence)
        }
        func rows(_ kind: Slots.Kind) -> [Row] {
            slots.names.indices.filter { slots.names[$0].kind == kind }.map(row)
                .sorted { $0.decisions > $1.decisions || ($0.decisions == $1.decisions && $0.group < $1.group) }
        }
        self.overall = row(overallSlot)
        self.byReviewer = rows(.reviewer)
        self.byTeam = rows(.team)
        self.byQueue = rows(.queue)
        self.byPolicy = rows(.policy)
        self.escalations = escalators.map { Escalation(escalator: $0.key, agreed: Rate($0.value.agreed, of: $0.value.of, confidence: confidence)) }
            .sorted { $0.agreed.of > $1.agreed.of || ($0.agreed.of == $1.agreed.of && $0.escalator < $1.escalator) }
        var weeks: [Week] = []
        if count > 0, from < to {
            var start = Timestamp.startOfWeek(from)
            var previous: Week?
            while start < to {
                let tally = weekSlots[start].map { slots.tallies[$0] } ?? Tally()
                let row = tally.row("", firstAction: nil, resolution: nil, confidence: confidence)
                var week = Week(start: start, decisions: tally.decisions, overturned: row.overturned, slaMet: row.slaMet, changes: [])
                if let previous {
                    for (name, now, before) in [("overturned", week.overturned, previous.overturned), ("sla_met", week.slaMet, previous.slaMet)] {
                        if let p = now.proportion.pValue(against: before.proportion), p < Self.changeThreshold,
                           let a = now.value, let b = before.value {
                            week.changes.append("\(name) \(a > b ? "up" : "down")")
                        }
                    }
                }
                weeks.append(week)
                previous = week
                start += Timestamp.week
            }
        }
        self.weeks = weeks
    }

    /// The groups of a report, each a slot in one table of counts.
    struct Slots {
        enum Kind { case overall, reviewer, team, queue, policy, week }
        var names: [(kind: Kind, name: String)] = []
        var tallies: [Tally] = []

        mutating func slot(_ kind: Kind, _ name: String) -> Int {
            names.append((kind, name))
            tallies.append(Tally())
            return names.count - 1
        }
    }

    /// Running counts for one group.
    struct Tally {
        var decisions = 0
        var violations = 0
        var appealed = 0
        var overturned = 0
        var resolved = 0
        var slaMet = 0
        var firstActions = 0

        mutating func add(_ fact: DecisionFact, resolved resolution: (at: Int64, met: Bool)?) {
            decisions += 1
            if fact.violation { violations += 1 }
            if let appeal = fact.appeal {
                appealed += 1
                if appeal == .overturned { overturned += 1 }
            }
            if let resolution {
                resolved += 1
                if resolution.met { slaMet += 1 }
            }
            if fact.firstActionAt != nil { firstActions += 1 }
        }

        func row(_ group: String, firstAction: Percentiles?, resolution: Percentiles?, confidence: Double) -> Row {
            Row(group: group, decisions: decisions,
                violations: Rate(violations, of: decisions, confidence: confidence),
                overturned: Rate(overturned, of: appealed, confidence: confidence),
                appealed: Rate(appealed, of: decisions, confidence: confidence),
                slaMet: Rate(slaMet, of: resolved, confidence: confidence),
                firstActionMillis: firstAction, resolutionMillis: resolution)
        }
    }
}
