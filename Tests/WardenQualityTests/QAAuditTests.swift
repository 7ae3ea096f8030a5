import Foundation
import Testing
import WardenCore
@testable import WardenQuality

@Suite struct QAAuditTests {
    static func fact(_ id: Int64, by decider: String, queue: String = "spam", category: String = "spam", violation: Bool = true) -> DecisionFact {
        DecisionFact(decisionID: id, caseID: id, at: 1_000 + id, decider: decider, queue: queue, category: category, violation: violation,
                     createdAt: id, firstActionAt: nil, resolvedAt: nil, dueAt: 10_000, appeal: nil, escalatedBy: nil)
    }

    // MARK: Sampling

    /// Sizes from a margin are the textbook n₀ = z²p(1−p)/E² with the finite-population correction
    /// (Cochran): 384 of a million at ±5 %, 95 %; 278 of 1,000; a rate rounds up; a count is capped.
    @Test(arguments: [
        (SamplingPlan.Sizing.margin(0.05, confidence: 0.95, expected: 0.5), 1_000_000, 384),
        (.margin(0.05, confidence: 0.95, expected: 0.5), 1_000, 278),
        (.margin(0.03, confidence: 0.95, expected: 0.5), 10_000, 965),
        (.margin(0.05, confidence: 0.99, expected: 0.1), 5_000, 229),
        (.rate(0.02), 1_001, 21),
        (.count(50), 20, 20),
        (.count(50), 0, 0),
    ])
    func sizes(sizing: SamplingPlan.Sizing, population: Int, expected: Int) {
        #expect(SamplingPlan(sizing: sizing, seed: 1).size(population: population) == expected)
    }

    /// The reference values for the sizes above, computed independently: z = 1.959964 (95 %),
    /// 2.575829 (99 %); n₀ = z²·p(1−p)/E², n = n₀/(1 + (n₀−1)/N), rounded up.
    @Test func sizesMatchTheFormulaByHand() {
        let z95 = 1.959963984540054, z99 = 2.5758293035489
        func n(_ z: Double, _ p: Double, _ e: Double, _ N: Double) -> Int {
            let n0 = z * z * p * (1 - p) / (e * e)
            return Int((n0 / (1 + (n0 - 1) / N)).rounded(.up))
        }
        #expect(n(z95, 0.5, 0.05, 1_000) == 278 && n(z95, 0.5, 0.03, 10_000) == 965 && n(z99, 0.1, 0.05, 5_000) == 229)
    }

    /// Proportional allocation shares by largest remainders with at least one per stratum; the
    /// shares always add up to the sample, and no stratum gives more than it holds.
    @Test func proportionalAllocation() {
        let strata = [(key: "a", size: 700), (key: "b", size: 290), (key: "c", size: 10)]
        #expect(SamplingPlan.allocate(100, to: strata) == ["a": 70, "b": 29, "c": 1])
        #expect(SamplingPlan.allocate(10, to: strata) == ["a": 7, "b": 2, "c": 1])
        #expect(SamplingPlan.allocate(2, to: strata) == ["a": 1, "b": 1, "c": 0])  // fewer than strata: no floor
        #expect(SamplingPlan.allocate(1_000, to: strata) == ["a": 700, "b": 290, "c": 10])
        #expect(SamplingPlan.allocate(3, to: [(key: "x", size: 1), (key: "y", size: 1), (key: "z", size: 5)]) == ["x": 1, "y": 1, "z": 1])
        for total in 1...60 {
            let shares = SamplingPlan.allocate(total, to: [(key: "p", size: 13), (key: "q", size: 31), (key: "r", size: 3), (key: "s", size: 1)])
            #expect(shares.values.reduce(0, +) == min(total, 48))  // never more than the 48 there are
            #expect(shares["p"]! <= 13 && shares["q"]! <= 31 && shares["r"]! <= 3 && shares["s"]! <= 1)
        }
    }

