public import WardenCore

/// A value during rule evaluation. A missing field is `null`; see ``Truth`` for how it combines.
public enum Value: Sendable, Equatable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case duration(Int64)
    case entity(EntityRef)
    case list([Value])

    /// The value converted from parsed JSON.
    public init(_ json: JSONValue) {
        switch json {
        case .null: self = .null
        case .bool(let value): self = .bool(value)
        case .number(let value): self = .number(value)
        case .string(let value): self = .string(value)
        case .array(let values): self = .list(values.map(Value.init))
        case .object: self = .null
        }
    }

    /// Text for string tests: strings as they are, entities by id, numbers in decimal.
    var text: String? {
        switch self {
        case .string(let text): text
        case .entity(let ref): ref.id
        case .number(let number): number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
        default: nil
        }
    }

    var numeric: Double? {
        switch self {
        case .number(let value): value
        case .duration(let millis): Double(millis)
        case .string(let text): Double(text)
        default: nil
        }
    }

    public var description: String {
        switch self {
        case .null: "null"
        case .bool(let value): String(value)
        case .number: text ?? ""
        case .string(let text): "\"\(text)\""
        case .duration(let millis): "\(millis)ms"
        case .entity(let ref): ref.description
        case .list(let values): "[" + values.map(\.description).joined(separator: ", ") + "]"
        }
    }
}

/// Three-valued logic, as in SQL: a comparison involving a missing value is `unknown`, `not unknown`
/// is `unknown`, and a rule fires only when its condition is `true`. So a missing field never makes
/// a rule fire by way of `not`.
public enum Truth: Sendable, Equatable {
    case `true`, `false`, unknown

    init(_ value: Bool) {
        self = value ? .true : .false
    }

    /// True, false, or nil for unknown.
    var bool: Bool? {
        switch self {
        case .true: true
        case .false: false
        case .unknown: nil
        }
    }

    static prefix func ! (truth: Truth) -> Truth {
        switch truth {
        case .true: .false
        case .false: .true
        case .unknown: .unknown
        }
    }
}
