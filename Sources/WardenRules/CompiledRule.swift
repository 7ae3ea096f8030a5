import WardenCore

/// How a rule runs: `active` rules have effects, `shadow` rules are evaluated and counted only,
/// `off` rules are not evaluated.
public enum RuleMode: String, Sendable, Codable {
    case active, shadow, off
}

/// A verdict for the synchronous evaluation API, strongest last.
public enum Verdict: String, Sendable, Codable, Comparable {
    case allow, challenge, block

    public static func < (lhs: Verdict, rhs: Verdict) -> Bool {
        let order: [Verdict] = [.allow, .challenge, .block]
        return order.firstIndex(of: lhs) ?? 0 < order.firstIndex(of: rhs) ?? 0
    }
}

/// A checked, compiled rule.
public struct CompiledRule: Sendable {
    /// The rule's name, unique in the pack.
    public var name: String
    /// What it detects, in words.
    public var description: String?
    /// The taxonomy category.
    public var category: String
    /// The severity.
    public var severity: String
    /// Active, shadow or off.
    public var mode: RuleMode
    /// Who maintains it.
    public var owner: String?
    /// A version derived from the rule's text (12 hex digits).
    public var version: String
    /// Where it is defined.
    public var location: SourceLocation
    /// Its source text.
    public var source: String
    /// The most hits per hour before the safety valve demotes an acting rule to shadow.
    public var budget: Int
    /// The budget of acting rules that do not set one.
    public static let defaultBudget = 1000
    let condition: Node
    let effects: [EffectPlan]
    /// The event types the rule can fire on, when its condition requires `event.type` to be one
    /// of them (nil: any type). The detector evaluates a rule only on those events.
    let eventTypes: Set<String>?
    /// The queues the rule routes its hits to (`route queue "x"`).
    public var routedQueues: [String] {
        effects.compactMap { if case .route(let queue) = $0 { queue } else { nil } }
    }
    /// Whether the rule can act on the product (actions or a verdict), for budgets.
    public var acts: Bool {
        effects.contains { if case .action = $0 { true } else if case .verdict = $0 { true } else { false } }
    }
}

/// A field of the event a rule reads.
enum Field: Sendable, Hashable {
    case id, type, occurredAt, actor
    case actorType, actorID
    case entity(String)
    /// A path inside `data`, by its slot in ``RuleSet/dataPaths`` (each path is read once per event).
    case data(Int)
}

/// A comparison operator.
enum Comparison: String, Sendable {
    case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="

    /// The same test with its sides swapped (`a < b` is `b > a`).
    var flipped: Comparison {
        switch self {
        case .equal, .notEqual: self
        case .less: .greater
        case .lessOrEqual: .greaterOrEqual
        case .greater: .less
        case .greaterOrEqual: .lessOrEqual
        }
    }
}

/// A string test operator.
enum StringTest: String, Sendable {
    case contains, startswith, endswith
}

/// An arithmetic operator.
enum Arithmetic: String, Sendable {
    case add = "+", subtract = "-", multiply = "*", divide = "/"
}

/// A compiled expression.
indirect enum Node: Sendable {
    case constant(Value)
    case field(Field)
    case list([Node])
    case not(Node)
    case and(Node, Node)
    case or(Node, Node)
    case compare(Comparison, Node, Node)
    case stringTest(StringTest, Node, Node)
    case regex(Node, NSRegularExpressionBox)
    case inSet(Node, Set<String>)
    /// `x in LIST` for a list declared from a saved query's derived table (named here).
    case inDerived(Node, String)
    case inValues(Node, Node)
    case arithmetic(Arithmetic, Node, Node)
    case function(Function, [Node])
    case hasLabel(Node, String, Int64?)
    case velocity(Int)
}

/// Built-in functions.
enum Function: String, Sendable, CaseIterable {
    case lower, upper, normalize, length, domains, urls, age, strikes, now, classify
    case hashDistance = "hash_distance"

