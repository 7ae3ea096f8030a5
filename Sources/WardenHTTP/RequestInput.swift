import Foundation
import Hummingbird
import WardenCore

/// A JSON request body: decoded into its type, refused with the field path at fault. Members the
/// type does not name are refused too (a misspelt `rationale` must not pass unnoticed), and
/// ``validate()`` checks what types alone cannot (text that is not blank, entity references).
protocol RequestBody: Decodable, Sendable {
    associatedtype CodingKeys: CodingKey & CaseIterable
    /// Members of nested objects the type also checks, by the path of the array or object holding them.
    static var nestedMembers: [String: [String]] { get }
    /// Refuses values the type admits but the operation does not.
    func validate() throws(Problem)
}

extension RequestBody {
    static var nestedMembers: [String: [String]] { [:] }
    func validate() throws(Problem) {}

    /// The members the body may have.
    static var members: [String] { CodingKeys.allCases.map(\.stringValue) }
}

/// Reading a request's input: its body (size-limited), JSON bodies into ``RequestBody`` types, and
/// query parameters, each refused with a problem document that says which and why.
struct RequestInput {
    let request: Request
    let limit: Int

    /// Collects the body up to `limit` bytes. A larger body is read to its end and discarded
    /// (up to a hard cap) before the 413, so the client, still sending, gets to read the answer.
    static func collect(_ request: Request, limit: Int) async throws -> ByteBuffer {
        let drainCap = 256 << 20
        let declared = request.headers[.contentLength].flatMap { Int($0) }
        var collected = ByteBuffer()
        var received = 0
        if declared.map({ $0 <= limit }) ?? true { collected.reserveCapacity(min(declared ?? 64 * 1024, limit)) }
        for try await var part in request.body {
            received += part.readableBytes
            if received <= limit {
                collected.writeBuffer(&part)
            } else if received > drainCap {
                break
            }
        }
        guard received <= limit else {
            throw Problem(.contentTooLarge, "body-too-large", title: "Body too large",
                          detail: "the body is larger than \(limit) bytes; split it into smaller batches")
        }
        return collected
    }

    /// The body as `T`; nil for an empty body when `allowEmpty`.
    func body<T: RequestBody>(_ type: T.Type, allowEmpty: Bool = false) async throws -> T? {
        let bytes = try await Self.collect(request, limit: limit)
        if bytes.readableBytes == 0 {
            if allowEmpty { return nil }
            throw Self.invalid(nil, "send a JSON object")
        }
        if let mediaType = request.headers[.contentType] {
            guard mediaType.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() == "application/json" else {
                throw Problem(.unsupportedMediaType, "unsupported-media-type", title: "Unsupported media type",
                              detail: "send a JSON object as Content-Type application/json; got \(mediaType)")
            }
        }
        let data = Data(buffer: bytes)
        try Self.checkMembers(data, allowed: T.members, nested: T.nestedMembers)
        let value: T
        do {
            value = try JSONDecoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            throw Self.invalid(error.fieldPath, error.problem)
        }
        try value.validate()
        return value
    }

    /// The body as `T`, which must be there.
    func body<T: RequestBody>(_ type: T.Type) async throws -> T {
        guard let value = try await body(type, allowEmpty: false) else { throw Self.invalid(nil, "send a JSON object") }
        return value
    }

    /// Refuses a body that is not a JSON object, names a member outside `allowed` (or, in the
    /// objects under `nested`, outside theirs), or gives a member as `null` (leave it out instead).
    static func checkMembers(_ data: Data, allowed: [String], nested: [String: [String]]) throws(Problem) {
        guard let document = JSONValue.parse(Array(data)), case .object(let members) = document else {
            throw Problem(.badRequest, "malformed-json", title: "Malformed JSON", detail: "the body is not a JSON object")
        }
        try check(members, allowed: allowed, at: "")
        if let path = nulPath(document, at: "") {
            throw invalid(path.isEmpty ? nil : path, "must not contain a NUL character (U+0000): no store keeps one in text")
        }
        for (path, allowedThere) in nested {
            switch members[path] {
            case .array(let items)?:
                for (index, item) in items.enumerated() {
                    if case .object(let inner) = item { try check(inner, allowed: allowedThere, at: "\(path)[\(index)].") }
                }
            case .object(let inner)?:
                try check(inner, allowed: allowedThere, at: "\(path).")
            default:
                continue
            }
        }
    }

