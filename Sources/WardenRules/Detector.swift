import Foundation
public import WardenCore

/// A classifier rules can call inline: text in, a score per taxonomy category out, at once.
public protocol TextScorer: Sendable {
    func scores(of text: String) -> [String: Double]
}

/// What a rule did when it fired.
public enum Effect: Sendable, Equatable {
    /// A finding about a subject.
    case signal(category: String, severity: String, subject: EntityRef?, reason: String?)
    /// A label put on an entity, with its expiry time (ms since the epoch) if any.
    case label(EntityRef, String, expiresAt: Int64?)
    /// A label removed.
    case unlabel(EntityRef, String)
    /// A queue for review.
    case route(queue: String)
    /// A proposed enforcement action.
    case action(String, subject: EntityRef?, durationMillis: Int64?)
    /// A verdict for the synchronous API.
    case verdict(Verdict)
}

/// A detector's state as data, to save and restore.
public struct DetectorSnapshot: Sendable, Codable, Equatable {
    /// Labels of one entity.
    public struct Labelled: Sendable, Codable, Equatable {
        var entity: String
        var labels: [String: LabelEntry]
    }

    /// The snapshot layout; a snapshot of another layout is refused (and the log replayed).
    var format = DetectorSnapshot.currentFormat
    var counters: [String: [SavedWindow]]
    var labels: [Labelled]
    var firstSeen: [String: Int64]
    var strikes: [String: Int]
    var hourlyHits: [String: [String: Int]]
    var demoted: [String: String]
    var processed: Int

    /// Canonical bytes: equal states give equal bytes.
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var canonical = self
        canonical.labels.sort { $0.entity < $1.entity }
        return Array(try encoder.encode(canonical))
    }

    /// Reads canonical bytes.
    public static func decode(_ bytes: [UInt8]) throws -> DetectorSnapshot {
        let snapshot = try JSONDecoder().decode(DetectorSnapshot.self, from: Data(bytes))
        guard snapshot.format == currentFormat else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "snapshot format \(snapshot.format), expected \(currentFormat)"))
        }
        return snapshot
    }

    static let currentFormat = 2
}

/// One rule that fired on one event.
public struct RuleHit: Sendable, Equatable {
    /// The rule.
    public var rule: String
    /// Its version.
    public var version: String
    /// Its mode when it fired; shadow hits have no effect.
    public var mode: RuleMode
    /// Its category and severity.
    public var category: String
    /// Severity.
    public var severity: String
    /// What it did (or, for shadow rules, would have done).
    public var effects: [Effect]
    /// Why: the rule's description and the counter values it read.
    public var explanation: String
    /// For a hit that waits for served classifiers: what is left to decide. Its effects are
    /// those the rule will have if the classifiers' answers make it true.
    public var condition: PendingCondition?
}

/// The outcome of one event.
public struct Evaluation: Sendable, Equatable {
    /// Rules that fired, in rule order.
    public var hits: [RuleHit]
    /// The strongest verdict of the active rules that fired (`allow` when none did).
    public var verdict: Verdict
    /// Rules whose other conditions hold and that now wait for classifiers served over an API
    /// (``RuleHit/condition`` says for what). They have not fired.
    public var pending: [RuleHit] = []
}

/// A label on an entity.
public struct LabelEntry: Sendable, Equatable, Codable {
    /// When it was set (event time, ms).
    public var createdAt: Int64
    /// When it lapses, if it does.
    public var expiresAt: Int64?
}

/// Runs a rule set over events in order, keeping the state rules read: velocity counters, labels,
/// first-seen times and strikes. Value type: copy it to branch (replay), keep one per pipeline.
public struct Detector: Sendable {
    /// The rules.
    public private(set) var rules: RuleSet
    /// Count and sum windows per counter, by key hash (empty for distinct counters).
    private var bucketWindows: [[UInt64: BucketWindow]]
    /// Distinct-count windows per counter, by key hash (empty for other counters).
    private var distinctWindows: [[UInt64: DistinctWindow]]
    /// Labels by entity.
    public private(set) var labels: [EntityRef: [String: LabelEntry]] = [:]
    /// When each entity was first seen (earliest event time).
    public private(set) var firstSeen: [EntityRef: Int64] = [:]
    /// Strike counts by entity (maintained by enforcement; read by rules).
    public var strikes: [EntityRef: Int] = [:]
    private var processed = 0
    /// Hits per rule per hour of event time, for the safety valve (the last 25 hours).
    private var hourlyHits: [String: [Int64: Int]] = [:]
    /// Rules the safety valve has demoted to shadow, with why.
    public private(set) var demoted: [String: String] = [:]

    /// Rule and counter indices by the event type they can apply to (those for any type merged
    /// in, in order), and those for any type.
    private let rulesByType: [String: [Candidate]]
    private let rulesForAnyType: [Candidate]
    private let countersByType: [String: [Int]]
    private let countersForAnyType: [Int]
    /// What updating each counter needs, without copying its whole definition per event.
    private let counterPlans: [CounterPlan]
    /// Per-event memory reused from event to event.
    private var scratch: Scratch
    /// The `data` members rules read, found in one pass per event.
    private let layout: DataLayout
    /// The classifiers `classify(…)` calls, by name. One that is missing (a model not trained yet)
    /// makes `classify` unknown, so rules that need it do not fire.
    public var scorers: [String: any TextScorer] = [:]
    /// The classifiers served over an API that are available: a rule that calls one is evaluated
    /// as far as it can be and, if only their answers are missing, reported pending (see
    /// ``PendingCondition``). A served classifier that is not available is unknown, as above.
    public var servedClassifiers: Set<String> = []

    /// A detector with empty state.
    public init(rules: RuleSet) {
        self.rules = rules
        bucketWindows = Array(repeating: [:], count: rules.counters.count)
        distinctWindows = Array(repeating: [:], count: rules.counters.count)
        let (ruleIndex, anyTypeRules) = Self.index(rules.rules.map { $0.mode == .off ? [] : $0.eventTypes })
        rulesByType = Dictionary(uniqueKeysWithValues: ruleIndex.map { type, indices in
            (type, indices.map { Candidate(index: $0, condition: rules.rules[$0].condition.specialized(forEventType: type)) })
        })
        rulesForAnyType = anyTypeRules.map { Candidate(index: $0, condition: rules.rules[$0].condition) }
        (countersByType, countersForAnyType) = Self.index(rules.counters.map(\.eventTypes))
        counterPlans = rules.counters.map(CounterPlan.init)
        layout = DataLayout(rules.dataPaths)
        scratch = Scratch(rules, layout: layout)
    }

