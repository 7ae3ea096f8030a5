/// Who did something, as the timeline, the audit log and the case's holder name them: a person
/// (`user:ana`), an API token (`token:t1`), a part of Warden (`system:leases`) or the command line
/// (`cli:root`). Stored and shown as `kind:name`.
public struct ActorRef: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// What kind of actor.
    public enum Kind: String, Sendable, CaseIterable {
        case user, token, system, cli
    }

    public var kind: Kind
    /// The person's name, the token's id, the component or the operating-system user.
    public var name: String

    /// An actor of `kind` named `name`.
    public init(_ kind: Kind, _ name: String) {
        self.kind = kind
        self.name = name
    }

    /// Parses `kind:name`; nil for an unknown kind or an empty name.
    public init?(parsing text: some StringProtocol) {
        guard let colon = text.firstIndex(of: ":"), let kind = Kind(rawValue: String(text[..<colon])) else { return nil }
        let name = String(text[text.index(after: colon)...])
        guard !name.isEmpty else { return nil }
        self.init(kind, name)
    }

    /// A part of Warden acting on its own (`system:cases`, `system:sla`).
    public static func system(_ component: String) -> ActorRef { ActorRef(.system, component) }

    /// Whether Warden itself acted (not a person or an integration).
    public var isSystem: Bool { kind == .system }

    public var description: String { "\(kind.rawValue):\(name)" }

    public static func < (lhs: ActorRef, rhs: ActorRef) -> Bool { lhs.description < rhs.description }
}

extension ActorRef: ExpressibleByStringLiteral {
    /// An actor written in code (`"user:ana"`); a literal that is not `kind:name` is a programming error.
    public init(stringLiteral text: String) {
        guard let actor = ActorRef(parsing: text) else { preconditionFailure("\"\(text)\" is not an actor: write kind:name, such as user:ana") }
        self = actor
    }
}

extension ActorRef: Codable {
    /// Decodes `kind:name`.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let actor = ActorRef(parsing: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "must be kind:name, such as user:ana or token:t1"))
        }
        self = actor
    }

    /// Encodes `kind:name`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
