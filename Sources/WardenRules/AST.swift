/// The parsed form of a rule file, before checking.
struct RuleFileSyntax: Sendable {
    var lists: [ListDeclaration] = []
    var rules: [RuleSyntax] = []
}

/// `list NAME from "lists/file.txt"`, or `list NAME from query "saved-query"` for a derived table
/// (the first column of what the saved query last materialised, read live).
struct ListDeclaration: Sendable {
    var name: String
    var path: String
    var location: SourceLocation
    var derived = false
}

/// One `rule … when … then …` block.
struct RuleSyntax: Sendable {
    var name: String
    var location: SourceLocation
    var description: String?
    var category: (String, SourceLocation)?
    var severity: (String, SourceLocation)?
    var mode: (String, SourceLocation)?
    var owner: String?
    var budget: (Int, SourceLocation)?
    var condition: Expression
    var effects: [EffectSyntax]
    /// The rule's source text, from which its version is derived.
    var text: String
}

/// An expression with its location.
indirect enum Expression: Sendable {
    case literal(Value, SourceLocation)
    case list([Expression], SourceLocation)
    /// `event.…` with the path after `event`.
    case path([String], SourceLocation)
    case unary(String, Expression, SourceLocation)
    case binary(String, Expression, Expression, SourceLocation)
    case call(String, [Expression], SourceLocation)
    /// `in LISTNAME`: the right-hand side names a list file of the pack.
    case namedList(String, SourceLocation)
    /// `x has label "name" [older than 1h]`.
    case hasLabel(Expression, String, Int64?, SourceLocation)
    case velocity(VelocitySyntax, SourceLocation)

    var location: SourceLocation {
        switch self {
        case .literal(_, let location), .list(_, let location), .path(_, let location), .unary(_, _, let location),
             .binary(_, _, _, let location), .call(_, _, let location), .namedList(_, let location),
             .hasLabel(_, _, _, let location), .velocity(_, let location):
            location
        }
    }
}

/// `count(…)`, `distinct(…)`, `sum(…)`.
struct VelocitySyntax: Sendable {
    enum Aggregate: String, Sendable {
        case count, distinct, sum
    }
    var aggregate: Aggregate
    /// What is counted distinctly or summed (nil for `count`).
    var value: Expression?
    /// Only events of this type (`count(account.created by …)`).
    var eventType: String?
    var key: Expression
    var window: Int64
    var filter: Expression?
}

/// What a rule does when it fires.
enum EffectSyntax: Sendable {
    case signal(subject: Expression?, category: String?, severity: String?, reason: String?, SourceLocation)
    case label(Expression, String, Int64?, SourceLocation)
    case unlabel(Expression, String, SourceLocation)
    case route(String, SourceLocation)
    case action(String, subject: Expression?, duration: Int64?, SourceLocation)
    case verdict(String, SourceLocation)
}