    /// How many arguments it takes.
    var arity: ClosedRange<Int> {
        switch self {
        case .now: 0...0
        case .classify: 2...3
        case .hashDistance: 2...2
        default: 1...1
        }
    }

    var summary: String {
        switch self {
        case .lower: "lower(text): text in lower case"
        case .upper: "upper(text): text in upper case"
        case .normalize: "normalize(text): lower case with look-alike characters and leetspeak folded (fr33 -> free)"
        case .length: "length(x): characters in text, items in a list"
        case .domains: "domains(text): the domains of the links in the text"
        case .urls: "urls(text): the links in the text"
        case .age: "age(entity): time since Warden first saw the entity"
        case .strikes: "strikes(entity): the entity's current strike count"
        case .now: "now(): the event's time"
        case .classify: "classify(\"name\", text[, \"category\"]): the score (0 to 1) a built-in classifier of the pack gives the text: its highest category, or the one named"
        case .hashDistance: "hash_distance(\"bank\", hash): bits between the hash and its nearest match in the bank (0 for exact banks), unknown when none is within the bank's threshold or a negative bank allows it"
        }
    }
}

/// A counter the pack needs: what, grouped by what, over which window, for which events.
struct CounterDefinition: Sendable {
    var aggregate: VelocitySyntax.Aggregate
    var value: Node?
    var eventType: String?
    var key: Node
    /// The key expression's slot in ``RuleSet/counterKeys``: counters grouped by the same
    /// expression share one key computation per event.
    var keySlot: Int
    /// For distinct counts, the value expression's slot in ``RuleSet/counterKeys`` (hashed once per event).
    var valueSlot: Int?
    var window: Int64
    var filter: Node?
    /// Identity for deduplication across rules.
    var signature: String
    /// How explanations name it: `count`, `distinct` or `sum`.
    var name: String { "\(aggregate)" }
    /// The width of its buckets: 1/60 of the window, at least a second.
    var bucketWidth: Int64 { max(1000, window / 60) }
    /// The event types it can count (from `count(type …)` and its `where`), nil for any.
    var eventTypes: Set<String>?
}

extension Node {
    /// Whether evaluating it calls a classifier (so `and` evaluates it last).
    var callsClassifier: Bool {
        switch self {
        case .function(.classify, _): true
        case .function(_, let arguments), .list(let arguments): arguments.contains { $0.callsClassifier }
        case .not(let operand), .regex(let operand, _), .inSet(let operand, _), .inDerived(let operand, _), .hasLabel(let operand, _, _): operand.callsClassifier
        case .and(let left, let right), .or(let left, let right), .compare(_, let left, let right), .stringTest(_, let left, let right),
             .inValues(let left, let right), .arithmetic(_, let left, let right):
            left.callsClassifier || right.callsClassifier
        case .constant, .field, .velocity: false
        }
    }

    /// This condition for events of one type: `event.type` becomes that constant and what it
    /// decides is folded away, so a rule indexed by type does not test its type again.
    func specialized(forEventType type: String) -> Node {
        switch self {
        case .field(.type):
            return .constant(.string(type))
        case .not(let operand):
            let inner = operand.specialized(forEventType: type)
            if case .constant(let value) = inner { return .constant((!value.truth).value) }
            return .not(inner)
        case .and(let left, let right):
            let (lhs, rhs) = (left.specialized(forEventType: type), right.specialized(forEventType: type))
            if lhs.isConstant(false) || rhs.isConstant(false) { return .constant(.bool(false)) }
            if lhs.isConstant(true), rhs.isCondition { return rhs }
            if rhs.isConstant(true), lhs.isCondition { return lhs }
            return .and(lhs, rhs)
        case .or(let left, let right):
            let (lhs, rhs) = (left.specialized(forEventType: type), right.specialized(forEventType: type))
            if lhs.isConstant(true) || rhs.isConstant(true) { return .constant(.bool(true)) }
            if lhs.isConstant(false), rhs.isCondition { return rhs }
            if rhs.isConstant(false), lhs.isCondition { return lhs }
            return .or(lhs, rhs)
        case .compare(let op, let left, let right):
            let (lhs, rhs) = (left.specialized(forEventType: type), right.specialized(forEventType: type))
            if case .constant(let a) = lhs, case .constant(let b) = rhs {
                let truth = a.isNull ? Detector.nullTest(op, b) : b.isNull ? Detector.nullTest(op, a) : Detector.compare(op, a, b)
                return .constant(truth.value)
            }
            return .compare(op, lhs, rhs)
        case .inValues(let subject, let collection):
            let (lhs, rhs) = (subject.specialized(forEventType: type), collection.specialized(forEventType: type))
            if case .constant(let a) = lhs, case .constant(let b) = rhs { return .constant(Detector.membership(a, b).value) }
            return .inValues(lhs, rhs)
        default:
            return self
        }
    }