    /// A detector for new rules that keeps what still applies of `previous`'s state: labels,
    /// first-seen times, strikes, and the windows of every counter both rule sets define the same
    /// way. A counter that is new starts empty.
    public init(rules: RuleSet, carryingStateFrom previous: Detector) {
        self.init(rules: rules)
        labels = previous.labels
        scorers = previous.scorers
        servedClassifiers = previous.servedClassifiers
        firstSeen = previous.firstSeen
        strikes = previous.strikes
        hourlyHits = previous.hourlyHits
        // A demotion lasts for the rule version it was made for; a new version starts afresh.
        demoted = previous.demoted.filter { name, _ in
            rules.rules.contains { $0.name == name && previous.rules.rules.first { $0.name == name }?.version == $0.version }
        }
        for (index, counter) in rules.counters.enumerated() {
            if let old = previous.rules.counters.firstIndex(where: { $0.signature == counter.signature }) {
                bucketWindows[index] = previous.bucketWindows[old]
                distinctWindows[index] = previous.distinctWindows[old]
            }
        }
    }

    /// The detector's state as data: counters by their definition (so a snapshot survives rule
    /// changes that keep a counter), labels, first-seen times, strikes, hit history, demotions.
    public func snapshot() -> DetectorSnapshot {
        var counters: [String: [SavedWindow]] = [:]
        for (index, counter) in rules.counters.enumerated() {
            let saved = bucketWindows[index].map { SavedWindow(key: $0.key, buckets: $0.value.buckets) }
                + distinctWindows[index].map { SavedWindow(key: $0.key, seen: $0.value.seen) }
            if !saved.isEmpty { counters[counter.signature] = saved.sorted { $0.key < $1.key } }
        }
        let versions = Dictionary(rules.rules.map { ($0.name, $0.version) }, uniquingKeysWith: { first, _ in first })
        return DetectorSnapshot(
            counters: counters, labels: labels.map { DetectorSnapshot.Labelled(entity: $0.key.description, labels: $0.value) },
            firstSeen: Dictionary(firstSeen.map { ($0.key.description, $0.value) }, uniquingKeysWith: min),
            strikes: Dictionary(strikes.map { ($0.key.description, $0.value) }, uniquingKeysWith: max),
            hourlyHits: hourlyHits.mapValues { Dictionary($0.map { (String($0.key), $0.value) }, uniquingKeysWith: +) },
            demoted: Dictionary(demoted.compactMap { name, reason in versions[name].map { ("\(name)@\($0)", reason) } }, uniquingKeysWith: { first, _ in first }),
            processed: processed)
    }

    /// A detector for `rules` with the state of a snapshot (counters matched by definition).
    public init(rules: RuleSet, snapshot: DetectorSnapshot) {
        self.init(rules: rules)
        for (index, counter) in rules.counters.enumerated() {
            for saved in snapshot.counters[counter.signature] ?? [] {
                if let window = saved.buckets.flatMap(BucketWindow.init(buckets:)) { bucketWindows[index][saved.key] = window }
                if let window = saved.seen.flatMap(DistinctWindow.init(seen:)) { distinctWindows[index][saved.key] = window }
            }
        }
        for entry in snapshot.labels {
            if let ref = EntityRef(parsing: entry.entity) { labels[ref] = entry.labels }
        }
        firstSeen = Dictionary(snapshot.firstSeen.compactMap { key, value in EntityRef(parsing: key).map { ($0, value) } }, uniquingKeysWith: min)
        strikes = Dictionary(snapshot.strikes.compactMap { key, value in EntityRef(parsing: key).map { ($0, value) } }, uniquingKeysWith: max)
        hourlyHits = snapshot.hourlyHits.mapValues { Dictionary($0.compactMap { key, value in Int64(key).map { ($0, value) } }, uniquingKeysWith: +) }
        for rule in rules.rules {
            if let reason = snapshot.demoted["\(rule.name)@\(rule.version)"] { demoted[rule.name] = reason }
        }
        processed = snapshot.processed
    }

    /// Indexes items by the event types they apply to, so an event only meets its candidates:
    /// for each named type, its items and those for any type, in order; and those for any type.
    private static func index(_ types: [Set<String>?]) -> ([String: [Int]], [Int]) {
        var byType: [String: [Int]] = [:]
        var any: [Int] = []
        for (index, set) in types.enumerated() {
            guard let set else {
                any.append(index)
                continue
            }
            for type in set { byType[type, default: []].append(index) }
        }
        return (byType.mapValues { ($0 + any).sorted() }, any)
    }

    /// Evaluates every rule on one event (after updating counters with it) and applies the
    /// labels of active rules that fired. `body` is the event's JSON text (for `event.data` fields).
    public mutating func process(_ event: ParsedEvent, body: [UInt8]) -> Evaluation {
        body.withUnsafeBufferPointer { bytes in process(event, bytes: bytes) }
    }

    private mutating func process(_ event: ParsedEvent, bytes: UnsafeBufferPointer<UInt8>) -> Evaluation {
        var context = EventContext(event: event, bytes: bytes, layout: layout)
        swap(&context.scratch, &scratch)
        defer { swap(&context.scratch, &scratch) }
        context.scratch.startEvent()
        if rules.usesAge {
            for entity in event.involvedEntities {
                if let seen = firstSeen[entity] {
                    if event.occurredAt < seen { firstSeen[entity] = event.occurredAt }
                } else {
                    firstSeen[entity] = event.occurredAt
                }
            }
        }
        updateCounters(&context)
        let (hits, verdict, pending) = evaluateRules(&context, countingHits: true)
        // Labels change after every rule has seen the event, so rule order never matters.
        for hit in hits where hit.mode == .active {
            for effect in hit.effects {
                switch effect {
                case .label(let entity, let name, let expiresAt):
                    apply(label: name, to: entity, at: event.occurredAt, expiresAt: expiresAt)
                case .unlabel(let entity, let name):
                    labels[entity]?[name] = nil
                default: break
                }
            }
        }
        processed += 1
        if processed % 50_000 == 0 { sweep(at: event.occurredAt) }
        return Evaluation(hits: hits, verdict: verdict, pending: pending)
    }