    /// A draw covers only what the filters match, leaves out decisions already audited, is the same
    /// for the same seed, and differs for another.
    @Test func drawsAreFilteredRepeatableAndExclusive() {
        let facts = (1...200).map { (n: Int) -> DecisionFact in
            Self.fact(Int64(n), by: n % 2 == 0 ? "user:ana" : "user:vic", queue: n % 5 == 0 ? "hate" : "spam")
        }
        let teams = ["user:vic": ["vendor-a"]]
        let plan = SamplingPlan(team: "vendor-a", sizing: .count(10), seed: 42)
        let first = plan.draw(facts, teams: teams)
        #expect(first.population == 100 && first.picks.count == 10)
        #expect(first.picks.allSatisfy { $0.decider == "user:vic" })
        #expect(first.picks.map(\.decisionID) == first.picks.map(\.decisionID).sorted())
        #expect(plan.draw(facts, teams: teams) == first)
        var other = plan
        other.seed = 43
        #expect(other.draw(facts, teams: teams).picks != first.picks)
        let excluded = Set(first.picks.map(\.decisionID))
        let second = plan.draw(facts, teams: teams, excluded: excluded)
        #expect(second.population == 90 && Set(second.picks.map(\.decisionID)).isDisjoint(with: excluded))
        let hate = SamplingPlan(queue: "hate", reviewer: "user:ana", sizing: .rate(1), seed: 1).draw(facts, teams: teams)
        #expect(hate.population == 20 && hate.picks.count == 20)  // even ids divisible by 5
    }

    /// Every decision is equally likely to be drawn: over 2,000 seeds, each of 20 decisions is drawn
    /// about 2,000 × 5/20 = 500 times (a chi-square test against uniform at p > 0.001).
    @Test func drawsAreUniform() {
        let facts = (1...20).map { (n: Int) -> DecisionFact in Self.fact(Int64(n), by: "user:ana") }
        var counts = [Int64: Int]()
        for seed in 0..<2_000 {
            for pick in SamplingPlan(sizing: .count(5), seed: UInt64(seed)).draw(facts, teams: [:]).picks { counts[pick.decisionID, default: 0] += 1 }
        }
        let chiSquare = counts.values.reduce(0.0) { $0 + pow(Double($1) - 500, 2) / 500 }
        #expect(counts.count == 20)
        #expect(chiSquare < 43.8)  // χ²(19) at p = 0.001
    }

    /// A stratified plan per stratum sizes each reviewer to the margin on their own; a proportional
    /// one shares one size. Strata are reported with their population and sample.
    @Test func stratifiedDraws() {
        let names = ["user:ana", "user:ben", "user:vic"]
        let facts = (1...3_000).map { (n: Int) -> DecisionFact in Self.fact(Int64(n), by: names[n % 3]) }
        let perStratum = SamplingPlan(sizing: .margin(0.05, confidence: 0.95, expected: 0.5), stratifyBy: .reviewer, allocation: .perStratum, seed: 7)
            .draw(facts, teams: [:])
        #expect(perStratum.strata.map(\.key) == ["user:ana", "user:ben", "user:vic"])
        #expect(perStratum.strata.allSatisfy { $0.population == 1_000 && $0.sampled == 278 })
        #expect(perStratum.picks.count == 834)
        let proportional = SamplingPlan(sizing: .margin(0.05, confidence: 0.95, expected: 0.5), stratifyBy: .reviewer, seed: 7).draw(facts, teams: [:])
        #expect(proportional.picks.count == 341)  // n for N = 3,000
        #expect(proportional.strata.map(\.sampled).sorted() == [113, 114, 114])
    }

    // MARK: The QA review's rules

    static let taxonomy = ErrorType.standard
    static let categories: Set<String> = ["spam", "hate.slur"]

    func apply(_ command: QACommand, _ item: QAItem, by actor: ActorRef, lead: Bool = false) throws(QualityError) -> QAItem {
        try QAPlanner.apply(command, to: item, actor: actor, isLead: lead, taxonomy: Self.taxonomy, categories: Self.categories, now: 5).0
    }

    static func item(state: QAState = .waiting) -> QAItem {
        var item = QAItem(id: 1, auditID: 1, decisionID: 9, caseID: 9, decider: "user:ana", queue: "spam", category: "spam", violation: true,
                          decidedAt: 1, stratum: nil)
        item.state = state
        if state != .waiting { item.reviewer = "user:qa" }
        if [.agreed, .disagreed, .disputed, .ruled].contains(state) {
            item.verdict = QAVerdict(violation: state == .agreed, category: state == .agreed ? "spam" : nil,
                                     errors: state == .agreed ? [] : ["false_positive"], notes: nil)
            item.verdictAt = 3
        }
        if [.disputed, .ruled].contains(state) { item.disputedBy = "user:ana"; item.disputeReason = "it was spam" }
        if state == .ruled { item.ruling = .original; item.ruledBy = "user:lee" }
        return item
    }