    /// Where the first text holding U+0000 is (a member name or a string), as a field path.
    static func nulPath(_ value: JSONValue, at path: String) -> String? {
        switch value {
        case .string(let text): return text.unicodeScalars.contains("\u{0}") ? path : nil
        case .array(let items):
            for (index, item) in items.enumerated() { if let found = nulPath(item, at: "\(path)[\(index)]") { return found } }
            return nil
        case .object(let members):
            for key in members.keys.sorted() {
                let inner = path.isEmpty ? key : "\(path).\(key)"
                if key.unicodeScalars.contains("\u{0}") { return inner }
                if let found = nulPath(members[key]!, at: inner) { return found }
            }
            return nil
        default: return nil
        }
    }

    private static func check(_ members: [String: JSONValue], allowed: [String], at prefix: String) throws(Problem) {
        for key in members.keys.sorted() {
            guard allowed.contains(key) else {
                throw invalid(prefix + key, "is not a member of this request; it takes \(allowed.joined(separator: ", "))")
            }
            if members[key] == .null { throw invalid(prefix + key, "must not be null; leave it out instead") }
        }
    }

    /// A 422 naming the field at fault (as `field`, and in the detail).
    static func invalid(_ field: String?, _ message: String) -> Problem {
        var problem = Problem(.unprocessableContent, "invalid-body", title: "Invalid body", detail: field.map { "\($0): \(message)" } ?? message)
        if let field { problem.extensions.append(("field", EventsController.jsonString(field))) }
        return problem
    }

    // MARK: Query parameters

    private func text(_ name: String) -> String? {
        request.uri.queryParameters.get(name).map { String($0) }
    }

    /// Refuses a parameter holding U+0000 (no store keeps one in text).
    private static func noNUL(_ name: String, _ text: String) throws(Problem) {
        if text.unicodeScalars.contains("\u{0}") { throw badParameter(name, "must not contain a NUL character (U+0000)") }
    }

    private static func badParameter(_ name: String, _ message: String) -> Problem {
        var problem = Problem.badRequest("invalid-parameter", "query parameter \(name) \(message)")
        problem.extensions.append(("parameter", EventsController.jsonString(name)))
        return problem
    }

    /// An integer parameter in `range`, or `value` when absent.
    func integer(_ name: String, default value: Int64, range: ClosedRange<Int64>) throws -> Int64 {
        try integer(name, range: range) ?? value
    }

    /// An integer parameter in `range`, or nil when absent.
    func integer(_ name: String, range: ClosedRange<Int64>) throws -> Int64? {
        guard let text = text(name) else { return nil }
        guard let number = Int64(text), range.contains(number) else {
            throw Self.badParameter(name, "must be an integer in \(range.lowerBound)...\(range.upperBound); got \(text.prefix(40))")
        }
        return number
    }

    /// One of an enumeration's values, or nil when absent.
    func choice<T: RawRepresentable & CaseIterable>(_ name: String, _ type: T.Type) throws -> T? where T.RawValue == String {
        guard let text = text(name) else { return nil }
        guard let value = T(rawValue: text) else {
            throw Self.badParameter(name, "must be one of \(T.allCases.map(\.rawValue).joined(separator: ", ")); got \(text.prefix(40))")
        }
        return value
    }

    /// `true` or `false`, or nil when absent.
    func bool(_ name: String) throws -> Bool? {
        guard let text = text(name) else { return nil }
        guard let value = Bool(text) else { throw Self.badParameter(name, "must be true or false; got \(text.prefix(40))") }
        return value
    }

    /// A string parameter of 1 to `maxLength` characters, or nil when absent.
    func string(_ name: String, maxLength: Int = 200) throws -> String? {
        guard let text = text(name) else { return nil }
        guard !text.isEmpty, text.schemaLength <= maxLength else { throw Self.badParameter(name, "must be 1 to \(maxLength) characters") }
        try Self.noNUL(name, text)
        return text
    }