    /// Evaluates every rule on one event as `process` would, without changing any state: counters
    /// count the event as if it had been added, and labels are not applied. For the synchronous
    /// API's dry runs.
    public func peek(_ event: ParsedEvent, body: [UInt8]) -> Evaluation {
        body.withUnsafeBufferPointer { bytes in
            var context = EventContext(event: event, bytes: bytes, layout: layout)
            context.scratch = Scratch(rules, layout: layout)
            context.scratch.startEvent()
            context.isVirtual = true
            var copy = self
            let (hits, verdict, pending) = copy.evaluateRules(&context, countingHits: false)
            return Evaluation(hits: hits, verdict: verdict, pending: pending)
        }
    }

    private mutating func evaluateRules(_ context: inout EventContext, countingHits: Bool) -> ([RuleHit], Verdict, [RuleHit]) {
        let (fired, pending) = matches(&context)
        var hits: [RuleHit] = []
        var verdict = Verdict.allow
        for (index, var hit) in fired {
            if countingHits, hit.mode == .active, rules.rules[index].acts,
               let reason = safetyValve(rules.rules[index], at: context.event.occurredAt) {
                demoted[hit.rule] = reason
                hit.mode = .shadow
                let severity = rules.severities.last ?? hit.severity
                hits.append(RuleHit(rule: "safety_valve", version: hit.version, mode: .active, category: hit.category, severity: severity,
                                    effects: [.signal(category: hit.category, severity: severity, subject: nil, reason: reason)],
                                    explanation: reason))
            }
            if hit.mode == .active {
                for effect in hit.effects {
                    if case .verdict(let ruleVerdict) = effect { verdict = max(verdict, ruleVerdict) }
                }
            }
            hits.append(hit)
        }
        return (hits, verdict, pending)
    }

    /// The rules that fire on this event (by index, with their hits in the mode they run in), and
    /// those waiting for served classifiers. Reads state only: kept apart from the safety valve's
    /// bookkeeping so the loop over candidates runs without `self` being mutable (a mutating caller
    /// makes Swift copy the whole detector for each read-only call it makes).
    private func matches(_ context: inout EventContext) -> (fired: [(index: Int, hit: RuleHit)], pending: [RuleHit]) {
        var fired: [(index: Int, hit: RuleHit)] = []
        var pending: [RuleHit] = []
        let candidates = rulesByType[context.event.type] ?? rulesForAnyType
        for position in candidates.indices {
            if !context.scratch.readCounters.isEmpty { context.scratch.readCounters.removeAll(keepingCapacity: true) }
            let asked = context.servedCalls
            let outcome = truth(candidates[position].condition, &context)
            // Most rules do not fire: the rule (a large struct) is only read once one does.
            guard outcome == .true || (outcome == .unknown && context.servedCalls > asked) else { continue }
            let index = candidates[position].index
            let mode = demoted[rules.rules[index].name] == nil ? rules.rules[index].mode : .shadow
            if outcome == .unknown {
                // Only served classifiers' answers may be missing: keep what is left for later.
                // The hit is counted (and the safety valve consulted) when it fires.
                // The hit is made first, so its explanation lists the counters this evaluation read
                // (working out the residual reads them again).
                var waiting = hit(rules.rules[index], mode: mode, &context)
                let residual = self.residual(candidates[position].condition, &context).simplified
                guard residual.asks else { continue }
                waiting.condition = residual
                pending.append(waiting)
                continue
            }
            fired.append((index, hit(rules.rules[index], mode: mode, &context)))
        }
        return (fired, pending)
    }

    /// A rule's hit on this event: its effects and why (its description and the counters it read).
    private func hit(_ rule: CompiledRule, mode: RuleMode, _ context: inout EventContext) -> RuleHit {
        var effects: [Effect] = []
        for plan in rule.effects {
            if let effect = realize(plan, &context) { effects.append(effect) }
        }
        var explanation = rule.description ?? rule.name
        if !context.scratch.readCounters.isEmpty {
            explanation += " (" + context.scratch.readCounters.map { "\(rules.counters[$0.counter].name) = \(Value.number($0.value))" }
                .joined(separator: ", ") + ")"
        }
        return RuleHit(rule: rule.name, version: rule.version, mode: mode, category: rule.category, severity: rule.severity,
                       effects: effects, explanation: explanation)
    }

    /// What is left of a condition once everything but the served classifiers is evaluated on
    /// this event. The checker allows a served classifier only compared with a number under
    /// `and`/`or`/`not`, so other shapes never occur (they would be unknown).
    private func residual(_ node: Node, _ context: inout EventContext) -> PendingCondition {
        guard callsServedClassifier(node) else { return .known(truth(node, &context).bool) }
        switch node {
        case .and(let left, let right): return .and(residual(left, &context), residual(right, &context))
        case .or(let left, let right): return .or(residual(left, &context), residual(right, &context))
        case .not(let operand): return .not(residual(operand, &context))
        case .compare(let op, .function(.classify, let arguments), let other):
            return question(arguments, op, other, &context)
        case .compare(let op, let other, .function(.classify, let arguments)):
            return question(arguments, op.flipped, other, &context)
        default:
            return .known(nil)
        }
    }

    private func question(_ arguments: [Node], _ op: Comparison, _ other: Node, _ context: inout EventContext) -> PendingCondition {
        guard case .constant(.string(let name)) = arguments[0], let text = evaluate(arguments[1], &context).text,
              let threshold = evaluate(other, &context).numeric else { return .known(nil) }
        let category = arguments.count > 2 ? evaluate(arguments[2], &context).text : nil
        return .score(ClassifierQuestion(classifier: name, text: text), category: category, comparison: op.rawValue, threshold: threshold)
    }

    /// Whether evaluating the node calls a served classifier this detector asks later.
    private func callsServedClassifier(_ node: Node) -> Bool {
        switch node {
        case .function(.classify, let arguments):
            if case .constant(.string(let name)) = arguments.first, scorers[name] == nil, servedClassifiers.contains(name) { return true }
            return arguments.contains { callsServedClassifier($0) }
        case .function(_, let arguments), .list(let arguments): return arguments.contains { callsServedClassifier($0) }
        case .not(let operand), .regex(let operand, _), .inSet(let operand, _), .hasLabel(let operand, _, _): return callsServedClassifier(operand)
        case .and(let left, let right), .or(let left, let right), .compare(_, let left, let right), .stringTest(_, let left, let right),
             .inValues(let left, let right), .arithmetic(_, let left, let right):
            return callsServedClassifier(left) || callsServedClassifier(right)
        case .constant, .field, .velocity: return false
        }
    }

