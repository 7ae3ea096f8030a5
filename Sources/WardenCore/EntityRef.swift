/// A typed identifier of something in the product: `user:123`, `ip:203.0.113.7`.
///
/// The type names what kind of thing it is (one of the registered ``EntityTypes``); the id is the
/// product's own identifier for it, opaque to Warden.
public struct EntityRef: Hashable, Sendable, CustomStringConvertible, Comparable {
    /// The entity type, such as `user` or `ip`.
    public var type: String
    /// The product's identifier within that type.
    public var id: String

    /// Creates a reference from its two parts.
    public init(type: String, id: String) {
        self.type = type
        self.id = id
    }

    /// Parses the `type:id` form; the id may itself contain colons (`ip:2001:db8::1`).
    public init?(parsing text: some StringProtocol) {
        // Split at the first colon scalar, not Character: a colon followed by a combining mark
        // or an emoji modifier ("1:🏻") is one Character with the mark, and would hide the colon.
        let scalars = String(text).unicodeScalars
        guard let colon = scalars.firstIndex(of: ":") else { return nil }
        let type = Substring(scalars[..<colon])
        let id = Substring(scalars[scalars.index(after: colon)...])
        guard !type.isEmpty, !id.isEmpty else { return nil }
        self.init(type: String(type), id: String(id))
    }

    /// The `type:id` form.
    public var description: String { "\(type):\(id)" }

    public static func < (lhs: EntityRef, rhs: EntityRef) -> Bool {
        (lhs.type, lhs.id) < (rhs.type, rhs.id)
    }
}

extension EntityRef: Codable {
    /// Decodes `type:id`.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let ref = EntityRef(parsing: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "must be an entity such as user:u1"))
        }
        self = ref
    }

    /// Encodes `type:id`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