    /// Which command applies in which state, and by whom: one row per refusal, each with its kind.
    @Test(arguments: [
        (QAState.waiting, QACommand.claim, "user:ana", false, QualityError.Kind.forbidden),  // one's own decision
        (.inReview, .claim, "user:qa2", false, .conflict),
        (.waiting, .release, "user:qa", false, .conflict),
        (.inReview, .release, "user:qa2", false, .forbidden),
        (.waiting, .verdict(QAVerdict(violation: true, category: "spam", errors: [], notes: nil)), "user:qa", false, .conflict),
        (.inReview, .verdict(QAVerdict(violation: true, category: "spam", errors: [], notes: nil)), "user:qa2", false, .forbidden),
        (.inReview, .verdict(QAVerdict(violation: false, category: nil, errors: [], notes: nil)), "user:qa", false, .invalid),  // disagrees, no error named
        (.inReview, .verdict(QAVerdict(violation: true, category: nil, errors: [], notes: nil)), "user:qa", false, .invalid),
        (.inReview, .verdict(QAVerdict(violation: true, category: "fraud", errors: [], notes: nil)), "user:qa", false, .invalid),
        (.inReview, .verdict(QAVerdict(violation: false, category: "spam", errors: ["false_positive"], notes: nil)), "user:qa", false, .invalid),
        (.inReview, .verdict(QAVerdict(violation: false, category: nil, errors: ["typo"], notes: nil)), "user:qa", false, .invalid),
        (.inReview, .verdict(QAVerdict(violation: false, category: nil, errors: ["false_positive", "false_positive"], notes: nil)), "user:qa", false, .invalid),
        (.agreed, .dispute(reason: "r"), "user:ana", false, .conflict),
        (.disagreed, .dispute(reason: "r"), "user:ben", false, .forbidden),
        (.disagreed, .rule(.qa, notes: nil), "user:lee", true, .conflict),
        (.disputed, .rule(.qa, notes: nil), "user:ben", false, .forbidden),
        (.disputed, .rule(.qa, notes: nil), "user:qa", true, .forbidden),  // the QA reviewer does not judge their own verdict
        (.disputed, .rule(.qa, notes: nil), "user:ana", true, .forbidden),
        (.ruled, .rule(.qa, notes: nil), "user:lee", true, .conflict),
    ])
    func refusals(state: QAState, command: QACommand, actor: String, lead: Bool, kind: QualityError.Kind) {
        #expect(throws: QualityError.self) { try apply(command, Self.item(state: state), by: ActorRef(parsing: actor)!, lead: lead) }
        do {
            _ = try apply(command, Self.item(state: state), by: ActorRef(parsing: actor)!, lead: lead)
        } catch {
            #expect(error.kind == kind)
        }
    }

    /// The whole path: claim, a disagreeing verdict (the original is revealed, the decision counts as
    /// wrong), a dispute by the decider, and a ruling for the original (now it counts as right). Each
    /// step writes its audit entry.
    @Test func theWholePath() throws {
        let qa = ActorRef(parsing: "user:qa")!
        var item = Self.item()
        #expect(!item.revealsOriginal && item.correct == nil)
        item = try apply(.claim, item, by: qa)
        #expect(item.state == .inReview && item.reviewer == "user:qa" && item.claimedAt == 5)
        let released = try apply(.release, item, by: ActorRef(parsing: "user:lee")!, lead: true)
        #expect(released.state == .waiting && released.reviewer == nil)
        let (judged, entry) = try QAPlanner.apply(.verdict(QAVerdict(violation: false, category: nil, errors: ["false_positive"], notes: "a joke between friends")),
                                                  to: item, actor: qa, isLead: false, taxonomy: Self.taxonomy, categories: Self.categories, now: 6)
        #expect(judged.state == .disagreed && judged.revealsOriginal && judged.correct == false)
        #expect(entry.action == "qa.verdict" && entry.target == "qa_item:1")
        #expect(entry.detail == #"{"agrees":false,"violation":false,"errors":["false_positive"]}"#)
        let disputed = try apply(.dispute(reason: "the link is a known scam"), judged, by: ActorRef(parsing: "user:ana")!)
        #expect(disputed.state == .disputed && disputed.correct == false)
        let ruled = try apply(.rule(.original, notes: "scam domain on the list"), disputed, by: ActorRef(parsing: "user:lee")!, lead: true)
        #expect(ruled.state == .ruled && ruled.correct == true && ruled.ruledBy == "user:lee")
        var agreeing = try apply(.claim, Self.item(), by: qa)
        agreeing = try apply(.verdict(QAVerdict(violation: true, category: "spam", errors: ["missing_evidence"], notes: nil)), agreeing, by: qa)
        #expect(agreeing.state == .agreed && agreeing.correct == true)  // the right outcome, with a process error noted
    }

