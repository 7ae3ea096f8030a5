import ArgumentParser
import Foundation
import WardenClassifiers
import WardenCore
import WardenStore

struct Classifiers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train and list the built-in text classifiers (models are versioned in the data directory).",
        subcommands: [Train.self, List.self]
    )

    struct Train: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train a text classifier on labelled data and store it as the next version of NAME.",
            discussion: """
                DATA is NDJSON ({"text": "...", "label": "..."} per line) or CSV/TSV with a header naming a label \
                column (label or class) and a text column (text, sms, message, content or tweet). With \
                --cross-validate K it first reports stratified K-fold cross-validation (seeded) on the same data, \
                and stores those figures with the model.
                """
        )

        @Option(help: "The classifier's name, as rules and `warden eval` use it.") var name: String
        @Option(help: "Labelled data (NDJSON, CSV or TSV).") var data: String
        @Option(help: "logistic_regression or naive_bayes.") var model: String = TextModel.Kind.logisticRegression.rawValue
        @Option(help: "Folds for cross-validation before training (0: none).") var crossValidate = 0
        @Option(help: "Seed for fold assignment and training order.") var seed: UInt64 = 7
        @OptionGroup var dataDir: DataDirOption
        @Flag(help: "Print one JSON object.") var json = false

        func validate() throws {
            guard TextModel.Kind(rawValue: model) != nil else {
                throw ValidationError("--model must be one of \(TextModel.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard crossValidate == 0 || crossValidate >= 2 else { throw ValidationError("--cross-validate needs at least 2 folds") }
            guard (1...100).contains(name.count), name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
                throw ValidationError("--name must be 1–100 letters, digits, _ or -")
            }
        }

        func run() async throws {
            let kind = TextModel.Kind(rawValue: model) ?? .logisticRegression
            let examples = try loadData(data)
            var options = TrainingOptions()
            options.seed = seed
            var metrics: [String: Any] = [:]
            if crossValidate > 0 {
                var progress = ProgressBar(label: "cross-validate", total: crossValidate)
                let report = try CrossValidation.run(examples, k: crossValidate, seed: seed, kind: kind, options: options) { progress.update($0, force: true) }
                progress.finish()
                metrics = crossValidationSummary(report, folds: crossValidate, seed: seed)
                if !json { printCrossValidation(report, folds: crossValidate, seed: seed) }
            }
            let started = ContinuousClock.now
            let trained = try TextModel.train(examples, kind: kind, options: options)
            metrics["training_seconds"] = started.duration(to: .now).seconds
            let opened = try OpenedDataDir(path: dataDir.dataDir, exclusive: false)
            let metricsJSON = String(decoding: try JSONSerialization.data(withJSONObject: metrics, options: [.sortedKeys]), as: UTF8.self)
            let version = try await opened.store.saveModel(StoredClassifierModel(
                name: name, version: 0, kind: kind.rawValue, createdAt: Int64(Date().timeIntervalSince1970 * 1000),
                trainedOn: (data as NSString).lastPathComponent, examples: examples.count, labels: trained.labels,
                metrics: metricsJSON, data: trained.encoded()))
            if json {
                printJSON(["name": name, "version": version, "kind": kind.rawValue, "examples": examples.count, "labels": trained.labels,
                           "metrics": metrics])
            } else {
                print("stored \(name)@\(version) (\(kind.rawValue), \(examples.count) examples, labels \(trained.labels.joined(separator: ", ")))")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List stored classifier models, every version.")
        @OptionGroup var dataDir: DataDirOption
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let opened = try OpenedDataDir(path: dataDir.dataDir, exclusive: false)
            let models = try await opened.store.models()
            if json {
                printJSON(["models": models.map { ["name": $0.name, "version": $0.version, "kind": $0.kind, "created_at": $0.createdAt,
                                                   "trained_on": $0.trainedOn, "examples": $0.examples, "labels": $0.labels] }])
                return
            }
            if models.isEmpty { print("no models; train one with: warden classifiers train --name NAME --data FILE") }
            for model in models {
                print("\(model.name)@\(model.version)  \(model.kind)  \(model.examples) examples from \(model.trainedOn)  labels \(model.labels.joined(separator: ","))  \(Timestamp.formatRFC3339(model.createdAt))")
            }
        }
    }
}

func loadData(_ path: String) throws -> [LabelledText] {
    do {
        let examples = try LabelledData.load(path: path)
        guard !examples.isEmpty else { throw ValidationError("\(path) holds no labelled examples") }
        return examples
    } catch let error as TrainingError {
        throw ValidationError(error.description)
    }
}

func crossValidationSummary(_ report: CrossValidationReport, folds: Int, seed: UInt64) -> [String: Any] {
    var perLabel: [String: Any] = [:]
    for label in report.pooled.labels {
        let pooled = report.pooled.scores(of: label)
        perLabel[label] = ["mean_f1": report.meanF1(of: label), "precision": pooled.precision, "recall": pooled.recall, "f1": pooled.f1,
                           "support": pooled.support]
    }
    return ["cross_validation": ["folds": folds, "seed": seed, "labels": perLabel, "accuracy": report.pooled.micro.f1]]
}

func printCrossValidation(_ report: CrossValidationReport, folds: Int, seed: UInt64) {
    print("stratified \(folds)-fold cross-validation, seed \(seed) (F1 per fold averaged; precision, recall and F1 pooled over folds):")
    print("  label          mean F1    precision  recall     F1         support")
    for label in report.pooled.labels {
        let pooled = report.pooled.scores(of: label)
        print("  " + [label.padding(toLength: 14, withPad: " ", startingAt: 0), cell(report.meanF1(of: label)), cell(pooled.precision),
                      cell(pooled.recall), cell(pooled.f1), String(pooled.support)].joined(separator: " "))
    }
    print("  accuracy \(format(report.pooled.micro.f1))")
}

func format(_ value: Double) -> String {
    String(format: "%.4f", value)
}

/// A table cell: a figure padded to a column.
func cell(_ value: Double) -> String {
    format(value).padding(toLength: 10, withPad: " ", startingAt: 0)
}