    /// An entity reference (`user:u1`, at most 300 characters), or nil when absent.
    func entity(_ name: String) throws -> EntityRef? {
        guard let text = text(name) else { return nil }
        try Self.noNUL(name, text)
        guard text.schemaLength <= 300, let ref = EntityRef(parsing: text) else { throw Self.badParameter(name, "must be an entity such as user:u1; got \(text.prefix(40))") }
        return ref
    }

    /// A date (`2026-11-23`) or RFC 3339 time, in ms, or nil when absent.
    func time(_ name: String) throws -> Int64? {
        guard let text = text(name) else { return nil }
        guard let value = Timestamp.parseRFC3339(text) ?? (text.count == 10 ? Timestamp.parseRFC3339(text + "T00:00:00Z") : nil) else {
            throw Self.badParameter(name, "must be a date (2026-11-23) or an RFC 3339 time; got \(text.prefix(40))")
        }
        return value
    }
}

extension WardenRequestContext {
    /// A path parameter, percent-decoded (`user%3Au1` is `user:u1`); empty when absent.
    func path(_ name: String) -> String {
        guard let raw = parameters.get(name) else { return "" }
        return raw.removingPercentEncoding ?? raw
    }

    /// A path parameter that is a positive integer identifier.
    static func wholeNumber(_ text: String) -> Int64? {
        guard let dot = text.firstIndex(of: "."), let whole = Int64(text[..<dot]), !text[text.index(after: dot)...].isEmpty,
              text[text.index(after: dot)...].allSatisfy({ $0 == "0" }) else { return nil }
        return whole
    }

    func id(_ name: String = "id") throws -> Int64 {
        // JSON Schema's integers include 1.0: a whole number written with a zero fraction is that number.
        guard let text = parameters.get(name), let value = Int64(text) ?? Self.wholeNumber(text), value > 0 else {
            throw Problem.badRequest("invalid-parameter", "\(name) must be a positive integer")
        }
        return value
    }
}

extension String {
    /// Empty, or only spaces, tabs and line breaks: what the OpenAPI document's `[^\t\n\r ]`
    /// pattern refuses (one definition of blank on both sides of the contract).
    var isBlank: Bool { unicodeScalars.allSatisfy { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" } }

    /// Its length as JSON Schema counts it (code points).
    var schemaLength: Int { unicodeScalars.count }
}

/// The bounds the OpenAPI document states for request members, checked in the same terms
/// (lengths in code points, blank as ``Swift/String/isBlank``), so the contract holds both ways.
enum Bounds {
    /// Text of at most `max` code points; with `nonBlank`, not blank either.
    static func text(_ value: String?, _ field: String, max: Int, nonBlank: Bool = false) throws(Problem) {
        guard let value else { return }
        if nonBlank, value.isBlank { throw RequestInput.invalid(field, "must not be empty or only spaces") }
        if value.schemaLength > max { throw RequestInput.invalid(field, "is \(value.schemaLength) characters long; the limit is \(max)") }
    }

    /// A person or an API token (`user:ben`, `token:t1`) of at most 200 characters.
    static func person(_ actor: ActorRef, _ field: String) throws(Problem) {
        guard actor.kind == .user || actor.kind == .token else {
            throw RequestInput.invalid(field, "must name a person as user:NAME or an API token as token:ID")
        }
        // SQLite reads text up to a NUL: a name holding one would come back as another name.
        guard !actor.name.unicodeScalars.contains("\u{0}") else { throw RequestInput.invalid(field, "must not contain a NUL character") }
        try text(actor.description, field, max: 200)
    }

    /// Each text of a list, and the list's length.
    static func texts(_ values: [String]?, _ field: String, max: Int, maxItems: Int) throws(Problem) {
        guard let values else { return }
        if values.count > maxItems { throw RequestInput.invalid(field, "has \(values.count) items; the limit is \(maxItems)") }
        for (index, value) in values.enumerated() { try text(value, "\(field)[\(index)]", max: max) }
    }
}