    // MARK: Recovering known accuracy

    /// Simulated reviewers of known accuracy (95 %, 85 %, and a vendor at 75 % on harassment and 95 %
    /// elsewhere) decide 6,000 items; a stratified audit sized to ±5 % per reviewer is re-reviewed
    /// against the truth. Each reviewer's accuracy interval holds their true accuracy, and only the
    /// vendor's harassment row is below a 93 % target beyond noise.
    @Test func anAuditRecoversEachReviewersAccuracyAndFlagsTheWeakVendorCategory() {
        var random = SplitMix64(seed: 2026)
        let reviewers = ["user:ana": 0.95, "user:ben": 0.85]
        var facts: [DecisionFact] = []
        var truth: [Int64: (violation: Bool, category: String)] = [:]
        for n in 1...6_000 {
            let id = Int64(n)
            let category = n % 2 == 0 ? "harassment" : "spam"
            let violation = random.chance(0.5)
            truth[id] = (violation, category)
            let decider = ["user:ana", "user:ben", "user:vic"][n % 3]
            let accuracy = decider == "user:vic" ? (category == "harassment" ? 0.75 : 0.95) : reviewers[decider]!
            let right = random.chance(accuracy)
            facts.append(DecisionFact(decisionID: id, caseID: id, at: id, decider: decider, queue: category, category: category,
                                      violation: right ? violation : !violation, createdAt: 0, firstActionAt: nil, resolvedAt: nil, dueAt: 0,
                                      appeal: nil, escalatedBy: nil))
        }
        let teams = ["user:vic": ["vendor-a"]]
        let plan = SamplingPlan(sizing: .margin(0.05, confidence: 0.95, expected: 0.5), stratifyBy: .reviewer, allocation: .perStratum, seed: 11)
        let draw = plan.draw(facts, teams: teams)
        let (_, drawn, _) = try! QAAudit.make(id: 1, name: "ramp", plan: plan, from: 0, to: 7_000, draw: draw, firstItemID: 1, actor: .system("test"), now: 1)
        let reviewed = drawn.map { item -> QAItem in
            var item = item
            let right = truth[item.decisionID]!
            item.verdict = QAVerdict(violation: right.violation, category: right.violation ? right.category : nil,
                                     errors: right.violation == item.violation ? [] : [right.violation ? "missed_violation" : "false_positive"], notes: nil)
            item.state = QAItem.agrees(item.verdict!, violation: item.violation, category: item.category) ? .agreed : .disagreed
            return item
        }
        let report = QAReport(reviewed, teams: teams, taxonomy: ErrorType.standard, target: 0.93)
        let vendorOverall = (0.75 + 0.95) / 2
        for (reviewer, accuracy) in ["user:ana": 0.95, "user:ben": 0.85, "user:vic": vendorOverall] {
            let row = report.byReviewer.first { $0.group == reviewer }!
            #expect(row.checked == 323)  // n for N = 2,000
            #expect(row.interval!.contains(accuracy), "\(reviewer): \(row.accuracy!) in \(row.interval!) should hold \(accuracy)")
        }
        #expect(report.byReviewer.first { $0.group == "user:ben" }!.belowTarget == true)
        #expect(report.byReviewer.first { $0.group == "user:ana" }!.belowTarget == false)
        // The vendor's categories: harassment is flagged, spam is not.
        let vendorItems = reviewed.filter { $0.decider == "user:vic" }
        let vendorByPolicy = QAReport(vendorItems, teams: teams, taxonomy: ErrorType.standard, target: 0.93).byPolicy
        #expect(vendorByPolicy.first { $0.group == "harassment" }!.belowTarget == true)
        #expect(vendorByPolicy.first { $0.group == "spam" }!.belowTarget == false)
        #expect(vendorByPolicy.first { $0.group == "harassment" }!.interval!.contains(0.75))
        #expect(report.byTeam.map(\.group) == ["vendor-a"])
        #expect(report.errors.first.map { ["missed_violation", "false_positive"].contains($0.id) } == true)
        #expect(report.progress.reviewed == 969 && report.progress.waiting == 0)
    }

