/// Recursive-descent parser for rule files. It recovers at the next `rule` or `list` after an
/// error, so one mistake does not hide the others.
struct Parser {
    private var tokens: [Token]
    private var index = 0
    private(set) var diagnostics: [Diagnostic] = []
    private let source: [Substring]
    private var depth = 0
    static let maxDepth = 64

    private struct Abort: Error {}

    static let effectWords: Set<String> = ["signal", "label", "unlabel", "route", "action", "verdict"]
    static let metaWords: Set<String> = ["category", "severity", "mode", "owner", "description", "budget"]

    static func parse(_ source: String, file: String) -> (RuleFileSyntax, [Diagnostic]) {
        let (tokens, lexical) = Lexer.tokenize(source, file: file)
        var parser = Parser(tokens: tokens, source: source.split(separator: "\n", omittingEmptySubsequences: false))
        let syntax = parser.parseFile()
        return (syntax, lexical + parser.diagnostics)
    }

    private init(tokens: [Token], source: [Substring]) {
        self.tokens = tokens
        self.source = source
    }

    // MARK: - Token helpers

    private var current: Token { tokens[index] }

    private func isWord(_ word: String, at offset: Int = 0) -> Bool {
        guard index + offset < tokens.count, case .identifier(let name) = tokens[index + offset].kind else { return false }
        return name == word
    }

    private func isSymbol(_ symbol: String) -> Bool {
        if case .symbol(let value) = current.kind { return value == symbol }
        return false
    }

    private mutating func advance() -> Token {
        let token = tokens[index]
        if index < tokens.count - 1 { index += 1 }
        return token
    }

    private mutating func fail(_ message: String, at token: Token? = nil) -> Abort {
        diagnostics.append(Diagnostic((token ?? current).location, message))
        return Abort()
    }

    private mutating func expectWord(_ word: String, _ context: String) throws(Abort) {
        guard isWord(word) else { throw fail("expected '\(word)' \(context), found \(current.describe)") }
        _ = advance()
    }

    private mutating func expectSymbol(_ symbol: String, _ context: String) throws(Abort) {
        guard isSymbol(symbol) else { throw fail("expected '\(symbol)' \(context), found \(current.describe)") }
        _ = advance()
    }

    private mutating func identifier(_ what: String) throws(Abort) -> String {
        guard case .identifier(let name) = current.kind else { throw fail("expected \(what), found \(current.describe)") }
        _ = advance()
        return name
    }

    private mutating func string(_ what: String) throws(Abort) -> String {
        guard case .string(let text) = current.kind else { throw fail("expected \(what) in double quotes, found \(current.describe)") }
        _ = advance()
        return text
    }

    private mutating func duration(_ what: String) throws(Abort) -> Int64 {
        guard case .duration(let millis) = current.kind else { throw fail("expected \(what), such as 10m or 24h, found \(current.describe)") }
        _ = advance()
        return millis
    }

    /// A dotted name such as `spam.fake_accounts` or `account.created`.
    private mutating func dottedName(_ what: String) throws(Abort) -> String {
        var name = try identifier(what)
        while isSymbol("."), index + 1 < tokens.count, case .identifier(let part) = tokens[index + 1].kind {
            _ = advance()
            _ = advance()
            name += "." + part
        }
        return name
    }

    // MARK: - File

    private mutating func parseFile() -> RuleFileSyntax {
        var file = RuleFileSyntax()
        while current.kind != .end {
            let start = index
            do {
                if isWord("rule") {
                    file.rules.append(try parseRule())
                } else if isWord("list") {
                    let start = advance()
                    let name = try identifier("a list name")
                    try expectWord("from", "after the list name")
                    if isWord("query") {
                        advance()
                        file.lists.append(ListDeclaration(name: name, path: try string("the saved query's name, such as \"risky-accounts\""),
                                                          location: start.location, derived: true))
                    } else {
                        file.lists.append(ListDeclaration(name: name, path: try string("the list's file, such as \"lists/domains.txt\""), location: start.location))
                    }
                } else {
                    throw fail("expected 'rule' or 'list' at the start of a declaration, found \(current.describe)")
                }
            } catch {
                recover(from: start)
            }
        }
        return file
    }

    /// Skips to the next top-level `rule` or `list` at the start of a line after `start`.
    private mutating func recover(from start: Int) {
        if index == start { _ = advance() }
        while current.kind != .end {
            if (isWord("rule") || isWord("list")) && current.location.column == 1 { return }
            _ = advance()
        }
    }

