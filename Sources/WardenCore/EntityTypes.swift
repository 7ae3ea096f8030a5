/// The entity types an event may name. Unknown types are rejected at intake so that a typo
/// (`devcie`) never silently creates a parallel universe of entities.
public struct EntityTypes: Sendable, Equatable {
    /// The types every installation knows; a policy pack may add more in `pack.yaml`.
    public static let builtIn: [String] = [
        "user", "account", "ip", "device", "email", "email_domain", "phone", "content", "message",
        "org", "api_key", "card", "payment", "session", "url", "domain", "listing",
    ]

    /// The registered names, in a stable order for error messages.
    public let names: [String]
    private let lookup: Set<String>

    /// Registers the built-in types plus `additional` ones (duplicates are ignored).
    public init(additional: [String] = []) {
        var seen = Set<String>()
        var names: [String] = []
        for name in Self.builtIn + additional where seen.insert(name).inserted {
            names.append(name)
        }
        self.names = names
        self.lookup = seen
    }

    /// Whether `name` is a registered type.
    public func contains(_ name: String) -> Bool { lookup.contains(name) }

    /// Whether a string is a well-formed type name: lower-case letters, digits and `_`, starting with a letter.
    public static func isWellFormed(_ name: String) -> Bool {
        guard let first = name.utf8.first, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first),
              name.utf8.count <= 40
        else { return false }
        return name.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
        }
    }
}
