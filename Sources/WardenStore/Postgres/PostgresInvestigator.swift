import Crypto
import Foundation
import Logging
import PostgresNIO
import WardenCore
import WardenInvestigations

/// Investigators' read-only SQL on PostgreSQL.
///
/// The investigation views live in a schema of their own, `investigation`, owned by the store's
/// login. Investigators' queries run on connections of a second login that may read those views
/// and nothing else: PostgreSQL checks a view's tables against the view's owner, so this login
/// needs (and has) no right to any table, and neither a `SET ROLE` nor `set_config('role', …)`
/// inside a query can reach the store's own login, which it is not a member of. Each query runs in
/// a `READ ONLY` transaction with the views first on its search path and `statement_timeout` set to
/// its time limit; it is wrapped as a subquery, so it is one `SELECT` (or `WITH`, `VALUES`,
/// `TABLE`), and its rows are read up to the row limit.
///
/// The login is Warden's own unless the database URL names one (`investigator_user`,
/// `investigator_password`): the store's login creates `warden_q_<database>` with a random
/// password the first time a query runs, keeps the password in `investigator_login` (which only the
/// store's login reads), and grants it `SELECT` on the views. That needs the `CREATEROLE` right;
/// without it queries are refused with the reason and what to do.
actor PostgresInvestigator {
    private enum State {
        case unknown
        case connecting(Task<PostgresClient, any Error>)
        case ready(PostgresClient, Task<Void, Never>)
        case unavailable(String, until: ContinuousClock.Instant)
    }

    private let configuration: PostgresConfiguration
    private let store: PostgresClient
    private let logger: Logger
    private var state = State.unknown

    init(configuration: PostgresConfiguration, store: PostgresClient, logger: Logger) {
        self.configuration = configuration
        self.store = store
        self.logger = logger
    }

    deinit {
        if case .ready(_, let running) = state { running.cancel() }
    }

    func shutdown() {
        if case .ready(_, let running) = state { running.cancel() }
        state = .unavailable("the store is closed", until: .now + .seconds(1_000_000))
    }

    // MARK: Running queries

    func run(_ sql: String, parameters: [String: QueryValue], limits: QueryLimits) async throws -> QueryResult {
        let started = ContinuousClock.now
        let text = try PostgresQueryText.parse(sql)
        let values = try QueryParameters.bind(text.names, parameters)
        let client = try await connected()
        let logger = self.logger
        return try await Self.readOnly(client, limits: limits, logger: logger) { connection in
            let columns = try await Self.describe(connection, text.body, values, logger: logger)
            var result = try await Self.fetch(connection, text.body, values, columns: columns, limits: limits, logger: logger)
            let elapsed = ContinuousClock.now - started
            result.elapsedMillis = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
            return result
        }
    }

    func parameters(_ sql: String) async throws -> [String] {
        let text = try PostgresQueryText.parse(sql)
        let client = try await connected()
        let logger = self.logger
        _ = try await Self.readOnly(client, limits: QueryLimits(rows: 1, millis: QueryLimits.defaultMillis), logger: logger) { connection in
            try await Self.describe(connection, text.body, text.names.map { _ in .null }, logger: logger)
        }
        return text.names
    }

    /// One read-only transaction on an investigator's connection, with the views on the search
    /// path and the time limit set; PostgreSQL's refusals come out as ``QueryError``s.
    private static func readOnly<T: Sendable>(_ client: PostgresClient, limits: QueryLimits, logger: Logger,
                                              _ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await client.withConnection { connection in
                try await connection.query("START TRANSACTION READ ONLY", logger: logger)
                do {
                    try await connection.query("""
                        SELECT set_config('search_path', 'investigation, pg_catalog', true), set_config('statement_timeout', \(String(max(limits.millis, 1))), true)
                        """, logger: logger)
                    let value = try await body(connection)
                    try await connection.query("ROLLBACK", logger: logger)
                    return value
                } catch {
                    _ = try? await connection.query("ROLLBACK", logger: logger)
                    throw error
                }
            }
        } catch let error as PSQLError {
            throw Self.queryError(error, limits: limits)
        }
    }

    /// The query's columns: its name and type each, as PostgreSQL plans it (no rows are read).
    private static func describe(_ connection: PostgresConnection, _ body: String, _ values: [QueryValue],
                                 logger: Logger) async throws -> [(name: String, type: PostgresDataType)] {
        let rows = try await connection.query(bound("SELECT * FROM (\n\(body)\n) AS investigation_query LIMIT 0", values), logger: logger)
        let columns = rows.columns.map { (name: $0.name, type: $0.dataType) }
        _ = try await rows.collect()
        return columns
    }

    /// The rows, each column read as one of the result's four kinds: every column is selected by
    /// position (`q(c1, c2, …)`), with integers as `int8`, booleans as 1 and 0, other numbers as
    /// `float8`, `bytea` as it is and anything else as its text.
    private static func fetch(_ connection: PostgresConnection, _ body: String, _ values: [QueryValue],
                              columns: [(name: String, type: PostgresDataType)], limits: QueryLimits, logger: Logger) async throws -> QueryResult {
        let aliases = columns.indices.map { "c\($0 + 1)" }
        let select = columns.isEmpty ? "1" : zip(aliases, columns).map { alias, column in
            switch column.type {
            case .int8, .float8, .bytea: "q.\(alias)"
            case .int2, .int4: "q.\(alias)::int8"
            case .bool: "q.\(alias)::int::int8"
            case .float4, .numeric: "q.\(alias)::float8"
            default: "q.\(alias)::text"
            }
        }.joined(separator: ", ")
        let from = columns.isEmpty ? "(\n\(body)\n) AS q" : "(\n\(body)\n) AS q(\(aliases.joined(separator: ", ")))"
        let sql = "SELECT \(select) FROM \(from) LIMIT \(Int64(limits.rows) + 1)"
        var rows: [[QueryValue]] = []
        var truncated = false
        var bytes = 0
        for try await row in try await connection.query(bound(sql, values), logger: logger) {
            // Past the limits the rest is read and dropped, so the connection ends the query cleanly.
            if truncated { continue }
            if rows.count == limits.rows || bytes > maximumResultBytes {
                truncated = true
                continue
            }
            var values: [QueryValue] = []
            values.reserveCapacity(columns.count)
            for cell in row.prefix(columns.count) {
                guard var buffer = cell.bytes else {
                    values.append(.null)
                    continue
                }
                switch cell.dataType {
                case .int8: values.append(.integer(try cell.decode(Int64.self)))
                case .float8: values.append(.real(try cell.decode(Double.self)))
                case .bytea:
                    bytes += buffer.readableBytes
                    values.append(.blob(buffer.readBytes(length: buffer.readableBytes) ?? []))
                default:
                    bytes += buffer.readableBytes
                    values.append(.text(buffer.readString(length: buffer.readableBytes) ?? ""))
                }
            }
            rows.append(values)
        }
        return QueryResult(columns: columns.map(\.name), rows: rows, truncated: truncated, elapsedMillis: 0)
    }

    /// At most this many bytes of text and blobs in one result, as on SQLite.
    static let maximumResultBytes = 64 << 20

    /// `sql` with `values` bound to `$1`, `$2`, … as text of no declared type, so PostgreSQL reads
    /// each as the type its place in the query needs (as it reads a quoted literal there).
    private static func bound(_ sql: String, _ values: [QueryValue]) -> PostgresQuery {
        var bindings = PostgresBindings(capacity: values.count)
        for value in values {
            switch value {
            case .null: bindings.appendNull()
            case .integer(let number): bindings.append(UntypedText(String(number)))
            case .real(let number): bindings.append(UntypedText(number.isFinite ? String(number) : "NaN"))
            case .text(let text): bindings.append(UntypedText(text))
            case .blob(let bytes): bindings.append(UntypedText("\\x" + bytes.hexString))
            }
        }
        return PostgresQuery(unsafeSQL: sql, binds: bindings)
    }

    /// What a query's failure says to the person who wrote it.
    private static func queryError(_ error: PSQLError, limits: QueryLimits) -> any Error {
        guard let state = error.sqlState else { return error }
        let message = error.serverInfo?[.message] ?? "the query failed"
        let views = InvestigationViews.all.map(\.name).joined(separator: ", ")
        switch state {
        case "57014":
            return QueryError(.timeout, "the query ran past its time limit of \(limits.millis) ms and was stopped")
        case "42501", "42P01":
            return QueryError(.refused, "a query reads only the investigation views (\(views)) and derived tables: \(message)")
        case "25006":
            return QueryError(.refused, "a query only reads: \(message)")
        case "22021", "22P05":
            return QueryError(.invalid, "a parameter holds a NUL character (U+0000), which PostgreSQL's text cannot")
        case _ where state.hasPrefix("08") || state.hasPrefix("53") || state.hasPrefix("57") || state.hasPrefix("58") || state.hasPrefix("XX"):
            return error
        default:
            return QueryError(.refused, message)
        }
    }

    // MARK: The investigators' login

    /// The investigators' connection pool, set up on first use (queries arriving meanwhile wait
    /// for the same setting up); a login that cannot be set up is reported to every query for a
    /// minute, then tried again.
    private func connected() async throws -> PostgresClient {
        switch state {
        case .ready(let client, _):
            return client
        case .connecting(let opening):
            return try await opening.value
        case .unavailable(let reason, let until) where ContinuousClock.now < until:
            throw QueryError(.refused, reason)
        case .unknown, .unavailable:
            let opening = Task { try await self.open() }
            state = .connecting(opening)
            do {
                let client = try await opening.value
                return client
            } catch let refusal as QueryError {
                if case .connecting = state { state = .unavailable(refusal.message, until: .now + .seconds(60)) }
                logger.warning("investigators' SQL is not available: \(refusal.message)")
                throw refusal
            } catch {
                if case .connecting = state { state = .unknown }
                throw error
            }
        }
    }

    /// Sets up the login and starts its pool.
    private func open() async throws -> PostgresClient {
        let (username, password) = try await login()
        var client = configuration.client
        client.username = username
        client.password = password
        client.options.maximumConnections = 4
        client.options.minimumConnections = 0
        let pool = PostgresClient(configuration: client, backgroundLogger: logger)
        let running = await PostgresStore.start(pool)
        // Closed meanwhile: the pool goes with it.
        guard case .connecting = state else {
            running.cancel()
            throw QueryError(.refused, "the store is closed")
        }
        state = .ready(pool, running)
        logger.info("investigators' SQL runs as its own login", metadata: ["login": "\(username)"])
        return pool
    }

    /// The investigators' login, granted `SELECT` on the views and checked by connecting with it.
    private func login() async throws -> (String, String) {
        if let given = configuration.investigator {
            guard given.username != configuration.username else {
                throw QueryError(.refused, "investigator_user in the database URL is the store's own login; give a login of its own, which may read only the investigation views")
            }
            try await grant(to: given.username)
            try await checkLogin(given.username, given.password, provided: true)
            return (given.username, given.password ?? "")
        }
        let role = Self.roleName(database: configuration.database)
        var password = try await provision(role, replacing: nil)
        var tried = false
        while true {
            do {
                try await checkLogin(role, password, provided: false)
                return (role, password)
            } catch let error as PSQLError where !tried && (error.sqlState == "28P01" || error.sqlState == "28000") {
                // Its password no longer works (a restore into another cluster, say): set a new one,
                // unless another node already has.
                tried = true
                password = try await provision(role, replacing: password)
            }
        }
    }

    /// Creates (or, when `replacing` is the password that did not work, re-keys) Warden's own
    /// investigators' login, under a lock so that nodes starting together make one.
    private func provision(_ role: String, replacing failed: String?) async throws -> String {
        let logger = self.logger
        let database = configuration.database
        do {
            return try await store.withTransaction(logger: logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(\(Self.loginLock))", logger: logger)
                let kept = try await connection.query("SELECT role, password FROM investigator_login WHERE id = 1", logger: logger)
                    .collect().first?.decode((String, String).self)
                let exists = try await !connection.query("SELECT 1 FROM pg_roles WHERE rolname = \(role)", logger: logger).collect().isEmpty
                if let kept, kept.0 == role, exists, failed == nil || kept.1 != failed {
                    // Granted again each time: a restore (`pg_restore --no-privileges`) leaves none.
                    try await Self.grant(connection, to: role, database: database, logger: logger)
                    return kept.1
                }
                let password = Self.newPassword()
                let attributes = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS PASSWORD '\(password)'"
                try await connection.query(PostgresQuery(unsafeSQL: (exists ? "ALTER ROLE " : "CREATE ROLE ") + Self.quoted(role) + " WITH " + attributes),
                                           logger: logger)
                try await connection.query("""
                    INSERT INTO investigator_login (id, role, password) VALUES (1, \(role), \(password))
                    ON CONFLICT (id) DO UPDATE SET role = excluded.role, password = excluded.password
                    """, logger: logger)
                try await Self.grant(connection, to: role, database: database, logger: logger)
                logger.notice("created the investigators' login", metadata: ["login": "\(role)"])
                return password
            }
        } catch let error as PostgresTransactionError {
            let cause = error.closureError ?? error.beginError ?? error.commitError ?? error
            if let cause = cause as? PSQLError, cause.sqlState == "42501" {
                throw QueryError(.refused, """
                    investigators' SQL on PostgreSQL runs as a login of its own, and the store's login (\(configuration.username)) may not create one \
                    (\(cause.serverInfo?[.message] ?? "permission denied")): grant it CREATEROLE, or create a login yourself and name it in the \
                    database URL (investigator_user=…&investigator_password=…)
                    """)
            }
            throw cause
        }
    }

    private func grant(to role: String) async throws {
        let logger = self.logger
        let database = configuration.database
        do {
            try await store.withTransaction(logger: logger) { connection in
                try await Self.grant(connection, to: role, database: database, logger: logger)
            }
        } catch let error as PostgresTransactionError {
            let cause = error.closureError ?? error.beginError ?? error.commitError ?? error
            if let cause = cause as? PSQLError, let state = cause.sqlState, state == "42704" || state == "42501" {
                throw QueryError(.refused, "the investigators' login \(role) from the database URL could not be granted the views: \(cause.serverInfo?[.message] ?? state)")
            }
            throw cause
        }
    }

    /// `SELECT` on every view, now and as derived tables add theirs.
    private static func grant(_ connection: PostgresConnection, to role: String, database: String, logger: Logger) async throws {
        let name = quoted(role)
        for statement in [
            "GRANT CONNECT ON DATABASE \(quoted(database)) TO \(name)",
            "GRANT USAGE ON SCHEMA investigation TO \(name)",
            "GRANT SELECT ON ALL TABLES IN SCHEMA investigation TO \(name)",
            "ALTER DEFAULT PRIVILEGES IN SCHEMA investigation GRANT SELECT ON TABLES TO \(name)",
        ] {
            try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
        }
    }

    /// Connects once as the login, so a wrong password shows now rather than inside the pool.
    private func checkLogin(_ username: String, _ password: String?, provided: Bool) async throws {
        var options = PostgresConnection.Configuration(host: configuration.host, port: configuration.port, username: username, password: password,
                                                       database: configuration.database, tls: try configuration.tls.connection())
        options.options.connectTimeout = .seconds(10)
        do {
            let connection = try await PostgresConnection.connect(configuration: options, id: 1, logger: logger)
            try await connection.close()
        } catch let error as PSQLError where provided {
            throw QueryError(.refused, "the investigators' login \(username) from the database URL cannot connect: \(error.serverInfo?[.message] ?? "\(error.code)")")
        }
    }

    /// `warden_q_` and the database's name (a digest of it when that is not a plain name of 54
    /// characters or fewer): one login per database, as roles belong to the whole server.
    static func roleName(database: String) -> String {
        let plain = database.count <= 54 && database.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }
        if plain { return "warden_q_" + database }
        return "warden_q_" + SHA256.hash(data: Data(database.utf8)).prefix(12).map { String(format: "%02x", $0) }.joined()
    }

    private static func newPassword() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }.hexString
    }

    static func quoted(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

    /// The advisory lock creating the login holds ("wardeq" in ASCII).
    static let loginLock: Int64 = 0x77_61_72_64_65_71
}

