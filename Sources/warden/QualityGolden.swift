import ArgumentParser
import Foundation
import WardenCore
import WardenEngine
import WardenHTTP
import WardenQuality
import WardenStore

extension Quality {
    /// `warden qa golden import FILE`: golden items in bulk from CSV; every row is checked first and a
    /// file with any bad row changes nothing.
    struct Golden: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Golden items: import them from CSV, list them, or see how people do on those mixed into live queues.",
            subcommands: [Import.self, List.self, Checks.self])

        struct Import: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Import golden items (content with its right answer and the reason) from a CSV file.",
                discussion: """
                    The header names the columns text, answer and explanation, and queue unless --queue gives it \
                    for every row (any order; others are ignored). An answer is none or a category of the pack's \
                    taxonomy. Every row is checked before anything is stored: a file with a bad row is refused with \
                    its line, and nothing is imported. The same as POST /v1/quality/golden per row. Example:
                      warden qa golden import harassment-golden.csv --queue harassment
                    """)

            @Argument(help: "The CSV file.") var file: String
            @Option(help: "The queue of every item (else a queue column).") var queue: String?
            @Option(help: "Who imports them (recorded in the audit log).") var actor = "cli:warden"
            @OptionGroup var data: DataDirOption
            @OptionGroup var pack: PackOption
            @Flag(help: "Print the imported items as JSON.") var json = false

            func run() async throws {
                let loaded = try pack.load()
                guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("\(file): cannot read the file") }
                let records: [(line: Int, fields: [String])]
                do { records = try CSV.records(String(decoding: data, as: UTF8.self)) } catch { throw ValidationError("\(file) \(error.description)") }
                guard let header = records.first else { throw ValidationError("\(file): the file is empty; it needs a header with text, answer and explanation") }
                let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
                var columns: [String: Int] = [:]
                for name in ["text", "answer", "explanation", "queue"] { columns[name] = names.firstIndex(of: name) }
                for needed in ["text", "answer", "explanation"] + (queue == nil ? ["queue"] : []) where columns[needed] == nil {
                    throw ValidationError("\(file) line \(header.line): the header needs a column \(needed) (it has: \(header.fields.joined(separator: ", ")))")
                }
                let scale = Set(SessionAnswer.scale(loaded.taxonomy.categoryIDs))
                let queues = loaded.review.configuration.queueOrder
                var rows: [(text: String, queue: String, answer: String, explanation: String)] = []
                for record in records.dropFirst() {
                    func field(_ name: String) -> String? {
                        columns[name].flatMap { $0 < record.fields.count ? record.fields[$0].trimmingCharacters(in: .whitespacesAndNewlines) : nil }
                    }
                    let where_ = "\(file) line \(record.line)"
                    guard let text = field("text"), !text.isEmpty else { throw ValidationError("\(where_): text is empty") }
                    guard text.count <= 20_000 else { throw ValidationError("\(where_): text has \(text.count) characters; the limit is 20000") }
                    let queue = queue ?? field("queue") ?? ""
                    guard queues.contains(queue) else { throw ValidationError("\(where_): there is no queue \(queue); queues: \(queues.joined(separator: ", "))") }
                    let answer = field("answer") ?? ""
                    guard scale.contains(answer) else {
                        throw ValidationError("\(where_): answer \(answer) is not none or a category of the taxonomy (\(scale.sorted().joined(separator: ", ")))")
                    }
                    guard let explanation = field("explanation"), !explanation.isEmpty else { throw ValidationError("\(where_): explanation is empty") }
                    rows.append((text, queue, answer, explanation))
                }
                guard !rows.isEmpty else { throw ValidationError("\(file): no rows after the header") }
                guard let who = ActorRef(parsing: actor) else { throw ValidationError("--actor is kind:name, such as cli:ana, not \(actor)") }
                let opened = try await OpenedDataDir(self.data, exclusive: false)
                let quality = QualityService(store: opened.store, clock: SystemWallClock(), pack: {
                    (loaded.quality, loaded.taxonomy.categoryIDs, loaded.review.configuration.queueOrder)
                })
                var imported: [GoldenItem] = []
                for (index, row) in rows.enumerated() {
                    imported.append(try await quality.importGolden(text: row.text, queue: row.queue, answer: row.answer, explanation: row.explanation, actor: who))
                    if !json, (index + 1) % 100 == 0 || index + 1 == rows.count {
                        FileHandle.standardError.write(Data("\rimported \(index + 1) of \(rows.count)".utf8))
                    }
                }
                if json {
                    print(try Quality.encode(imported.map { ["id": String($0.id), "queue": $0.queue, "answer": $0.answer] }))
                    return
                }
                FileHandle.standardError.write(Data("\n".utf8))
                let byQueue = Dictionary(grouping: imported, by: \.queue).mapValues(\.count).sorted { $0.key < $1.key }
                print("Imported \(imported.count) golden items (ids \(imported.first!.id)–\(imported.last!.id)): "
                      + byQueue.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List golden items (live ones; --retired for all).")
            @Option(help: "Only this queue's.") var queue: String?
            @Flag(help: "Include retired items.") var retired = false
            @OptionGroup var data: DataDirOption
            @Flag(help: "Print the items as JSON.") var json = false

            func run() async throws {
                let opened = try await OpenedDataDir(data, exclusive: false)
                var items: [GoldenItem] = []
                while true {
                    let page = try await opened.store.goldenItems(queue: queue, retired: retired, after: items.last?.id, limit: 1000)
                    items += page
                    if page.count < 1000 { break }
                }
                if json {
                    print(try Quality.encode(items.map { ["id": String($0.id), "queue": $0.queue, "answer": $0.answer, "text": $0.text,
                                                          "explanation": $0.explanation, "retired": $0.retiredAt == nil ? "no" : "yes"] }))
                    return
                }
                print("id      queue          answer                    text")
                for item in items {
                    let text = item.text.replacingOccurrences(of: "\n", with: " ")
                    print("\(String(item.id).padding(toLength: 8, withPad: " ", startingAt: 0))\(item.queue.padding(toLength: 15, withPad: " ", startingAt: 0))"
                          + "\(item.answer.padding(toLength: 26, withPad: " ", startingAt: 0))\(text.prefix(60))\(item.retiredAt == nil ? "" : " (retired)")")
                }
                print("\(items.count) golden items")
            }
        }
    }

    /// `warden qa golden checks`: accuracy on golden items mixed unseen into live queues.
    struct Checks: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Accuracy on golden items mixed unseen into live queues (quality.yaml golden_mix).",
            discussion: """
                Over the mixed golden items decided in the last --days days in a data directory: overall and per \
                reviewer, team and queue, lowest accuracy first, each with its Wilson interval; rows whose whole \
                interval is under the pack's target_accuracy are marked. The same report as \
                GET /v1/quality/golden-checks. Example:
                  warden qa golden checks --days 28
                """)

        @OptionGroup var data: DataDirOption
        @OptionGroup var pack: PackOption
        @Option(help: "Days to cover, ending now (1–\(QualityService.maximumDays)).") var days = 28
        @Flag(help: "Print the report as JSON.") var json = false

        func validate() throws {
            guard (1...QualityService.maximumDays).contains(days) else { throw ValidationError("--days must be between 1 and \(QualityService.maximumDays), not \(days)") }
        }

        func run() async throws {
            let loaded = try pack.load()
            let opened = try await OpenedDataDir(data, exclusive: false)
            let quality = QualityService(store: opened.store, clock: SystemWallClock(), pack: {
                (loaded.quality, loaded.taxonomy.categoryIDs, loaded.review.configuration.queueOrder)
            })
            let report = try await quality.goldenChecks(days: days)
            if json {
                print(try Quality.encode(GoldenChecksResponse(report, days: days, mix: loaded.quality.goldenMix)))
                return
            }
            let mix = loaded.quality.goldenMix.sorted { $0.key < $1.key }.map { "\($0.key) \(Quality.format($0.value * 100, 1)) %" }
            print(mix.isEmpty ? "No queue mixes golden items in (quality.yaml golden_mix)." : "Mixed into " + mix.joined(separator: ", ") + " of claims.")
            print("\(report.overall.checked) mixed golden items decided in the last \(days) days")
            Quality.printAccuracy([("overall", [report.overall]), ("by reviewer", report.byReviewer), ("by team", report.byTeam), ("by queue", report.byQueue)])
        }
    }

    /// `warden qa certifications`: the pack's rules and who holds which certification.
    struct Certifications: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Certification rules (quality.yaml) and who is certified for which queue.",
            discussion: """
                The same as GET /v1/quality/certifications. Example:
                  warden qa certifications --queue harassment
                """)
        @Option(help: "Only this queue.") var queue: String?
        @OptionGroup var data: DataDirOption
        @OptionGroup var pack: PackOption
        @Flag(help: "Print as JSON.") var json = false

        func run() async throws {
            let loaded = try pack.load()
            let opened = try await OpenedDataDir(data, exclusive: false)
            let held = try await opened.store.certifications(user: nil, queue: queue)
            let rules = loaded.quality.certification.values.filter { queue == nil || $0.queue == queue }.sorted { $0.queue < $1.queue }
            if json {
                struct Out: Encodable {
                    struct Rule: Encodable { var queue: String; var threshold: Double; var items: Int; var required: Bool }
                    struct Held: Encodable { var user: String; var queue: String; var score: Double; var grantedAt: String; var active: Bool; var revokeReason: String? }
                    var rules: [Rule]
                    var certifications: [Held]
                }
                print(try Quality.encode(Out(rules: rules.map { .init(queue: $0.queue, threshold: $0.threshold, items: $0.items, required: $0.required) },
                                             certifications: held.map { .init(user: $0.user, queue: $0.queue, score: $0.score,
                                                                              grantedAt: Timestamp.formatRFC3339($0.grantedAt), active: $0.isActive,
                                                                              revokeReason: $0.revokeReason) })))
                return
            }
            for rule in rules {
                print("\(rule.queue): \(rule.items) golden items, \(Quality.format(rule.threshold * 100, 0)) % right to pass\(rule.required ? "; required to claim its work" : "")")
            }
            if rules.isEmpty { print("The pack names no queue with training (quality.yaml certification:).") }
            print("")
            for certification in held {
                print("\(certification.user.padding(toLength: 24, withPad: " ", startingAt: 0))\(certification.queue.padding(toLength: 15, withPad: " ", startingAt: 0))"
                      + "\(Quality.format(certification.score * 100, 0)) %  \(Timestamp.formatRFC3339(certification.grantedAt))"
                      + (certification.isActive ? "" : "  revoked: \(certification.revokeReason ?? "")"))
            }
            print("\(held.filter(\.isActive).count) active certifications")
        }
    }
}
