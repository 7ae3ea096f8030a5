import Foundation
public import WardenCore
public import WardenRules

/// Known-bad groups to measure detection against: `warden simulate` truth files now, reviewer
/// decisions later (a decision that found a violation becomes a group of one subject).
public struct GroundTruth: Sendable {
    /// One group of abuse: a simulated campaign instance, or a confirmed case.
    public struct Group: Sendable {
        /// Name, such as `signup_farm#0`.
        public var name: String
        /// Kind, such as the campaign (`signup_farm`); results are reported per kind.
        public var kind: String
        /// Taxonomy category.
        public var category: String
        /// When it started (ms), for time to first signal.
        public var startedAt: Int64?
        /// The entities acting for it.
        public var subjects: Set<EntityRef>
    }

    /// All groups.
    public var groups: [Group]

    /// Reads a `warden simulate` truth file (its `campaign` records).
    public static func simulatorTruth(_ text: String) -> GroundTruth {
        var groups: [Group] = []
        for line in text.split(separator: "\n") where line.contains(#""kind":"campaign""#) {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let campaign = object["campaign"] as? String else { continue }
            let subjects = (object["subjects"] as? [String] ?? []).compactMap { EntityRef(parsing: $0) }
            groups.append(Group(name: "\(campaign)#\(object["cycle"] as? Int ?? 0)", kind: campaign, category: object["category"] as? String ?? "",
                                startedAt: (object["started_at"] as? String).flatMap(Timestamp.parseRFC3339), subjects: Set(subjects)))
        }
        return GroundTruth(groups: groups)
    }
}

/// Runs a rule set over stored history with state rebuilt as of each event and no effects, and
/// measures what the rules would have done.
public struct Replay {
    /// Per-rule results.
    public struct RuleStats: Sendable {
        /// The rule.
        public var rule: String
        /// Its mode in the replayed pack.
        public var mode: RuleMode
        /// Events it fired on.
        public var hits = 0
        /// Distinct signal subjects.
        public var subjects = Set<EntityRef>()
        /// Signal subjects that belong to a ground-truth group.
        public var truePositiveSubjects = Set<EntityRef>()
        /// Precision by subject: the share of the rule's subjects that are known bad (nil without ground truth).
        public var precision: Double? = nil
        /// The first events it fired on (ids), for a person to look at.
        public var sampleEvents: [String] = []
    }

    /// Per-group-kind results.
    public struct KindStats: Sendable {
        /// The kind of abuse (campaign).
        public var kind: String
        /// Groups of that kind.
        public var groups = 0
        /// Known-bad subjects in them.
        public var subjects = 0
        /// Subjects that got a signal.
        public var caughtSubjects = 0
        /// The share of subjects that got a signal.
        public var recall: Double { subjects == 0 ? 0 : Double(caughtSubjects) / Double(subjects) }
        /// Median time from a group's start to its first signal on one of its subjects (ms).
        public var medianTimeToFirstSignal: Int64?
        /// Groups with no signal at all.
        public var missedGroups = 0
    }

    /// The report.
    public struct Report: Sendable {
        /// Events replayed.
        public var events = 0
        /// Per rule, in pack order.
        public var rules: [RuleStats]
        /// Events on which both rules fired, for pairs that overlap.
        public var overlaps: [(String, String, Int)]
        /// Per kind of ground-truth group.
        public var kinds: [KindStats]
    }

    private var detector: Detector
    private var stats: [String: RuleStats] = [:]
    private var pairCounts: [String: Int] = [:]
    private var firstSignal: [EntityRef: Int64] = [:]
    private var events = 0
    private let order: [String]

    /// A replay of `rules` starting from empty state.
    public init(rules: RuleSet) {
        detector = Detector(rules: rules)
        order = rules.rules.map(\.name)
        for rule in rules.rules { stats[rule.name] = RuleStats(rule: rule.name, mode: rule.mode) }
    }

    /// Feeds one event.
    public mutating func process(_ event: ParsedEvent, body: [UInt8]) {
        events += 1
        let evaluation = detector.process(event, body: body)
        let names = evaluation.hits.map(\.rule)
        for hit in evaluation.hits {
            stats[hit.rule]?.hits += 1
            if (stats[hit.rule]?.sampleEvents.count ?? 10) < 10 { stats[hit.rule]?.sampleEvents.append(event.id) }
            for case .signal(_, _, let subject?, _) in hit.effects {
                stats[hit.rule]?.subjects.insert(subject)
                if firstSignal[subject] == nil { firstSignal[subject] = event.occurredAt }
            }
        }
        if names.count > 1 {
            for (index, first) in names.enumerated() {
                for second in names[(index + 1)...] { pairCounts["\(first)\u{1F}\(second)", default: 0] += 1 }
            }
        }
    }

    /// The report, measured against `truth` when given.
    public func report(truth: GroundTruth?) -> Report {
        let bad = Set(truth?.groups.flatMap(\.subjects) ?? [])
        var rules = order.compactMap { stats[$0] }
        if truth != nil {
            for index in rules.indices {
                rules[index].truePositiveSubjects = rules[index].subjects.intersection(bad)
                rules[index].precision = rules[index].subjects.isEmpty ? nil
                    : Double(rules[index].truePositiveSubjects.count) / Double(rules[index].subjects.count)
            }
        }
        var kinds: [KindStats] = []
        for (kind, groups) in Dictionary(grouping: truth?.groups ?? [], by: \.kind).sorted(by: { $0.key < $1.key }) {
            var stats = KindStats(kind: kind, groups: groups.count)
            var delays: [Int64] = []
            for group in groups {
                stats.subjects += group.subjects.count
                let caught = group.subjects.filter { firstSignal[$0] != nil }
                stats.caughtSubjects += caught.count
                if let first = caught.compactMap({ firstSignal[$0] }).min(), let started = group.startedAt {
                    delays.append(first - started)
                } else if caught.isEmpty {
                    stats.missedGroups += 1
                }
            }
            delays.sort()
            stats.medianTimeToFirstSignal = delays.isEmpty ? nil : delays[delays.count / 2]
            kinds.append(stats)
        }
        let overlaps = pairCounts.sorted { $0.value > $1.value }.map { entry -> (String, String, Int) in
            let names = entry.key.split(separator: "\u{1F}").map(String.init)
            return (names[0], names[1], entry.value)
        }
        return Report(events: events, rules: rules, overlaps: overlaps, kinds: kinds)
    }
}