    /// Counts a hit that fired after its event, through the classification stage, toward its rule's
    /// budget like any other, and says why the rule is demoted if it is (now or already): the hit
    /// then has no effect. Nil for a rule version no longer in force, or one that does not act.
    public mutating func countLateHit(rule name: String, version: String, at time: Int64) -> (reason: String, severity: String)? {
        guard let rule = rules.rules.first(where: { $0.name == name && $0.version == version }), rule.mode == .active, rule.acts else { return nil }
        let severity = rules.severities.last ?? rule.severity
        if let reason = demoted[name] { return (reason, severity) }
        guard let reason = safetyValve(rule, at: time) else { return nil }
        demoted[name] = reason
        return (reason, severity)
    }

    /// Counts an acting rule's hit and says why it must be demoted, if it must: more hits this hour
    /// than its budget, or at least 100 and ten times its average hour over the previous day.
    private mutating func safetyValve(_ rule: CompiledRule, at time: Int64) -> String? {
        let hour = time / 3_600_000
        var counts = hourlyHits[rule.name, default: [:]]
        counts[hour, default: 0] += 1
        counts = counts.filter { $0.key > hour - 25 }
        hourlyHits[rule.name] = counts
        let current = counts[hour] ?? 0
        if current > rule.budget {
            return "rule \(rule.name) demoted to shadow: \(current) hits this hour exceed its budget of \(rule.budget)"
        }
        let previous = (1...24).reduce(0) { $0 + (counts[hour - Int64($1)] ?? 0) }
        let history = counts.keys.filter { $0 < hour }.count
        let baseline = Double(previous) / 24
        if history >= 3, current >= 100, Double(current) > 10 * max(baseline, 1) {
            return "rule \(rule.name) demoted to shadow: \(current) hits this hour, over ten times its average of \(String(format: "%.1f", baseline)) an hour"
        }
        return nil
    }

    /// Sets a label; setting a live label again keeps when it was first set and extends its expiry.
    private mutating func apply(label name: String, to entity: EntityRef, at time: Int64, expiresAt: Int64?) {
        if let existing = labels[entity]?[name], existing.expiresAt.map({ $0 > time }) ?? true {
            let expiry = existing.expiresAt.flatMap { old in expiresAt.map { max(old, $0) } }
            labels[entity]?[name] = LabelEntry(createdAt: existing.createdAt, expiresAt: expiry)
        } else {
            labels[entity, default: [:]][name] = LabelEntry(createdAt: time, expiresAt: expiresAt)
        }
    }

    /// How many rules an event of this type is evaluated against (the rules indexed by its type
    /// and those for any type; rules that are off are never evaluated).
    public func candidateCount(forEventType type: String) -> Int {
        (rulesByType[type] ?? rulesForAnyType).count
    }

    /// Number of live counter keys (for memory accounting).
    public var counterKeyCount: Int {
        bucketWindows.reduce(0) { $0 + $1.count } + distinctWindows.reduce(0) { $0 + $1.count }
    }

    /// Bytes the counter state occupies by its layout: each dictionary's hash table (a
    /// power-of-two number of slots, each a key and a window, plus its occupancy bitmap) and the
    /// heap arrays of windows holding more than one bucket or value. Allocator overhead aside,
    /// this is what the keys cost; divide by ``counterKeyCount`` for bytes per key-window.
    public var counterStateBytes: Int {
        func table<Key, Window>(_ dictionary: [Key: Window]) -> Int {
            guard dictionary.capacity > 0 else { return 0 }
            let slots = Int(Double(dictionary.capacity) / 0.75).nextPowerOfTwo
            return 64 + slots * (MemoryLayout<Key>.stride + MemoryLayout<Window>.stride) + slots / 8
        }
        var bytes = 0
        for windows in bucketWindows {
            bytes += table(windows)
            for window in windows.values where window.older.capacity > 0 {
                bytes += 32 + window.older.capacity * MemoryLayout<Bucket>.stride
            }
        }
        for windows in distinctWindows {
            bytes += table(windows)
            for window in windows.values { bytes += table(window.others) }
        }
        return bytes
    }

    // MARK: - Counters

    private mutating func updateCounters(_ context: inout EventContext) {
        let time = context.event.occurredAt
        for index in countersByType[context.event.type] ?? countersForAnyType {
            // The type index already holds only the counters this event's type can feed. Fields
            // are read from the plan in place: copying a whole plan would retain its expressions.
            if let filter = counterPlans[index].filter, truth(filter, &context) != .true { continue }
            guard let key = keyHash(counterPlans[index].keySlot, &context) else { continue }
            let (width, window) = (counterPlans[index].width, counterPlans[index].window)
            switch counterPlans[index].aggregate {
            case .count:
                bucketWindows[index][key, default: BucketWindow(0, at: time, width: width)].add(1, at: time, width: width, window: window)
            case .sum:
                guard let value = counterPlans[index].value.flatMap({ evaluate($0, &context).numeric }) else { continue }
                bucketWindows[index][key, default: BucketWindow(0, at: time, width: width)].add(value, at: time, width: width, window: window)
            case .distinct:
                guard let slot = counterPlans[index].valueSlot, let value = keyHash(slot, &context) else { continue }
                if distinctWindows[index][key]?.add(value, at: time, window: window) == nil {
                    distinctWindows[index][key] = DistinctWindow(value, at: time)
                }
            }
        }
    }

    /// The hash of a counter key expression for this event, computed once per event.
    private func keyHash(_ slot: Int, _ context: inout EventContext) -> UInt64? {
        if let cached = context.scratch.keyHash(slot) { return cached }
        let hash = evaluate(rules.counterKeys[slot], &context).keyHash
        context.scratch.remember(keyHash: hash, slot: slot)
        return hash
    }