    /// An audit that would draw more than it may hold is refused, saying how many and what to change.
    @Test func anOversizedAuditIsRefused() {
        let facts = (1...(QAAudit.maximumItems + 1)).map { (n: Int) -> DecisionFact in Self.fact(Int64(n), by: "user:ana") }
        let plan = SamplingPlan(sizing: .rate(1), seed: 1)
        #expect(throws: QualityError(.invalid, "the plan draws 50001 of 50001 decisions; an audit holds at most 50000: use a wider margin, a lower rate or size, or narrower filters")) {
            try QAAudit.make(id: 1, name: "all", plan: plan, from: 0, to: 1, draw: plan.draw(facts, teams: [:]), firstItemID: 1, actor: .system("test"), now: 1)
        }
        var smaller = plan
        smaller.sizing = .rate(0.5)
        #expect((try? QAAudit.make(id: 1, name: "half", plan: smaller, from: 0, to: 1, draw: smaller.draw(facts, teams: [:]), firstItemID: 1,
                                   actor: .system("test"), now: 1))?.1.count == 25_001)
    }

    /// Clopper–Pearson intervals are wider than Wilson's on the same counts; a report says which it used.
    @Test func reportsUseTheChosenInterval() {
        var items: [QAItem] = []
        for n in 1...40 {
            var item = Self.item(state: .agreed)
            item.id = Int64(n)
            if n <= 4 { item.verdict = QAVerdict(violation: false, category: nil, errors: ["false_positive"], notes: nil); item.state = .disagreed }
            items.append(item)
        }
        let wilson = QAReport(items, teams: [:], taxonomy: ErrorType.standard)
        let exact = QAReport(items, teams: [:], taxonomy: ErrorType.standard, method: .clopperPearson)
        #expect(wilson.overall.correct == 36 && wilson.overall.checked == 40)
        #expect(exact.method == .clopperPearson)
        #expect(exact.overall.interval!.lower < wilson.overall.interval!.lower)
        #expect(wilson.errors.first?.id == "false_positive" && wilson.errors.first?.count == 4)
        #expect(wilson.errors.first?.byPolicy == [.init(policy: "spam", count: 4)])
    }

    /// Which finding a decision finally carries: an overturning appeal wins; then a QA verdict that
    /// found it wrong, unless ruled for the original; else the decision.
    @Test func theFinalFinding() {
        let noViolation = QAVerdict(violation: false, category: nil, errors: ["false_positive"], notes: nil)
        let otherPolicy = QAVerdict(violation: true, category: "hate.slur", errors: ["wrong_policy"], notes: nil)
        let agrees = QAVerdict(violation: true, category: "spam", errors: [], notes: nil)
        #expect(FinalFinding.of(violation: true, category: "spam", overturned: false, qaVerdict: nil, ruling: nil) == (true, "spam", false))
        #expect(FinalFinding.of(violation: true, category: "spam", overturned: true, qaVerdict: otherPolicy, ruling: nil) == (false, "spam", false))
        #expect(FinalFinding.of(violation: true, category: "spam", overturned: false, qaVerdict: noViolation, ruling: nil) == (false, "spam", true))
        #expect(FinalFinding.of(violation: true, category: "spam", overturned: false, qaVerdict: otherPolicy, ruling: .qa) == (true, "hate.slur", true))
        #expect(FinalFinding.of(violation: true, category: "spam", overturned: false, qaVerdict: otherPolicy, ruling: .original) == (true, "spam", false))
        #expect(FinalFinding.of(violation: true, category: "spam", overturned: false, qaVerdict: agrees, ruling: nil) == (true, "spam", false))
    }
}
