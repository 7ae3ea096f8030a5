import Foundation
public import WardenCore

/// What the checker needs to know about the pack around the rules.
public struct RuleContext: Sendable {
    /// Taxonomy category ids.
    public var categories: Set<String>
    /// Severity names.
    public var severities: [String]
    /// Registered entity types.
    public var entityTypes: EntityTypes
    /// Reads a list file of the pack by relative path (nil if missing): one item per line, `#` comments.
    public var readList: @Sendable (String) -> String?
    /// The pack's classifiers, each with whether it runs inline (built-in models) or is served
    /// over an API (answered later, by the classification stage).
    public var classifiers: [String: Bool] = [:]

    /// Creates a context.
    public init(categories: Set<String>, severities: [String], entityTypes: EntityTypes, readList: @escaping @Sendable (String) -> String?) {
        self.categories = categories
        self.severities = severities
        self.entityTypes = entityTypes
        self.readList = readList
    }
}

/// A checked set of rules, ready to evaluate.
public struct RuleSet: Sendable {
    /// The rules, in file order.
    public var rules: [CompiledRule]
    let counters: [CounterDefinition]
    /// Whether any rule reads `age(…)`, so first-seen times must be kept.
    let usesAge: Bool
    /// The taxonomy's severities, lowest first (alerts use the highest).
    let severities: [String]
    /// The `event.data` paths the rules read, by slot.
    let dataPaths: [[String]]
    /// The distinct expressions counters hash (keys, and values counted distinct), by slot.
    let counterKeys: [Node]

    /// Parses and checks rule files (name → source). Reports every problem, not the first.
    public static func compile(files: [(name: String, source: String)], context: RuleContext) throws(RuleErrors) -> RuleSet {
        var checker = Checker(context: context)
        var syntaxes: [RuleFileSyntax] = []
        for file in files {
            let (syntax, diagnostics) = Parser.parse(file.source, file: file.name)
            checker.diagnostics += diagnostics
            syntaxes.append(syntax)
        }
        for syntax in syntaxes { checker.declareLists(syntax.lists) }
        var rules: [CompiledRule] = []
        for syntax in syntaxes {
            for rule in syntax.rules {
                if let compiled = checker.compile(rule) { rules.append(compiled) }
            }
        }
        guard checker.diagnostics.isEmpty else { throw RuleErrors(checker.diagnostics) }
        return RuleSet(rules: rules, counters: checker.counters, usesAge: checker.usesAge, severities: context.severities,
                       dataPaths: checker.dataPaths, counterKeys: checker.counterKeys.map(\.node))
    }
}

private struct Checker {
    let context: RuleContext
    var diagnostics: [Diagnostic] = []
    var lists: [String: Set<String>] = [:]
    /// Lists declared from a saved query's derived table, by list name → query name.
    var derivedLists: [String: String] = [:]
    var counters: [CounterDefinition] = []
    var ruleNames: [String: SourceLocation] = [:]
    var usesAge = false
    var dataPaths: [[String]] = []
    var counterKeys: [(text: String, node: Node)] = []

    init(context: RuleContext) {
        self.context = context
    }

    mutating func report(_ location: SourceLocation, _ message: String) {
        diagnostics.append(Diagnostic(location, message))
    }

    mutating func declareLists(_ declarations: [ListDeclaration]) {
        for declaration in declarations {
            guard lists[declaration.name] == nil, derivedLists[declaration.name] == nil else {
                report(declaration.location, "list \(declaration.name) is declared twice")
                continue
            }
            if declaration.derived {
                if (try? SavedQueryName.check(declaration.path)) == nil {
                    report(declaration.location, "\"\(declaration.path)\" is not a saved query's name (1 to 64 lower-case letters, digits, - and _, starting with a letter)")
                }
                derivedLists[declaration.name] = declaration.path
                continue
            }
            guard let text = context.readList(declaration.path) else {
                report(declaration.location, "list file \(declaration.path) is missing from the pack")
                lists[declaration.name] = []
                continue
            }
            lists[declaration.name] = Set(text.split(whereSeparator: \.isNewline).compactMap { line -> String? in
                let item = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first?.trimmingCharacters(in: .whitespaces) ?? ""
                return item.isEmpty ? nil : item.lowercased()
            })
        }
    }