    private func counterValue(_ index: Int, _ context: inout EventContext) -> Value {
        if let cached = context.scratch.counterValue(index) {
            context.scratch.readCounters.append((index, cached))
            return .number(cached)
        }
        // The plan is read in place: copying the counter's definition would retain its expressions.
        guard let key = keyHash(counterPlans[index].keySlot, &context) else { return .null }
        let (time, width, window) = (context.event.occurredAt, counterPlans[index].width, counterPlans[index].window)
        var value: Double
        switch counterPlans[index].aggregate {
        case .count, .sum: value = bucketWindows[index][key]?.total(at: time, width: width, window: window) ?? 0
        case .distinct: value = Double(distinctWindows[index][key]?.count(at: time, window: window) ?? 0)
        }
        if context.isVirtual {
            countVirtually(index, key: key, into: &value, &context)
        }
        context.scratch.remember(counterValue: value, index: index)
        context.scratch.readCounters.append((index, value))
        return .number(value)
    }

    /// For a dry run, adds the event itself to a counter's value, as processing it would.
    private func countVirtually(_ index: Int, key: UInt64, into value: inout Double, _ context: inout EventContext) {
        let counter = rules.counters[index]
        let time = context.event.occurredAt
        if counter.eventType.map({ $0 == context.event.type }) ?? true,
           counter.filter.map({ truth($0, &context) == .true }) ?? true {
            // The event counts itself, as it would once processed.
            switch counter.aggregate {
            case .count: value += 1
            case .sum: value += counter.value.flatMap { evaluate($0, &context).numeric } ?? 0
            case .distinct:
                if let slot = counter.valueSlot, let item = keyHash(slot, &context),
                   distinctWindows[index][key]?.contains(item, at: time, window: counter.window) != true {
                    value += 1
                }
            }
        }
    }

    /// Drops counter keys whose windows hold nothing any more, and lapsed labels.
    private mutating func sweep(at time: Int64) {
        for (index, counter) in rules.counters.enumerated() {
            bucketWindows[index] = bucketWindows[index].filter { !$0.value.isStale(at: time, width: counter.bucketWidth, window: counter.window) }
            distinctWindows[index] = distinctWindows[index].filter { !$0.value.isStale(at: time, window: counter.window) }
        }
        labels = labels.compactMapValues { entries in
            let live = entries.filter { $0.value.expiresAt.map { $0 > time } ?? true }
            return live.isEmpty ? nil : live
        }
    }

    // MARK: - Evaluation

    private func realize(_ plan: EffectPlan, _ context: inout EventContext) -> Effect? {
        func entity(_ node: Node?) -> EntityRef? {
            guard let node else { return context.event.actor }
            if case .entity(let ref) = evaluate(node, &context) { return ref }
            return nil
        }
        switch plan {
        case .signal(let subject, let category, let severity, let reason):
            return .signal(category: category, severity: severity, subject: entity(subject), reason: reason)
        case .label(let node, let name, let expiry):
            guard let target = entity(node) else { return nil }
            return .label(target, name, expiresAt: expiry.map { context.event.occurredAt + $0 })
        case .unlabel(let node, let name):
            guard let target = entity(node) else { return nil }
            return .unlabel(target, name)
        case .route(let queue):
            return .route(queue: queue)
        case .action(let name, let subject, let duration):
            return .action(name, subject: entity(subject), durationMillis: duration)
        case .verdict(let verdict):
            return .verdict(verdict)
        }
    }

    func evaluate(_ node: Node, _ context: inout EventContext) -> Value {
        switch node {
        case .constant(let value):
            return value
        case .field(let field):
            return context.value(of: field)
        case .list(let items):
            return .list(items.map { evaluate($0, &context) })
        case .not, .and, .or, .compare, .stringTest, .regex, .inSet, .inValues, .hasLabel:
            return truth(node, &context).value
        case .arithmetic(let op, let left, let right):
            guard let lhs = evaluate(left, &context).numeric, let rhs = evaluate(right, &context).numeric else { return .null }
            switch op {
            case .add: return .number(lhs + rhs)
            case .subtract: return .number(lhs - rhs)
            case .multiply: return .number(lhs * rhs)
            case .divide: return rhs == 0 ? .null : .number(lhs / rhs)
            }
        case .function(.classify, let arguments):
            return classify(arguments, &context)
        case .function(let function, let arguments):
            // Every other function takes at most one argument.
            let argument = arguments.first.map { evaluate($0, &context) } ?? .null
            // Text functions are pure and several rules (and counter filters) often apply the same
            // one to the same field of one event: compute each once per event.
            guard function.isTextTransform, let input = argument.text else { return apply(function, argument, &context) }
            let key = TextCall(function: function, input: input)
            if let cached = context.textCalls[key] { return cached }
            let result = apply(function, argument, &context)
            context.textCalls[key] = result
            return result
        case .velocity(let index):
            return counterValue(index, &context)
        }
    }

    /// The truth of a condition, without building a `Value` for each test on the way.
    func truth(_ node: Node, _ context: inout EventContext) -> Truth {
        switch node {
        case .not(let operand):
            return !truth(operand, &context)
        case .and(let left, let right):
            let lhs = truth(left, &context)
            if lhs == .false { return .false }
            let rhs = truth(right, &context)
            if rhs == .false { return .false }
            return lhs == .true && rhs == .true ? .true : .unknown
        case .or(let left, let right):
            let lhs = truth(left, &context)
            if lhs == .true { return .true }
            let rhs = truth(right, &context)
            if rhs == .true { return .true }
            return lhs == .false && rhs == .false ? .false : .unknown
        case .compare(let op, let operand, .constant(.null)), .compare(let op, .constant(.null), let operand):
            return Self.nullTest(op, evaluate(operand, &context))
        case .compare(let op, .field(.data(let slot)), .constant(.string(let constant))) where op == .equal || op == .notEqual:
            // A string field against a string: compared in the event's bytes when that is exact.
            if case .text(let range) = context.dataField(slot), let equal = Self.asciiEqual(context.bytes[range], constant) {
                return Truth(op == .equal ? equal : !equal)
            }
            return Self.compare(op, context.value(of: .data(slot)), .string(constant))
        case .compare(let op, let left, .constant(let constant)):
            return Self.compare(op, evaluate(left, &context), constant)
        case .compare(let op, let left, let right):
            return Self.compare(op, evaluate(left, &context), evaluate(right, &context))
        case .stringTest(let op, .field(.data(let slot)), .constant(.string(let needle))):
            // A string field tested against a constant: tested in the event's bytes.
            if case .text(let range) = context.dataField(slot) {
                return Truth(needle.utf8.withContiguousStorageIfAvailable { Self.test(op, UnsafeBufferPointer(rebasing: context.bytes[range]), $0) }
                    ?? Self.test(op, context.value(of: .data(slot)).text ?? "", needle))
            }
            return context.value(of: .data(slot)).anyText { Self.test(op, $0, needle) }
        case .stringTest(let op, let left, let right):
            let subject = evaluate(left, &context)
            let needle: String
            if case .constant(.string(let text)) = right {
                needle = text
            } else if let text = evaluate(right, &context).text {
                needle = text
            } else {
                return .unknown
            }
            return subject.anyText { Self.test(op, $0, needle) }
        case .regex(let operand, let regex):
            return evaluate(operand, &context).anyText { regex.matches($0) }
        case .inSet(let operand, let items):
            return evaluate(operand, &context).anyText { items.contains(TextNormalizer.lowercasedForLookup($0)) }
        case .inValues(let operand, let collection):
            return Self.membership(evaluate(operand, &context), evaluate(collection, &context))
        case .hasLabel(let target, let name, let minimumAge):
            guard case .entity(let ref) = evaluate(target, &context) else { return .unknown }
            guard let entry = labels[ref]?[name] else { return .false }
            let time = context.event.occurredAt
            let live = entry.expiresAt.map { $0 > time } ?? true
            let oldEnough = minimumAge.map { time - entry.createdAt >= $0 } ?? true
            return Truth(live && oldEnough)
        default:
            return evaluate(node, &context).truth
        }
    }

