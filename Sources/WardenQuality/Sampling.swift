public import WardenCore

/// How a QA audit chooses which decisions to re-review: which decisions it covers (every filter that
/// is set must match), how many it takes, and whether it draws them from strata.
///
/// The size comes from a target margin and confidence (n₀ = z²·p(1−p)/E² with the finite-population
/// correction over the decisions that match), a fixed rate, or a fixed count. A stratified plan
/// allocates the sample to strata (reviewer, team, queue or policy) in proportion to their size
/// (largest remainders, at least one from every stratum the size allows), or sizes every stratum to
/// the margin on its own (`perStratum`: the plan for "each reviewer's accuracy within ±5 %").
public struct SamplingPlan: Sendable, Equatable, Codable {
    public enum Sizing: Sendable, Equatable, Codable {
        /// Estimate accuracy within ±`margin` at `confidence`, guessing `expected` beforehand.
        case margin(Double, confidence: Double, expected: Double)
        /// This fraction of the decisions that match (rounded up).
        case rate(Double)
        /// This many decisions (or all, when fewer match).
        case count(Int)
    }

    /// What a stratified plan draws from separately.
    public enum StratifyBy: String, Sendable, Equatable, Codable, CaseIterable {
        case reviewer, team, queue, policy
    }

    public enum Allocation: String, Sendable, Equatable, Codable, CaseIterable {
        /// The whole sample is sized once and shared in proportion to each stratum's size.
        case proportional
        /// Each stratum is sized to the margin (or rate, or count) on its own.
        case perStratum = "per_stratum"
    }

    public var queue: String?
    public var reviewer: String?
    public var team: String?
    public var policy: String?
    public var sizing: Sizing
    public var stratifyBy: StratifyBy?
    public var allocation: Allocation
    public var seed: UInt64

    public init(queue: String? = nil, reviewer: String? = nil, team: String? = nil, policy: String? = nil, sizing: Sizing,
                stratifyBy: StratifyBy? = nil, allocation: Allocation = .proportional, seed: UInt64) {
        self.queue = queue
        self.reviewer = reviewer
        self.team = team
        self.policy = policy
        self.sizing = sizing
        self.stratifyBy = stratifyBy
        self.allocation = allocation
        self.seed = seed
    }

    /// How many to take from a population of `population` under this plan's sizing.
    public func size(population: Int) -> Int {
        guard population > 0 else { return 0 }
        switch sizing {
        case .margin(let margin, let confidence, let expected):
            return SampleSize.proportion(margin: margin, confidence: confidence, expected: expected, population: population)
        case .rate(let rate):
            return min(population, Int((Double(population) * rate).rounded(.up)))
        case .count(let count):
            return min(population, count)
        }
    }

    /// Whether `fact` is one of the decisions this plan covers; `teams` are the decider's teams.
    public func covers(_ fact: DecisionFact, teams: [String]) -> Bool {
        if let queue, fact.queue != queue { return false }
        if let reviewer, fact.decider != reviewer { return false }
        if let policy, fact.category != policy { return false }
        if let team, !teams.contains(team) { return false }
        return true
    }

    /// The stratum keys of a decision (a person in several teams is in each of their teams' strata;
    /// the draw puts them in the first).
    func stratum(of fact: DecisionFact, teams: [String]) -> String {
        switch stratifyBy {
        case nil: "all"
        case .reviewer: fact.decider
        case .team: teams.first ?? "(no team)"
        case .queue: fact.queue
        case .policy: fact.category
        }
    }