    mutating func compile(_ rule: RuleSyntax) -> CompiledRule? {
        let before = diagnostics.count
        if let previous = ruleNames[rule.name] {
            report(rule.location, "rule \(rule.name) is already defined at \(previous)")
        }
        ruleNames[rule.name] = rule.location
        guard let (category, categoryLocation) = rule.category else {
            report(rule.location, "rule \(rule.name) needs a category from the taxonomy, such as 'category spam.fake_accounts'")
            return nil
        }
        if !context.categories.contains(category) {
            report(categoryLocation, "category \(category) is not in the taxonomy\(suggestion(category, context.categories))")
        }
        let severity = rule.severity?.0 ?? context.severities.first ?? "low"
        if let (name, location) = rule.severity, !context.severities.contains(name) {
            report(location, "severity \(name) is not one of \(context.severities.joined(separator: ", "))")
        }
        var mode = RuleMode.active
        if let (name, location) = rule.mode {
            if let parsed = RuleMode(rawValue: name) { mode = parsed } else { report(location, "mode must be active, shadow or off, not \(name)") }
        }
        if let (budget, location) = rule.budget, budget < 1 {
            report(location, "a budget is a number of hits per hour, at least 1")
        }
        let condition = expression(rule.condition)
        if [.entity, .list].contains(kindOf(condition)) {
            report(rule.condition.location, "the condition must be true or false, such as event.type == \"message.sent\"")
        }
        var effects: [EffectPlan] = []
        for effect in rule.effects { if let plan = compile(effect, rule: rule, category: category, severity: severity) { effects.append(plan) } }
        if checkServed(rule.condition, asComparison: true) {
            for effect in rule.effects {
                switch effect {
                case .label(_, _, _, let location), .unlabel(_, _, let location):
                    report(location, "a rule that asks a served classifier fires after the event has passed, when other rules have already read the labels; it can raise a signal, route and propose actions, not change labels")
                case .verdict(_, let location):
                    report(location, "a rule that asks a served classifier fires after the event has been answered, so it cannot return a verdict; use a built-in model for verdicts")
                default: break
                }
            }
        }
        guard diagnostics.count == before else { return nil }
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in rule.text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        let digest = String(String(hash, radix: 16).suffix(12))
        return CompiledRule(name: rule.name, description: rule.description, category: category, severity: severity, mode: mode,
                            owner: rule.owner, version: String(digest), location: rule.location, source: rule.text,
                            budget: rule.budget?.0 ?? CompiledRule.defaultBudget, condition: condition, effects: effects,
                            eventTypes: condition.requiredEventTypes)
    }

    mutating func compile(_ effect: EffectSyntax, rule: RuleSyntax, category: String, severity: String) -> EffectPlan? {
        switch effect {
        case .signal(let subject, let signalCategory, let signalSeverity, let reason, let location):
            if let signalCategory, !context.categories.contains(signalCategory) {
                report(location, "category \(signalCategory) is not in the taxonomy\(suggestion(signalCategory, context.categories))")
            }
            if let signalSeverity, !context.severities.contains(signalSeverity) {
                report(location, "severity \(signalSeverity) is not one of \(context.severities.joined(separator: ", "))")
            }
            return .signal(subject: subject.map { entityExpression($0, "the signal's subject") }, category: signalCategory ?? category,
                           severity: signalSeverity ?? severity, reason: reason)
        case .label(let target, let name, let expiry, _):
            return .label(entityExpression(target, "what to label"), name, expiry)
        case .unlabel(let target, let name, _):
            return .unlabel(entityExpression(target, "what to unlabel"), name)
        case .route(let queue, _):
            return .route(queue)
        case .action(let name, let subject, let duration, _):
            return .action(name, subject: subject.map { entityExpression($0, "the action's subject") }, duration: duration)
        case .verdict(let name, let location):
            guard let verdict = Verdict(rawValue: name) else {
                report(location, "a verdict is allow, challenge or block, not \(name)")
                return nil
            }
            return .verdict(verdict)
        }
    }

