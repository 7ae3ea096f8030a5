import Foundation
import Logging
import NIOSSL
public import PostgresNIO
import WardenCore

/// The scale-out store: every table in one PostgreSQL database that several `warden serve` nodes
/// share, through postgres-nio's connection pool.
///
/// It loads and applies, as the SQLite store does, and decides nothing. What PostgreSQL changes
/// is who else is writing: another node may commit at any moment, so each invariant the single
/// SQLite writer kept for free is kept here by a row lock taken first in the transaction that
/// relies on it (see docs/scaling.md):
/// - the event log's sequence numbers stay dense and in commit order (`log_head`, locked by each
///   append until it commits, so a reader that saw `seq` n has seen everything before it);
/// - the audit chain has one head (`audit_head`, locked by each entry's append);
/// - the entity graph has one indexer at a time (`graph_cursor`, locked for the batch).
public final class PostgresStore: Sendable {
    let client: PostgresClient
    let logger: Logger
    let investigator: PostgresInvestigator
    private let running: Task<Void, Never>

    /// Connects to the database `configuration` names and migrates it to the current schema
    /// (nodes starting together take turns: the migration holds an advisory lock).
    public init(configuration: PostgresConfiguration, logger: Logger = Logger(label: "warden.postgres")) async throws {
        let client = PostgresClient(configuration: configuration.client, backgroundLogger: logger)
        self.client = client
        self.logger = logger
        investigator = PostgresInvestigator(configuration: configuration, store: client, logger: logger)
        running = await Self.start(client)
        do {
            try await PostgresSchema.migrate(client, logger: logger)
        } catch {
            running.cancel()
            throw error
        }
    }

    /// Creates an empty database on the server `server` names (connecting to its database), for
    /// tests and benchmarks. `name` is letters, digits and underscores.
    public static func createDatabase(_ name: String, server: PostgresConfiguration) async throws {
        try await administer(server, "CREATE DATABASE \(try identifier(name))")
    }

    /// Drops a database, closing its other sessions first, and the investigators' login Warden
    /// made for it.
    public static func dropDatabase(_ name: String, server: PostgresConfiguration) async throws {
        try await administer(server, "DROP DATABASE IF EXISTS \(try identifier(name)) WITH (FORCE)")
        try await administer(server, "DROP ROLE IF EXISTS \(PostgresInvestigator.roleName(database: name))")
    }