    private mutating func parseRule() throws(Abort) -> RuleSyntax {
        let start = advance()
        let name = try identifier("the rule's name")
        var description: String?
        if case .string(let text) = current.kind {
            description = text
            _ = advance()
        }
        var category: (String, SourceLocation)?
        var severity: (String, SourceLocation)?
        var mode: (String, SourceLocation)?
        var owner: String?
        var budget: (Int, SourceLocation)?
        while case .identifier(let word) = current.kind, Self.metaWords.contains(word) {
            let token = advance()
            switch word {
            case "category": category = (try dottedName("a category from the taxonomy"), token.location)
            case "severity": severity = (try identifier("a severity"), token.location)
            case "mode": mode = (try identifier("active, shadow or off"), token.location)
            case "owner": owner = try string("the owner")
            case "budget":
                guard case .number(let value) = current.kind else { throw fail("expected the most hits per hour, such as budget 500") }
                _ = advance()
                if isWord("per") {
                    _ = advance()
                    try expectWord("hour", "after 'per'")
                }
                budget = (Int(value), token.location)
            default: description = try string("the description")
            }
        }
        try expectWord("when", "before the rule's condition (rule \(name))")
        let condition = try parseExpression()
        let then = current
        try expectWord("then", "after the condition of rule \(name)")
        var effects: [EffectSyntax] = []
        while case .identifier(let word) = current.kind, Self.effectWords.contains(word) {
            effects.append(try parseEffect())
        }
        if effects.isEmpty {
            throw fail("rule \(name) needs at least one effect after 'then': signal, label, unlabel, route, action or verdict", at: then)
        }
        if current.kind != .end, !isWord("rule"), !isWord("list") {
            throw fail("expected another effect (signal, label, unlabel, route, action, verdict) or the next rule, found \(current.describe)")
        }
        let endLine = index > 0 ? tokens[index - 1].location.line : start.location.line
        let text = source[(start.location.line - 1)..<min(endLine, source.count)].joined(separator: "\n")
        return RuleSyntax(name: name, location: start.location, description: description, category: category, severity: severity,
                          mode: mode, owner: owner, budget: budget, condition: condition, effects: effects, text: text)
    }

    private mutating func parseEffect() throws(Abort) -> EffectSyntax {
        let token = advance()
        guard case .identifier(let word) = token.kind else { throw fail("expected an effect") }
        switch word {
        case "signal":
            var subject: Expression?
            var category: String?
            var severity: String?
            var reason: String?
            while true {
                if isWord("subject") {
                    _ = advance()
                    subject = try parseExpression()
                } else if isWord("category") {
                    _ = advance()
                    category = try dottedName("a category")
                } else if isWord("severity") {
                    _ = advance()
                    severity = try identifier("a severity")
                } else if isWord("reason") {
                    _ = advance()
                    reason = try string("the reason")
                } else {
                    break
                }
            }
            return .signal(subject: subject, category: category, severity: severity, reason: reason, token.location)
        case "label", "unlabel":
            let target = try parseExpression()
            let name = try string("the label's name")
            if word == "unlabel" { return .unlabel(target, name, token.location) }
            var expiry: Int64?
            if isWord("for") {
                _ = advance()
                expiry = try duration("how long the label lasts")
            }
            return .label(target, name, expiry, token.location)
        case "route":
            if isWord("to") { _ = advance() }
            if isWord("queue") { _ = advance() }
            return .route(try string("the queue's name"), token.location)
        case "action":
            let name = try string("the action's name, such as \"suspend\"")
            var subject: Expression?
            var duration: Int64?
            while true {
                if isWord("subject") {
                    _ = advance()
                    subject = try parseExpression()
                } else if isWord("for") {
                    _ = advance()
                    duration = try self.duration("how long")
                } else {
                    break
                }
            }
            return .action(name, subject: subject, duration: duration, token.location)
        default:
            return .verdict(try identifier("allow, challenge or block"), token.location)
        }
    }

    // MARK: - Expressions

    private mutating func parseExpression() throws(Abort) -> Expression {
        depth += 1
        defer { depth -= 1 }
        guard depth < Self.maxDepth else { throw fail("the expression is nested too deeply; split it into simpler conditions") }
        return try parseOr()
    }

    private mutating func parseOr() throws(Abort) -> Expression {
        var left = try parseAnd()
        while isWord("or") {
            let token = advance()
            left = .binary("or", left, try parseAnd(), token.location)
        }
        return left
    }

    private mutating func parseAnd() throws(Abort) -> Expression {
        var left = try parseNot()
        while isWord("and") {
            let token = advance()
            left = .binary("and", left, try parseNot(), token.location)
        }
        return left
    }

    private mutating func parseNot() throws(Abort) -> Expression {
        if isWord("not") {
            let token = advance()
            depth += 1
            defer { depth -= 1 }
            guard depth < Self.maxDepth else { throw fail("the expression is nested too deeply") }
            return .unary("not", try parseNot(), token.location)
        }
        return try parseComparison()
    }

    private static let comparisons: Set<String> = ["==", "!=", "<", "<=", ">", ">="]
    private static let stringTests: Set<String> = ["contains", "startswith", "endswith", "matches"]

