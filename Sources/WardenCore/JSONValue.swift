/// A parsed JSON value, for the places that need the whole tree (comparing a retried event with
/// the stored one). Intake's hot path never builds one.
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Parses a complete JSON text; nil when it is not valid JSON.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> JSONValue? {
        var scanner = JSONScanner(bytes, maxDepth: 128)
        guard let value = try? parseValue(&scanner, depth: 0), (try? scanner.expectEnd()) != nil else { return nil }
        return value
    }

    /// The member `key` of an object (nil for anything else or a missing member).
    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    /// Parses JSON from an array of bytes.
    public static func parse(_ bytes: [UInt8]) -> JSONValue? {
        bytes.withUnsafeBufferPointer { parse($0) }
    }

    /// The value at `path` inside the JSON object `bytes`, building only that value: other members
    /// are skipped without allocating. Nil when a step is missing, is not an object, or the text is
    /// not valid JSON. As in ``parse(_:)``, the last of repeated keys counts.
    public static func member(at path: [String], in bytes: UnsafeBufferPointer<UInt8>) -> JSONValue? {
        guard let range = location(of: path, in: bytes) else { return nil }
        return parse(UnsafeBufferPointer(rebasing: bytes[range]))
    }

    /// Where the value at `path` inside the JSON object `bytes` is: its bytes (a string's with its
    /// quotes). Nil when a step is missing or is not an object, or the text is not valid JSON.
    public static func location(of path: [String], in bytes: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
        var scanner = JSONScanner(bytes, maxDepth: 128)
        do {
            for component in path {
                guard scanner.peek() == UInt8(ascii: "{") else { return nil }
                scanner.index += 1
                var found: Int?
                if scanner.peek() == UInt8(ascii: "}") { return nil }
                while true {
                    let key = try scanner.scanString()
                    try scanner.expect(UInt8(ascii: ":"), "':'")
                    let matches = key.hasEscapes ? scanner.decode(key) == component : scanner.raw(key, equals: component)
                    if scanner.peek() != nil, matches { found = scanner.index }
                    try scanner.skipValue(depth: 1)
                    guard let next = scanner.peek() else { return nil }
                    scanner.index += 1
                    if next == UInt8(ascii: "}") { break }
                    guard next == UInt8(ascii: ",") else { return nil }
                }
                guard let found else { return nil }
                scanner.index = found
            }
            let start = scanner.index
            try scanner.skipValue(depth: 0)
            return start..<scanner.index
        } catch {
            return nil
        }
    }

    private static func parseValue(_ scanner: inout JSONScanner, depth: Int) throws(EventError) -> JSONValue {
        guard let byte = scanner.peek() else { throw scanner.error("unexpected end") }
        switch byte {
        case UInt8(ascii: "{"):
            guard depth < scanner.maxDepth else { throw scanner.error("too deep") }
            scanner.index += 1
            var object: [String: JSONValue] = [:]
            if scanner.peek() == UInt8(ascii: "}") {
                scanner.index += 1
                return .object(object)
            }
            while true {
                let key = scanner.decode(try scanner.scanString())
                try scanner.expect(UInt8(ascii: ":"), "':'")
                object[key] = try parseValue(&scanner, depth: depth + 1)
                guard let next = scanner.peek() else { throw scanner.error("unexpected end") }
                scanner.index += 1
                if next == UInt8(ascii: "}") { return .object(object) }
                guard next == UInt8(ascii: ",") else { throw scanner.error("expected ','") }
            }
        case UInt8(ascii: "["):
            guard depth < scanner.maxDepth else { throw scanner.error("too deep") }
            scanner.index += 1
            var array: [JSONValue] = []
            if scanner.peek() == UInt8(ascii: "]") {
                scanner.index += 1
                return .array(array)
            }
            while true {
                array.append(try parseValue(&scanner, depth: depth + 1))
                guard let next = scanner.peek() else { throw scanner.error("unexpected end") }
                scanner.index += 1
                if next == UInt8(ascii: "]") { return .array(array) }
                guard next == UInt8(ascii: ",") else { throw scanner.error("expected ','") }
            }
        case UInt8(ascii: "\""):
            return .string(scanner.decode(try scanner.scanString()))
        case UInt8(ascii: "t"):
            try scanner.literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try scanner.literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try scanner.literal("null")
            return .null
        default:
            let range = try scanner.scanNumber()
            let text = String(decoding: UnsafeBufferPointer(rebasing: scanner.bytes[range]), as: UTF8.self)
            return .number(Double(text) ?? .nan)
        }
    }
}