    private func isConstant(_ value: Bool) -> Bool {
        if case .constant(.bool(value)) = self { true } else { false }
    }

    /// Whether this node is a test (its value is always true, false or unknown).
    private var isCondition: Bool {
        switch self {
        case .not, .and, .or, .compare, .stringTest, .regex, .inSet, .inDerived, .inValues, .hasLabel: true
        case .constant(.bool): true
        default: false
        }
    }

    /// The event types this condition can be true for, if it pins `event.type` down: a conjunct
    /// `event.type == "x"` or `event.type in [...]` (nil when any type might satisfy it).
    var requiredEventTypes: Set<String>? {
        switch self {
        case .compare(.equal, .field(.type), .constant(.string(let type))), .compare(.equal, .constant(.string(let type)), .field(.type)):
            return [type]
        case .inValues(.field(.type), .constant(.list(let items))):
            var types = Set<String>()
            for item in items {
                guard case .string(let type) = item else { return nil }
                types.insert(type)
            }
            return types
        case .and(let left, let right):
            switch (left.requiredEventTypes, right.requiredEventTypes) {
            case (let a?, let b?): return a.intersection(b)
            case (let a?, nil): return a
            case (nil, let b?): return b
            case (nil, nil): return nil
            }
        case .or(let left, let right):
            guard let a = left.requiredEventTypes, let b = right.requiredEventTypes else { return nil }
            return a.union(b)
        default:
            return nil
        }
    }
}

/// An effect with its expressions compiled.
enum EffectPlan: Sendable {
    case signal(subject: Node?, category: String, severity: String, reason: String?)
    case label(Node, String, Int64?)
    case unlabel(Node, String)
    case route(String)
    case action(String, subject: Node?, duration: Int64?)
    case verdict(Verdict)
}

/// What rules read live from outside the event log: hash banks and derived tables. They are read
/// when an event is evaluated (a replay reads today's contents), so rules that use them depend on
/// the bank or table as it is, like a lookup service.
public protocol RuleLookups: Sendable {
    /// The distance to the nearest match of `hash` in `bank` within its threshold, nil when there is
    /// none (or the bank is unknown, or a negative bank allows the hash).
    func hashDistance(bank: String, hash: String) -> Int?
    /// Whether the derived table of saved query `query` has `item` (lower-cased) in its first
    /// column; nil when the table has not been materialised.
    func derivedList(_ query: String, contains item: String) -> Bool?
}

/// The naming rule banks and saved queries share: 1–64 lower-case letters, digits, `-` and `_`,
/// starting with a letter.
public enum SavedQueryName {
    public static func check(_ name: String) throws(RuleNameError) {
        let allowed = name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" }
        guard (1...64).contains(name.unicodeScalars.count), allowed, let first = name.unicodeScalars.first, ("a"..."z").contains(first) else {
            throw RuleNameError()
        }
    }
}

public struct RuleNameError: Error {}
