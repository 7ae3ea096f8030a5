/// Decoding errors in the terms a person fixing the input needs: the field path and what is wrong.
extension DecodingError {
    /// The path of the offending field, such as `categories[3].name` (empty for the whole document).
    public var fieldPath: String {
        let keys: [any CodingKey]
        switch self {
        case .keyNotFound(let key, let context): keys = context.codingPath + [key]
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context): keys = context.codingPath
        @unknown default: keys = []
        }
        return keys.map { key in key.intValue.map { "[\($0)]" } ?? ".\(key.stringValue)" }.joined().trimmingPrefix(".").description
    }

    /// What is wrong with that field.
    public var problem: String {
        switch self {
        case .keyNotFound: "is required"
        case .typeMismatch(let type, _): "must be \(type == String.self ? "a string" : type == Int.self ? "an integer" : "a \(type)")"
        case .valueNotFound: "must not be null"
        case .dataCorrupted(let context):
            context.codingPath.isEmpty ? "is not valid JSON or YAML" : context.debugDescription
        @unknown default: "cannot be read"
        }
    }

    /// Whether the document itself could not be parsed (as opposed to a field being wrong).
    public var isSyntaxError: Bool {
        if case .dataCorrupted(let context) = self, context.codingPath.isEmpty { return true }
        return false
    }
}
