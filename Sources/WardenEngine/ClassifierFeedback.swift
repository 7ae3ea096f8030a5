import Foundation
public import WardenClassifiers
import WardenCore
public import WardenStore

/// Reviewer decisions as ground truth for a built-in classifier: labelled examples for retraining,
/// and the drift of model–reviewer agreement over time with the disagreements to sample for QA.
public struct ClassifierFeedback: Sendable {
    /// The model's labels.
    public var labels: [String]
    /// The label that reads as benign.
    public var benignLabel: String
    /// Model label → taxonomy category (from classifiers.yaml); labels without one stand for the
    /// category of the same name.
    public var categories: [String: String]

    public init(labels: [String], benignLabel: String, categories: [String: String]) {
        self.labels = labels
        self.benignLabel = benignLabel
        self.categories = categories
    }

    /// The model label a decided category maps to: the label whose category is it, its parent or its child.
    public func label(for category: String) -> String? {
        labels.first { label in
            guard label != benignLabel else { return false }
            let mapped = categories[label] ?? label
            return mapped == category || category.hasPrefix(mapped + ".") || mapped.hasPrefix(category + ".")
        }
    }

    /// One labelled example per reviewed text whose category this model covers: the violating label
    /// when reviewers found a violation (after appeals), the benign label when they found none.
    /// Texts decided under categories the model does not cover say nothing about it and are skipped.
    public func examples(_ texts: [DecidedText]) -> (examples: [LabelledText], skipped: Int) {
        var examples: [LabelledText] = []
        var skipped = 0
        for text in texts {
            guard let violating = label(for: text.category) else {
                skipped += 1
                continue
            }
            examples.append(LabelledText(text: text.text, label: text.violation ? violating : benignLabel))
        }
        return (examples, skipped)
    }

    /// Agreement of the model with reviewers, per period and category.
    public struct DriftRow: Sendable, Equatable {
        /// The period's first day (`2026-11-16` for the ISO week starting then).
        public var period: String
        public var category: String
        public var reviewed: Int
        public var agreed: Int
        /// The model flagged it; reviewers found no violation.
        public var falsePositives: Int
        /// Reviewers found a violation; the model did not flag it.
        public var misses: Int

        public var agreement: Double { reviewed == 0 ? 0 : Double(agreed) / Double(reviewed) }
    }

    /// A text where the model and the reviewers disagree: a candidate for QA sampling.
    public struct Disagreement: Sendable, Equatable {
        public var text: DecidedText
        public var modelFlagged: Bool
        public var score: Double
    }

    /// Scores every reviewed text the model covers and compares with the reviewers, per week
    /// (`periodDays` 7) or day (1).
    public func drift(_ texts: [DecidedText], classifier: TextModelClassifier, periodDays: Int = 7) -> (rows: [DriftRow], disagreements: [Disagreement]) {
        var rows: [String: DriftRow] = [:]
        var disagreements: [Disagreement] = []
        for text in texts {
            guard let violating = label(for: text.category) else { continue }
            let classification = classifier.classifyNow(text.text)
            let flagged = classification.flagged.contains(violating)
            let period = Self.periodStart(text.at, days: periodDays)
            let key = "\(period)\u{0}\(text.category)"
            var row = rows[key] ?? DriftRow(period: period, category: text.category, reviewed: 0, agreed: 0, falsePositives: 0, misses: 0)
            row.reviewed += 1
            if flagged == text.violation {
                row.agreed += 1
            } else {
                if flagged { row.falsePositives += 1 } else { row.misses += 1 }
                disagreements.append(Disagreement(text: text, modelFlagged: flagged, score: classification.scores[violating] ?? 0))
            }
            rows[key] = row
        }
        return (rows.values.sorted { ($0.period, $0.category) < ($1.period, $1.category) }, disagreements)
    }

    /// The first day of the period holding `millis`: Monday of its ISO week for 7 days.
    static func periodStart(_ millis: Int64, days: Int) -> String {
        let day: Int64 = 86_400_000
        let dayIndex = millis >= 0 ? millis / day : (millis - day + 1) / day
        // 1970-01-01 was a Thursday: Monday-based weeks start 3 days before day 0 of a 7-day cycle.
        let start = days == 7 ? dayIndex - ((dayIndex + 3) % 7 + 7) % 7 : dayIndex
        return String(Timestamp.formatRFC3339(start * day).prefix(10))
    }
}
