import Foundation
public import WardenCore

/// Runs a rule set over events in order, keeping the state rules read: velocity counters, labels,
/// first-seen times and strikes. Value type: copy it to branch (replay), keep one per pipeline.
public struct Detector: Sendable {
    /// The rules.
    public private(set) var rules: RuleSet
    /// Count and sum windows per counter, by key hash (empty for distinct counters).
    var bucketWindows: [[UInt64: BucketWindow]]
    /// Distinct-count windows per counter, by key hash (empty for other counters).
    var distinctWindows: [[UInt64: DistinctWindow]]
    /// Labels by entity.
    public internal(set) var labels: [EntityRef: [String: LabelEntry]] = [:]
    /// When each entity was first seen (earliest event time), by the stable hash of its reference
    /// (``StableHash/of(_:)-(EntityRef)``), as counters keep their keys: 16 bytes an entity, where
    /// the reference itself cost 40 and more (a sustained run's heap profile found this map, which
    /// holds every entity ever involved, the largest part of detection's memory). A collision can
    /// only make an entity look older, with the odds counters document.
    var firstSeen: [UInt64: Int64] = [:]
    /// Strike counts by entity (maintained by enforcement; read by rules).
    public var strikes: [EntityRef: Int] = [:]
    var processed = 0
    /// Hits per rule per hour of event time, for the safety valve (the last 25 hours).
    var hourlyHits: [String: [Int64: Int]] = [:]
    /// Rules the safety valve has demoted to shadow, with why.
    public private(set) var demoted: [String: String] = [:]

    /// Rule and counter indices by the event type they can apply to (those for any type merged
    /// in, in order), and those for any type.
    let rulesByType: [String: [Candidate]]
    let rulesForAnyType: [Candidate]
    let countersByType: [String: [Int]]
    let countersForAnyType: [Int]
    /// What updating each counter needs, without copying its whole definition per event.
    let counterPlans: [CounterPlan]
    /// Per-event memory reused from event to event.
    var scratch: Scratch
    /// The `data` members rules read, found in one pass per event.
    let layout: DataLayout
    /// The classifiers `classify(…)` calls, by name. One that is missing (a model not trained yet)
    /// makes `classify` unknown, so rules that need it do not fire.
    public var scorers: [String: any TextScorer] = [:]
    /// The classifiers served over an API that are available: a rule that calls one is evaluated
    /// as far as it can be and, if only their answers are missing, reported pending (see
    /// ``PendingCondition``). A served classifier that is not available is unknown, as above.
    public var servedClassifiers: Set<String> = []
    /// Live lookups outside the log: hash banks (`hash_distance`) and derived tables (lists
    /// declared `from query`). Without them those tests are unknown.
    public var lookups: (any RuleLookups)?

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
        lookups = previous.lookups
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
            firstSeen: FirstSeenTimes(firstSeen),
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
        firstSeen = snapshot.firstSeen.byKey
        strikes = Dictionary(snapshot.strikes.compactMap { key, value in EntityRef(parsing: key).map { ($0, value) } }, uniquingKeysWith: max)
        hourlyHits = snapshot.hourlyHits.mapValues { Dictionary($0.compactMap { key, value in Int64(key).map { ($0, value) } }, uniquingKeysWith: +) }
        for rule in rules.rules {
            if let reason = snapshot.demoted["\(rule.name)@\(rule.version)"] { demoted[rule.name] = reason }
        }
        processed = snapshot.processed
    }

    /// Indexes items by the event types they apply to, so an event only meets its candidates:
    /// for each named type, its items and those for any type, in order; and those for any type.
    static func index(_ types: [Set<String>?]) -> ([String: [Int]], [Int]) {
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

    mutating func process(_ event: ParsedEvent, bytes: UnsafeBufferPointer<UInt8>) -> Evaluation {
        if event.type == ReservedEventType.bulk { return apply(bulk: event, bytes: bytes) }
        var context = EventContext(event: event, bytes: bytes, layout: layout)
        swap(&context.scratch, &scratch)
        defer { swap(&context.scratch, &scratch) }
        context.scratch.startEvent()
        if rules.usesAge {
            for entity in event.involvedEntities {
                let key = StableHash.of(entity)
                if let seen = firstSeen[key] {
                    if event.occurredAt < seen { firstSeen[key] = event.occurredAt }
                } else {
                    firstSeen[key] = event.occurredAt
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

    mutating func evaluateRules(_ context: inout EventContext, countingHits: Bool) -> ([RuleHit], Verdict, [RuleHit]) {
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
    func matches(_ context: inout EventContext) -> (fired: [(index: Int, hit: RuleHit)], pending: [RuleHit]) {
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
    func hit(_ rule: CompiledRule, mode: RuleMode, _ context: inout EventContext) -> RuleHit {
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
    func residual(_ node: Node, _ context: inout EventContext) -> PendingCondition {
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

    func question(_ arguments: [Node], _ op: Comparison, _ other: Node, _ context: inout EventContext) -> PendingCondition {
        guard case .constant(.string(let name)) = arguments[0], let text = evaluate(arguments[1], &context).text,
              let threshold = evaluate(other, &context).numeric else { return .known(nil) }
        let category = arguments.count > 2 ? evaluate(arguments[2], &context).text : nil
        return .score(ClassifierQuestion(classifier: name, text: text), category: category, comparison: op.rawValue, threshold: threshold)
    }

    /// Whether evaluating the node calls a served classifier this detector asks later.
    func callsServedClassifier(_ node: Node) -> Bool {
        switch node {
        case .function(.classify, let arguments):
            if case .constant(.string(let name)) = arguments.first, scorers[name] == nil, servedClassifiers.contains(name) { return true }
            return arguments.contains { callsServedClassifier($0) }
        case .function(_, let arguments), .list(let arguments): return arguments.contains { callsServedClassifier($0) }
        case .not(let operand), .regex(let operand, _), .inSet(let operand, _), .inDerived(let operand, _), .hasLabel(let operand, _, _): return callsServedClassifier(operand)
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
    mutating func safetyValve(_ rule: CompiledRule, at time: Int64) -> String? {
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

    /// A bulk job's step: labels change as a rule's effects would change them; nothing else moves.
    mutating func apply(bulk event: ParsedEvent, bytes: UnsafeBufferPointer<UInt8>) -> Evaluation {
        guard let instruction = BulkInstruction(event: event, bytes: bytes) else { return Evaluation(hits: [], verdict: .allow) }
        switch instruction.operation {
        case .label(let name, let expiresAt):
            if expiresAt.map({ $0 > event.occurredAt }) ?? true {
                apply(label: name, to: instruction.entity, at: event.occurredAt, expiresAt: expiresAt)
            }
        case .unlabel(let name):
            labels[instruction.entity]?[name] = nil
        case .openCase:
            break
        }
        return Evaluation(hits: [], verdict: .allow, instruction: instruction)
    }

    /// Sets a label; setting a live label again keeps when it was first set and extends its expiry.
    mutating func apply(label name: String, to entity: EntityRef, at time: Int64, expiresAt: Int64?) {
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
}