extension PostgresInvestigator {
    /// The views, by name: `InvestigationViews.all` in PostgreSQL's SQL, the same columns in the same
    /// order as the SQLite store's (`PostgresConformanceTests` checks both ways). JSON columns are
    /// `json` (PostgreSQL's operators read them: `data ->> 'text'`, `data -> 'actor' ->> 'id'`);
    /// `json` rather than `jsonb`, because an event body may hold a `\u0000` escape that `jsonb` refuses.
    static let viewSQL: [String: String] = [
        "events": """
            SELECT seq, id, type, occurred_at, received_at,
                   (body::json -> 'actor' ->> 'type') || ':' || (body::json -> 'actor' ->> 'id') AS actor,
                   body::json -> 'entities' AS entities, body::json -> 'data' AS data
            FROM public.event
            """,
        "entities": "SELECT type || ':' || id AS entity, type, id, first_seen_at, first_seq FROM public.entity",
        "mentions": """
            SELECT e.type || ':' || e.id AS entity, e.type AS type, e.id AS id, m.seq AS seq
            FROM public.entity e JOIN public.event_entity m ON m.entity = e.key
            """,
        "links": """
            SELECT x.type || ':' || x.id AS a, y.type || ':' || y.id AS b, l.first_seq AS first_seq
            FROM public.entity_link l JOIN public.entity x ON x.key = l.a JOIN public.entity y ON y.key = l.b
            """,
        "labels": "SELECT entity, name, source, created_at, expires_at FROM public.entity_label",
        "signals": """
            SELECT id, event_seq, case_id, rule, rule_version, category, severity, subject, reason, queue, verdict, occurred_at, created_at
            FROM public.signal
            """,
        "cases": """
            SELECT id, kind, subject, source, queue, state, category, severity, score, band, signals, reports, assignee, created_at,
                   first_action_at, resolved_at, due_at, appeal_of
            FROM public.review_case
            """,
        "decisions": """
            SELECT id, case_id, decided_by, at, category, violation::int AS violation, policy, rationale, macro, appeal_outcome FROM public.decision
            """,
        "actions": """
            SELECT id, decision_id, case_id, subject, action, duration, created_at, reverses, reversed_at, reversed_by
            FROM public.enforcement_action
            """,
        "reports": """
            SELECT e.seq AS seq, e.id AS id, e.received_at AS received_at,
                   (e.body::json -> 'actor' ->> 'type') || ':' || (e.body::json -> 'actor' ->> 'id') AS reporter,
                   e.body::json -> 'data' ->> 'subject' AS subject, e.body::json -> 'data' ->> 'reason' AS reason,
                   e.body::json -> 'data' ->> 'text' AS text, i.case_id AS case_id
            FROM public.event e LEFT JOIN public.case_item i ON i.kind = 'report' AND i.ref = e.seq
            WHERE e.type = 'report'
            """,
        "statements": "SELECT decision_id, created_at, body::json AS body FROM public.statement_of_reasons",
    ]