    private static func identifier(_ name: String) throws -> String {
        guard !name.isEmpty, name.count <= 63, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
            throw PostgresConfigurationError("'\(name)' is not a database name Warden creates: letters, digits and underscores, at most 63")
        }
        return name
    }

    /// One statement outside any transaction, on a connection of its own.
    static func administer(_ server: PostgresConfiguration, _ sql: String) async throws {
        var configuration = server.client
        configuration.options.maximumConnections = 1
        let client = PostgresClient(configuration: configuration, backgroundLogger: Logger(label: "warden.postgres.admin"))
        let running = await start(client)
        defer { running.cancel() }
        try await client.query(PostgresQuery(unsafeSQL: sql)).collect()
    }

    /// Runs the client's pool in a task of its own, returned once the pool is running (it serves
    /// leases only then); cancelling the task closes the pool.
    static func start(_ client: PostgresClient) async -> Task<Void, Never> {
        let (started, signal) = AsyncStream<Void>.makeStream()
        let running = Task {
            signal.finish()
            await client.run()
        }
        for await _ in started {}
        await Task.yield()
        return running
    }

    /// Closes every connection. The store answers nothing afterwards.
    public func shutdown() {
        running.cancel()
        Task { [investigator] in await investigator.shutdown() }
    }

    deinit {
        running.cancel()
    }

    /// Whether the database answers a query.
    public func ping() async throws {
        try await client.query("SELECT 1", logger: logger).collect()
    }

    /// Runs `body` in one transaction on one pooled connection: committed when it returns,
    /// rolled back when it throws. What `body` throws (a planner's refusal, a constraint the server
    /// enforced) comes out as itself; a failure to begin or commit, as the driver's error.
    ///
    /// A transaction the server chose as a deadlock's victim, or that lost a serialization
    /// conflict, rolled back whole: it runs again (up to four times, after a short random pause),
    /// as PostgreSQL's documentation asks of applications. `body` re-reads everything it plans
    /// from, so running it again is running it afresh.
    func transaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await client.withTransaction(logger: logger) { connection in try await body(connection) }
            } catch let error as PostgresTransactionError {
                let cause = error.closureError ?? error.beginError ?? error.commitError ?? error
                if attempt < 4, let state = (cause as? PSQLError)?.sqlState, state == "40P01" || state == "40001" {
                    attempt += 1
                    logger.notice("transaction retried", metadata: ["sqlstate": "\(state)", "attempt": "\(attempt)"])
                    try await Task.sleep(for: .milliseconds(Int.random(in: 5...(20 * attempt))))
                    continue
                }
                throw Self.refusal(cause)
            }
        }
    }

    /// The rows of one statement outside a transaction.
    func rows(_ query: PostgresQuery) async throws -> [PostgresRow] {
        do {
            return try await client.query(query, logger: logger).collect()
        } catch {
            throw Self.refusal(error)
        }
    }

    /// Text PostgreSQL cannot hold (U+0000) as the input error it is, rather than a server fault.
    static func refusal(_ error: any Error) -> any Error {
        guard let error = error as? PSQLError, let state = error.sqlState, state == "22021" || state == "22P05" else { return error }
        return UnstorableText()
    }
}

extension PostgresConnection {
    /// The rows of one statement.
    func rows(_ query: PostgresQuery, logger: Logger) async throws -> [PostgresRow] {
        try await self.query(query, logger: logger).collect()
    }
}

/// Where a PostgreSQL database is and how to reach it, from a `postgres://` URL.
public struct PostgresConfiguration: Sendable, Equatable {
    /// Whether connections use TLS (the URL's `sslmode`).
    public enum TLSMode: String, Sendable, Equatable, CaseIterable {
        /// Plain connections (`sslmode=disable`): loopback and private networks only.
        case disable
        /// TLS when the server offers it (`sslmode=prefer`, libpq's default).
        case prefer
        /// TLS or no connection, with the server's certificate checked against the system's
        /// trust roots and the host name (`sslmode=require`, `verify-full`).
        case require

        var client: PostgresClient.Configuration.TLS {
            switch self {
            case .disable: .disable
            case .prefer: .prefer(TLSConfiguration.makeClientConfiguration())
            case .require: .require(TLSConfiguration.makeClientConfiguration())
            }
        }

        /// The same for a single connection (made outside a pool).
        func connection() throws -> PostgresConnection.Configuration.TLS {
            switch self {
            case .disable: .disable
            case .prefer: .prefer(try NIOSSLContext(configuration: TLSConfiguration.makeClientConfiguration()))
            case .require: .require(try NIOSSLContext(configuration: TLSConfiguration.makeClientConfiguration()))
            }
        }
    }

    /// A login of its own for investigators' SQL (the URL's `investigator_user` and
    /// `investigator_password`); without one, Warden makes its own (``PostgresInvestigator``).
    public struct Login: Sendable, Equatable {
        public var username: String
        public var password: String?

        public init(username: String, password: String?) {
            self.username = username
            self.password = password
        }
    }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var tls: TLSMode
    /// The most connections this node opens (the URL's `pool_size`; default 20).
    public var maximumConnections: Int
    public var investigator: Login?

