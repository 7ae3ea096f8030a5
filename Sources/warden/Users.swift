import ArgumentParser
import Foundation
import WardenCore
import WardenReview
import WardenEngine
import WardenStore

/// `warden users`: people who sign in to the console and API with a password.
struct Users: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage people (offline, on a data directory): roles, assigned queues, disabling.",
        discussion: """
            Roles: \(Role.allCases.map(\.rawValue).joined(separator: ", ")). What each may do is in docs/permissions.md. \
            Vendor reviewers see only the queues given with --queue, with e-mails, IPs and phone numbers masked.
            """,
        subcommands: [Add.self, List.self, Link.self, Disable.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a user. The password comes from --password-stdin, or one is generated and printed once.")
        @OptionGroup var data: DataDirOption
        @Option(help: "Login name (lower-case letters, digits, . _ -).") var name: String
        @Option(help: "Role: \(Role.allCases.map(\.rawValue).joined(separator: ", ")).") var role: String
        @Option(name: .customLong("queue"), help: "An assigned queue (repeatable; vendor reviewers need one).") var queues: [String] = []
        @Option(name: .customLong("team"), help: "A team (repeatable).") var teams: [String] = []
        @Flag(help: "Read the password from standard input (at least 12 characters).") var passwordStdin = false
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            guard let parsed = Role(rawValue: role) else {
                throw ValidationError("unknown role \(role); roles: \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            var password: String
            var generated = false
            if passwordStdin {
                password = (readLine(strippingNewline: true) ?? "")
            } else {
                var generator = SystemRandomNumberGenerator()
                let alphabet = Array("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
                password = String((0..<20).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
                generated = true
            }
            let opened = try await OpenedDataDir(data, exclusive: false)
            let user: UserRecord
            do {
                user = try await UserAccounts(store: opened.store).add(name: name, role: parsed, password: password, queues: queues, teams: teams,
                                                                      actor: "cli:\(NSUserName())")
            } catch let error as UserAccounts.Invalid {
                throw ValidationError(error.description)
            } catch let error as ReviewError {
                throw ValidationError(error.description)
            }
            if json {
                var object: [String: Any] = ["name": user.name, "role": user.role.rawValue, "queues": user.queues, "teams": user.teams]
                if generated { object["password"] = password }
                printJSON(object)
            } else {
                print("added \(user.name) (\(user.role.rawValue)\(user.queues.isEmpty ? "" : ", queues " + user.queues.joined(separator: ",")))")
                if generated { print("password (shown only now): \(password)") }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users (never their password hashes).")
        @OptionGroup var data: DataDirOption
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let opened = try await OpenedDataDir(data, exclusive: false)
            let users = try await opened.store.users()
            if json {
                printJSON(["users": users.map { user -> [String: Any] in
                    ["name": user.name, "role": user.role.rawValue, "queues": user.queues, "teams": user.teams,
                     "created_at": Timestamp.formatRFC3339(user.createdAt), "disabled": user.disabledAt != nil]
                }])
            } else {
                for user in users {
                    print("\(user.name.padding(toLength: 20, withPad: " ", startingAt: 0))  \(user.role.rawValue.padding(toLength: 15, withPad: " ", startingAt: 0))  \(user.disabledAt == nil ? "active  " : "disabled")  \(user.queues.joined(separator: ","))")
                }
            }
        }
    }

    struct Link: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a one-time sign-in link for a user (a forgotten password, a first sign-in).",
            discussion: """
                Prints a path to append to the console's address: /signin/<secret>. It signs the user in once, \
                within 24 hours, and opens their account page to choose a password. Creating it is audited.
                """)
        @OptionGroup var data: DataDirOption
        @Argument(help: "The user's name.") var name: String
        @Option(help: "The console's address, printed in front of the path.") var base = "http://127.0.0.1:8080"
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let opened = try await OpenedDataDir(data, exclusive: false)
            guard let user = try await opened.store.user(named: name), user.disabledAt == nil else {
                throw ValidationError("there is no active user named \(name)")
            }
            let secret = try await UserAccounts(store: opened.store).signInLink(for: name)
            let url = base.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + "/signin/" + secret
            if json {
                printJSON(["user": name, "url": url])
            } else {
                print("one-time sign-in for \(name) (valid 24 h, one use): \(url)")
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable a user and end their sessions (the record and its history stay).")
        @OptionGroup var data: DataDirOption
        @Argument(help: "The user's name.") var name: String

        func run() async throws {
            let opened = try await OpenedDataDir(data, exclusive: false)
            guard try await opened.store.disableUser(name, actor: "cli:\(NSUserName())", now: SystemWallClock().nowMillis()) else {
                throw ValidationError("there is no active user named \(name)")
            }
            print("disabled \(name)")
        }
    }
}
