import ArgumentParser
import Foundation
import WardenClassifiers

struct ClassifierBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classifier",
        abstract: "Measure the built-in text classifier: training time and inference texts/s on one core.",
        discussion: "Trains each model on DATA (default: the SMS Spam Collection the example pack ships), then classifies every text in it, several times over."
    )

    @Option(help: "Labelled data (NDJSON, CSV or TSV).") var data = "policies/example/data/sms_spam_collection.tsv"
    @Option(help: "Passes over the texts when classifying.") var passes = 5
    @Flag(help: "Print one JSON object.") var json = false

    func run() async throws {
        guard FileManager.default.fileExists(atPath: data) else {
            throw ValidationError("\(data) not found; run from the Warden checkout or pass --data FILE")
        }
        let examples = try loadData(data)
        let texts = examples.map(\.text)
        var results: [String: Any] = ["examples": examples.count, "mean_text_bytes": texts.map(\.utf8.count).reduce(0, +) / max(texts.count, 1)]
        for kind in TextModel.Kind.allCases {
            let trainingStarted = ContinuousClock.now
            let model = try TextModel.train(examples, kind: kind)
            let trainingSeconds = trainingStarted.duration(to: .now).seconds
            let classifier = TextModelClassifier(name: "bench", version: 1, model: model)
            var flagged = 0
            var progress = ProgressBar(label: "classify (\(kind.rawValue))", total: passes * texts.count)
            let started = ContinuousClock.now
            for pass in 0..<passes {
                for text in texts where classifier.classifyNow(text).isFlagged { flagged += 1 }
                progress.update((pass + 1) * texts.count)
            }
            let seconds = started.duration(to: .now).seconds
            progress.finish()
            let rate = Int(Double(passes * texts.count) / seconds)
            results[kind.rawValue] = ["training_seconds": trainingSeconds, "texts_per_sec": rate, "flagged": flagged / passes]
            if !json {
                print("\(kind.rawValue): trained on \(examples.count) in \(String(format: "%.2f", trainingSeconds)) s; \(rate) texts/s classifying (one core)")
            }
        }
        if json { printJSON(results) }
    }
}