    /// `subject in collection`: whether the subject (or any item of a list subject) equals an item.
    static func membership(_ subject: Value, _ collection: Value) -> Truth {
        guard !subject.isNull, case .list(let items) = collection else { return .unknown }
        if case .list(let candidates) = subject {
            return Truth(candidates.contains { candidate in items.contains { compare(.equal, candidate, $0) == .true } })
        }
        return Truth(items.contains { compare(.equal, subject, $0) == .true })
    }

    /// `classify("name", text[, "category"])`: the classifier's score for the category, or its
    /// highest; a text is classified once per event by each classifier.
    private func classify(_ arguments: [Node], _ context: inout EventContext) -> Value {
        guard case .constant(.string(let name)) = arguments[0] else { return .null }
        guard let scorer = scorers[name] else {
            // A served classifier answers later: unknown now, and noted so the rule is kept pending.
            if servedClassifiers.contains(name) { context.servedCalls += 1 }
            return .null
        }
        guard let text = evaluate(arguments[1], &context).text else { return .null }
        let category = arguments.count > 2 ? evaluate(arguments[2], &context).text : nil
        let key = name + "\u{0}" + text
        let scores: [String: Double]
        if let known = context.classifications[key] {
            scores = known
        } else {
            scores = scorer.scores(of: text)
            context.classifications[key] = scores
        }
        return .number(category.map { scores[$0] ?? 0 } ?? scores.values.max() ?? 0)
    }

    private func apply(_ function: Function, _ argument: Value, _ context: inout EventContext) -> Value {
        switch function {
        case .now: return .number(Double(context.event.occurredAt))
        case .lower: return argument.text.map { .string($0.lowercased()) } ?? .null
        case .upper: return argument.text.map { .string($0.uppercased()) } ?? .null
        case .normalize: return argument.text.map { .string(TextNormalizer.normalize($0)) } ?? .null
        case .length:
            if case .list(let items) = argument { return .number(Double(items.count)) }
            return argument.text.map { .number(Double($0.count)) } ?? .null
        case .domains: return argument.text.map { .list(Links.domains(in: $0).map(Value.string)) } ?? .null
        case .urls: return argument.text.map { .list(Links.urls(in: $0).map(Value.string)) } ?? .null
        case .age:
            guard case .entity(let ref) = argument else { return .null }
            let time = context.event.occurredAt
            guard let seen = context.isVirtual ? min(firstSeen[ref] ?? time, time) : firstSeen[ref] else { return .null }
            return .duration(time - seen)
        case .strikes:
            guard case .entity(let ref) = argument else { return .null }
            return .number(Double(strikes[ref] ?? 0))
        case .classify:
            return .null  // evaluated by classify(_:_:), which reads all its arguments
        }
    }

    /// A string test on UTF-8 bytes, as written (`normalize(…)` folds case and look-alikes first
    /// when wanted). Byte for byte, so `startswith` agrees with `contains`, and no copy is made.
    static func test(_ op: StringTest, _ text: String, _ needle: String) -> Bool {
        let result = text.utf8.withContiguousStorageIfAvailable { bytes in
            needle.utf8.withContiguousStorageIfAvailable { needleBytes in
                Self.test(op, bytes, needleBytes)
            }
        }
        if let result = result ?? nil { return result }
        // Strings that are not stored contiguously (rare: bridged ones) are copied first.
        return Array(text.utf8).withUnsafeBufferPointer { bytes in
            Array(needle.utf8).withUnsafeBufferPointer { needleBytes in Self.test(op, bytes, needleBytes) }
        }
    }

    static func test(_ op: StringTest, _ bytes: UnsafeBufferPointer<UInt8>, _ needle: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.count >= needle.count else { return false }
        guard let start = bytes.baseAddress, let pattern = needle.baseAddress else { return needle.isEmpty }
        switch op {
        case .contains: return find(needle, in: bytes)
        case .startswith: return memcmp(start, pattern, needle.count) == 0
        case .endswith: return memcmp(start + (bytes.count - needle.count), pattern, needle.count) == 0
        }
    }

    /// Whether `bytes` spell `text` exactly, when a byte comparison decides it: both ASCII, or
    /// the bytes equal. Nil when only a Unicode comparison can tell (canonically equivalent forms).
    static func asciiEqual(_ bytes: Slice<UnsafeBufferPointer<UInt8>>, _ text: String) -> Bool? {
        let same = text.utf8.withContiguousStorageIfAvailable { utf8 in
            guard utf8.count == bytes.count else { return false }
            guard let left = utf8.baseAddress, let right = bytes.base.baseAddress else { return true }
            return memcmp(left, right + bytes.startIndex, utf8.count) == 0
        }
        guard let same else { return nil }
        if same { return true }
        return bytes.allSatisfy { $0 < 0x80 } && text.utf8.allSatisfy { $0 < 0x80 } ? false : nil
    }

    /// Substring search on bytes.
    static func contains(_ haystack: String, _ needle: String) -> Bool {
        test(.contains, haystack, needle)
    }

