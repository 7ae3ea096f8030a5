import Foundation
import WardenCore

extension Detector {
    // MARK: - Evaluation

    func realize(_ plan: EffectPlan, _ context: inout EventContext) -> Effect? {
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
        case .not, .and, .or, .compare, .stringTest, .regex, .inSet, .inDerived, .inValues, .hasLabel:
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
        case .function(.hashDistance, let arguments):
            guard case .constant(.string(let bank)) = arguments[0], let lookups, let hash = evaluate(arguments[1], &context).text else { return .null }
            return lookups.hashDistance(bank: bank, hash: hash).map { .number(Double($0)) } ?? .null
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
        case .inDerived(let operand, let query):
            guard let lookups else { return .unknown }
            let subject = evaluate(operand, &context)
            var unknown = false
            let found = subject.anyText { item in
                guard let contains = lookups.derivedList(query, contains: TextNormalizer.lowercasedForLookup(item)) else {
                    unknown = true
                    return false
                }
                return contains
            }
            return found == .true ? .true : unknown ? .unknown : found
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
    func classify(_ arguments: [Node], _ context: inout EventContext) -> Value {
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

    func apply(_ function: Function, _ argument: Value, _ context: inout EventContext) -> Value {
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
            let key = StableHash.of(ref)
            guard let seen = context.isVirtual ? min(firstSeen[key] ?? time, time) : firstSeen[key] else { return .null }
            return .duration(time - seen)
        case .strikes:
            guard case .entity(let ref) = argument else { return .null }
            return .number(Double(strikes[ref] ?? 0))
        case .classify, .hashDistance:
            return .null  // evaluated with all their arguments, above
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

    static func find(_ needle: UnsafeBufferPointer<UInt8>, in bytes: UnsafeBufferPointer<UInt8>) -> Bool {
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
        if case .entity(let ref) = self { return StableHash.of(ref) }
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