    /// Checks where a condition calls classifiers served over an API, and says whether it does. A
    /// served classifier answers after the event has passed, so the detector evaluates the rest
    /// of the rule first and keeps what is left; that works when each call is compared with a
    /// number (`classify("x", event.data.text) > 0.8`) and such comparisons are joined by
    /// `and`, `or` and `not`.
    @discardableResult
    mutating func checkServed(_ syntax: Expression, asComparison allowed: Bool) -> Bool {
        func served(_ expression: Expression) -> String? {
            if case .call("classify", let arguments, _) = expression, case .literal(.string(let name), _)? = arguments.first,
               context.classifiers[name] == false { return name }
            return nil
        }
        switch syntax {
        case .literal, .path, .namedList:
            return false
        case .list(let items, _):
            return items.reduce(false) { checkServed($1, asComparison: false) || $0 }
        case .unary(let op, let operand, _):
            return checkServed(operand, asComparison: allowed && op == "not")
        case .binary(let op, let left, let right, _) where op == "and" || op == "or":
            let lhs = checkServed(left, asComparison: allowed)
            return checkServed(right, asComparison: allowed) || lhs
        case .binary(let op, let left, let right, _) where Comparison(rawValue: op) != nil && allowed && (served(left) != nil || served(right) != nil):
            let (call, other) = served(left) != nil ? (left, right) : (right, left)
            if case .call(_, let arguments, _) = call { for argument in arguments { checkServed(argument, asComparison: false) } }
            checkServed(other, asComparison: false)
            return true
        case .binary(_, let left, let right, _):
            let lhs = checkServed(left, asComparison: false)
            return checkServed(right, asComparison: false) || lhs
        case .call(_, let arguments, let location):
            if let name = served(syntax) {
                report(location, "\(name) is served over an API and answers after the event has passed: compare its score with a number in the rule's condition, such as classify(\"\(name)\", event.data.text) > 0.8, joined to the rest with and, or, not")
                return true
            }
            return arguments.reduce(false) { checkServed($1, asComparison: false) || $0 }
        case .hasLabel(let target, _, _, _):
            return checkServed(target, asComparison: false)
        case .velocity(let velocity, _):
            let parts = [velocity.value, velocity.key, velocity.filter].compactMap { $0 }
            return parts.reduce(false) { checkServed($1, asComparison: false) || $0 }
        }
    }

    mutating func entityExpression(_ syntax: Expression, _ what: String) -> Node {
        let node = expression(syntax)
        if ![.entity, .unknown].contains(kindOf(node)) {
            report(syntax.location, "\(what) must be an entity, such as event.actor or event.ip")
        }
        return node
    }

    // MARK: - Expressions

    enum Kind { case boolean, number, text, entity, list, duration, unknown }

    func kindOf(_ node: Node) -> Kind {
        switch node {
        case .constant(let value):
            switch value {
            case .bool: return .boolean
            case .number: return .number
            case .string: return .text
            case .duration: return .duration
            case .entity: return .entity
            case .list: return .list
            case .null: return .unknown
            }
        case .field(let field):
            switch field {
            case .actor, .entity: return .entity
            case .occurredAt: return .number
            case .id, .type, .actorID, .actorType: return .text
            case .data: return .unknown
            }
        case .list: return .list
        case .not, .and, .or, .compare, .stringTest, .regex, .inSet, .inDerived, .inValues, .hasLabel: return .boolean
        case .arithmetic: return .number
        case .velocity: return .number
        case .function(let function, _):
            switch function {
            case .lower, .upper, .normalize: return .text
            case .length, .strikes, .now, .classify, .hashDistance: return .number
            case .domains, .urls: return .list
            case .age: return .duration
            }
        }
    }

