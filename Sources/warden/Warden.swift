import ArgumentParser

@main
struct Warden: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "warden",
        abstract: "Warden: trust & safety operations in one binary.",
        discussion: "Start with `warden serve --demo`, then open the address it prints.",
        subcommands: [Serve.self, Ingest.self, Simulate.self, Rules.self, Classifiers.self, Eval.self, Bench.self, Tokens.self, Users.self, Audit.self, Backup.self, Restore.self, Migrate.self, Export.self, Submit.self, Outbox.self, Incidents.self, Alerts.self, Automations.self, Query.self, Quality.self]
    )
}