    private mutating func parseComparison() throws(Abort) -> Expression {
        let left = try parseAdditive()
        if case .symbol(let symbol) = current.kind, Self.comparisons.contains(symbol) {
            let token = advance()
            return .binary(symbol, left, try parseAdditive(), token.location)
        }
        if case .identifier(let word) = current.kind, Self.stringTests.contains(word) {
            let token = advance()
            return .binary(word, left, try parseAdditive(), token.location)
        }
        if isWord("in") || (isWord("not") && isWord("in", at: 1)) {
            let negated = isWord("not")
            if negated { _ = advance() }
            let token = advance()
            let right: Expression
            let nextIsCall = index + 1 < tokens.count && tokens[index + 1].kind == .symbol("(")
            if case .identifier(let name) = current.kind, name != "event", !nextIsCall {
                right = .namedList(name, advance().location)
            } else {
                right = try parseAdditive()
            }
            let test = Expression.binary("in", left, right, token.location)
            return negated ? .unary("not", test, token.location) : test
        }
        if isWord("has") {
            let token = advance()
            try expectWord("label", "after 'has'")
            let name = try string("the label's name")
            var age: Int64?
            if isWord("older") {
                _ = advance()
                try expectWord("than", "after 'older'")
                age = try duration("the label's minimum age")
            }
            return .hasLabel(left, name, age, token.location)
        }
        return left
    }

    private mutating func parseAdditive() throws(Abort) -> Expression {
        var left = try parseMultiplicative()
        while isSymbol("+") || isSymbol("-") {
            let token = advance()
            guard case .symbol(let symbol) = token.kind else { break }
            left = .binary(symbol, left, try parseMultiplicative(), token.location)
        }
        return left
    }

    private mutating func parseMultiplicative() throws(Abort) -> Expression {
        var left = try parseUnary()
        while isSymbol("*") || isSymbol("/") {
            let token = advance()
            guard case .symbol(let symbol) = token.kind else { break }
            left = .binary(symbol, left, try parseUnary(), token.location)
        }
        return left
    }

    private mutating func parseUnary() throws(Abort) -> Expression {
        if isSymbol("-") {
            let token = advance()
            return .unary("-", try parseUnary(), token.location)
        }
        return try parsePrimary()
    }

    private mutating func parsePrimary() throws(Abort) -> Expression {
        let token = current
        switch token.kind {
        case .number(let value):
            _ = advance()
            return .literal(.number(value), token.location)
        case .string(let text):
            _ = advance()
            return .literal(.string(text), token.location)
        case .duration(let millis):
            _ = advance()
            return .literal(.duration(millis), token.location)
        case .symbol("("):
            _ = advance()
            let inner = try parseExpression()
            try expectSymbol(")", "to close '('")
            return inner
        case .symbol("["):
            _ = advance()
            var items: [Expression] = []
            if !isSymbol("]") {
                repeat {
                    if isSymbol(",") { _ = advance() }
                    items.append(try parseExpression())
                } while isSymbol(",")
            }
            try expectSymbol("]", "to close the list")
            return .list(items, token.location)
        case .identifier(let word):
            _ = advance()
            switch word {
            case "true": return .literal(.bool(true), token.location)
            case "false": return .literal(.bool(false), token.location)
            case "null": return .literal(.null, token.location)
            case "event":
                var path: [String] = []
                while isSymbol(".") {
                    _ = advance()
                    path.append(try identifier("a field name after '.'"))
                }
                return .path(path, token.location)
            default:
                guard isSymbol("(") else {
                    throw fail("unknown name '\(word)'; fields start with event. (such as event.type), text goes in double quotes", at: token)
                }
                _ = advance()
                if let aggregate = VelocitySyntax.Aggregate(rawValue: word) {
                    return .velocity(try parseVelocity(aggregate), token.location)
                }
                var arguments: [Expression] = []
                if !isSymbol(")") {
                    repeat {
                        if isSymbol(",") { _ = advance() }
                        arguments.append(try parseExpression())
                    } while isSymbol(",")
                }
                try expectSymbol(")", "to close the call to \(word)")
                return .call(word, arguments, token.location)
            }
        default:
            throw fail("expected a value (a field such as event.type, text in quotes, a number or a function), found \(token.describe)")
        }
    }

    /// `count([event.type] by KEY within DURATION [where CONDITION])`,
    /// `distinct(VALUE by KEY within …)`, `sum(VALUE by KEY within …)`.
    private mutating func parseVelocity(_ aggregate: VelocitySyntax.Aggregate) throws(Abort) -> VelocitySyntax {
        var value: Expression?
        var eventType: String?
        if aggregate == .count {
            if case .identifier(let word) = current.kind, word != "by" {
                eventType = try dottedName("an event type")
            }
        } else {
            value = try parseAdditive()
        }
        try expectWord("by", "in \(aggregate.rawValue)(…): name what to group by, such as by event.ip")
        let key = try parseAdditive()
        try expectWord("within", "in \(aggregate.rawValue)(…): give the window, such as within 10m")
        let window = try duration("the window")
        var filter: Expression?
        if isWord("where") {
            _ = advance()
            filter = try parseExpression()
        }
        try expectSymbol(")", "to close \(aggregate.rawValue)(…)")
        return VelocitySyntax(aggregate: aggregate, value: value, eventType: eventType, key: key, window: window, filter: filter)
    }
}