    private static func find(_ needle: UnsafeBufferPointer<UInt8>, in bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let first = needle.first else { return true }
        guard bytes.count >= needle.count else { return false }
        var index = 0
        let last = bytes.count - needle.count
        while index <= last {
            if bytes[index] == first {
                var offset = 1
                while offset < needle.count, bytes[index + offset] == needle[offset] { offset += 1 }
                if offset == needle.count { return true }
            }
            index += 1
        }
        return false
    }

    /// `value == null` / `value != null`: the explicit test for a missing value (the only
    /// comparison with null that is not unknown).
    static func nullTest(_ op: Comparison, _ value: Value) -> Truth {
        switch op {
        case .equal: Truth(value.isNull)
        case .notEqual: Truth(!value.isNull)
        default: .unknown
        }
    }

    /// Compares two values; any comparison involving a missing value is unknown (see ``nullTest``
    /// for comparisons written against the literal `null`).
    static func compare(_ op: Comparison, _ lhs: Value, _ rhs: Value) -> Truth {
        if lhs.isNull || rhs.isNull { return .unknown }
        if op == .equal || op == .notEqual {
            let equal: Bool
            if case .string(let left) = lhs, case .string(let right) = rhs {
                equal = left == right
            } else if lhs.isNumeric || rhs.isNumeric, let left = lhs.numeric, let right = rhs.numeric {
                equal = left == right
            } else if case .bool(let left) = lhs, case .bool(let right) = rhs {
                equal = left == right
            } else if let left = lhs.text, let right = rhs.text {
                equal = left == right
            } else {
                equal = lhs == rhs
            }
            return Truth(op == .equal ? equal : !equal)
        }
        if lhs.isNumeric || rhs.isNumeric, let left = lhs.numeric, let right = rhs.numeric {
            return Truth(op.orders(left, right))
        }
        if case .string(let left) = lhs, case .string(let right) = rhs {
            return Truth(op.orders(left, right))
        }
        return .unknown
    }
}

extension Comparison {
    /// The ordering comparisons (`<`, `<=`, `>`, `>=`) applied to two values.
    func orders<T: Comparable>(_ left: T, _ right: T) -> Bool {
        switch self {
        case .less: left < right
        case .lessOrEqual: left <= right
        case .greater: left > right
        case .greaterOrEqual: left >= right
        case .equal: left == right
        case .notEqual: left != right
        }
    }
}

extension Value {
    var truth: Truth {
        switch self {
        case .bool(let value): Truth(value)
        case .null: .unknown
        default: .unknown
        }
    }

    var isNull: Bool {
        if case .null = self { true } else { false }
    }

    var isNumeric: Bool {
        switch self {
        case .number, .duration: true
        default: false
        }
    }

    /// A string test over this value's text, or each item's for a list: true when any passes,
    /// unknown when there is no text to test.
    func anyText(_ test: (String) -> Bool) -> Truth {
        if case .list(let items) = self {
            var sawText = false
            for item in items {
                guard let text = item.text else { continue }
                if test(text) { return .true }
                sawText = true
            }
            return sawText ? .false : .unknown
        }
        guard let text else { return .unknown }
        return Truth(test(text))
    }

    /// The hash a counter groups (or counts distinct values) by: entities by `type:id`, other
    /// values by their text.
    var keyHash: UInt64? {
        if case .entity(let ref) = self {
            var hasher = StableHash()
            hasher.combine(ref.type)
            hasher.combine(UInt8(ascii: ":"))
            hasher.combine(ref.id)
            return hasher.finalize()
        }
        return text.map(StableHash.of)
    }
}

extension Truth {
    var value: Value {
        switch self {
        case .true: .bool(true)
        case .false: .bool(false)
        case .unknown: .null
        }
    }
}

extension Int {
    /// The smallest power of two at least this large.
    var nextPowerOfTwo: Int {
        self <= 1 ? 1 : 1 << (Int.bitWidth - (self - 1).leadingZeroBitCount)
    }
}

/// The parts of a counter definition that updating it reads.
struct CounterPlan: Sendable {
    let aggregate: VelocitySyntax.Aggregate
    let filter: Node?
    let value: Node?
    let keySlot: Int
    let valueSlot: Int?
    let width: Int64
    let window: Int64

    init(_ counter: CounterDefinition) {
        aggregate = counter.aggregate
        filter = counter.filter
        value = counter.value
        keySlot = counter.keySlot
        valueSlot = counter.valueSlot
        width = counter.bucketWidth
        window = counter.window
    }
}

/// A rule to evaluate for an event type, with its condition specialised to that type.
struct Candidate: Sendable {
    let index: Int
    let condition: Node
}

/// A text function applied to a text, for per-event memoisation.
struct TextCall: Hashable {
    let function: Function
    let input: String
}

extension Function {
    /// Pure functions of one text argument, worth remembering within an event.
    var isTextTransform: Bool {
        switch self {
        case .lower, .upper, .normalize, .domains, .urls: true
        default: false
        }
    }
}

/// Values computed once per event and reused by every rule that reads them: `data` fields, counter
/// key hashes and counter values. The arrays live as long as the detector; an entry belongs to
/// the current event when its stamp equals the event's serial number, so nothing is cleared
/// between events.
struct Scratch: Sendable {
    private var serial: UInt64 = 0
    private var dataFields: [DataField]
    private var dataFieldStamps: [UInt64]
    private var dataValues: [Value]
    private var dataStamps: [UInt64]
    private var keyHashes: [UInt64?]
    private var keyStamps: [UInt64]
    private var counterValues: [Double]
    private var counterStamps: [UInt64]
    private var memberRanges: [Range<Int>?]
    private var membersStamp: UInt64 = 0
    /// Counters the rule being evaluated read, with their values (for its explanation).
    var readCounters: [(counter: Int, value: Double)] = []

    init(_ rules: RuleSet, layout: DataLayout) {
        dataFields = Array(repeating: .missing, count: rules.dataPaths.count)
        dataFieldStamps = Array(repeating: 0, count: rules.dataPaths.count)
        dataValues = Array(repeating: .null, count: rules.dataPaths.count)
        dataStamps = Array(repeating: 0, count: rules.dataPaths.count)
        keyHashes = Array(repeating: nil, count: rules.counterKeys.count)
        keyStamps = Array(repeating: 0, count: rules.counterKeys.count)
        counterValues = Array(repeating: 0, count: rules.counters.count)
        counterStamps = Array(repeating: 0, count: rules.counters.count)
        memberRanges = Array(repeating: nil, count: layout.members.count)
    }

