import Foundation
import Hummingbird

/// A submitted HTML form (`application/x-www-form-urlencoded`), size-limited, with its CSRF field
/// checked against the session's token before a handler sees any value.
struct ConsoleForm {
    private var values: [(String, String)]

    /// The most a console form may carry.
    static let limit = 64 * 1024

    init(values: [(String, String)]) {
        self.values = values
    }

    /// Reads the body; refuses it (403) unless `_csrf` equals `expected`.
    static func read(_ request: Request, csrf expected: String) async throws -> ConsoleForm {
        let body = try await RequestInput.collect(request, limit: limit)
        let form = ConsoleForm(values: parse(String(buffer: body)))
        guard let sent = form["_csrf"], constantTimeEqual(sent, expected) else {
            throw Problem(.forbidden, "csrf", title: "The form has expired",
                          detail: "the form's security token does not match your session; reload the page and try again")
        }
        return form
    }

    /// Pairs of a query string or urlencoded body, in order, with `+` as space.
    static func parse(_ text: String) -> [(String, String)] {
        text.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ part: Substring) -> String {
                let spaced = part.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    /// The first value of `name`.
    subscript(_ name: String) -> String? { values.first { $0.0 == name }?.1 }

    /// The first value of `name`, trimmed, or nil when blank.
    func text(_ name: String) -> String? {
        guard let value = self[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }

    /// Every value of `name`, in order.
    func all(_ name: String) -> [String] { values.filter { $0.0 == name }.map(\.1) }

    /// The value of `name`, required and within `max` characters.
    func required(_ name: String, label: String, max: Int) throws -> String {
        guard let value = text(name) else { throw ConsoleRefusal("\(label) is required") }
        guard value.count <= max else { throw ConsoleRefusal("\(label) is longer than \(max) characters") }
        return value
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// A form the console refuses, shown on the page it came from (422).
struct ConsoleRefusal: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
