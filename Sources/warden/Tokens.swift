import ArgumentParser
import Foundation
import WardenCore
import WardenEngine

struct Tokens: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage API tokens for machine clients (offline, on a data directory).",
        subcommands: [Create.self, List.self, Revoke.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token and print its secret once.")
        @OptionGroup var data: DataDirOption
        @Option(help: "What the token is for.") var name: String
        @Option(name: .customLong("scope"), help: "A scope (repeatable): \(Scope.allCases.map(\.rawValue).joined(separator: ", ")).")
        var scopes: [String] = []
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let parsed = try scopes.map { name in
                guard let scope = Scope(rawValue: name) else {
                    throw ValidationError("unknown scope \(name); known: \(Scope.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return scope
            }
            guard !parsed.isEmpty else { throw ValidationError("give at least one --scope") }
            let opened = try await OpenedDataDir(data, exclusive: false)
            let (record, secret) = try await AccessTokens(store: opened.store).create(name: name, scopes: parsed)
            if json {
                printJSON(["id": record.id, "name": record.name, "scopes": record.scopes.map(\.rawValue), "token": secret])
            } else {
                print("created \(record.id) (\(record.scopes.map(\.rawValue).joined(separator: " "))); the secret is shown only now:\n\(secret)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (never their secrets).")
        @OptionGroup var data: DataDirOption
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let opened = try await OpenedDataDir(data, exclusive: false)
            let tokens = try await AccessTokens(store: opened.store).list()
            if json {
                printJSON(["tokens": tokens.map { token -> [String: Any] in
                    ["id": token.id, "name": token.name, "scopes": token.scopes.map(\.rawValue),
                     "created_at": Timestamp.formatRFC3339(token.createdAt), "revoked": token.revokedAt != nil]
                }])
            } else {
                for token in tokens {
                    print("\(token.id)  \(token.scopes.map(\.rawValue).joined(separator: ","))  \(token.revokedAt == nil ? "active " : "revoked")  \(Timestamp.formatRFC3339(token.createdAt))  \(token.name)")
                }
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by id.")
        @OptionGroup var data: DataDirOption
        @Argument(help: "Token id (tok_…).") var id: String

        func run() async throws {
            let opened = try await OpenedDataDir(data, exclusive: false)
            guard try await AccessTokens(store: opened.store).revoke(id: id) else {
                throw ValidationError("no active token has id \(id)")
            }
            print("revoked \(id)")
        }
    }
}