    public init(host: String, port: Int = 5432, username: String, password: String?, database: String,
                tls: TLSMode = .prefer, maximumConnections: Int = 20, investigator: Login? = nil) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.tls = tls
        self.maximumConnections = maximumConnections
        self.investigator = investigator
    }

    /// The driver's configuration.
    var client: PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(host: host, port: port, username: username, password: password,
                                                         database: database, tls: tls.client)
        configuration.options.maximumConnections = maximumConnections
        configuration.options.minimumConnections = 0
        return configuration
    }

    /// Reads `postgres://user:password@host:port/database?sslmode=…&pool_size=…` (also
    /// `postgresql://`; `investigator_user=…&investigator_password=…` name investigators' login).
    /// Refuses what it cannot use, saying which part.
    public init(url text: String) throws(PostgresConfigurationError) {
        guard let components = URLComponents(string: text), let scheme = components.scheme else {
            throw PostgresConfigurationError("'\(Self.redacted(text))' is not a URL: expected postgres://user:password@host:port/database")
        }
        guard scheme == "postgres" || scheme == "postgresql" else {
            throw PostgresConfigurationError("the database URL's scheme is '\(scheme)': expected postgres:// or postgresql://")
        }
        guard let host = components.host, !host.isEmpty else {
            throw PostgresConfigurationError("the database URL names no host: expected postgres://user:password@host:port/database")
        }
        guard let user = components.user, !user.isEmpty else {
            throw PostgresConfigurationError("the database URL names no user: expected postgres://user:password@host:port/database")
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty else {
            throw PostgresConfigurationError("the database URL names no database: expected postgres://user:password@host:port/database")
        }
        var tls = TLSMode.prefer
        var poolSize = 20
        var investigatorUser: String?, investigatorPassword: String?
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                switch item.value ?? "" {
                case "disable": tls = .disable
                case "allow", "prefer": tls = .prefer
                case "require", "verify-ca", "verify-full": tls = .require
                case let other:
                    throw PostgresConfigurationError("sslmode '\(other)' in the database URL is not one of disable, prefer, require, verify-full")
                }
            case "pool_size":
                guard let size = item.value.flatMap(Int.init), (1...1_000).contains(size) else {
                    throw PostgresConfigurationError("pool_size in the database URL must be a whole number from 1 to 1000")
                }
                poolSize = size
            case "investigator_user":
                guard let user = item.value, !user.isEmpty, user.count <= 63 else {
                    throw PostgresConfigurationError("investigator_user in the database URL must name a login (1 to 63 characters)")
                }
                investigatorUser = user
            case "investigator_password":
                investigatorPassword = item.value
            case let other:
                throw PostgresConfigurationError("'\(other)' in the database URL is not an option Warden reads (sslmode, pool_size, investigator_user, investigator_password)")
            }
        }
        if investigatorPassword != nil, investigatorUser == nil {
            throw PostgresConfigurationError("the database URL gives investigator_password without investigator_user")
        }
        self.init(host: host, port: components.port ?? 5432, username: user.removingPercentEncoding ?? user,
                  password: components.password.map { $0.removingPercentEncoding ?? $0 }, database: database,
                  tls: tls, maximumConnections: poolSize,
                  investigator: investigatorUser.map { Login(username: $0, password: investigatorPassword) })
    }

    /// The URL with its password replaced, for messages and logs.
    public static func redacted(_ text: String) -> String {
        guard var components = URLComponents(string: text) else { return text }
        if components.password != nil { components.password = "***" }
        components.queryItems = components.queryItems?.map { item in
            item.name == "investigator_password" ? URLQueryItem(name: item.name, value: "***") : item
        }
        return components.string ?? text
    }
}

/// Text the store cannot keep: PostgreSQL's text holds no U+0000 (SQLite's reads stop at one).
public struct UnstorableText: Error, CustomStringConvertible, Equatable {
    public var description: String { "text holding a NUL character (U+0000) cannot be stored: remove it" }
}

/// A database URL Warden cannot use, with the reason.
public struct PostgresConfigurationError: Error, CustomStringConvertible, Equatable {
    public var description: String
    init(_ description: String) { self.description = description }
}

extension PSQLError {
    /// The server's SQLSTATE code, when the server refused the statement.
    var sqlState: String? { serverInfo?[.sqlState] }
}
