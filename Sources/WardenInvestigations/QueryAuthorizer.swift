/// What a query asks of the database while it is compiled: the store's authorizer hook reports each
/// access as one of these, and ``QueryAuthorizer`` says yes or no. The rule, in one place and tested
/// without a database: read the investigation views and nothing else; change nothing.
public enum QueryAction: Sendable, Equatable {
    case select
    /// A read of `column` of `table` in `database`, directly (`view` nil) or inside view `view`.
    /// An empty column is a read of rows without their values (`count(*)`).
    case read(table: String, column: String, database: String?, view: String?)
    case function(String)
    case recursive
    case pragma(String)
    case attach(String)
    case detach(String)
    /// Anything else, by its name: insert, update, delete, create table, drop view, transaction…
    case other(String)
}

public enum QueryVerdict: Sendable, Equatable {
    case allow
    case deny(String)
}

public struct QueryAuthorizer: Sendable {
    /// The views a query may name, each with the stored columns it reads (`table.column`). A name
    /// SQLite reports as the view behind a read may also be a common table expression of the query's
    /// own (`WITH events AS (SELECT … FROM audit_log)`); holding each view to the columns it really
    /// reads keeps such a name from opening anything the view does not show.
    public let views: [String: Set<String>]
    /// The stored tables the views read: a query may count their rows (`count(*)` over a view
    /// compiles to a read of the table with no column) but never read their values directly.
    public let baseTables: Set<String>
    /// Table-valued functions allowed: JSON's `json_each` and `json_tree`.
    public let tableFunctions: Set<String>
    /// Functions a query may not call.
    public let deniedFunctions: Set<String>

    public init(views: [String: Set<String>], tableFunctions: Set<String> = ["json_each", "json_tree"],
                deniedFunctions: Set<String> = ["load_extension", "fts3_tokenizer", "sqlite_offset"]) {
        self.views = views
        self.baseTables = Set(views.values.flatMap { $0.map { String($0.prefix { $0 != "." }) } })
        self.tableFunctions = tableFunctions
        self.deniedFunctions = deniedFunctions
    }

    public func verdict(_ action: QueryAction) -> QueryVerdict {
        switch action {
        case .select, .recursive:
            return .allow
        case .read(let table, let column, let database, let view):
            // A view's own columns, read directly or from inside a subquery or CTE.
            if views[table] != nil { return .allow }
            // A stored column, read by the view that shows it.
            if let view, let reads = views[view], reads.contains(table + "." + column) || (column.isEmpty && baseTables.contains(table)) {
                return .allow
            }
            if column.isEmpty {
                // Counting rows: of a CTE or subquery (nothing stored), or of a table a view shows.
                if database == nil || (view == nil && baseTables.contains(table)) { return .allow }
            }
            if tableFunctions.contains(table) { return .allow }
            return .deny("a query reads only the investigation views (\(views.keys.sorted().joined(separator: ", "))), not \(table)" + (column.isEmpty ? "" : ".\(column)"))
        case .function(let name):
            return deniedFunctions.contains(name.lowercased()) ? .deny("a query may not call \(name)()") : .allow
        case .pragma(let name):
            return .deny("a query may not run PRAGMA \(name)")
        case .attach:
            return .deny("a query may not ATTACH a database")
        case .detach:
            return .deny("a query may not DETACH a database")
        case .other(let name):
            return .deny("a query only reads: \(name) is not allowed")
        }
    }
}