    /// An empty placeholder (no storage).
    init() {
        dataFields = []
        dataFieldStamps = []
        dataValues = []
        dataStamps = []
        keyHashes = []
        keyStamps = []
        counterValues = []
        counterStamps = []
        memberRanges = []
    }

    /// Forgets the previous event's values.
    mutating func startEvent() {
        serial &+= 1
    }

    func dataField(_ slot: Int) -> DataField? {
        dataFieldStamps[slot] == serial ? dataFields[slot] : nil
    }

    mutating func remember(field: DataField, slot: Int) {
        dataFields[slot] = field
        dataFieldStamps[slot] = serial
    }

    func data(_ slot: Int) -> Value? {
        dataStamps[slot] == serial ? dataValues[slot] : nil
    }

    mutating func remember(data value: Value, slot: Int) {
        dataValues[slot] = value
        dataStamps[slot] = serial
    }

    /// The key hash if computed for this event (which may be nil: no key).
    func keyHash(_ slot: Int) -> UInt64?? {
        keyStamps[slot] == serial ? .some(keyHashes[slot]) : nil
    }

    mutating func remember(keyHash: UInt64?, slot: Int) {
        keyHashes[slot] = keyHash
        keyStamps[slot] = serial
    }

    /// Where a member of `data` the rules read is, from one pass over `data` per event.
    mutating func member(_ index: Int, of layout: DataLayout, in bytes: UnsafeBufferPointer<UInt8>, data: Range<Int>) -> Range<Int>? {
        if membersStamp != serial {
            JSONMembers.locate(layout.members, in: UnsafeBufferPointer(rebasing: bytes[data]), base: data.lowerBound, into: &memberRanges)
            membersStamp = serial
        }
        return memberRanges[index]
    }

    func counterValue(_ index: Int) -> Double? {
        counterStamps[index] == serial ? counterValues[index] : nil
    }

    mutating func remember(counterValue: Double, index: Int) {
        counterValues[index] = counterValue
        counterStamps[index] = serial
    }
}

/// The `data` paths rules read, arranged for finding them in one pass: the distinct members of
/// `data` they start with, and for each path its member and the steps below it.
final class DataLayout: Sendable {
    /// The distinct first steps, as UTF-8.
    let members: [[UInt8]]
    /// For each path (by slot), its first step's index in ``members``.
    let memberOfSlot: [Int]
    /// For each path, the steps after the first (empty for a member of `data` itself).
    let rest: [[String]]

    init(_ paths: [[String]]) {
        var members: [[UInt8]] = []
        var memberOfSlot: [Int] = []
        for path in paths {
            let first = Array((path.first ?? "").utf8)
            if let index = members.firstIndex(of: first) {
                memberOfSlot.append(index)
            } else {
                memberOfSlot.append(members.count)
                members.append(first)
            }
        }
        self.members = members
        self.memberOfSlot = memberOfSlot
        rest = paths.map { Array($0.dropFirst()) }
    }
}

/// Where a `data` field of the event is: missing, a string without escapes (its contents' bytes),
/// or any other value (its bytes, decoded on use).
enum DataField: Sendable {
    case missing
    case text(Range<Int>)
    case other(Range<Int>)
}

/// What evaluation knows about the event at hand. `bytes` (the event's text) is valid only while
/// the detector processes the event.
struct EventContext {
    let event: ParsedEvent
    let bytes: UnsafeBufferPointer<UInt8>
    let layout: DataLayout
    var scratch = Scratch()
    /// Evaluating without changing state (``Detector/peek(_:body:)``).
    var isVirtual = false
    /// Results of text functions already computed for this event.
    var textCalls: [TextCall: Value] = [:]
    /// Classifier scores already computed for this event, by classifier and text.
    var classifications: [String: [String: Double]] = [:]
    /// Calls to served classifiers reached so far (answered later, unknown now).
    var servedCalls = 0

    init(event: ParsedEvent, bytes: UnsafeBufferPointer<UInt8>, layout: DataLayout) {
        self.event = event
        self.bytes = bytes
        self.layout = layout
    }

    /// Where a `data` path's value is in the event's bytes, found once per event. The first time
    /// the event's `data` is read, one pass over it finds every member the rules read (intake
    /// validated the text, so values are skipped without validating them again); a deeper path is
    /// then looked for inside its member only.
    mutating func dataField(_ slot: Int) -> DataField {
        if let known = scratch.dataField(slot) { return known }
        var field = DataField.missing
        if let data = event.dataRange, let member = scratch.member(layout.memberOfSlot[slot], of: layout, in: bytes, data: data),
           let range = layout.rest[slot].isEmpty ? member : JSONValue.location(of: layout.rest[slot], in: UnsafeBufferPointer(rebasing: bytes[member]))
               .map({ ($0.lowerBound + member.lowerBound)..<($0.upperBound + member.lowerBound) }) {
            field = .other(range)
            if bytes[range.lowerBound] == UInt8(ascii: "\""), range.count >= 2 {
                let contents = (range.lowerBound + 1)..<(range.upperBound - 1)
                if !bytes[contents].contains(UInt8(ascii: "\\")) { field = .text(contents) }
            }
        }
        scratch.remember(field: field, slot: slot)
        return field
    }

    mutating func value(of field: Field) -> Value {
        switch field {
        case .id: return .string(event.id)
        case .type: return .string(event.type)
        case .occurredAt: return .number(Double(event.occurredAt))
        case .actor: return event.actor.map(Value.entity) ?? .null
        case .actorID: return event.actor.map { .string($0.id) } ?? .null
        case .actorType: return event.actor.map { .string($0.type) } ?? .null
        case .entity(let type):
            for entity in event.entities where entity.type == type { return .entity(entity) }
            if let actor = event.actor, actor.type == type { return .entity(actor) }
            return .null
        case .data(let slot):
            if let known = scratch.data(slot) { return known }
            let value: Value
            switch dataField(slot) {
            case .missing: value = .null
            case .text(let range): value = .string(String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self))
            case .other(let range): value = JSONValue.parse(UnsafeBufferPointer(rebasing: bytes[range])).map(Value.init) ?? .null
            }
            scratch.remember(data: value, slot: slot)
            return value
        }
    }
}