    /// The schema, its helper functions (`iso`, `hour`, `day`, `ago`, and `json_extract` with
    /// SQLite's `$.a.b[0]` paths, answering text) and the views, and where Warden keeps its own
    /// investigators' login: migration 10.
    static var schemaStatements: [String] {
        var statements = [
            "CREATE SCHEMA investigation",
            """
            CREATE FUNCTION investigation.iso(ms bigint) RETURNS text LANGUAGE sql STABLE STRICT PARALLEL SAFE AS $$
                SELECT to_char(to_timestamp(floor(ms / 1000.0)) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
                    || CASE WHEN ms % 1000 = 0 THEN '' ELSE '.' || lpad(((ms % 1000 + 1000) % 1000)::text, 3, '0') END || 'Z'
            $$
            """,
            """
            CREATE FUNCTION investigation.hour(ms bigint) RETURNS text LANGUAGE sql STABLE STRICT PARALLEL SAFE AS $$
                SELECT to_char(to_timestamp(floor(ms / 1000.0)) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":00Z"')
            $$
            """,
            """
            CREATE FUNCTION investigation.day(ms bigint) RETURNS text LANGUAGE sql STABLE STRICT PARALLEL SAFE AS $$
                SELECT to_char(to_timestamp(floor(ms / 1000.0)) AT TIME ZONE 'UTC', 'YYYY-MM-DD')
            $$
            """,
            """
            CREATE FUNCTION investigation.ago(span text) RETURNS bigint LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
            DECLARE
                part text[] := regexp_match(span, '^([0-9]{1,12})([smhd])$');
            BEGIN
                IF part IS NULL THEN
                    RAISE EXCEPTION 'ago() takes a duration such as ''24h'', ''7d'' or ''30m'' (not %)', coalesce(quote_literal(span), 'null')
                        USING ERRCODE = 'invalid_parameter_value';
                END IF;
                RETURN floor(extract(epoch FROM now()) * 1000)::bigint
                    - part[1]::bigint * CASE part[2] WHEN 's' THEN 1000 WHEN 'm' THEN 60000 WHEN 'h' THEN 3600000 ELSE 86400000 END;
            END $$
            """,
            // SQLite's JSON paths ('$.a.b[0]', '$."a b"'), as the steps of PostgreSQL's #> and #>>;
            // text that is not a path is one key ('text'), as PostgreSQL's own -> and ->> take it.
            #"""
            CREATE FUNCTION investigation.json_steps(path text) RETURNS text[] LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
                SELECT CASE WHEN left(path, 1) <> '$' THEN ARRAY[path] ELSE coalesce((
                    SELECT array_agg(coalesce(step[1], step[2], step[3]) ORDER BY n)
                    FROM regexp_matches(path, '\.([A-Za-z_][A-Za-z0-9_]*)|\."([^"]*)"|\[([0-9]+)\]', 'g') WITH ORDINALITY AS t(step, n)
                ), '{}'::text[]) END
            $$
            """#,
            """
            CREATE FUNCTION investigation.json_extract(document json, path text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
                SELECT document #>> investigation.json_steps(path)
            $$
            """,
            """
            CREATE FUNCTION investigation.json_extract(document text, path text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
                SELECT (document::json) #>> investigation.json_steps(path)
            $$
            """,
            """
            CREATE FUNCTION investigation.json_at(document json, path text) RETURNS json LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
                SELECT document #> investigation.json_steps(path)
            $$
            """,
            // -> and ->> with a path, as in SQLite (investigators' search path puts this schema
            // before pg_catalog, so these answer for json and text; -> 0 and ->> 0 stay PostgreSQL's).
            "CREATE OPERATOR investigation.->> (LEFTARG = json, RIGHTARG = text, FUNCTION = investigation.json_extract)",
            "CREATE OPERATOR investigation.-> (LEFTARG = json, RIGHTARG = text, FUNCTION = investigation.json_at)",
            // json_each(document, path): SQLite's, over an object's members or an array's elements.
            """
            CREATE FUNCTION investigation.json_each(document json, path text) RETURNS TABLE (key text, value json)
                LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
                SELECT e.key, e.value FROM pg_catalog.json_each(CASE WHEN json_typeof(document #> investigation.json_steps(path)) = 'object'
                                                                    THEN document #> investigation.json_steps(path) END) AS e
                UNION ALL
                SELECT (a.n - 1)::text, a.value FROM json_array_elements(CASE WHEN json_typeof(document #> investigation.json_steps(path)) = 'array'
                                                                              THEN document #> investigation.json_steps(path) END) WITH ORDINALITY AS a(value, n)
            $$
            """,
        ]
        for view in InvestigationViews.all {
            statements.append("CREATE VIEW investigation.\(view.name) AS \(viewSQL[view.name] ?? "SELECT 'missing view' AS error")")
        }
        // Warden's own investigators' login; only the store's login reads it.
        statements.append("""
            CREATE TABLE investigator_login (
                id integer PRIMARY KEY CHECK (id = 1),
                role text NOT NULL,
                password text NOT NULL
            )
            """)
        return statements
    }

    /// Defines (again) the view `investigation.derived_<name>` over a derived table's stored rows,
    /// each column typed as its stored values are (all whole numbers: `bigint`; all numbers:
    /// `double precision`; otherwise text), or drops it when `columns` is nil. In the transaction
    /// that changes the rows, so a query sees the view and the rows together.
    static func defineDerivedView(_ connection: PostgresConnection, query: String, columns: [String]?, logger: Logger) async throws {
        let view = quoted(DerivedTable.viewName(query))
        try await connection.query(PostgresQuery(unsafeSQL: "DROP VIEW IF EXISTS investigation.\(view)"), logger: logger)
        guard let columns else { return }
        var kinds = Array(repeating: "text", count: columns.count)
        if !columns.isEmpty {
            for try await (index, whole, numeric) in try await connection.query("""
                SELECT i, bool_and(v IS NULL OR json_typeof(v) = 'null' OR (json_typeof(v) = 'number' AND v::text ~ '^-?[0-9]{1,18}$')),
                       bool_and(v IS NULL OR json_typeof(v) IN ('null', 'number'))
                FROM derived_row r CROSS JOIN generate_series(0, \(columns.count - 1)) AS i CROSS JOIN LATERAL (SELECT r.data::json -> i::int AS v) x
                WHERE r.query = \(query) GROUP BY i
                """, logger: logger).decode((Int, Bool?, Bool?).self) where columns.indices.contains(index) {
                kinds[index] = whole == true ? "bigint" : numeric == true ? "double precision" : "text"
            }
        }
        // Names as PostgreSQL keeps them (63 bytes), made distinct.
        var names: [String] = []
        for column in columns {
            var name = String(decoding: Array(column.utf8.prefix(60)), as: UTF8.self)
            var counter = 2
            while names.contains(name) {
                name = String(decoding: Array(column.utf8.prefix(56)), as: UTF8.self) + "_\(counter)"
                counter += 1
            }
            names.append(name)
        }
        let select = columns.isEmpty ? "NULL AS empty" : names.enumerated().map { index, name in
            kinds[index] == "text" ? "r.data::json ->> \(index) AS \(quoted(name))" : "(r.data::json ->> \(index))::\(kinds[index]) AS \(quoted(name))"
        }.joined(separator: ", ")
        let literal = "'" + query.replacingOccurrences(of: "'", with: "''") + "'"
        try await connection.query(PostgresQuery(unsafeSQL: """
            CREATE VIEW investigation.\(view) AS SELECT \(select) FROM public.derived_row r WHERE r.query = \(literal)
            """), logger: logger)
    }
}

/// A parameter sent as text with no declared type: the server gives it the type its place needs.
private struct UntypedText: PostgresDynamicTypeEncodable {
    let text: String
    init(_ text: String) { self.text = text }
    var psqlType: PostgresDataType { PostgresDataType(0) }
    var psqlFormat: PostgresFormat { .text }
    func encode<JSONEncoder: PostgresJSONEncoder>(into byteBuffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        byteBuffer.writeString(text)
    }
}
