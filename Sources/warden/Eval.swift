import ArgumentParser
import Foundation
import WardenClassifiers
import WardenStore

struct Eval: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a stored classifier on labelled data.",
        discussion: """
            Reports precision, recall and F1 per label with micro and macro averages, the confusion matrix, \
            average precision and the precision-recall curve of the flagged label (drawn as SVG with --out), a \
            threshold recommended for a target precision, 95 % bootstrap intervals (1,000 resamples, seed 7), \
            and with --compare a McNemar test against a second classifier on the same examples.
            """
    )

    @Option(help: "The classifier to evaluate (NAME or NAME@VERSION).") var classifier: String
    @Option(help: "Labelled data (NDJSON, CSV or TSV), as for training.") var data: String
    @Option(help: "A second classifier to compare with (McNemar's test).") var compare: String?
    @Option(help: "The label ranking metrics are about (default: the flagged label of a binary model).") var positive: String?
    @Option(help: "Precision the recommended threshold must reach.") var targetPrecision = 0.95
    @Option(help: "Write report.json and pr-curve.svg here.") var out: String?
    @OptionGroup var dataDir: DataDirOption
    @Flag(help: "Print one JSON object.") var json = false

    func run() async throws {
        let examples = try loadData(data)
        let opened = try await OpenedDataDir(dataDir, exclusive: false)
        let first = try await loadClassifier(classifier, store: opened.store)
        let positive = self.positive ?? first.model.labels.first { $0 != first.benignLabel } ?? first.model.labels[0]
        guard first.model.labels.contains(positive) else {
            throw ValidationError("\(positive) is not a label of \(first.modelVersion) (labels: \(first.model.labels.joined(separator: ", ")))")
        }
        let unknown = Set(examples.map(\.label)).subtracting(first.model.labels)
        guard unknown.isEmpty else {
            throw ValidationError("\(data) has labels \(first.modelVersion) does not know: \(unknown.sorted().joined(separator: ", ")) (its labels: \(first.model.labels.joined(separator: ", ")))")
        }
        let report = score(first, examples, positive: positive, label: "eval \(first.modelVersion)")
        var object = reportObject(report, model: first.modelVersion, examples: examples.count)
        var comparison: (McNemar, String)?
        if let compare {
            let second = try await loadClassifier(compare, store: opened.store)
            let other = score(second, examples, positive: positive, label: "eval \(second.modelVersion)")
            let test = McNemar(firstCorrect: report.correct, secondCorrect: other.correct)
            comparison = (test, second.modelVersion)
            object["comparison"] = ["with": second.modelVersion, "accuracy": other.confusion.micro.f1, "only_first_right": test.onlyFirst,
                                    "only_second_right": test.onlySecond, "statistic": test.statistic ?? NSNull(), "p_value": test.pValue,
                                    "test": test.statistic == nil ? "exact binomial" : "chi-squared with continuity correction"]
        }
        if let out {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            try Data(PRChart.svg(report.curve, title: "\(first.modelVersion): \(positive), AP \(String(format: "%.3f", report.averagePrecision))").utf8)
                .write(to: URL(fileURLWithPath: out).appendingPathComponent("pr-curve.svg"))
            try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
                .write(to: URL(fileURLWithPath: out).appendingPathComponent("report.json"))
        }
        if json {
            printJSON(object)
            return
        }
        print("\(first.modelVersion) on \(examples.count) examples from \(data)")
        print("  label          precision  recall     F1         support")
        for label in report.labels {
            let scores = report.confusion.scores(of: label)
            print("  " + [label.padding(toLength: 14, withPad: " ", startingAt: 0), cell(scores.precision), cell(scores.recall), cell(scores.f1),
                          String(scores.support)].joined(separator: " "))
        }
        print("  micro F1 \(format(report.confusion.micro.f1)) macro F1 \(format(report.confusion.macro.f1))")
        print("confusion (rows: truth, columns: prediction; \(report.labels.joined(separator: ", "))):")
        for (label, row) in zip(report.labels, report.confusion.counts) { print("  \(label): \(row.map(String.init).joined(separator: " "))") }
        print("\(positive): average precision \(format(report.averagePrecision))")
        print("\(positive) at 0.5: precision \(format(report.atHalf.precision)) [\(range(report.intervals.precision))], recall \(format(report.atHalf.recall)) [\(range(report.intervals.recall))], F1 \(format(report.atHalf.f1)) [\(range(report.intervals.f1))] (95 % bootstrap)")
        if let point = report.recommended {
            print("threshold for precision ≥ \(report.targetPrecision): \(String(format: "%.4f", point.threshold)) (precision \(format(point.precision)) recall \(format(point.recall)))")
        } else {
            print("no threshold reaches precision \(report.targetPrecision)")
        }
        if let (test, other) = comparison {
            print("vs \(other): only \(first.modelVersion) right on \(test.onlyFirst), only \(other) right on \(test.onlySecond); McNemar p = \(String(format: "%.4g", test.pValue))")
        }
        if let out { print("wrote \(out)/report.json and \(out)/pr-curve.svg") }
    }

    private func score(_ classifier: TextModelClassifier, _ examples: [LabelledText], positive: String, label: String) -> EvaluationReport {
        var progress = ProgressBar(label: label, total: examples.count)
        var rows: [[Double]] = []
        rows.reserveCapacity(examples.count)
        for (index, example) in examples.enumerated() {
            rows.append(classifier.model.probabilities(of: example.text))
            if index % 500 == 0 { progress.update(index) }
        }
        progress.finish()
        return EvaluationReport(truth: examples.map(\.label), probabilities: rows, labels: classifier.model.labels, positive: positive,
                                targetPrecision: targetPrecision)
    }

    private func reportObject(_ report: EvaluationReport, model: String, examples: Int) -> [String: Any] {
        var labels: [String: Any] = [:]
        for label in report.labels {
            let scores = report.confusion.scores(of: label)
            labels[label] = ["precision": scores.precision, "recall": scores.recall, "f1": scores.f1, "support": scores.support]
        }
        var object: [String: Any] = [
            "model": model, "examples": examples, "labels": labels, "positive": report.positive,
            "micro": ["precision": report.confusion.micro.precision, "recall": report.confusion.micro.recall, "f1": report.confusion.micro.f1],
            "macro": ["precision": report.confusion.macro.precision, "recall": report.confusion.macro.recall, "f1": report.confusion.macro.f1],
            "confusion": ["labels": report.labels, "counts": report.confusion.counts],
            "average_precision": report.averagePrecision,
            "at_0_5": ["precision": report.atHalf.precision, "recall": report.atHalf.recall, "f1": report.atHalf.f1,
                       "precision_ci95": [report.intervals.precision.lowerBound, report.intervals.precision.upperBound],
                       "recall_ci95": [report.intervals.recall.lowerBound, report.intervals.recall.upperBound],
                       "f1_ci95": [report.intervals.f1.lowerBound, report.intervals.f1.upperBound]],
            "pr_curve": report.curve.map { ["threshold": $0.threshold, "precision": $0.precision, "recall": $0.recall] },
            "target_precision": report.targetPrecision,
        ]
        object["recommended_threshold"] = report.recommended.map { ["threshold": $0.threshold, "precision": $0.precision, "recall": $0.recall] } ?? NSNull()
        return object
    }

    private func range(_ interval: ClosedRange<Double>) -> String {
        String(format: "%.3f–%.3f", interval.lowerBound, interval.upperBound)
    }
}

