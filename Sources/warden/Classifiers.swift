import ArgumentParser
import Foundation
import WardenClassifiers
import WardenCore
import WardenEngine
import WardenStore

struct Classifiers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train, list, retrain from reviewer decisions, and watch the drift of the built-in text classifiers (versioned in the data directory).",
        subcommands: [Train.self, List.self, Retrain.self, Drift.self]
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
            let opened = try await OpenedDataDir(dataDir, exclusive: false)
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
            let opened = try await OpenedDataDir(dataDir, exclusive: false)
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

/// The feedback loop's shared part: the model, its declaration's label map, the reviewed texts.
struct FeedbackInputs {
    let stored: StoredClassifierModel
    let model: TextModel
    let feedback: ClassifierFeedback
    let texts: [DecidedText]
    let threshold: Double

    init(name: String, dataDir: DataDirOption, packOption: PackOption, since: String?) async throws {
        let opened = try await OpenedDataDir(dataDir, exclusive: false)
        guard let stored = try await opened.store.model(named: name, version: nil) else {
            throw ValidationError("there is no model \(name); train one with: warden classifiers train --name \(name) --data FILE")
        }
        self.stored = stored
        model = try TextModel(decoding: stored.data)
        // The pack's declaration of this model maps its labels to taxonomy categories.
        let pack = try? packOption.load()
        let declaration = pack?.classifiers.classifiers.first { $0.builtin == name || $0.name == name }
        feedback = ClassifierFeedback(labels: model.labels, benignLabel: TextModelClassifier.benignLabel(among: model.labels),
                                      categories: declaration?.categories ?? [:])
        threshold = declaration?.threshold ?? 0.5
        var from: Int64 = 0
        if let since {
            guard let parsed = Timestamp.parseRFC3339(since) ?? Timestamp.parseRFC3339(since + "T00:00:00Z") else {
                throw ValidationError("--since \(since) is not a date (2026-11-01) or an RFC 3339 time")
            }
            from = parsed
        }
        texts = try await opened.store.decidedTexts(since: from)
    }
}

