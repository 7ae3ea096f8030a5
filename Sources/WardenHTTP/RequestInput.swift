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
        guard let document = JSONValue.parse(Array(data)), case .object(let members) = document else {
            throw Problem(.badRequest, "malformed-json", title: "Malformed JSON", detail: "the body is not a JSON object")
        }
        if let unknown = members.keys.sorted().first(where: { !T.members.contains($0) }) {
            throw Self.invalid(unknown, "is not a member of this request; it takes \(T.members.joined(separator: ", "))")
        }
        for (path, allowed) in T.nestedMembers {
            for (index, item) in Self.items(at: path, in: document).enumerated() {
                guard case .object(let nested) = item else { continue }
                if let unknown = nested.keys.sorted().first(where: { !allowed.contains($0) }) {
                    throw Self.invalid("\(path)[\(index)].\(unknown)", "is not a member; it takes \(allowed.joined(separator: ", "))")
                }
            }
        }
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

    private static func items(at path: String, in document: JSONValue) -> [JSONValue] {
        guard case .array(let items)? = document[path] else { return [] }
        return items
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
        guard !text.isEmpty, text.count <= maxLength else { throw Self.badParameter(name, "must be 1 to \(maxLength) characters") }
        return text
    }

    /// An entity reference (`user:u1`), or nil when absent.
    func entity(_ name: String) throws -> EntityRef? {
        guard let text = text(name) else { return nil }
        guard let ref = EntityRef(parsing: text) else { throw Self.badParameter(name, "must be an entity such as user:u1; got \(text.prefix(40))") }
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
    /// A path parameter that is a positive integer identifier.
    func id(_ name: String = "id") throws -> Int64 {
        guard let text = parameters.get(name), let value = Int64(text), value > 0 else {
            throw Problem.badRequest("invalid-parameter", "\(name) must be a positive integer")
        }
        return value
    }
}

/// Text a person must write: not empty, not only blanks.
extension String {
    var isBlank: Bool { allSatisfy(\.isWhitespace) }
}