    mutating func expression(_ syntax: Expression) -> Node {
        switch syntax {
        case .literal(let value, _):
            return .constant(value)
        case .list(let items, _):
            let nodes = items.map { expression($0) }
            // A list of constants is built once, not on every evaluation.
            let constants = nodes.compactMap { node -> Value? in
                if case .constant(let value) = node { value } else { nil }
            }
            return constants.count == nodes.count ? .constant(.list(constants)) : .list(nodes)
        case .path(let path, let location):
            return field(path, location)
        case .unary(let op, let operand, _):
            let node = expression(operand)
            return op == "not" ? .not(node) : .arithmetic(.subtract, .constant(.number(0)), node)
        case .binary(let op, let left, let right, let location):
            let lhs = expression(left)
            if let comparison = Comparison(rawValue: op) { return .compare(comparison, lhs, expression(right)) }
            if let arithmetic = Arithmetic(rawValue: op) { return .arithmetic(arithmetic, lhs, expression(right)) }
            if let test = StringTest(rawValue: op) { return .stringTest(test, lhs, expression(right)) }
            switch op {
            case "and":
                // Classifiers are the slowest tests: `and` evaluates them last, so an event the
                // other conditions rule out is never classified. (`and` is commutative here.)
                let rhs = expression(right)
                return lhs.callsClassifier && !rhs.callsClassifier ? .and(rhs, lhs) : .and(lhs, rhs)
            case "or": return .or(lhs, expression(right))
            case "matches":
                guard case .literal(.string(let pattern), let patternLocation) = right else {
                    report(location, "matches needs a pattern in double quotes, such as matches \"^free .*\"")
                    return .constant(.bool(false))
                }
                if let risk = NSRegularExpressionBox.risk(of: pattern) {
                    report(patternLocation, "this pattern is refused: \(risk)")
                    return .constant(.bool(false))
                }
                do {
                    return .regex(lhs, try NSRegularExpressionBox(pattern: pattern))
                } catch {
                    report(patternLocation, "this is not a valid regular expression: \(pattern)")
                    return .constant(.bool(false))
                }
            default:
                if case .namedList(let name, let listLocation) = right {
                    if let query = derivedLists[name] { return .inDerived(lhs, query) }
                    guard let items = lists[name] else {
                        report(listLocation, "there is no list named \(name); declare it with: list \(name) from \"lists/\(name).txt\"")
                        return .constant(.bool(false))
                    }
                    return .inSet(lhs, items)
                }
                return .inValues(lhs, expression(right))
            }
        case .call(let name, let arguments, let location):
            guard let function = Function(rawValue: name) else {
                report(location, "there is no function \(name); the functions are \(Function.allCases.map(\.rawValue).joined(separator: ", ")), count, distinct and sum")
                return .constant(.null)
            }
            guard function.arity.contains(arguments.count) else {
                let count = function.arity.lowerBound == function.arity.upperBound ? "\(function.arity.lowerBound)" : "\(function.arity.lowerBound) or \(function.arity.upperBound)"
                report(location, "\(function.summary) takes \(count) argument\(count == "1" ? "" : "s"), not \(arguments.count)")
                return .constant(.null)
            }
            let nodes = arguments.map { expression($0) }
            if function == .hashDistance {
                guard case .literal(.string(let bank), let bankLocation) = arguments[0] else {
                    report(location, "hash_distance(…) names its bank in double quotes, such as hash_distance(\"known-images\", event.data.pdq)")
                    return .constant(.null)
                }
                if (try? SavedQueryName.check(bank)) == nil {
                    report(bankLocation, "\"\(bank)\" is not a bank's name (1 to 64 lower-case letters, digits, - and _, starting with a letter)")
                }
            }
            if function == .classify {
                guard case .literal(.string(let name), let nameLocation) = arguments[0] else {
                    report(location, "classify(…) names its classifier in double quotes, such as classify(\"sms-spam\", event.data.text)")
                    return .constant(.null)
                }
                guard context.classifiers[name] != nil else {
                    let known = context.classifiers.keys.sorted()
                    report(nameLocation, "there is no classifier \(name) in classifiers.yaml\(known.isEmpty ? "; declare it there first" : "; the pack has \(known.joined(separator: ", "))")")
                    return .constant(.null)
                }
                if arguments.count == 3, case .literal(.string(let category), let categoryLocation) = arguments[2], !context.categories.contains(category) {
                    report(categoryLocation, "category \(category) is not in the taxonomy\(suggestion(category, context.categories))")
                }
            }
            if function == .age { usesAge = true }
            if function == .age || function == .strikes, let first = nodes.first, ![.entity, .unknown].contains(kindOf(first)) {
                report(location, "\(function.rawValue)(…) needs an entity, such as event.actor")
            }
            return .function(function, nodes)
        case .namedList(let name, let location):
            report(location, "list \(name) can only be used after 'in'")
            return .constant(.null)
        case .hasLabel(let target, let name, let age, _):
            return .hasLabel(entityExpression(target, "what has the label"), name, age)
        case .velocity(let velocity, let location):
            return counter(velocity, location)
        }
    }

    mutating func field(_ path: [String], _ location: SourceLocation) -> Node {
        guard let first = path.first else {
            report(location, "name a field after event., such as event.type")
            return .constant(.null)
        }
        switch first {
        case "id", "type", "occurred_at":
            guard path.count == 1 else {
                report(location, "event.\(first) has no fields inside it")
                return .constant(.null)
            }
            return .field(first == "id" ? .id : first == "type" ? .type : .occurredAt)
        case "actor":
            if path.count == 1 { return .field(.actor) }
            if path.count == 2, path[1] == "id" { return .field(.actorID) }
            if path.count == 2, path[1] == "type" { return .field(.actorType) }
            report(location, "event.actor has only .id and .type")
            return .constant(.null)
        case "data":
            guard path.count > 1 else {
                report(location, "name a field inside data, such as event.data.text")
                return .constant(.null)
            }
            let dataPath = Array(path.dropFirst())
            if let slot = dataPaths.firstIndex(of: dataPath) { return .field(.data(slot)) }
            dataPaths.append(dataPath)
            return .field(.data(dataPaths.count - 1))
        case "entities":
            guard path.count == 2 else {
                report(location, "name an entity type after event.entities, such as event.entities.ip")
                return .constant(.null)
            }
            return entityField(path[1], location)
        default:
            guard path.count == 1 else {
                report(location, "event.\(first) is an entity; it has no fields inside it")
                return .constant(.null)
            }
            return entityField(first, location)
        }
    }