    /// Draws the sample from `facts` (the window's decisions; those in `excluded`, already audited,
    /// are left out): the same facts and seed always give the same sample. Picks are in decision order.
    public func draw(_ facts: [DecisionFact], teams: [String: [String]], excluded: Set<Int64> = []) -> SampleDraw {
        var strata: [String: [DecisionFact]] = [:]
        var order: [String] = []
        for fact in facts where !excluded.contains(fact.decisionID) {
            let memberOf = teams[fact.decider] ?? []
            guard covers(fact, teams: memberOf) else { continue }
            let key = stratum(of: fact, teams: team.map { [$0] } ?? memberOf)
            if strata[key] == nil { order.append(key) }
            strata[key, default: []].append(fact)
        }
        order.sort()
        let population = strata.values.reduce(0) { $0 + $1.count }
        let sizes: [String: Int]
        switch allocation {
        case .perStratum:
            sizes = Dictionary(uniqueKeysWithValues: order.map { ($0, size(population: strata[$0]!.count)) })
        case .proportional:
            sizes = Self.allocate(size(population: population), to: order.map { ($0, strata[$0]!.count) })
        }
        var generator = SplitMix64(seed: seed)
        var picks: [DecisionFact] = []
        var rows: [SampleDraw.Stratum] = []
        for key in order {
            var members = strata[key]!
            let take = sizes[key] ?? 0
            // A partial Fisher–Yates shuffle: the first `take` places hold a uniform sample.
            for index in 0..<take {
                members.swapAt(index, index + generator.below(members.count - index))
            }
            picks.append(contentsOf: members.prefix(take).map { $0 })
            rows.append(.init(key: key, population: members.count, sampled: take))
        }
        picks.sort { $0.decisionID < $1.decisionID }
        return SampleDraw(population: population, picks: picks, strata: stratifyBy == nil ? [] : rows,
                          strataOf: Dictionary(uniqueKeysWithValues: order.flatMap { key in strata[key]!.map { ($0.decisionID, key) } }))
    }

    /// Shares `total` among strata in proportion to their sizes by largest remainders (Hamilton's
    /// method; ties to the first key); then, when `total` is at least the number of strata, a stratum
    /// left with none takes one from the stratum furthest above its exact share. No stratum gets more
    /// than it holds, and the shares add up to `total` (or the population, when smaller).
    static func allocate(_ total: Int, to strata: [(key: String, size: Int)]) -> [String: Int] {
        let nonEmpty = strata.filter { $0.size > 0 }
        let population = nonEmpty.reduce(0) { $0 + $1.size }
        guard population > 0, total > 0 else { return [:] }
        let total = min(total, population)
        var take: [String: Int] = [:]
        var given = 0
        var remainders: [(key: String, remainder: Int)] = []
        for stratum in nonEmpty {
            let share = total * stratum.size / population
            take[stratum.key] = share
            given += share
            remainders.append((stratum.key, total * stratum.size % population))
        }
        let order = remainders.sorted { $0.remainder != $1.remainder ? $0.remainder > $1.remainder : $0.key < $1.key }
        for entry in order.prefix(total - given) { take[entry.key, default: 0] += 1 }
        if total >= nonEmpty.count {
            // Above its exact share by take − total·size/population; compared in whole numbers.
            for stratum in nonEmpty where take[stratum.key] == 0 {
                let donor = nonEmpty.filter { take[$0.key]! >= 2 }.max { a, b in
                    let (x, y) = (take[a.key]! * population - total * a.size, take[b.key]! * population - total * b.size)
                    return x != y ? x < y : a.key > b.key
                }!
                take[donor.key]! -= 1
                take[stratum.key] = 1
            }
        }
        return take
    }
}

/// What a sampling plan drew.
public struct SampleDraw: Sendable, Equatable {
    public struct Stratum: Sendable, Equatable, Codable {
        public var key: String
        public var population: Int
        public var sampled: Int
    }

    /// The decisions the plan covers (after exclusions).
    public var population: Int
    /// The decisions drawn, in decision order.
    public var picks: [DecisionFact]
    /// Per stratum (empty for an unstratified plan), by key.
    public var strata: [Stratum]
    /// The stratum each covered decision fell in.
    public var strataOf: [Int64: String]
}