extension Classifiers {
    struct Retrain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train the next version of NAME on reviewer decisions (plus, optionally, the original data).",
            discussion: """
                Decided cases become labelled examples: the texts of the events behind each case's signals, labelled \
                with the model's label for the decided category when reviewers found a violation (after appeals: an \
                overturned decision counts as no violation; after QA: a decision a QA re-review found wrong, and no \
                ruling kept, carries the QA finding) and the benign label when they did not. Decisions under \
                categories the model does not cover are skipped. Each example keeps the policy version it was decided \
                under; the counts per version are printed. The previous and the new version are both scored on the \
                decision examples (the new one has seen them: compare with `warden eval` on held-out data).
                """
        )
        @Option(help: "The model to retrain.") var name: String
        @Option(help: "Labelled data to train on as well (NDJSON, CSV or TSV), such as the original training set.") var data: String?
        @Option(help: "Only decisions from this date or time on.") var since: String?
        @OptionGroup var dataDir: DataDirOption
        @OptionGroup var pack: PackOption
        @Flag(help: "Print one JSON object.") var json = false

        func run() async throws {
            let inputs = try await FeedbackInputs(name: name, dataDir: dataDir, packOption: pack, since: since)
            let (fromDecisions, skipped) = inputs.feedback.examples(inputs.texts)
            guard !fromDecisions.isEmpty else {
                throw ValidationError("no decided case has text this model covers yet (\(inputs.texts.count) reviewed texts, \(skipped) in other categories)")
            }
            var examples = fromDecisions
            if let data { examples += try loadData(data) }
            var versions: [String: Int] = [:]
            for text in inputs.texts where inputs.feedback.label(for: text.category) != nil { versions[text.packVersion ?? "unknown", default: 0] += 1 }
            let kind = TextModel.Kind(rawValue: inputs.stored.kind) ?? .logisticRegression
            let trained = try TextModel.train(examples, kind: kind, options: TrainingOptions())
            func accuracy(_ model: TextModel) -> Double {
                let classifier = TextModelClassifier(name: name, version: 0, model: model, threshold: inputs.threshold)
                let right = fromDecisions.filter { example in
                    let flagged = !classifier.classifyNow(example.text).flagged.isEmpty
                    return flagged == (example.label != inputs.feedback.benignLabel)
                }.count
                return Double(right) / Double(fromDecisions.count)
            }
            let before = accuracy(inputs.model), after = accuracy(trained)
            let opened = try await OpenedDataDir(dataDir, exclusive: false)
            let correctedByQA = inputs.texts.filter { $0.correctedByQA && inputs.feedback.label(for: $0.category) != nil }.count
            let metrics: [String: Any] = ["decision_examples": fromDecisions.count, "corrected_by_qa": correctedByQA, "policy_versions": versions,
                                          "agreement_with_reviewers_before": before, "agreement_with_reviewers_after": after]
            let version = try await opened.store.saveModel(StoredClassifierModel(
                name: name, version: 0, kind: kind.rawValue, createdAt: Int64(Date().timeIntervalSince1970 * 1000),
                trainedOn: "decisions (\(fromDecisions.count))" + (data.map { " + " + ($0 as NSString).lastPathComponent } ?? ""),
                examples: examples.count, labels: trained.labels,
                metrics: String(decoding: try JSONSerialization.data(withJSONObject: metrics, options: [.sortedKeys]), as: UTF8.self),
                data: trained.encoded()))
            if json {
                printJSON(["name": name, "version": version, "examples": examples.count, "metrics": metrics])
            } else {
                print("stored \(name)@\(version): \(fromDecisions.count) examples from decisions (\(skipped) reviewed texts in other categories skipped)"
                      + (data.map { " + \(examples.count - fromDecisions.count) from \($0)" } ?? "")
                      + (correctedByQA > 0 ? "; \(correctedByQA) labelled by QA verdicts that found the decision wrong" : ""))
                print("policy versions: " + versions.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", "))
                print(String(format: "agreement with reviewers on those decisions: %@@%d %.1f%% → %@@%d %.1f%% (the new version has seen them)",
                             name, inputs.stored.version, before * 100, name, version, after * 100))
            }
        }
    }

    struct Drift: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "How well NAME agrees with reviewers, per week and category, and where it disagrees (for QA sampling).",
            discussion: """
                Scores every reviewed text the model covers with its newest version and compares with the final \
                decision (appeals included). Prints agreement per period and category with a bar, false positives \
                (flagged, reviewers found nothing) and misses (reviewers found a violation, the model did not flag \
                it), then the disagreements, newest first, as candidates for QA review.
                """
        )
        @Option(help: "The model.") var name: String
        @Option(help: "Only decisions from this date or time on.") var since: String?
        @Option(help: "week or day.") var by = "week"
        @Option(help: "How many disagreements to list.") var limit = 20
        @OptionGroup var dataDir: DataDirOption
        @OptionGroup var pack: PackOption
        @Flag(help: "Print one JSON object.") var json = false

        func run() async throws {
            guard by == "week" || by == "day" else { throw ValidationError("--by must be week or day") }
            let inputs = try await FeedbackInputs(name: name, dataDir: dataDir, packOption: pack, since: since)
            let classifier = TextModelClassifier(name: name, version: inputs.stored.version, model: inputs.model, threshold: inputs.threshold)
            let (rows, disagreements) = inputs.feedback.drift(inputs.texts, classifier: classifier, periodDays: by == "week" ? 7 : 1)
            let listed = disagreements.sorted { $0.text.decisionID > $1.text.decisionID }.prefix(limit)
            if json {
                printJSON([
                    "model": "\(name)@\(inputs.stored.version)",
                    "periods": rows.map { ["period": $0.period, "category": $0.category, "reviewed": $0.reviewed, "agreement": $0.agreement,
                                           "false_positives": $0.falsePositives, "misses": $0.misses] as [String: Any] },
                    "disagreements": listed.map { ["decision_id": $0.text.decisionID, "case_id": $0.text.caseID, "category": $0.text.category,
                                                    "reviewer_violation": $0.text.violation, "model_flagged": $0.modelFlagged, "score": $0.score,
                                                    "text": String($0.text.text.prefix(200))] as [String: Any] },
                ])
                return
            }
            guard !rows.isEmpty else {
                print("no reviewed texts in categories \(name) covers yet")
                return
            }
            print("\(name)@\(inputs.stored.version) against reviewers, by \(by):")
            for row in rows {
                let filled = Int((row.agreement * 20).rounded())
                let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: 20 - filled)
                let category = row.category.padding(toLength: 18, withPad: " ", startingAt: 0)
                let percent = String(format: "%5.1f%%", row.agreement * 100)
                print("  \(row.period)  \(category)  \(bar) \(percent)  n=\(row.reviewed)  false positives \(row.falsePositives)  misses \(row.misses)")
            }
            if !listed.isEmpty {
                print("disagreements to sample for QA (newest first):")
                for item in listed {
                    let verdict = item.modelFlagged ? "model flagged, reviewers did not" : "reviewers found a violation, model missed"
                    print("  case \(item.text.caseID) (decision \(item.text.decisionID)\(item.text.overturned ? ", overturned on appeal" : "")): "
                          + "\(verdict), score \(String(format: "%.2f", item.score)): \(item.text.text.prefix(80))")
                }
            }
        }
    }
}