    mutating func entityField(_ type: String, _ location: SourceLocation) -> Node {
        guard context.entityTypes.contains(type) else {
            report(location, "event.\(type) is not a field: events have id, type, occurred_at, actor, data and the entity types \(context.entityTypes.names.joined(separator: ", "))\(suggestion(type, Set(context.entityTypes.names + ["id", "type", "occurred_at", "actor", "data"])))")
            return .constant(.null)
        }
        return .field(.entity(type))
    }

    mutating func counter(_ velocity: VelocitySyntax, _ location: SourceLocation) -> Node {
        guard velocity.window >= 1000, velocity.window <= 30 * 86_400_000 else {
            report(location, "a window must be between 1s and 30d")
            return .constant(.null)
        }
        let filter = velocity.filter.map { expression($0) }
        var types = filter?.requiredEventTypes
        if let eventType = velocity.eventType { types = types.map { $0.intersection([eventType]) } ?? [eventType] }
        let key = expression(velocity.key)
        let value = velocity.value.map { expression($0) }
        var valueSlot: Int?
        if velocity.aggregate == .distinct, let syntax = velocity.value, let value { valueSlot = hashSlot(syntax, value) }
        let definition = CounterDefinition(
            aggregate: velocity.aggregate, value: value, eventType: velocity.eventType,
            key: key, keySlot: hashSlot(velocity.key, key),
            valueSlot: valueSlot,
            window: velocity.window, filter: filter,
            signature: "\(velocity.aggregate)|\(velocity.eventType ?? "")|\(velocity.value.map(Self.describe) ?? "")|\(Self.describe(velocity.key))|\(velocity.window)|\(velocity.filter.map(Self.describe) ?? "")",
            eventTypes: types)
        if let existing = counters.firstIndex(where: { $0.signature == definition.signature }) { return .velocity(existing) }
        counters.append(definition)
        return .velocity(counters.count - 1)
    }

    /// The slot of an expression whose hash counters use (a key, or a value counted distinct),
    /// shared by every counter that uses the same expression, so it is hashed once per event.
    mutating func hashSlot(_ syntax: Expression, _ node: Node) -> Int {
        let text = Self.describe(syntax)
        if let slot = counterKeys.firstIndex(where: { $0.text == text }) { return slot }
        counterKeys.append((text, node))
        return counterKeys.count - 1
    }

    /// A canonical text of an expression, to recognise the same counter in several rules.
    static func describe(_ expression: Expression) -> String {
        switch expression {
        case .literal(let value, _): value.description
        case .list(let items, _): "[" + items.map(describe).joined(separator: ",") + "]"
        case .path(let path, _): "event." + path.joined(separator: ".")
        case .unary(let op, let operand, _): "(\(op) \(describe(operand)))"
        case .binary(let op, let left, let right, _): "(\(describe(left)) \(op) \(describe(right)))"
        case .call(let name, let arguments, _): name + "(" + arguments.map(describe).joined(separator: ",") + ")"
        case .namedList(let name, _): "list:" + name
        case .hasLabel(let target, let name, let age, _): "(\(describe(target)) has label \(name) \(age ?? 0))"
        case .velocity(let velocity, _): "\(velocity.aggregate)(\(velocity.eventType ?? "") \(velocity.value.map(describe) ?? "") by \(describe(velocity.key)) within \(velocity.window) where \(velocity.filter.map(describe) ?? ""))"
        }
    }

    func suggestion(_ name: String, _ candidates: Set<String>) -> String {
        let close = candidates.min { distance(name, $0) < distance(name, $1) }
        guard let close, distance(name, close) <= max(2, name.count / 3) else { return "" }
        return "; did you mean \(close)?"
    }

    func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var row = [i + 1]
            for (j, y) in b.enumerated() {
                row.append(min(previous[j + 1] + 1, row[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = row
        }
        return previous[b.count]
    }
}

extension RuleSet {
    /// The same rules with every one active (for rule tests, which check logic, not rollout).
    public func withAllRulesActive() -> RuleSet {
        var copy = self
        for index in copy.rules.indices { copy.rules[index].mode = .active }
        return copy
    }
}
