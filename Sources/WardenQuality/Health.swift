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
        self.from = from
        self.to = to
        var overall = Tally()
        var reviewers: [String: Tally] = [:]
        var teamTallies: [String: Tally] = [:]
        var queues: [String: Tally] = [:]
        var policies: [String: Tally] = [:]
        var escalators: [String: (agreed: Int, of: Int)] = [:]
        var weekTallies: [Int64: Tally] = [:]
        for fact in facts where fact.at >= from && fact.at < to {
            overall.add(fact)
            reviewers[fact.decider, default: Tally()].add(fact)
            for team in teams[fact.decider] ?? [] { teamTallies[team, default: Tally()].add(fact) }
            queues[fact.queue, default: Tally()].add(fact)
            policies[fact.category, default: Tally()].add(fact)
            weekTallies[Timestamp.startOfWeek(fact.at), default: Tally()].add(fact)
            if let escalator = fact.escalatedBy, escalator != fact.decider {
                escalators[escalator, default: (0, 0)].of += 1
                if fact.violation { escalators[escalator, default: (0, 0)].agreed += 1 }
            }
        }
        func rows(_ tallies: [String: Tally]) -> [Row] {
            tallies.map { $0.value.row($0.key, confidence: confidence) }
                .sorted { $0.decisions > $1.decisions || ($0.decisions == $1.decisions && $0.group < $1.group) }
        }
        self.overall = overall.row("all", confidence: confidence)
        self.byReviewer = rows(reviewers)
        self.byTeam = rows(teamTallies)
        self.byQueue = rows(queues)
        self.byPolicy = rows(policies)
        self.escalations = escalators.map { Escalation(escalator: $0.key, agreed: Rate($0.value.agreed, of: $0.value.of, confidence: confidence)) }
            .sorted { $0.agreed.of > $1.agreed.of || ($0.agreed.of == $1.agreed.of && $0.escalator < $1.escalator) }
        var weeks: [Week] = []
        if !facts.isEmpty, from < to {
            var start = Timestamp.startOfWeek(from)
            var previous: Week?
            while start < to {
                let tally = weekTallies[start] ?? Tally()
                let row = tally.row("", confidence: confidence)
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

    /// Running counts for one group.
    struct Tally {
        var decisions = 0
        var violations = 0
        var appealed = 0
        var overturned = 0
        var resolved = 0
        var slaMet = 0
        var firstAction: [Int64] = []
        var resolution: [Int64] = []

        mutating func add(_ fact: DecisionFact) {
            decisions += 1
            if fact.violation { violations += 1 }
            if let appeal = fact.appeal {
                appealed += 1
                if appeal == .overturned { overturned += 1 }
            }
            if let resolvedAt = fact.resolvedAt {
                resolved += 1
                if resolvedAt <= fact.dueAt { slaMet += 1 }
                resolution.append(resolvedAt - fact.createdAt)
            }
            if let first = fact.firstActionAt { firstAction.append(first - fact.createdAt) }
        }

        func row(_ group: String, confidence: Double) -> Row {
            Row(group: group, decisions: decisions,
                violations: Rate(violations, of: decisions, confidence: confidence),
                overturned: Rate(overturned, of: appealed, confidence: confidence),
                appealed: Rate(appealed, of: decisions, confidence: confidence),
                slaMet: Rate(slaMet, of: resolved, confidence: confidence),
                firstActionMillis: Self.percentiles(firstAction), resolutionMillis: Self.percentiles(resolution))
        }

        static func percentiles(_ values: [Int64]) -> Percentiles? {
            guard !values.isEmpty else { return nil }
            let sorted = values.sorted()
            return Percentiles(p50: Distributions.nearestRank(sorted: sorted, 0.5), p90: Distributions.nearestRank(sorted: sorted, 0.9))
        }
    }
}
