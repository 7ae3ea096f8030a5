/// A query kept for the team: its name, what it is for, its SQL and the parameters the SQL names.
public struct SavedQuery: Sendable, Equatable {
    public var name: String
    public var description: String
    public var sql: String
    /// The SQL's named parameters (`:since` → `since`), in the order they appear.
    public var parameters: [String]
    public var createdBy: String
    public var createdAt: Int64
    public var updatedBy: String
    public var updatedAt: Int64

    public init(name: String, description: String, sql: String, parameters: [String], createdBy: String, createdAt: Int64,
                updatedBy: String, updatedAt: Int64) {
        self.name = name
        self.description = description
        self.sql = sql
        self.parameters = parameters
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.updatedBy = updatedBy
        self.updatedAt = updatedAt
    }

    public static let maximumSQL = 20_000
    public static let maximumDescription = 2_000

    /// Checks a name: 1–64 lower-case letters, digits, `-` and `_`, starting with a letter.
    public static func check(name: String) throws(QueryError) {
        let allowed = name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" }
        guard (1...64).contains(name.count), allowed, let first = name.unicodeScalars.first, ("a"..."z").contains(first) else {
            throw QueryError(.invalid, "a saved query's name has 1 to 64 lower-case letters, digits, - and _, starting with a letter (not \"\(name.prefix(70))\")")
        }
    }

    public static func check(description: String) throws(QueryError) {
        guard description.unicodeScalars.count <= maximumDescription else {
            throw QueryError(.invalid, "the description has \(description.unicodeScalars.count) characters; keep it to \(maximumDescription)")
        }
    }

    /// Checks the text of a query before it is compiled: present and not too long.
    public static func check(sql: String) throws(QueryError) {
        guard sql.contains(where: { !$0.isWhitespace }) else { throw QueryError(.invalid, "the query is empty: give one SELECT statement") }
        guard sql.unicodeScalars.count <= maximumSQL else {
            throw QueryError(.invalid, "the query has \(sql.unicodeScalars.count) characters; keep it to \(maximumSQL)")
        }
    }
}

/// Binding values to a query's named parameters.
public enum QueryParameters {
    /// The parameter names SQLite reports (`:since`), without their prefix; positional `?`
    /// parameters are refused.
    public static func names(_ reported: [String?]) throws(QueryError) -> [String] {
        var names: [String] = []
        for name in reported {
            guard let name, name.count > 1, name.first == ":" else {
                throw QueryError(.refused, "use named parameters such as :since (\(name ?? "?") has no name)")
            }
            names.append(String(name.dropFirst()))
        }
        return names
    }

    /// The values for `names` in order, from `given`; every parameter needs a value and every value
    /// a parameter.
    public static func bind(_ names: [String], _ given: [String: QueryValue]) throws(QueryError) -> [QueryValue] {
        var values: [QueryValue] = []
        for name in names {
            guard let value = given[name] else {
                throw QueryError(.invalid, "parameter :\(name) has no value; give it in parameters")
            }
            values.append(value)
        }
        if let extra = given.keys.sorted().first(where: { !names.contains($0) }) {
            throw QueryError(.invalid, names.isEmpty ? "the query has no parameters, but \(extra) was given"
                                                     : "the query has no parameter :\(extra); its parameters: \(names.map { ":" + $0 }.joined(separator: ", "))")
        }
        return values
    }
}