/// The newest (or a given) version of a stored classifier, ready to classify.
func loadClassifier(_ reference: String, store: any ClassifierModelStore) async throws -> TextModelClassifier {
    let parts = reference.split(separator: "@", maxSplits: 1).map(String.init)
    let version = parts.count == 2 ? Int(parts[1]) : nil
    if parts.count == 2, version == nil { throw ValidationError("\(reference): the version after @ must be a number") }
    guard let stored = try await store.model(named: parts[0], version: version) else {
        throw ValidationError("no classifier \(reference); `warden classifiers list` shows the stored ones")
    }
    do {
        return TextModelClassifier(name: stored.name, version: stored.version, model: try TextModel(decoding: stored.data))
    } catch {
        throw ValidationError("\(reference) cannot be read: \(error.description)")
    }
}

/// A precision-recall curve as a small SVG chart.
enum PRChart {
    static func svg(_ curve: [PRPoint], title: String) -> String {
        let (width, height, margin) = (480.0, 360.0, 48.0)
        func x(_ recall: Double) -> Double { margin + recall * (width - 2 * margin) }
        func y(_ precision: Double) -> Double { height - margin - precision * (height - 2 * margin) }
        var points = curve.map { String(format: "%.1f,%.1f", x($0.recall), y($0.precision)) }
        if let first = curve.first { points.insert(String(format: "%.1f,%.1f", x(0), y(first.precision)), at: 0) }
        var ticks = ""
        for step in stride(from: 0.0, through: 1.0, by: 0.25) {
            ticks += String(format: ##"<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>"##, x(step), y(0), x(step), y(1))
            ticks += String(format: ##"<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>"##, x(0), y(step), x(1), y(step))
            ticks += String(format: #"<text x="%.1f" y="%.1f" font-size="11" text-anchor="middle">%.2f</text>"#, x(step), height - margin + 16, step)
            ticks += String(format: #"<text x="%.1f" y="%.1f" font-size="11" text-anchor="end">%.2f</text>"#, margin - 6, y(step) + 4, step)
        }
        let escaped = title.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        return """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif">
            <rect width="100%" height="100%" fill="white"/>
            \(ticks)
            <rect x="\(margin)" y="\(margin)" width="\(width - 2 * margin)" height="\(height - 2 * margin)" fill="none" stroke="#333"/>
            <polyline points="\(points.joined(separator: " "))" fill="none" stroke="#c0392b" stroke-width="2"/>
            <text x="\(width / 2)" y="24" font-size="14" text-anchor="middle">\(escaped)</text>
            <text x="\(width / 2)" y="\(height - 8)" font-size="12" text-anchor="middle">recall</text>
            <text x="14" y="\(height / 2)" font-size="12" text-anchor="middle" transform="rotate(-90 14 \(height / 2))">precision</text>
            </svg>
            """
    }
}
